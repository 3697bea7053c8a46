// The Kafka log under the real ingest: round trip, recovery of the heads
// from the topic, idempotent retries across restarts, stream ownership.
#include "core/log/kafka_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "tests/kafka/kafka_testing.h"

namespace prongsai::testing {
namespace {

using KafkaLogTest = KafkaTest;

TEST_F(KafkaLogTest, IngestRoundTripReadsBackWhatWasAppended) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);

  const std::vector<std::string> streams = {"1045", "1001", "1050"};
  uint64_t last_position = 0;
  for (int round = 0; round < 3; ++round) {
    for (const std::string& stream : streams) {
      SCOPED_TRACE(stream);
      const v1::AppendRequest request =
          MeetingsRequest(stream, 5, absl::StrCat(round));
      absl::StatusOr<v1::AppendResponse> response = Append(*ingestor, request);
      ASSERT_TRUE(response.ok()) << response.status();
      EXPECT_FALSE(response->duplicate());
      EXPECT_EQ(response->sequences_size(), 5);
      EXPECT_EQ(response->sequences(0), static_cast<uint64_t>(round * 5 + 1));
      EXPECT_EQ(response->first_position(), last_position + 1);
      last_position = response->last_position();
    }
  }
  // Durable means in the topic: the write is in the replica the moment it
  // is acknowledged.
  EXPECT_EQ(log->LastPosition(), last_position);
  for (const std::string& stream : streams) {
    absl::StatusOr<log::StreamHead> head = log->LoadHead(stream);
    ASSERT_TRUE(head.ok()) << head.status();
    EXPECT_EQ(head->sequence, 15u);
  }
  absl::StatusOr<std::optional<log::EventRef>> found =
      log->FindEvent(acknowledged_.front());
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->stream, "1045");
  EXPECT_EQ((*found)->sequence, 1u);

  ExpectAcknowledgedOnce(VerifyLog(*log));
  // The consumer sees this instance's own records again and skips them.
  ASSERT_TRUE(log->CatchUp(absl::Seconds(10)).ok());
  EXPECT_EQ(log->LastPosition(), last_position);
  EXPECT_TRUE(log->Rejected().empty());

  const LogContents topic = ReadTopicAfresh();
  EXPECT_EQ(topic.records, 45u);
  ExpectAcknowledgedOnce(topic);
}

TEST_F(KafkaLogTest, NewInstanceRecoversHeadsFromTheTopic) {
  absl::flat_hash_map<std::string, log::StreamHead> heads;
  {
    std::unique_ptr<log::KafkaEventLog> log = Open("first");
    ASSERT_NE(log, nullptr);
    std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
    ASSERT_NE(ingestor, nullptr);
    for (const std::string stream : {"1045", "1050", "1001"}) {
      ASSERT_TRUE(Append(*ingestor, MeetingsRequest(stream, 4, "x")).ok());
      heads[stream] = *log->LoadHead(stream);
    }
  }
  // A second instance of the same shard, with an empty replica directory:
  // everything it knows comes from the topic.
  std::unique_ptr<log::KafkaEventLog> log = Open("second");
  ASSERT_NE(log, nullptr);
  for (const auto& [stream, head] : heads) {
    SCOPED_TRACE(stream);
    absl::StatusOr<log::StreamHead> recovered = log->LoadHead(stream);
    ASSERT_TRUE(recovered.ok());
    EXPECT_EQ(recovered->sequence, head.sequence);
    EXPECT_EQ(recovered->hash, head.hash);
  }
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  absl::StatusOr<v1::AppendResponse> next =
      Append(*ingestor, MeetingsRequest("1045", 2, "y"));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequences(0), 5u);

  const LogContents contents = VerifyLog(*log);
  EXPECT_EQ(contents.heads.at("1045"), 6u);
  ExpectAcknowledgedOnce(contents);
  ExpectAcknowledgedOnce(ReadTopicAfresh());
}

TEST_F(KafkaLogTest, RetryAfterRestartIsAnsweredAsDuplicate) {
  const v1::AppendRequest request = MeetingsRequest("1045", 3, "r");
  v1::AppendResponse original;
  {
    std::unique_ptr<log::KafkaEventLog> log = Open("a");
    ASSERT_NE(log, nullptr);
    std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
    ASSERT_NE(ingestor, nullptr);
    ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 2, "before")).ok());
    absl::StatusOr<v1::AppendResponse> response = Append(*ingestor, request);
    ASSERT_TRUE(response.ok());
    original = *response;
  }
  struct Case {
    const char* name;
    const char* replica;  // the same directory, or a fresh one
  };
  for (const Case& c :
       {Case{"same replica", "a"}, Case{"empty replica", "b"}}) {
    SCOPED_TRACE(c.name);
    std::unique_ptr<log::KafkaEventLog> log = Open(c.replica);
    ASSERT_NE(log, nullptr);
    std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
    ASSERT_NE(ingestor, nullptr);
    absl::StatusOr<v1::AppendResponse> retry = ingestor->Append(request);
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_TRUE(retry->duplicate());
    EXPECT_EQ(std::vector<uint64_t>(retry->sequences().begin(),
                                    retry->sequences().end()),
              std::vector<uint64_t>(original.sequences().begin(),
                                    original.sequences().end()));
    const LogContents contents = VerifyLog(*log);
    EXPECT_EQ(contents.records, 5u);
    ExpectAcknowledgedOnce(contents);
    EXPECT_TRUE(log->Rejected().empty());
  }
}

TEST_F(KafkaLogTest, ReopeningTheSameReplicaResumesWithoutReapplying) {
  uint64_t last = 0;
  {
    std::unique_ptr<log::KafkaEventLog> log = Open("a");
    ASSERT_NE(log, nullptr);
    std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
    ASSERT_NE(ingestor, nullptr);
    ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1001", 6, "a")).ok());
    ASSERT_TRUE(log->CatchUp(absl::Seconds(10)).ok());
    last = log->LastPosition();
  }
  // Meanwhile another shard's writer adds to the topic.
  {
    log::KafkaLogOptions options = Options("other");
    options.shard_count = 2;
    options.shard = log::OwnerShard("1002", 2);
    std::unique_ptr<log::KafkaEventLog> other = Open(options);
    ASSERT_NE(other, nullptr);
    std::vector<log::PendingRecord> records;
    Hash prev = kZeroHash;
    for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
      records.push_back(MakeRecord("1002", sequence, prev,
                                   MeetingEvent(absl::StrCat("o", sequence))));
      prev = records.back().hash;
      acknowledged_.push_back(records.back().event_id);
    }
    ASSERT_TRUE(other->Write(records).ok());
  }
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->LastPosition(), last + 3);
  EXPECT_EQ(log->LoadHead("1002")->sequence, 3u);
  EXPECT_TRUE(log->Rejected().empty());
  ExpectAcknowledgedOnce(VerifyLog(*log));
}

TEST_F(KafkaLogTest, WriteRefusesStreamsOfAnotherShard) {
  constexpr int kShards = 4;
  const int owner = log::OwnerShard("1045", kShards);
  log::KafkaLogOptions options = Options("a");
  options.shard_count = kShards;
  options.shard = (owner + 1) % kShards;
  std::unique_ptr<log::KafkaEventLog> log = Open(options);
  ASSERT_NE(log, nullptr);
  EXPECT_EQ(log->transactional_id(),
            absl::StrCat("prongsai-ingest-shard-", options.shard));

  absl::Status owned = log->CheckOwnership("1045");
  EXPECT_EQ(owned.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(owned.message().find(absl::StrCat("belongs to shard ", owner)),
            absl::string_view::npos)
      << owned;
  EXPECT_NE(owned.message().find(absl::StrCat("prongsai-ingest-shard-", owner)),
            absl::string_view::npos)
      << owned;

  const log::PendingRecord record =
      MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1"));
  absl::StatusOr<uint64_t> written = log->Write({record});
  EXPECT_EQ(written.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(log->LastPosition(), 0u);
  EXPECT_EQ(ReadTopicAfresh().records, 0u);
}

// Two writers, one shard each, on the same topic: each writes only its own
// streams, and each replica ends up with both.
TEST_F(KafkaLogTest, TwoShardsWriteTheirStreamsAndBothReplicasHoldAll) {
  constexpr int kShards = 2;
  std::vector<std::unique_ptr<log::KafkaEventLog>> logs;
  for (int shard = 0; shard < kShards; ++shard) {
    log::KafkaLogOptions options = Options(absl::StrCat("shard-", shard));
    options.shard_count = kShards;
    options.shard = shard;
    logs.push_back(Open(options));
    ASSERT_NE(logs.back(), nullptr);
  }
  absl::flat_hash_map<std::string, Hash> heads;
  for (uint64_t sequence = 1; sequence <= 3; ++sequence) {
    for (int district = 1001; district <= 1010; ++district) {
      const std::string stream = absl::StrCat(district);
      auto [head, unused] = heads.try_emplace(stream, kZeroHash);
      const log::PendingRecord record =
          MakeRecord(stream, sequence, head->second,
                     MeetingEvent(absl::StrCat("m", sequence)));
      log::KafkaEventLog& owner = *logs[log::OwnerShard(stream, kShards)];
      log::KafkaEventLog& other = *logs[1 - log::OwnerShard(stream, kShards)];
      ASSERT_TRUE(owner.Write({record}).ok());
      EXPECT_EQ(other.Write({record}).status().code(),
                absl::StatusCode::kFailedPrecondition);
      head->second = record.hash;
      acknowledged_.push_back(record.event_id);
    }
  }
  for (std::unique_ptr<log::KafkaEventLog>& log : logs) {
    ASSERT_TRUE(log->CatchUp(absl::Seconds(10)).ok());
    const LogContents contents = VerifyLog(*log);
    EXPECT_EQ(contents.records, 30u);
    ExpectAcknowledgedOnce(contents);
    EXPECT_TRUE(log->Rejected().empty());
  }
}

TEST(KafkaOwnershipTest, OwnerShardSpreadsTheStreamsAndNeverChanges) {
  EXPECT_EQ(log::OwnerShard("1045", 1), 0);
  absl::flat_hash_set<int> used;
  for (int district = 1001; district <= 1050; ++district) {
    const std::string stream = absl::StrCat(district);
    const int shard = log::OwnerShard(stream, 4);
    EXPECT_GE(shard, 0);
    EXPECT_LT(shard, 4);
    EXPECT_EQ(shard, log::OwnerShard(stream, 4));
    used.insert(shard);
  }
  EXPECT_EQ(used.size(), 4u);
}

TEST_F(KafkaLogTest, WriteRefusesAGroupThatDoesNotContinueTheChain) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  const log::PendingRecord first =
      MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1"));
  ASSERT_TRUE(log->Write({first}).ok());
  acknowledged_.push_back(first.event_id);

  struct Case {
    const char* name;
    log::PendingRecord record;
  };
  const std::vector<Case> cases = {
      {"sequence skips ahead",
       MakeRecord("1045", 3, first.hash, MeetingEvent("m3"))},
      {"sequence repeats",
       MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1b"))},
      {"prev_hash is not the head's",
       MakeRecord("1045", 2, kZeroHash, MeetingEvent("m2"))},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<uint64_t> written = log->Write({c.record});
    EXPECT_EQ(written.status().code(), absl::StatusCode::kFailedPrecondition)
        << written.status();
  }
  log::PendingRecord wrong_hash =
      MakeRecord("1045", 2, first.hash, MeetingEvent("m2"));
  wrong_hash.hash[0] ^= 1;
  EXPECT_EQ(log->Write({wrong_hash}).status().code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(log->LastPosition(), 1u);
  const LogContents topic = ReadTopicAfresh();
  EXPECT_EQ(topic.records, 1u);
  ExpectAcknowledgedOnce(topic);
}

TEST_F(KafkaLogTest, ReadOnlyInstanceReadsAndNeverWrites) {
  std::unique_ptr<log::KafkaEventLog> writer = Open("w");
  ASSERT_NE(writer, nullptr);
  log::KafkaLogOptions options = Options("r");
  options.read_only = true;
  std::unique_ptr<log::KafkaEventLog> reader = Open(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->WriterStatus().code(),
            absl::StatusCode::kFailedPrecondition);

  const log::PendingRecord record =
      MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1"));
  EXPECT_EQ(reader->Write({record}).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // The reader took no transactional id: the writer still writes.
  ASSERT_TRUE(writer->Write({record}).ok());
  EXPECT_EQ(reader->WaitForPosition(1, absl::Now() + absl::Seconds(10)), 1u);
  EXPECT_EQ(reader->LoadHead("1045")->hash, record.hash);
}

TEST_F(KafkaLogTest, OpenFailsClearlyWithoutTheTopic) {
  log::KafkaLogOptions options = Options("a");
  options.topic = "no.such.topic";
  options.recovery_timeout = absl::Seconds(5);
  absl::StatusOr<std::unique_ptr<log::KafkaEventLog>> log =
      log::OpenKafkaLog(options);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("no.such.topic"),
            absl::string_view::npos)
      << log.status();
}

TEST_F(KafkaLogTest, OpenRefusesAReplicaOfAnotherTopicOrCluster) {
  {
    std::unique_ptr<log::KafkaEventLog> log = Open("a");
    ASSERT_NE(log, nullptr);
    const log::PendingRecord record =
        MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1"));
    ASSERT_TRUE(log->Write({record}).ok());
  }
  ASSERT_TRUE(cluster_->CreateTopic("other.topic", 2).ok());
  log::KafkaLogOptions other_topic = Options("a");
  other_topic.topic = "other.topic";
  absl::StatusOr<std::unique_ptr<log::KafkaEventLog>> log =
      log::OpenKafkaLog(other_topic);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition)
      << log.status();

  // A new development cluster is a new, empty log: the replica of the old
  // one must not pass for it.
  auto second = log::KafkaDevCluster::Start(1);
  ASSERT_TRUE(second.ok());
  ASSERT_TRUE((*second)->CreateTopic(topic_, kPartitions).ok());
  log::KafkaLogOptions other_cluster = Options("a");
  other_cluster.brokers = (*second)->bootstrap_servers();
  log = log::OpenKafkaLog(other_cluster);
  EXPECT_EQ(log.status().code(), absl::StatusCode::kFailedPrecondition)
      << log.status();
}

TEST_F(KafkaLogTest, OpenRefusesBadOptions) {
  struct Case {
    const char* name;
    std::function<void(log::KafkaLogOptions&)> change;
    const char* mentions;
  };
  const std::vector<Case> cases = {
      {"no brokers", [](auto& o) { o.brokers.clear(); }, "brokers"},
      {"no replica", [](auto& o) { o.replica_path.clear(); }, "replica_path"},
      {"shard out of range", [](auto& o) { o.shard = 2; }, "shard"},
      {"unknown property",
       [](auto& o) {
         o.properties.push_back({"no.such.property", "1"});
       },
       "no.such.property"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    log::KafkaLogOptions options = Options("a");
    c.change(options);
    absl::StatusOr<std::unique_ptr<log::KafkaEventLog>> log =
        log::OpenKafkaLog(options);
    ASSERT_FALSE(log.ok());
    EXPECT_EQ(log.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(log.status().message().find(c.mentions), absl::string_view::npos)
        << log.status();
  }
}

// `prongsai kafka-dev`: prints the bootstrap servers first, serves the log
// until stopped.
TEST(KafkaDevTest, PrintsBootstrapServersAndServesUntilStopped) {
  absl::Mutex mu;
  std::string first_line;
  bool stop = false;
  std::ostringstream out;
  absl::Status result;
  std::thread dev([&] {
    result = log::RunKafkaDev({.brokers = 3, .partitions = 4}, out, [&] {
      // Runs on the cluster's thread, after it printed.
      absl::MutexLock lock(&mu);
      if (first_line.empty()) {
        first_line = out.str().substr(0, out.str().find('\n'));
      }
      return stop;
    });
  });
  std::string servers;
  {
    absl::MutexLock lock(&mu);
    auto printed = [&] { return !first_line.empty(); };
    ASSERT_TRUE(
        mu.AwaitWithTimeout(absl::Condition(&printed), absl::Seconds(20)));
    servers = first_line;
  }
  EXPECT_EQ(std::count(servers.begin(), servers.end(), ','), 2) << servers;

  TempDir dir;
  log::KafkaLogOptions options;
  options.brokers = servers;
  options.replica_path = dir.Sub("replica");
  options.properties = {{"log_level", "3"}};
  {
    auto kafka = log::OpenKafkaLog(options);
    ASSERT_TRUE(kafka.ok()) << kafka.status();
    const log::PendingRecord record =
        MakeRecord("1045", 1, kZeroHash, MeetingEvent("m1"));
    EXPECT_TRUE((*kafka)->Write({record}).ok());
  }
  {
    absl::MutexLock lock(&mu);
    stop = true;
  }
  dev.join();
  EXPECT_TRUE(result.ok()) << result;
  EXPECT_NE(out.str().find("prongsai.events.v1 with 4 partitions"),
            std::string::npos)
      << out.str();
}

TEST(KafkaDevTest, RefusesNonsense) {
  std::ostringstream out;
  EXPECT_EQ(log::RunKafkaDev({.brokers = 0}, out, [] { return true; }).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      log::RunKafkaDev({.partitions = 0}, out, [] { return true; }).code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace prongsai::testing

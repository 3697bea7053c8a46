// Helpers of the Kafka log tests: a development cluster per test, appends
// through the real ingest, and checks of what a reader of the log relies on
// (every acknowledged event exactly once, every chain intact).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/hash.h"
#include "core/log/kafka_dev.h"
#include "core/log/kafka_log.h"
#include "prongsai/v1/ledger.pb.h"
#include "prongsai/v1/record.pb.h"
#include "services/ingest/ingestor.h"
#include "tests/testing/testing.h"

namespace prongsai::testing {

// What a log holds, as every reader checks it.
struct LogContents {
  // Number of records carrying each event id.
  absl::flat_hash_map<std::string, int> event_counts;
  absl::flat_hash_map<std::string, uint64_t> heads;
  uint64_t records = 0;
};

// Reads every stream of `log` through Scan and checks each chain: dense
// sequences from 1, prev_hash = hash of the record before, hash = SHA-256 of
// the stored bytes, positions dense from 1.
inline LogContents VerifyLog(log::EventLog& log) {
  LogContents contents;
  absl::flat_hash_map<std::string, Hash> last_hash;
  uint64_t expected_position = 1;
  v1::Record record;
  const absl::Status scanned = log.Scan(1, [&](const log::LogEntry& entry) {
    EXPECT_EQ(entry.position, expected_position++);
    EXPECT_TRUE(record.ParseFromArray(
        entry.record_bytes.data(), static_cast<int>(entry.record_bytes.size())))
        << "position " << entry.position;
    const std::string stream(entry.stream);
    EXPECT_EQ(record.stream(), stream);
    EXPECT_EQ(entry.sequence, contents.heads[stream] + 1)
        << "stream " << stream << " position " << entry.position;
    EXPECT_EQ(record.sequence(), entry.sequence);
    auto [it, unused] = last_hash.try_emplace(stream, kZeroHash);
    EXPECT_EQ(record.prev_hash(), AsBytes(it->second))
        << "stream " << stream << " sequence " << entry.sequence;
    EXPECT_EQ(AsBytes(Sha256(entry.record_bytes)), entry.hash);
    HashFromBytes(entry.hash, &it->second);
    contents.heads[stream] = entry.sequence;
    ++contents.event_counts[record.event().event_id()];
    ++contents.records;
    return true;
  });
  EXPECT_TRUE(scanned.ok()) << scanned;
  return contents;
}

inline v1::AppendRequest MeetingsRequest(const std::string& stream, int count,
                                         const std::string& tag) {
  v1::AppendRequest request;
  request.set_stream(stream);
  for (int i = 0; i < count; ++i) {
    *request.add_events() =
        MeetingEvent(absl::StrCat("m-", tag, "-", i, "-", NewUuid()));
  }
  return request;
}

inline std::vector<std::string> EventIds(const v1::AppendRequest& request) {
  std::vector<std::string> ids;
  for (const v1::Event& event : request.events()) {
    ids.push_back(event.event_id());
  }
  return ids;
}

// A record as the ingest would store it, for tests that write the log or
// the topic directly.
inline log::PendingRecord MakeRecord(const std::string& stream,
                                     uint64_t sequence, const Hash& prev_hash,
                                     const v1::Event& event) {
  v1::Record record;
  record.set_stream(stream);
  record.set_sequence(sequence);
  record.set_prev_hash(std::string(AsBytes(prev_hash)));
  record.mutable_recorded_at()->set_seconds(1728972000);
  *record.mutable_event() = event;
  log::PendingRecord pending;
  pending.stream = stream;
  pending.sequence = sequence;
  pending.event_id = event.event_id();
  pending.fingerprint = Sha256(event.SerializeAsString());
  pending.bytes = record.SerializeAsString();
  pending.hash = Sha256(pending.bytes);
  return pending;
}

// Each test gets its own three-broker cluster on loopback and a topic of
// four partitions. The data of every test stays far below the mock's bound
// of 5 MiB per partition.
class KafkaTest : public ::testing::Test {
 protected:
  static constexpr int kPartitions = 4;

  void SetUp() override {
    auto cluster = log::KafkaDevCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(*cluster);
    ASSERT_TRUE(cluster_->CreateTopic(topic_, kPartitions).ok());
  }

  log::KafkaLogOptions Options(const std::string& replica) {
    log::KafkaLogOptions options;
    options.brokers = cluster_->bootstrap_servers();
    options.topic = topic_;
    options.replica_path = dir_.Sub(replica);
    options.write_timeout = absl::Seconds(2);
    options.recovery_timeout = absl::Seconds(20);
    options.warn = [this](absl::string_view message) {
      absl::MutexLock lock(&warnings_mu_);
      warnings_.emplace_back(message);
    };
    // librdkafka's own warnings about the brokers being down are expected in
    // the fault tests; keep stderr for what the log itself reports.
    options.properties = {{"log_level", "3"}};
    return options;
  }

  std::unique_ptr<log::KafkaEventLog> Open(
      const log::KafkaLogOptions& options) {
    auto log = log::OpenKafkaLog(options);
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? std::move(*log) : nullptr;
  }

  std::unique_ptr<log::KafkaEventLog> Open(const std::string& replica) {
    return Open(Options(replica));
  }

  std::unique_ptr<ingest::Ingestor> StartIngest(log::EventLog* log) {
    auto ingestor = ingest::Ingestor::Start(log);
    EXPECT_TRUE(ingestor.ok()) << ingestor.status();
    return ingestor.ok() ? std::move(*ingestor) : nullptr;
  }

  // Appends, remembering every event id the ingest acknowledged.
  absl::StatusOr<v1::AppendResponse> Append(ingest::Ingestor& ingestor,
                                            const v1::AppendRequest& request) {
    absl::StatusOr<v1::AppendResponse> response = ingestor.Append(request);
    if (response.ok()) {
      for (const std::string& id : EventIds(request)) {
        acknowledged_.push_back(id);
      }
    }
    return response;
  }

  // A reader that rebuilds its replica from the topic alone: what every
  // other consumer of the topic sees.
  LogContents ReadTopicAfresh() {
    log::KafkaLogOptions options = Options(absl::StrCat("reader-", ++readers_));
    options.read_only = true;
    std::unique_ptr<log::KafkaEventLog> reader = Open(options);
    if (reader == nullptr) {
      return {};
    }
    LogContents contents = VerifyLog(*reader);
    for (const log::RejectedRecord& rejected : reader->Rejected()) {
      ADD_FAILURE() << "a fresh reader rejected " << rejected.partition << "@"
                    << rejected.offset << ": " << rejected.reason;
    }
    return contents;
  }

  // Every acknowledged event is in `contents` exactly once.
  void ExpectAcknowledgedOnce(const LogContents& contents) {
    for (const std::string& id : acknowledged_) {
      auto it = contents.event_counts.find(id);
      EXPECT_TRUE(it != contents.event_counts.end() && it->second == 1)
          << "acknowledged event " << id << " is stored "
          << (it == contents.event_counts.end() ? 0 : it->second) << " times";
    }
    for (const auto& [id, count] : contents.event_counts) {
      EXPECT_EQ(count, 1) << "event " << id << " is stored " << count
                          << " times";
    }
  }

  std::vector<std::string> Warnings() {
    absl::MutexLock lock(&warnings_mu_);
    return warnings_;
  }

  TempDir dir_;
  std::string topic_ = "prongsai.events.v1";
  std::unique_ptr<log::KafkaDevCluster> cluster_;
  std::vector<std::string> acknowledged_;
  int readers_ = 0;
  absl::Mutex warnings_mu_;
  std::vector<std::string> warnings_ ABSL_GUARDED_BY(warnings_mu_);
};

}  // namespace prongsai::testing

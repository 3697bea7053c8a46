// `prongsai migrate`: the embedded log copied to Kafka (the mock cluster)
// byte for byte, resumable, refusing a topic with another history, and the
// proof by Merkle roots and signed checkpoints.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/audit/checkpoint.h"
#include "core/audit/note.h"
#include "core/base/bytes.h"
#include "core/log/rocksdb_log.h"
#include "projections/audit/merkle_projection.h"
#include "projections/runtime/runner.h"
#include "services/audit/checkpointer.h"
#include "services/ingest/ingestor.h"
#include "services/migrate/migrate.h"
#include "tests/kafka/kafka_testing.h"
#include "tests/testing/process.h"

namespace prongsai {
namespace {

using ::prongsai::testing::MeetingsRequest;

// Every record of `log`, by stream and sequence: the exact stored bytes.
std::map<std::pair<std::string, uint64_t>, std::string> Records(
    log::EventLog& log) {
  std::map<std::pair<std::string, uint64_t>, std::string> out;
  EXPECT_TRUE(log.Scan(1, [&](const log::LogEntry& entry) {
                   out[{std::string(entry.stream), entry.sequence}] =
                       std::string(entry.record_bytes);
                   return true;
                 }).ok());
  return out;
}

class MigrateTest : public testing::KafkaTest {
 protected:
  std::string DataDir() { return dir_.Sub("data"); }

  // Appends `per_stream` events to each of `streams` in the embedded log of
  // `data_dir`; with `sign`, then signs a checkpoint of every stream, the
  // way `serve` does.
  void Fill(const std::string& data_dir, const std::vector<std::string>& streams,
            int per_stream, bool sign, const std::string& tag) {
    std::filesystem::create_directories(data_dir);
    auto log = log::OpenRocksDbLog({.path = data_dir + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    {
      auto ingestor = ingest::Ingestor::Start(log->get());
      ASSERT_TRUE(ingestor.ok()) << ingestor.status();
      for (const std::string& stream : streams) {
        auto appended = (*ingestor)->Append(
            MeetingsRequest(stream, per_stream, absl::StrCat(tag, stream)));
        ASSERT_TRUE(appended.ok()) << appended.status();
      }
    }
    if (!sign) {
      return;
    }
    std::vector<std::unique_ptr<projections::Projection>> all;
    all.push_back(std::make_unique<projections::MerkleProjection>());
    auto runner = projections::ProjectionRunner::Start(
        log->get(), {.path = data_dir + "/views", .background = false},
        std::move(all));
    ASSERT_TRUE(runner.ok()) << runner.status();
    ASSERT_TRUE((*runner)->CatchUp().ok());
    std::filesystem::create_directories(data_dir + "/keys");
    auto signer = audit::LoadOrCreateSignerKey(
        data_dir + "/keys/checkpoint.key", "prongsai");
    ASSERT_TRUE(signer.ok()) << signer.status();
    verifier_key_ = signer->VerifierKey();
    projections::ProjectionRunner* raw = runner->get();
    auto checkpointer = audit_service::Checkpointer::Start(
        *signer, [raw] { return raw->Snapshot(); },
        {.path = data_dir + "/checkpoints",
         .log_name = "prongsai",
         .interval = absl::ZeroDuration()});
    ASSERT_TRUE(checkpointer.ok()) << checkpointer.status();
    auto signed_count = (*checkpointer)->CheckpointAll();
    ASSERT_TRUE(signed_count.ok()) << signed_count.status();
    for (const std::string& stream : streams) {
      auto latest = (*checkpointer)->Latest(stream);
      ASSERT_TRUE(latest.ok() && latest->has_value());
      signed_roots_[stream] = (*latest)->checkpoint.root;
    }
  }

  migrate::MigrateOptions MigrationOf(const std::string& data_dir) {
    migrate::MigrateOptions options;
    options.data_dir = data_dir;
    options.brokers = cluster_->bootstrap_servers();
    options.topic = topic_;
    options.work_dir = dir_.Sub("work");
    options.timeout = absl::Seconds(30);
    options.batch_records = 25;  // several transactions even for small data
    options.kafka_properties = {{"log_level", "3"}};
    if (!verifier_key_.empty()) {
      auto verifier = audit::NoteVerifier::Parse(verifier_key_);
      EXPECT_TRUE(verifier.ok());
      options.verifiers.push_back(*verifier);
    }
    return options;
  }

  std::string verifier_key_;
  std::map<std::string, Hash> signed_roots_;
};

TEST_F(MigrateTest, CopiesEveryRecordByteForByteAndProvesIt) {
  Fill(DataDir(), {"1045", "1001", "1002"}, 40, /*sign=*/true, "a");
  // Records after the last checkpoint: the proof checks the copy's root at
  // the checkpoint's size, not only at its end.
  Fill(DataDir(), {"1045"}, 7, /*sign=*/false, "b");

  absl::StatusOr<migrate::MigrateReport> report =
      migrate::MigrateToKafka(MigrationOf(DataDir()));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->source_records, 127u);
  EXPECT_EQ(report->copied, 127u);
  EXPECT_EQ(report->already_present, 0u);
  ASSERT_EQ(report->streams.size(), 3u);
  EXPECT_EQ(report->checkpoints, 3);
  EXPECT_EQ(report->checkpoints_verified, 3);
  for (const migrate::StreamProof& proof : report->streams) {
    SCOPED_TRACE(proof.stream);
    EXPECT_TRUE(proof.checkpoint_verified);
    EXPECT_EQ(proof.checkpoint_size, 40u);
    EXPECT_EQ(proof.size, proof.stream == "1045" ? 47u : 40u);
    EXPECT_EQ(proof.copied, proof.size);
    if (proof.stream != "1045") {
      // The root the checkpointer signed, from its own merkle view.
      EXPECT_EQ(proof.root, signed_roots_[proof.stream]);
    }
  }
  const std::string text = migrate::FormatReport(*report);
  EXPECT_NE(text.find("stream 1045 size 47 root "), std::string::npos) << text;
  EXPECT_NE(text.find("checkpoint 40 verified"), std::string::npos) << text;

  // What any other consumer of the topic sees: the same bytes, every chain
  // intact, nothing refused.
  testing::LogContents contents = ReadTopicAfresh();
  EXPECT_EQ(contents.records, 127u);
  auto source = log::OpenRocksDbLog({.path = DataDir() + "/log"});
  ASSERT_TRUE(source.ok());
  log::KafkaLogOptions reader_options = Options("reader-bytes");
  reader_options.read_only = true;
  std::unique_ptr<log::KafkaEventLog> reader = Open(reader_options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(Records(**source), Records(*reader));
}

TEST_F(MigrateTest, SecondRunAddsNothingAndAResumedRunCopiesOnlyTheRest) {
  Fill(DataDir(), {"1045", "1001"}, 30, /*sign=*/true, "a");
  auto first = migrate::MigrateToKafka(MigrationOf(DataDir()));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->copied, 60u);

  auto second = migrate::MigrateToKafka(MigrationOf(DataDir()));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->copied, 0u);
  EXPECT_EQ(second->already_present, 60u);
  EXPECT_EQ(second->checkpoints_verified, 2);
  EXPECT_EQ(ReadTopicAfresh().records, 60u);

  // The embedded log grew after the first copy (or the copy was cut short):
  // the next run copies the missing tail only.
  Fill(DataDir(), {"1001", "1002"}, 10, /*sign=*/false, "c");
  auto third = migrate::MigrateToKafka(MigrationOf(DataDir()));
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->already_present, 60u);
  EXPECT_EQ(third->copied, 20u);
  testing::LogContents contents = ReadTopicAfresh();
  EXPECT_EQ(contents.records, 80u);
  EXPECT_EQ(contents.heads["1001"], 40u);
  EXPECT_EQ(contents.heads["1002"], 10u);
  ExpectAcknowledgedOnce(contents);
}

TEST_F(MigrateTest, RefusesATopicHoldingAnotherHistory) {
  Fill(DataDir(), {"1045"}, 20, /*sign=*/false, "a");
  ASSERT_TRUE(migrate::MigrateToKafka(MigrationOf(DataDir())).ok());

  // Another deployment's log, with its own 1045.
  const std::string other = dir_.Sub("other");
  Fill(other, {"1045", "1001"}, 25, /*sign=*/false, "z");
  auto refused = migrate::MigrateToKafka(MigrationOf(other));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition)
      << refused.status();
  EXPECT_NE(refused.status().message().find("stream 1045"), std::string::npos)
      << refused.status();
  // Nothing was written, not even stream 1001 that the topic lacks.
  testing::LogContents contents = ReadTopicAfresh();
  EXPECT_EQ(contents.records, 20u);
  EXPECT_FALSE(contents.heads.contains("1001"));
}

TEST_F(MigrateTest, RefusesACheckpointThatDoesNotVerify) {
  Fill(DataDir(), {"1045"}, 10, /*sign=*/true, "a");
  migrate::MigrateOptions options = MigrationOf(DataDir());
  auto stranger = audit::NoteSigner::Generate("prongsai");
  ASSERT_TRUE(stranger.ok());
  options.verifiers = {stranger->Verifier()};
  auto report = migrate::MigrateToKafka(options);
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.status().code(), absl::StatusCode::kDataLoss)
      << report.status();
}

// The command: flags, the default verifier keys from DIR/keys/*.pub, the
// per-stream lines and the exit codes.
TEST_F(MigrateTest, CommandPrintsEachStreamAndExitsZero) {
  Fill(DataDir(), {"1045", "1001"}, 15, /*sign=*/true, "a");
  testing::CommandResult result = testing::RunCommand(
      {testing::ProngsaiBinary(), "migrate", "--data", DataDir(), "--brokers",
       cluster_->bootstrap_servers(), "--topic", topic_, "--timeout", "30"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("stream 1001 size 15 root "), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("stream 1045 size 15 root "), std::string::npos);
  EXPECT_NE(result.out.find("2 of 2 latest signed checkpoints verify"),
            std::string::npos)
      << result.out;

  testing::CommandResult again = testing::RunCommand(
      {testing::ProngsaiBinary(), "migrate", "--data", DataDir(), "--brokers",
       cluster_->bootstrap_servers(), "--topic", topic_});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find("0 copied, 30 already in the topic"),
            std::string::npos)
      << again.out;

  testing::CommandResult usage =
      testing::RunCommand({testing::ProngsaiBinary(), "migrate"});
  EXPECT_EQ(usage.exit_code, 2);
  testing::CommandResult missing = testing::RunCommand(
      {testing::ProngsaiBinary(), "migrate", "--data", dir_.Sub("none"),
       "--brokers", cluster_->bootstrap_servers()});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("no embedded log"), std::string::npos)
      << missing.err;
}

}  // namespace
}  // namespace prongsai

// The Audit service and the checkpointer over a real log, runner and gRPC:
// what an auditor's client sees.
#include <gtest/gtest.h>

#include <fstream>

#include "core/audit/checkpoint.h"
#include "core/audit/merkle.h"
#include "core/audit/verify.h"
#include "services/cli/audit_commands.h"
#include "tests/audit/history.h"
#include "tests/audit/memory_view.h"
#include "tests/audit/stack.h"

namespace prongsai::audit {
namespace {

using testing::AuditStack;
using testing::RunCli;

std::chrono::system_clock::time_point Deadline() {
  return std::chrono::system_clock::now() + std::chrono::seconds(10);
}

std::vector<Hash> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes) {
  std::vector<Hash> out;
  for (const std::string& b : bytes) {
    Hash hash{};
    EXPECT_TRUE(HashFromBytes(b, &hash));
    out.push_back(hash);
  }
  return out;
}

Hash ToHash(const std::string& bytes) {
  Hash hash{};
  EXPECT_TRUE(HashFromBytes(bytes, &hash));
  return hash;
}

// The root of a stream computed from the log's stored bytes, independently of
// the merkle view.
Hash RootFromLog(log::EventLog* log, const std::string& stream, uint64_t size) {
  CompactTree tree;
  EXPECT_TRUE(log->ReadStream(stream, 1,
                              [&](const log::LogEntry& entry) {
                                tree.Append(LeafHash(entry.record_bytes));
                                return tree.size() < size;
                              })
                  .ok());
  return tree.Root();
}

class AuditServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<AuditStack>(dir_.path());
    ASSERT_TRUE(stack_->Open().ok());
  }

  v1::GetCheckpointResponse FetchCheckpoint(const std::string& stream,
                                            bool refresh, int earlier = 0) {
    v1::GetCheckpointRequest request;
    request.set_stream(stream);
    request.set_refresh(refresh);
    request.set_earlier(earlier);
    v1::GetCheckpointResponse response;
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status status =
        stack_->stub()->GetCheckpoint(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<AuditStack> stack_;
};

TEST_F(AuditServiceTest, SignsCheckpointsThatVerifyAgainstTheLog) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 100).ok());
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1046", 20).ok());

  v1::GetCheckpointResponse response =
      FetchCheckpoint("1045", /*refresh=*/true);
  ASSERT_EQ(response.checkpoints_size(), 1);
  EXPECT_EQ(response.verifier_key(), stack_->verifier_key());
  absl::StatusOr<Note> note = OpenNote(response.note(), {stack_->verifier()});
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<audit::Checkpoint> checkpoint = ParseCheckpoint(note->text);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->origin, "prongsai.test/1045");
  EXPECT_EQ(checkpoint->size, 100u);
  EXPECT_EQ(checkpoint->root, RootFromLog(stack_->log(), "1045", 100));
  EXPECT_EQ(response.checkpoints(0).tree_size(), 100u);
  EXPECT_EQ(ToHash(response.checkpoints(0).root_hash()), checkpoint->root);

  // Without growth, a refresh returns the same checkpoint.
  EXPECT_EQ(FetchCheckpoint("1045", true).note(), response.note());
}

TEST_F(AuditServiceTest, ServesInclusionProofsByEventAndBySequence) {
  std::vector<v1::Event> events;
  for (int i = 0; i < 37; ++i) {
    events.push_back(testing::Meeting("incl-" + std::to_string(i)));
  }
  const std::string event_id = events[20].event_id();
  ASSERT_TRUE(stack_->Append("1045", events).ok());
  const std::string note = FetchCheckpoint("1045", true).note();
  const audit::Checkpoint signed_checkpoint =
      *ParseCheckpoint(note.substr(0, note.find("\n\n") + 1));

  v1::GetInclusionProofRequest by_event;
  by_event.set_event_id(event_id);
  v1::InclusionProof proof;
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    ASSERT_TRUE(
        stack_->stub()->GetInclusionProof(&context, by_event, &proof).ok());
  }
  EXPECT_EQ(proof.stream(), "1045");
  EXPECT_EQ(proof.sequence(), 21u);
  EXPECT_EQ(proof.tree_size(), 37u);
  EXPECT_EQ(proof.checkpoint().tree_size(), 37u);
  // The client recomputes the leaf from the record bytes.
  EXPECT_TRUE(VerifyInclusion(20, 37, LeafHash(proof.record().record_bytes()),
                              Hashes(proof.hashes()), signed_checkpoint.root)
                  .ok());

  v1::GetInclusionProofRequest by_sequence;
  by_sequence.set_stream("1045");
  by_sequence.set_sequence(5);
  by_sequence.set_tree_size(9);
  {
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    ASSERT_TRUE(
        stack_->stub()->GetInclusionProof(&context, by_sequence, &proof).ok());
  }
  EXPECT_EQ(proof.tree_size(), 9u);
  EXPECT_FALSE(proof.has_checkpoint());
  EXPECT_TRUE(VerifyInclusion(4, 9, LeafHash(proof.record().record_bytes()),
                              Hashes(proof.hashes()),
                              RootFromLog(stack_->log(), "1045", 9))
                  .ok());
}

TEST_F(AuditServiceTest, ServesConsistencyProofsBetweenCheckpoints) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 13).ok());
  const std::string first = FetchCheckpoint("1045", true).note();
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 50, "more").ok());
  const std::string second = FetchCheckpoint("1045", true).note();
  const audit::Checkpoint old_cp =
      *ParseCheckpoint(first.substr(0, first.find("\n\n") + 1));
  const audit::Checkpoint new_cp =
      *ParseCheckpoint(second.substr(0, second.find("\n\n") + 1));
  ASSERT_EQ(old_cp.size, 13u);
  ASSERT_EQ(new_cp.size, 63u);

  v1::GetConsistencyProofRequest request;
  request.set_stream("1045");
  request.set_from_size(13);
  v1::ConsistencyProof proof;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  ASSERT_TRUE(
      stack_->stub()->GetConsistencyProof(&context, request, &proof).ok());
  EXPECT_EQ(proof.to_size(), 63u);
  EXPECT_EQ(proof.from_checkpoint().note(), first);
  EXPECT_EQ(proof.to_checkpoint().note(), second);
  EXPECT_TRUE(VerifyConsistency(13, 63, old_cp.root, new_cp.root,
                                Hashes(proof.hashes()))
                  .ok());

  // With earlier checkpoints, oldest first and the latest last.
  v1::GetCheckpointResponse history = FetchCheckpoint("1045", false, 5);
  ASSERT_EQ(history.checkpoints_size(), 2);
  EXPECT_EQ(history.checkpoints(0).note(), first);
  EXPECT_EQ(history.checkpoints(1).note(), second);
}

TEST_F(AuditServiceTest, CityCheckpointListsEveryStreamsLatest) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 12).ok());
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1001", 3).ok());
  v1::GetCheckpointRequest request;
  request.mutable_all_streams();
  request.set_refresh(true);
  v1::GetCheckpointResponse response;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  ASSERT_TRUE(stack_->stub()->GetCheckpoint(&context, request, &response).ok());
  absl::StatusOr<Note> note = OpenNote(response.note(), {stack_->verifier()});
  ASSERT_TRUE(note.ok()) << note.status();
  absl::StatusOr<CityCheckpoint> city = ParseCityCheckpoint(note->text);
  ASSERT_TRUE(city.ok()) << city.status();
  EXPECT_EQ(city->log_name, "prongsai.test");
  ASSERT_EQ(city->streams.size(), 2u);
  EXPECT_EQ(city->streams[0].origin, "prongsai.test/1001");
  EXPECT_EQ(city->streams[0].size, 3u);
  EXPECT_EQ(city->streams[1].size, 12u);
  EXPECT_EQ(city->streams[1].root, RootFromLog(stack_->log(), "1045", 12));
  ASSERT_EQ(response.checkpoints_size(), 2);
  EXPECT_TRUE(
      OpenNote(response.checkpoints(1).note(), {stack_->verifier()}).ok());
}

TEST_F(AuditServiceTest, ReadsRawRecordsExactlyAsStored) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 30).ok());
  v1::ReadRecordsRequest request;
  request.set_stream("1045");
  request.set_from_sequence(5);
  request.set_to_sequence(9);
  grpc::ClientContext context;
  auto reader = stack_->stub()->ReadRecords(&context, request);
  v1::RawRecord record;
  uint64_t expected = 5;
  while (reader->Read(&record)) {
    EXPECT_EQ(record.sequence(), expected++);
    EXPECT_EQ(AsBytes(Sha256(record.record_bytes())), record.hash());
  }
  EXPECT_TRUE(reader->Finish().ok());
  EXPECT_EQ(expected, 10u);
}

TEST_F(AuditServiceTest, AuditTrailShowsWhatCorrectedAnEvent) {
  v1::Event meeting = testing::Meeting("trail-1");
  v1::Event correction = testing::CorrectMeeting(meeting, 55);
  ASSERT_TRUE(stack_->Append("1045", {meeting}).ok());
  ASSERT_TRUE(stack_->Append("1045", {correction}).ok());

  v1::GetTrailRequest request;
  request.mutable_subject()->set_kind("meeting");
  request.mutable_subject()->set_id(meeting.meeting_held().meeting_id());
  v1::Trail trail;
  grpc::ClientContext context;
  context.set_deadline(Deadline());
  ASSERT_TRUE(stack_->stub()->GetTrail(&context, request, &trail).ok());
  ASSERT_EQ(trail.entries_size(), 2);
  EXPECT_EQ(trail.entries(0).event_id(), meeting.event_id());
  EXPECT_EQ(trail.entries(0).actor_id(), "1045-ita-01");
  ASSERT_EQ(trail.entries(0).corrections_size(), 1);
  EXPECT_EQ(trail.entries(0).corrections(0).event_id(), correction.event_id());
  EXPECT_EQ(trail.entries(1).kind(), "event_corrected");
  EXPECT_EQ(trail.entries(1).sequence(), 2u);

  // Each entry can be proved: its sequence has an inclusion proof.
  v1::GetInclusionProofRequest prove;
  prove.set_stream(trail.entries(1).stream());
  prove.set_sequence(trail.entries(1).sequence());
  v1::InclusionProof proof;
  grpc::ClientContext proof_context;
  ASSERT_TRUE(
      stack_->stub()->GetInclusionProof(&proof_context, prove, &proof).ok());
  EXPECT_EQ(proof.record().position(), trail.entries(1).position());
}

TEST_F(AuditServiceTest, BadRequestsSayWhatIsWrong) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 5).ok());
  struct Case {
    std::string name;
    std::function<grpc::Status(grpc::ClientContext*)> call;
    grpc::StatusCode code;
  } cases[] = {
      {"checkpoint without scope",
       [&](grpc::ClientContext* c) {
         v1::GetCheckpointResponse r;
         return stack_->stub()->GetCheckpoint(c, {}, &r);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"checkpoint never signed",
       [&](grpc::ClientContext* c) {
         v1::GetCheckpointRequest q;
         q.set_stream("1046");
         v1::GetCheckpointResponse r;
         return stack_->stub()->GetCheckpoint(c, q, &r);
       },
       grpc::StatusCode::NOT_FOUND},
      {"unknown event",
       [&](grpc::ClientContext* c) {
         v1::GetInclusionProofRequest q;
         q.set_event_id(prongsai::testing::NewUuid());
         v1::InclusionProof r;
         return stack_->stub()->GetInclusionProof(c, q, &r);
       },
       grpc::StatusCode::NOT_FOUND},
      {"tree larger than the stream",
       [&](grpc::ClientContext* c) {
         v1::GetInclusionProofRequest q;
         q.set_stream("1045");
         q.set_sequence(2);
         q.set_tree_size(6);
         v1::InclusionProof r;
         return stack_->stub()->GetInclusionProof(c, q, &r);
       },
       grpc::StatusCode::FAILED_PRECONDITION},
      {"consistency from zero",
       [&](grpc::ClientContext* c) {
         v1::GetConsistencyProofRequest q;
         q.set_stream("1045");
         v1::ConsistencyProof r;
         return stack_->stub()->GetConsistencyProof(c, q, &r);
       },
       grpc::StatusCode::INVALID_ARGUMENT},
      {"records of an empty stream",
       [&](grpc::ClientContext* c) {
         v1::ReadRecordsRequest q;
         q.set_stream("1049");
         auto reader = stack_->stub()->ReadRecords(c, q);
         v1::RawRecord r;
         while (reader->Read(&r)) {
         }
         return reader->Finish();
       },
       grpc::StatusCode::NOT_FOUND},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::ClientContext context;
    context.set_deadline(Deadline());
    grpc::Status status = c.call(&context);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_FALSE(status.error_message().empty());
  }
}

TEST_F(AuditServiceTest, CheckpointsSurviveARestartAndStayConsistent) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 25).ok());
  const std::string before = FetchCheckpoint("1045", true).note();
  const std::string key = stack_->verifier_key();
  stack_->Close();
  ASSERT_TRUE(stack_->Open().ok());
  EXPECT_EQ(stack_->verifier_key(), key);
  EXPECT_EQ(FetchCheckpoint("1045", false).note(), before);
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 10, "after").ok());
  v1::GetCheckpointResponse after = FetchCheckpoint("1045", true, 1);
  ASSERT_EQ(after.checkpoints_size(), 2);
  EXPECT_EQ(after.checkpoints(0).note(), before);
  EXPECT_EQ(after.checkpoints(1).tree_size(), 35u);
  EXPECT_TRUE(stack_->checkpointer()->Refusals().empty());
}

// The export, verify and prove commands against a running service.
TEST_F(AuditServiceTest, ExportVerifyAndProveRoundTrip) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 120).ok());
  const std::string out = dir_.Sub("1045.export");
  ASSERT_EQ(
      RunCli(cli::RunExport, cli::kExportCommand,
             {"--stream", "1045", "--out", out, "--server", stack_->address()}),
      0);
  EXPECT_EQ(RunCli(cli::RunVerify, cli::kVerifyCommand,
                   {out, "--key", stack_->verifier_key()}),
            0);
  absl::StatusOr<VerifyReport> report =
      VerifyExportFile(out, {stack_->verifier()});
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(FormatReport(*report).substr(0, 17), "OK 1045 size 120 ");

  // The server's .pub file works as --key too; a wrong key fails.
  EXPECT_EQ(RunCli(cli::RunVerify, cli::kVerifyCommand,
                   {out, "--key", dir_.Sub("checkpoint.key.pub")}),
            0);
  const std::string stranger =
      NoteSigner::Generate("prongsai.test")->VerifierKey();
  EXPECT_EQ(
      RunCli(cli::RunVerify, cli::kVerifyCommand, {out, "--key", stranger}),
      ExitCode(Finding::kBadSignature));

  // A checkpoint saved today proves tomorrow's inclusion and growth.
  const std::string trusted = dir_.Sub("trusted.note");
  {
    std::ofstream file(trusted);
    file << FetchCheckpoint("1045", false).note();
  }
  EXPECT_EQ(RunCli(cli::RunProve, cli::kProveCommand,
                   {"inclusion", "--checkpoint", trusted, "--key",
                    stack_->verifier_key(), "--sequence", "77", "--server",
                    stack_->address()}),
            0);
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 30, "later").ok());
  const std::string newer = dir_.Sub("newer.note");
  EXPECT_EQ(RunCli(cli::RunProve, cli::kProveCommand,
                   {"consistency", "--checkpoint", trusted, "--key",
                    stack_->verifier_key(), "--refresh", "--out", newer,
                    "--server", stack_->address()}),
            0);
  std::ifstream saved(newer);
  std::string saved_note((std::istreambuf_iterator<char>(saved)), {});
  EXPECT_EQ(
      ParseCheckpoint(saved_note.substr(0, saved_note.find("\n\n") + 1))->size,
      150u);
  // A record past the trusted tree is not proven in it.
  EXPECT_EQ(RunCli(cli::RunProve, cli::kProveCommand,
                   {"inclusion", "--checkpoint", trusted, "--key",
                    stack_->verifier_key(), "--sequence", "140", "--server",
                    stack_->address()}),
            1);
}

// The checkpointer against views it is handed directly.
class CheckpointerTest : public ::testing::Test {
 protected:
  void Use(const std::vector<testing::StoredRecord>& records, size_t size,
           uint64_t position) {
    projections::MerkleProjection projection;
    testing::MemoryView view;
    for (size_t i = 0; i < size; ++i) {
      ASSERT_TRUE(
          testing::Feed(projection, view, i + 1, records[i].bytes).ok());
    }
    auto snapshot = std::make_shared<testing::MemorySnapshot>();
    snapshot->Add(std::string(projections::kMerkleProjection), view, position);
    snapshot_ = snapshot;
  }

  std::unique_ptr<audit_service::Checkpointer> Start() {
    audit_service::CheckpointerOptions options;
    options.path = dir_.Sub("checkpoints");
    options.log_name = "prongsai.test";
    options.interval = absl::ZeroDuration();
    options.log_position = [this] { return log_position_; };
    options.warn = [this](absl::string_view m) { warnings_.emplace_back(m); };
    auto checkpointer = audit_service::Checkpointer::Start(
        signer_,
        [this]() -> absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> {
          return std::make_unique<testing::MemorySnapshot>(*snapshot_);
        },
        options);
    EXPECT_TRUE(checkpointer.ok()) << checkpointer.status();
    return std::move(*checkpointer);
  }

  prongsai::testing::TempDir dir_;
  NoteSigner signer_ = *NoteSigner::Generate("prongsai.test");
  std::shared_ptr<testing::MemorySnapshot> snapshot_;
  uint64_t log_position_ = 0;
  std::vector<std::string> warnings_;
};

TEST_F(CheckpointerTest, NeverSignsTwoInconsistentCheckpoints) {
  const auto honest = testing::MakeHistory("1045", 20);
  const auto forked = testing::MakeHistory("1045", 20, "forked");
  Use(honest, 10, 10);
  log_position_ = 10;
  auto checkpointer = Start();
  absl::StatusOr<audit_service::SignedCheckpoint> first =
      checkpointer->CheckpointStream("1045");
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->checkpoint.size, 10u);

  struct Case {
    std::string name;
    const std::vector<testing::StoredRecord>* records;
    size_t size;
  } cases[] = {
      {"a forked history of the same size", &forked, 10},
      {"a forked history that grew", &forked, 15},
      {"a tree that shrank", &honest, 7},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Use(*c.records, c.size, 100);
    log_position_ = 100;
    absl::StatusOr<audit_service::SignedCheckpoint> refused =
        checkpointer->CheckpointStream("1045");
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(refused.status().message().find("refusing to sign"),
              std::string::npos);
    EXPECT_EQ(checkpointer->Latest("1045")->value().note, first->note);
    ASSERT_EQ(checkpointer->Refusals().size(), 1u);
    EXPECT_EQ(checkpointer->CheckpointAll().status().code(),
              absl::StatusCode::kDataLoss);
  }
  EXPECT_FALSE(warnings_.empty());
  EXPECT_NE(warnings_.back().find("REFUSING"), std::string::npos);
  EXPECT_EQ(checkpointer->History("1045", 100)->size(), 1u);

  // The honest history that grew is signed again, and clears the refusal.
  Use(honest, 20, 100);
  absl::StatusOr<audit_service::SignedCheckpoint> grown =
      checkpointer->CheckpointStream("1045");
  ASSERT_TRUE(grown.ok()) << grown.status();
  EXPECT_EQ(grown->checkpoint.size, 20u);
  EXPECT_TRUE(checkpointer->Refusals().empty());
}

TEST_F(CheckpointerTest, AViewStillCatchingUpIsNotAFork) {
  const auto honest = testing::MakeHistory("1045", 20);
  Use(honest, 20, 20);
  log_position_ = 20;
  {
    auto checkpointer = Start();
    ASSERT_TRUE(checkpointer->CheckpointStream("1045").ok());
  }
  // After a restart the view has replayed only part of the log.
  Use(honest, 8, 8);
  auto checkpointer = Start();
  absl::StatusOr<audit_service::SignedCheckpoint> latest =
      checkpointer->CheckpointStream("1045");
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->checkpoint.size, 20u);
  EXPECT_TRUE(checkpointer->Refusals().empty());
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(CheckpointerTest, SignsOnItsSchedule) {
  const auto honest = testing::MakeHistory("1045", 5);
  Use(honest, 5, 5);
  log_position_ = 5;
  audit_service::CheckpointerOptions options;
  options.path = dir_.Sub("scheduled");
  options.interval = absl::Milliseconds(20);
  auto checkpointer = audit_service::Checkpointer::Start(
      signer_,
      [this]() -> absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> {
        return std::make_unique<testing::MemorySnapshot>(*snapshot_);
      },
      options);
  ASSERT_TRUE(checkpointer.ok());
  EXPECT_TRUE(prongsai::testing::WaitFor([&] {
    absl::StatusOr<std::optional<std::string>> city =
        (*checkpointer)->LatestCity();
    return city.ok() && city->has_value();
  }));
  EXPECT_EQ((*checkpointer)->Latest("1045")->value().checkpoint.size, 5u);
  (*checkpointer)->Stop();
}

}  // namespace
}  // namespace prongsai::audit

// The audit role assembled as `prongsai serve` assembles it, for tests: the
// RocksDB log, the ingest, the projection runner with the merkle and audit
// trail views, the checkpointer and the Audit service on loopback gRPC.
// Close() releases the log so a test can tamper with its RocksDB files.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/audit/note.h"
#include "core/base/status.h"
#include "core/log/rocksdb_log.h"
#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "services/audit/audit_service.h"
#include "services/audit/checkpointer.h"
#include "services/cli/args.h"
#include "services/ingest/ingestor.h"
#include "tests/testing/testing.h"

namespace prongsai::audit::testing {

inline constexpr absl::string_view kLogName = "prongsai.test";

class AuditStack {
 public:
  explicit AuditStack(std::string dir) : dir_(std::move(dir)) {}
  ~AuditStack() { Close(); }

  absl::Status Open() {
    ASSIGN_OR_RETURN(
        log_, log::OpenRocksDbLog({.path = dir_ + "/log", .sync = false}));
    ASSIGN_OR_RETURN(ingestor_, ingest::Ingestor::Start(log_.get()));
    std::vector<std::unique_ptr<projections::Projection>> projections;
    projections.push_back(std::make_unique<projections::MerkleProjection>());
    projections.push_back(
        std::make_unique<projections::AuditTrailProjection>());
    ASSIGN_OR_RETURN(
        runner_, projections::ProjectionRunner::Start(
                     log_.get(), {.path = dir_ + "/views", .background = false},
                     std::move(projections)));
    ASSIGN_OR_RETURN(NoteSigner signer,
                     LoadOrCreateSignerKey(dir_ + "/checkpoint.key", kLogName));
    verifier_key_ = signer.VerifierKey();
    audit_service::CheckpointerOptions options;
    options.path = dir_ + "/checkpoints";
    options.log_name = std::string(kLogName);
    options.interval = absl::ZeroDuration();
    options.log_position = [log = log_.get()] { return log->LastPosition(); };
    options.warn = [this](absl::string_view message) {
      warnings_.emplace_back(message);
    };
    ASSIGN_OR_RETURN(checkpointer_,
                     audit_service::Checkpointer::Start(
                         std::move(signer), Snapshots(), std::move(options)));
    service_ = std::make_unique<audit_service::AuditService>(
        log_.get(), Snapshots(), checkpointer_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || port_ == 0) {
      return absl::UnavailableError("could not start the gRPC server");
    }
    stub_ = v1::Audit::NewStub(
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials()));
    return absl::OkStatus();
  }

  void Close() {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
    }
    stub_.reset();
    server_.reset();
    service_.reset();
    checkpointer_.reset();
    runner_.reset();
    if (ingestor_ != nullptr) {
      ingestor_->Stop();
    }
    ingestor_.reset();
    log_.reset();
  }

  audit_service::SnapshotSource Snapshots() {
    return [this] { return runner_->Snapshot(); };
  }

  // Appends `events` to `stream` and brings the views up to date.
  absl::StatusOr<v1::AppendResponse> Append(const std::string& stream,
                                            std::vector<v1::Event> events) {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (v1::Event& event : events) {
      *request.add_events() = std::move(event);
    }
    ASSIGN_OR_RETURN(v1::AppendResponse response, ingestor_->Append(request));
    RETURN_IF_ERROR(runner_->CatchUp());
    return response;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  const std::string& verifier_key() const { return verifier_key_; }
  NoteVerifier verifier() const { return *NoteVerifier::Parse(verifier_key_); }
  const std::string& dir() const { return dir_; }

  log::EventLog* log() { return log_.get(); }
  projections::ProjectionRunner* runner() { return runner_.get(); }
  audit_service::Checkpointer* checkpointer() { return checkpointer_.get(); }
  audit_service::AuditService* service() { return service_.get(); }
  v1::Audit::Stub* stub() { return stub_.get(); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  std::string dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<audit_service::Checkpointer> checkpointer_;
  std::unique_ptr<audit_service::AuditService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Audit::Stub> stub_;
  std::string verifier_key_;
  std::vector<std::string> warnings_;
  int port_ = 0;
};

// A meeting, and a correction of it that the domain rules accept.
inline v1::Event Meeting(const std::string& id, int attendees = 40) {
  return prongsai::testing::MeetingEvent(id, attendees);
}

inline v1::Event CorrectMeeting(const v1::Event& original, int attendees) {
  v1::Event correction;
  correction.set_event_id(prongsai::testing::NewUuid());
  correction.mutable_occurred_at()->set_seconds(1728975600);
  correction.mutable_actor()->set_id("1045-ita-02");
  v1::EventCorrected* corrected = correction.mutable_event_corrected();
  corrected->set_corrected_event_id(original.event_id());
  corrected->set_reason("แก้จำนวนผู้เข้าประชุมให้ตรงกับรายงานการประชุม");
  v1::Event replacement = original;
  replacement.clear_event_id();
  replacement.clear_occurred_at();
  replacement.clear_actor();
  replacement.mutable_meeting_held()->set_attendees(attendees);
  *corrected->mutable_replacement() = std::move(replacement);
  return correction;
}

// Appends `count` records to `stream`: meetings, every tenth a correction of
// the meeting before it.
inline absl::Status AppendHistory(AuditStack& stack, const std::string& stream,
                                  int count, const std::string& tag = "m") {
  std::vector<v1::Event> batch;
  v1::Event last;
  for (int i = 1; i <= count; ++i) {
    if (i % 10 == 0) {
      batch.push_back(CorrectMeeting(last, 10 + i % 50));
    } else {
      last = Meeting(absl::StrCat(tag, "-", stream, "-", i));
      batch.push_back(last);
    }
    if (batch.size() >= 500) {
      RETURN_IF_ERROR(stack.Append(stream, std::move(batch)).status());
      batch.clear();
    }
  }
  if (!batch.empty()) {
    RETURN_IF_ERROR(stack.Append(stream, std::move(batch)).status());
  }
  return absl::OkStatus();
}

// Runs a `prongsai` command function with `argv`, as main() would.
inline int RunCli(int (*run)(const cli::Args&), const cli::CommandSpec& spec,
                  const std::vector<std::string>& argv) {
  absl::StatusOr<cli::Args> args = cli::Args::Parse(spec, argv);
  EXPECT_TRUE(args.ok()) << args.status();
  return args.ok() ? run(*args) : -1;
}

}  // namespace prongsai::audit::testing

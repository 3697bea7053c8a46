// The ingestor: the single writer of every stream it owns.
//
// Appends from many callers queue up; one writer thread takes all that are
// waiting, checks each against the domain rules and the expected version,
// gives its events dense sequences and chains their hashes, and stores the
// whole group in one durable log write (group commit). Each caller is answered
// only after that write is durable.
//
// Example:
//   ASSIGN_OR_RETURN(auto ingestor, Ingestor::Start(log.get(), {}));
//   absl::StatusOr<v1::AppendResponse> result = ingestor->Append(request);
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/domain/rules.h"
#include "core/log/event_log.h"
#include "prongsai/v1/ledger.pb.h"

namespace prongsai::ingest {

struct IngestOptions {
  // Most events one Append may carry.
  int max_events_per_append = 10'000;
  // Most events stored by one log write (a group of appends).
  int max_events_per_write = 20'000;
  // The server clock for Record.recorded_at; injectable for tests.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

class Ingestor {
 public:
  using Done = std::function<void(absl::StatusOr<v1::AppendResponse>)>;

  // Recovers every stream's head and the domain state from `log` (which must
  // outlive the ingestor) and starts the writer.
  static absl::StatusOr<std::unique_ptr<Ingestor>> Start(
      log::EventLog* log, IngestOptions options = {});
  ~Ingestor();

  // Queues `request`, which must stay alive until `done` runs; `done` runs on
  // the writer thread once the outcome is known (after the durable write, for
  // a success).
  void AppendAsync(const v1::AppendRequest* request, Done done);

  // Appends and waits for the outcome.
  absl::StatusOr<v1::AppendResponse> Append(const v1::AppendRequest& request);

  // The current head of `stream` (sequence 0 for an empty stream).
  absl::StatusOr<log::StreamHead> Head(absl::string_view stream);

  // Fails queued appends with UNAVAILABLE and stops the writer.
  void Stop();

 private:
  struct Pending {
    const v1::AppendRequest* request;
    Done done;
  };
  struct Group;

  Ingestor(log::EventLog* log, IngestOptions options);
  absl::Status Recover();
  void Run();
  void Process(std::deque<Pending>& batch);
  absl::Status Stage(Pending& pending, Group& group, int index);

  log::EventLog* const log_;
  const IngestOptions options_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Set when a log write failed: the in-memory state may be ahead of the log,
  // so no further append is taken until a restart recovers from the log.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  // Heads as durably stored, for readers.
  absl::flat_hash_map<std::string, log::StreamHead> heads_ ABSL_GUARDED_BY(mu_);

  // Writer-thread state: heads including the group being staged, and the
  // domain rules' write model.
  absl::flat_hash_map<std::string, log::StreamHead> working_heads_;
  domain::Rules rules_;
  std::thread writer_;
};

}  // namespace prongsai::ingest

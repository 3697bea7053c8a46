// The ingestor: the single writer of every stream it owns.
//
// Appends from many callers queue up. A staging thread takes all that are
// waiting, checks each against the domain rules and the expected version,
// gives its events dense sequences and log positions and chains their hashes,
// and hands the whole group to a commit thread, which stores it in one durable
// log write (group commit). The next group is staged while the previous one
// is being written. Each caller is answered only after its group is durable.
//
// Example:
//   ASSIGN_OR_RETURN(auto ingestor, Ingestor::Start(log.get(), {}));
//   absl::StatusOr<v1::AppendResponse> result = ingestor->Append(request);
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
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
  // Refuses appends to streams this writer does not own (an ingest of one
  // ownership shard on Kafka): the append fails alone, before anything is
  // written. The start replays only the owned streams (and the city
  // stream, whose frameworks every stream's rules read), so the write model
  // holds them alone. Empty: every stream is owned.
  std::function<absl::Status(absl::string_view stream)> check_owner;
  // Returns the bytes to store for an event, with the fields marked
  // (prongsai.v1.personal) sealed for their data subjects, or nullopt when the
  // event holds nothing to seal (it is stored as sent). The idempotency check
  // compares the events as sent. Unset: events are stored as sent.
  std::function<absl::StatusOr<std::optional<std::string>>(
      const v1::Event& event)>
      seal;
  // Where the ingest keeps its state (stream heads and the domain's write
  // model, with the log position they reflect) when it stops cleanly, so
  // that the next start replays only the records after that position instead
  // of the whole log. A state that does not match the log (older than the
  // log's end is fine; a different or shorter log is not) is ignored and the
  // whole log replayed. Empty: always replay the whole log. Not with
  // check_owner (Start refuses the pair).
  std::string state_path;
  // The server clock for Record.recorded_at; injectable for tests.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// What the ingest did since it started, for the metrics endpoint. Refusals
// are counted by status code (absl::StatusCode as the index).
struct IngestCounters {
  static constexpr int kCodes = 17;
  uint64_t appends_accepted = 0;
  uint64_t events_accepted = 0;
  std::array<uint64_t, kCodes> appends_rejected{};
  std::array<uint64_t, kCodes> events_rejected{};
  // Records the log stored (an append that is wholly a retry stores none).
  uint64_t records_written = 0;
  uint64_t log_writes = 0;
  uint64_t log_write_failures = 0;
  double log_write_seconds = 0;
  // Set once a failed log write stopped the ingest until a restart.
  bool stopped_after_failure = false;
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

  // The current head of `stream` (sequence 0 for an empty stream). For a
  // stream this writer does not own, the log's.
  absl::StatusOr<log::StreamHead> Head(absl::string_view stream);

  // Finishes the appends already taken, refuses the rest with UNAVAILABLE,
  // and stops.
  void Stop();

  IngestCounters Counters();
  // How the last start recovered: records replayed from the log (those of
  // the streams it owns, and of the city stream), and the
  // position of the saved state it started from (0: none).
  uint64_t recovered_records() const { return recovered_records_; }
  // Approximate heap bytes of the domain's write model once recovered.
  size_t recovered_model_bytes() const { return recovered_model_bytes_; }
  uint64_t recovered_from_position() const { return recovered_from_; }
  // Counts an append of `events` events refused before it reached the
  // ingest (a request that does not decode).
  void CountRefused(const absl::Status& status, int events);

 private:
  struct Pending {
    const v1::AppendRequest* request = nullptr;
    Done done;
    // Made by the caller's thread before the append queues, off the single
    // staging thread: each event serialized, its fingerprint, and (with a
    // seal function) why sealing failed, or the sealed bytes of each event,
    // empty where it had nothing to seal (none at all: nothing sealed).
    std::vector<std::string> event_bytes;
    std::vector<Hash> fingerprints;
    std::vector<std::string> sealed;
    absl::Status seal_status;
  };
  // Whether this writer owns `stream` (IngestOptions::check_owner).
  bool Owns(absl::string_view stream) const;
  // Fills the caller's part of `pending`.
  void Prepare(Pending& pending) const;
  struct Group;
  // An event staged in a group that is not yet durable.
  struct InFlight {
    std::string stream;
    uint64_t sequence;
    uint64_t position;
    Hash fingerprint;
  };

  // Relaxed atomics: each is a tally on its own, read by scrapes.
  struct AtomicCounters {
    std::atomic<uint64_t> appends_accepted{0};
    std::atomic<uint64_t> events_accepted{0};
    std::array<std::atomic<uint64_t>, IngestCounters::kCodes>
        appends_rejected{};
    std::array<std::atomic<uint64_t>, IngestCounters::kCodes> events_rejected{};
    std::atomic<uint64_t> records_written{0};
    std::atomic<uint64_t> log_writes{0};
    std::atomic<uint64_t> log_write_failures{0};
    std::atomic<int64_t> log_write_nanos{0};
  };

  Ingestor(log::EventLog* log, IngestOptions options);
  // Answers one append and counts its outcome.
  void Finish(Pending& pending, absl::StatusOr<v1::AppendResponse> result);
  absl::Status Recover();
  // Loads the saved state if it matches the log; returns the position it
  // reflects, or 0 when there is none to use.
  uint64_t LoadState();
  absl::Status SaveState();
  void StageLoop();
  void CommitLoop();
  // Stages every append of `group` (staging-state owner only).
  void StageGroup(Group& group);
  // Stages and writes `pending` on the calling thread if the ingest is idle;
  // false (and `pending` untouched) otherwise.
  bool AppendInline(Pending& pending);
  // Writes a staged group to the log and updates the durable heads; the
  // write's outcome.
  absl::Status WriteGroup(Group& group);
  // Answers every append of a written group.
  void AnswerGroup(Group& group, const absl::Status& write_status);
  absl::Status Stage(const Pending& pending, Group& group,
                     v1::AppendResponse& response);

  log::EventLog* const log_;
  const IngestOptions options_;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // Staged groups waiting for the commit thread, oldest first.
  std::deque<std::unique_ptr<Group>> staged_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool staging_done_ ABSL_GUARDED_BY(mu_) = false;
  // The staging thread is staging a group; the commit thread is writing
  // one; an append is being staged and written on its caller's thread.
  bool staging_ ABSL_GUARDED_BY(mu_) = false;
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  bool inline_ ABSL_GUARDED_BY(mu_) = false;
  // Appends on their callers' threads not yet answered; Stop waits for
  // them.
  int inline_calls_ ABSL_GUARDED_BY(mu_) = 0;
  // Set when a log write failed: the staged state may be ahead of the log, so
  // no further append is taken until a restart recovers from the log.
  absl::Status failed_ ABSL_GUARDED_BY(mu_);
  // Heads as durably stored, for readers.
  absl::flat_hash_map<std::string, log::StreamHead> heads_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, InFlight> in_flight_ ABSL_GUARDED_BY(mu_);

  // Staging-thread state: heads including staged groups, the next position,
  // and the domain rules' write model.
  absl::flat_hash_map<std::string, log::StreamHead> working_heads_;
  uint64_t next_position_ = 1;
  bool recovered_ = false;  // Recover finished: the state is whole
  uint64_t recovered_records_ = 0;
  size_t recovered_model_bytes_ = 0;
  uint64_t recovered_from_ = 0;
  domain::Rules rules_{options_.clock};

  AtomicCounters counters_;

  std::thread stager_;
  std::thread committer_;
};

}  // namespace prongsai::ingest

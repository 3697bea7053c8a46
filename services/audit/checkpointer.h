// The checkpointer: signs each stream's tree head as a C2SP checkpoint, on a
// schedule and on demand, keeps every checkpoint it signed, and signs a city
// checkpoint listing each stream's latest.
//
// It never signs two checkpoints of one stream that are inconsistent: before
// signing a new head it proves, with a consistency proof from the merkle view
// checked against the root it signed last, that the new tree extends the old
// one. A tree that shrank or forked is refused loudly (DATA_LOSS, a message
// to the log, and Refusals()) and nothing is signed for that stream.
//
// Signed checkpoints live in a small RocksDB database of their own (ordered
// by stream and size, written with sync, never overwritten):
//   'c' stream '\0' size(8)  -> the signed note
//   'a' number(8)            -> a signed city checkpoint note
//
// Example:
//   ASSIGN_OR_RETURN(auto signer,
//                    audit::LoadOrCreateSignerKey(key_path, "prongsai"));
//   ASSIGN_OR_RETURN(auto checkpointer, Checkpointer::Start(
//       std::move(signer), [&] { return runner->Snapshot(); },
//       {.path = data_dir + "/checkpoints", .log_name = "prongsai"}));
//   ASSIGN_OR_RETURN(SignedCheckpoint latest,
//                    checkpointer->CheckpointStream("1045"));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/audit/checkpoint.h"
#include "core/audit/note.h"
#include "projections/runtime/runner.h"

namespace prongsai::audit_service {

// A consistent picture of the views; the lead's runner provides it with
// [runner] { return runner->Snapshot(); }.
using SnapshotSource =
    std::function<absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>>()>;

struct CheckpointerOptions {
  // Directory of the checkpoint store (a RocksDB database).
  std::string path;
  // The log's name: origins are "<log_name>/<stream>".
  std::string log_name = std::string(audit::kDefaultLogName);
  // How often streams that grew are checkpointed; zero: only on demand.
  absl::Duration interval = absl::Minutes(1);
  // The log's last position. With it, a tree smaller than the last signed
  // one is taken for a view still catching up while the view lags behind
  // the log, and refused only once it has consumed the whole log. Without
  // it, a smaller tree is always refused.
  std::function<uint64_t()> log_position;
  // Where warnings and refusals go; stderr when unset.
  std::function<void(absl::string_view)> warn;
};

struct SignedCheckpoint {
  std::string stream;
  audit::Checkpoint checkpoint;
  std::string note;  // the whole signed note
};

class Checkpointer {
 public:
  // Opens the store and, with a non-zero interval, starts signing on the
  // schedule (a first round right away).
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(
      audit::NoteSigner signer, SnapshotSource snapshots,
      CheckpointerOptions options);
  virtual ~Checkpointer() = default;

  // Signs a checkpoint of every stream whose tree grew since its latest one,
  // then (if any did, or none exists yet) a city checkpoint. Returns how many
  // stream checkpoints it signed. A refused stream does not stop the others;
  // the first refusal is returned after all were tried.
  virtual absl::StatusOr<int> CheckpointAll() = 0;

  // Makes sure the stream's latest checkpoint covers its current tree, and
  // returns it. NOT_FOUND for a stream without records.
  virtual absl::StatusOr<SignedCheckpoint> CheckpointStream(
      absl::string_view stream) = 0;

  virtual absl::StatusOr<std::optional<SignedCheckpoint>> Latest(
      absl::string_view stream) const = 0;
  virtual absl::StatusOr<std::optional<SignedCheckpoint>> AtSize(
      absl::string_view stream, uint64_t size) const = 0;
  // The stream's checkpoints, oldest first; at most `limit` (the newest).
  virtual absl::StatusOr<std::vector<SignedCheckpoint>> History(
      absl::string_view stream, size_t limit) const = 0;
  // The latest city checkpoint note, if one was signed.
  virtual absl::StatusOr<std::optional<std::string>> LatestCity() const = 0;

  virtual std::string VerifierKey() const = 0;
  // Streams the checkpointer refused to sign, and why (the latest refusal).
  virtual std::vector<std::pair<std::string, std::string>> Refusals() const = 0;

  // Stops the schedule; on-demand calls keep working.
  virtual void Stop() = 0;
};

}  // namespace prongsai::audit_service

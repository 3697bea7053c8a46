// The projection runtime: feeds the log to every projection and keeps their
// views in one RocksDB store beside the log.
//
// One feeder thread reads the log once, decodes each record once, checks that
// it continues its stream's chain, and hands it to every projection that has
// not consumed it yet. A batch of records ends in one RocksDB WriteBatch
// holding the rows each projection staged and the position each projection
// consumed up to, so views and positions can never disagree.
//
// Example:
//   std::vector<std::unique_ptr<Projection>> all;
//   all.push_back(std::make_unique<ProgressProjection>());
//   ASSIGN_OR_RETURN(auto runner, ProjectionRunner::Start(
//       log.get(), {.path = dir + "/views"}, std::move(all)));
//   runner->WaitForPosition(append.last_position(), absl::Now() + timeout);
//   ASSIGN_OR_RETURN(auto snapshot, runner->Snapshot());
//   ASSIGN_OR_RETURN(auto row, snapshot->view("progress").Get("1045/..."));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/log/event_log.h"
#include "projections/runtime/projection.h"

namespace prongsai::projections {

struct RunnerOptions {
  // Directory of the view store (a RocksDB database of its own).
  std::string path;
  // Most records per committed batch.
  int max_batch_records = 5'000;
  // Start the feeder thread. Off for tools that drive CatchUp themselves.
  bool background = true;
};

struct ProjectionStatus {
  std::string name;
  int version = 0;
  uint64_t position = 0;      // last log position consumed
  uint64_t log_position = 0;  // last position in the log
  std::string error;          // why it stopped, if it did
  bool rebuilding = false;    // a Rebuild of it is running
};

// What the feeder did since start, for the metrics endpoint.
struct RunnerCounters {
  uint64_t batches = 0;   // committed batches
  uint64_t records = 0;   // records read from the log into them
  double batch_seconds = 0;  // time spent reading, applying and committing
  absl::Time last_batch = absl::InfinitePast();
};

// A record the runtime refused because it does not continue its stream.
struct RejectedRecord {
  uint64_t position = 0;
  std::string stream;
  uint64_t sequence = 0;
  std::string reason;
};

// A consistent, read-only picture of every view at one moment.
class ViewSnapshot {
 public:
  virtual ~ViewSnapshot() = default;
  // The rows of projection `name`; an unknown name gives an empty view.
  virtual const ViewReader& view(absl::string_view name) const = 0;
  // The log position `name` had consumed when the snapshot was taken.
  virtual uint64_t position(absl::string_view name) const = 0;
};

class ProjectionRunner {
 public:
  // Opens the view store, rebuilds any projection whose version changed, and
  // (with options.background) starts following the log, which must outlive
  // the runner.
  static absl::StatusOr<std::unique_ptr<ProjectionRunner>> Start(
      log::EventLog* log, RunnerOptions options,
      std::vector<std::unique_ptr<Projection>> projections);
  virtual ~ProjectionRunner() = default;

  // Applies everything in the log up to its current end, in the calling
  // thread. `progress` (if set) is called after each batch with the position
  // reached and the log's last position.
  virtual absl::Status CatchUp(
      const std::function<void(uint64_t, uint64_t)>& progress = nullptr) = 0;

  // Waits until every projection has consumed `position`; false on timeout.
  // A projection being rebuilt counts with the position of its previous
  // rows, which stand still until the rebuild ends.
  virtual bool WaitForPosition(uint64_t position, absl::Time deadline) = 0;

  // Rebuilds the view of `name` from the start of the log, in the calling
  // thread, into rows of its own beside the current ones. Meanwhile the
  // other projections keep following the log, and snapshots show the view's
  // previous rows at their position; once the rebuilt rows have reached at
  // least that position, they replace the previous ones in one write, and
  // the view follows the log again from there. Without the background
  // feeder, the rebuild then also catches up with the log.
  //
  // `progress` (if set) is called after each batch, outside every lock, with
  // the position the rebuilt rows reached and the log's last position.
  // `cancelled` (if set) is asked between batches; when it returns true, or
  // when the runner stops, the rebuild ends with CANCELLED. On any error the
  // previous rows stay as they were. NOT_FOUND (listing the names) for an
  // unknown projection; FAILED_PRECONDITION if it is being rebuilt already.
  virtual absl::Status Rebuild(
      absl::string_view name,
      const std::function<void(uint64_t, uint64_t)>& progress = nullptr,
      const std::function<bool()>& cancelled = nullptr) = 0;

  virtual std::vector<ProjectionStatus> Status() const = 0;
  virtual std::vector<RejectedRecord> Rejected() const = 0;
  virtual RunnerCounters Counters() const = 0;

  virtual absl::StatusOr<std::unique_ptr<ViewSnapshot>> Snapshot() const = 0;

  // Stops the feeder after its current batch.
  virtual void Stop() = 0;
};

}  // namespace prongsai::projections

// The report views as the ledger stood at a past log position, replayed into
// memory by the same projection code the runtime runs.
//
// A district's answer replays the city stream (frameworks, district names)
// and that district's stream only; a city-wide answer replays every stream.
// The records come from the report_journal view when it has reached the
// position (the records the views apply, one range read per stream), else
// from the log (every record of the streams; the runtime's refused records
// are skipped as the runtime skips them). Either way a replay at the views'
// own position gives the views' rows.
//
// Example:
//   ASSIGN_OR_RETURN(uint64_t position, PositionAtTime(log, as_of_time));
//   ASSIGN_OR_RETURN(auto views, ReplayedViews::ReplayJournal(
//       snapshot->view(kJournalView), position, {"1045"}, {kProgressView}));
//   BuildItaReport(views->view(kProgressView), ...);
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/log/event_log.h"
#include "projections/reports/memory_view.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::reports {

// The last log position whose record was appended at or before `time`
// (0 when none was). Appends are stamped in log order by the single writer,
// so recorded_at does not decrease along the log; the search relies on it.
absl::StatusOr<uint64_t> PositionAtTime(log::EventLog* log, absl::Time time);

// recorded_at of the record at `position`; NOT_FOUND when there is none.
absl::StatusOr<absl::Time> RecordedAtPosition(log::EventLog* log,
                                              uint64_t position);

class ReplayedViews {
 public:
  // Replays every record up to and including `position` of the city stream
  // and of `districts` (every stream when empty) into the views named in
  // `views`, skipping the positions in `refused`.
  static absl::StatusOr<std::unique_ptr<ReplayedViews>> Replay(
      log::EventLog* log, uint64_t position,
      const std::vector<std::string>& districts,
      const std::vector<absl::string_view>& views,
      const absl::flat_hash_set<uint64_t>& refused);

  // The same from the report_journal view, which must have consumed
  // `position`.
  static absl::StatusOr<std::unique_ptr<ReplayedViews>> ReplayJournal(
      const projections::ViewReader& journal, uint64_t position,
      const std::vector<std::string>& districts,
      const std::vector<absl::string_view>& views);

  // The rows of view `name`; empty for a view that was not replayed.
  const projections::ViewReader& view(absl::string_view name) const;
  uint64_t position() const { return position_; }
  // Records applied (after skipping refused ones), for benchmarks.
  uint64_t records() const { return records_; }

 private:
  struct Slot {
    std::unique_ptr<projections::Projection> projection;
    MemoryView rows;
  };
  static std::unique_ptr<ReplayedViews> Make(
      uint64_t position, const std::vector<absl::string_view>& views);
  // Applies one stored record to every view that wants it.
  absl::Status ApplyRecord(uint64_t position, absl::string_view bytes,
                           v1::Record& scratch);
  std::vector<Slot> slots_;
  MemoryView empty_;
  uint64_t position_ = 0;
  uint64_t records_ = 0;
};

}  // namespace prongsai::reports

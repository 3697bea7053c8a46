#include "projections/reports/replay.h"

#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/reference.h"
#include "projections/reports/keys.h"
#include "projections/reports/report_projections.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::reports {
absl::StatusOr<absl::Time> RecordedAtPosition(log::EventLog* log,
                                              uint64_t position) {
  v1::Record record;
  bool found = false;
  bool decoded = false;
  RETURN_IF_ERROR(log->Scan(position, [&](const log::LogEntry& entry) {
    found = entry.position == position;
    decoded = found && record.ParseFromArray(
                           entry.record_bytes.data(),
                           static_cast<int>(entry.record_bytes.size()));
    return false;
  }));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no record at log position ", position));
  }
  if (!decoded) {
    return absl::DataLossError(absl::StrCat("the record at log position ",
                                            position, " does not decode"));
  }
  return absl::FromUnixSeconds(record.recorded_at().seconds()) +
         absl::Nanoseconds(record.recorded_at().nanos());
}

absl::StatusOr<uint64_t> PositionAtTime(log::EventLog* log, absl::Time time) {
  uint64_t low = 0;  // recorded at or before `time` (0: before the log)
  uint64_t high = log->LastPosition() + 1;  // after `time`
  while (high - low > 1) {
    const uint64_t mid = low + (high - low) / 2;
    ASSIGN_OR_RETURN(absl::Time recorded, RecordedAtPosition(log, mid));
    if (recorded <= time) {
      low = mid;
    } else {
      high = mid;
    }
  }
  return low;
}

std::unique_ptr<ReplayedViews> ReplayedViews::Make(
    uint64_t position, const std::vector<absl::string_view>& views) {
  auto replayed = std::unique_ptr<ReplayedViews>(new ReplayedViews());
  replayed->position_ = position;
  for (std::unique_ptr<projections::Projection>& projection :
       ReportProjections()) {
    for (absl::string_view name : views) {
      if (projection->name() == name) {
        Slot slot;
        slot.projection = std::move(projection);
        replayed->slots_.push_back(std::move(slot));
        break;
      }
    }
  }
  return replayed;
}

absl::Status ReplayedViews::ApplyRecord(uint64_t position,
                                        absl::string_view bytes,
                                        v1::Record& record) {
  if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    // The runtime refuses such records too; so does the replay.
    return absl::OkStatus();
  }
  ++records_;
  const projections::AppliedRecord applied{record, position, "", bytes};
  for (Slot& slot : slots_) {
    if (!slot.projection->Wants(record)) {
      continue;
    }
    RETURN_IF_ERROR(Annotate(slot.projection->Apply(applied, slot.rows),
                             absl::StrCat("replaying ", slot.projection->name(),
                                          " at position ", position)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ReplayedViews>> ReplayedViews::Replay(
    log::EventLog* log, uint64_t position,
    const std::vector<std::string>& districts,
    const std::vector<absl::string_view>& views,
    const absl::flat_hash_set<uint64_t>& refused) {
  std::unique_ptr<ReplayedViews> replayed = Make(position, views);
  v1::Record record;
  absl::Status failure;
  auto visit = [&](const log::LogEntry& entry) {
    if (entry.position > position) {
      return false;
    }
    if (refused.contains(entry.position)) {
      return true;
    }
    failure = replayed->ApplyRecord(entry.position, entry.record_bytes, record);
    return failure.ok();
  };
  if (districts.empty()) {
    RETURN_IF_ERROR(log->Scan(1, visit));
  } else {
    RETURN_IF_ERROR(log->ReadStream(domain::kCityStream, 1, visit));
    RETURN_IF_ERROR(failure);
    for (const std::string& district : districts) {
      RETURN_IF_ERROR(log->ReadStream(district, 1, visit));
      RETURN_IF_ERROR(failure);
    }
  }
  RETURN_IF_ERROR(failure);
  return replayed;
}

absl::StatusOr<std::unique_ptr<ReplayedViews>> ReplayedViews::ReplayJournal(
    const projections::ViewReader& journal, uint64_t position,
    const std::vector<std::string>& districts,
    const std::vector<absl::string_view>& views) {
  std::unique_ptr<ReplayedViews> replayed = Make(position, views);
  v1::Record record;
  absl::Status failure;
  // Within a stream the journal is in log order: stop at the first record
  // after the position. Across streams (every stream) skip it instead.
  const bool one_stream = !districts.empty();
  auto visit = [&](absl::string_view key, absl::string_view value) {
    const uint64_t at = TrailingPosition(key);
    if (at > position) {
      return !one_stream;
    }
    failure = replayed->ApplyRecord(at, value, record);
    return failure.ok();
  };
  if (districts.empty()) {
    RETURN_IF_ERROR(journal.Scan("J", visit));
  } else {
    RETURN_IF_ERROR(journal.Scan(Key('J', domain::kCityStream), visit));
    RETURN_IF_ERROR(failure);
    for (const std::string& district : districts) {
      RETURN_IF_ERROR(journal.Scan(Key('J', district), visit));
      RETURN_IF_ERROR(failure);
    }
  }
  RETURN_IF_ERROR(failure);
  return replayed;
}

const projections::ViewReader& ReplayedViews::view(
    absl::string_view name) const {
  for (const Slot& slot : slots_) {
    if (slot.projection->name() == name) {
      return slot.rows;
    }
  }
  return empty_;
}

}  // namespace prongsai::reports

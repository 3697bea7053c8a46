// The base of the report views: applies events, and undoes and re-applies
// them when a later event corrects or retracts them, so that every view
// shows the corrected value.
//
// A view says which event kinds it tracks and how one such event changes its
// rows (Do, which returns the key of the row it wrote), and how to take that
// row's effect back (Undo). The base keeps a locator per tracked event
// ("E" stream event_id -> the row and the original position): a correction
// undoes the original and does the replacement in the original's place, a
// retraction undoes it for good.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::reports {

// One event as a view applies it.
struct Fact {
  absl::string_view stream;
  // The position of the original event (of the corrected one, for a
  // replacement), so the row keeps its place in log order.
  uint64_t position = 0;
  // occurred_at of the event that carries the content (the correcting event
  // for a replacement).
  int64_t occurred_seconds = 0;
  // True for a replacement: the event is re-applied at an earlier position,
  // after rows at later positions may exist.
  bool corrected = false;
};

class CorrectableProjection : public projections::Projection {
 public:
  bool Wants(const v1::Record& record) const final;
  absl::Status Apply(const projections::AppliedRecord& record,
                     projections::ViewWriter& view) final;

 protected:
  // The event kinds the view tracks.
  virtual bool Tracks(v1::Event::PayloadCase kind) const = 0;
  // Applies a tracked event; returns the key of the row it wrote, or an empty
  // string when it wrote none (the locator is kept all the same).
  virtual absl::StatusOr<std::string> Do(const Fact& fact,
                                         const v1::Event& event,
                                         projections::ViewWriter& view) = 0;
  // Takes back the effect of the row at `key` (written by Do for `fact`).
  virtual absl::Status Undo(const Fact& fact, absl::string_view key,
                            projections::ViewWriter& view) = 0;
};

// Reads and parses a row; nullopt when absent, DATA_LOSS when it does not
// parse.
template <typename Row>
absl::StatusOr<std::optional<Row>> ReadRow(const projections::ViewReader& view,
                                           absl::string_view key);

// Serializes `row` into the view at `key`.
void WriteRow(projections::ViewWriter& view, absl::string_view key,
              const google::protobuf::MessageLite& row);

// Parses `bytes` into `row`; DATA_LOSS naming `key` when it does not parse.
absl::Status ParseRow(absl::string_view key, absl::string_view bytes,
                      google::protobuf::MessageLite& row);

template <typename Row>
absl::StatusOr<std::optional<Row>> ReadRow(const projections::ViewReader& view,
                                           absl::string_view key) {
  absl::StatusOr<std::optional<std::string>> bytes = view.Get(key);
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return std::optional<Row>();
  }
  Row row;
  if (absl::Status status = ParseRow(key, **bytes, row); !status.ok()) {
    return status;
  }
  return std::optional<Row>(std::move(row));
}

}  // namespace prongsai::reports

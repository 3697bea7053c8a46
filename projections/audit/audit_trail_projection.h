// The audit trail view: what happened to a measure, a complaint, a gift
// report (any subject with a domain id), who recorded it and when, and what
// corrected it; and everything one actor recorded. Every entry carries its
// stream, sequence and log position, so it can be proved against a signed
// checkpoint. Entries keep identifiers, kinds and times only, never texts.
//
// Rows (keys are the view's own):
//   "e" event_id                          -> prongsai.v1.TrailEntry
//   "s" kind '\0' id '\0' position(8)     -> event_id
//   "a" actor_id '\0' position(8)         -> event_id
// A correction or retraction is filed under the subjects of the event it
// names, and that event's entry lists it in corrections.
//
// Example:
//   AuditTrailView trail(snapshot->view(kAuditTrailProjection));
//   ASSIGN_OR_RETURN(v1::Trail t, trail.ForSubject("complaint", "C-2568-001"));
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/audit.pb.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::projections {

inline constexpr absl::string_view kAuditTrailProjection = "audit_trail";

class AuditTrailProjection final : public Projection {
 public:
  absl::string_view name() const override { return kAuditTrailProjection; }
  absl::Status Apply(const AppliedRecord& record, ViewWriter& view) override;
};

// The subjects an event is about, from its payload (not corrections).
std::vector<v1::TrailSubject> SubjectsOf(const v1::Event& event);

// The payload's field name, e.g. "measure_planned"; "unknown" when unset.
std::string EventKind(const v1::Event& event);

class AuditTrailView {
 public:
  explicit AuditTrailView(const ViewReader& view) : view_(view) {}

  // In log order; `limit` 0 means 1000.
  absl::StatusOr<v1::Trail> ForSubject(absl::string_view kind,
                                       absl::string_view id,
                                       uint32_t limit = 0) const;
  absl::StatusOr<v1::Trail> ForActor(absl::string_view actor_id,
                                     uint32_t limit = 0) const;
  // NOT_FOUND when the view has no such event.
  absl::StatusOr<v1::TrailEntry> Event(absl::string_view event_id) const;

 private:
  absl::StatusOr<v1::Trail> Collect(absl::string_view prefix,
                                    uint32_t limit) const;

  const ViewReader& view_;
};

}  // namespace prongsai::projections

// The complaints view: each complaint's state (channel, category, dates,
// open or closed, outcome) derived from its lifecycle events, and an index of
// the open ones by the day they were received. It keeps no personal data:
// neither the complainant nor the summary is copied into it.
#pragma once

#include "projections/reports/correctable.h"
#include "projections/reports/keys.h"

namespace prongsai::reports {

class ComplaintsProjection final : public CorrectableProjection {
 public:
  absl::string_view name() const override { return kComplaintsView; }

 protected:
  bool Tracks(v1::Event::PayloadCase kind) const override;
  absl::StatusOr<std::string> Do(const Fact& fact, const v1::Event& event,
                                 projections::ViewWriter& view) override;
  absl::Status Undo(const Fact& fact, absl::string_view key,
                    projections::ViewWriter& view) override;
};

}  // namespace prongsai::reports

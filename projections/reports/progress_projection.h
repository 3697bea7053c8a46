// The ita_progress view: what the ITA progress report and the scorecard are
// made of - each fiscal year's framework and the districts' names (from the
// city stream), and per district and fiscal year the scores, improvement
// issues, measures, progress reports and evidence, one small row per event
// (see keys.h).
#pragma once

#include "projections/reports/correctable.h"
#include "projections/reports/keys.h"

namespace prongsai::reports {

class ProgressProjection final : public CorrectableProjection {
 public:
  absl::string_view name() const override { return kProgressView; }

 protected:
  bool Tracks(v1::Event::PayloadCase kind) const override;
  absl::StatusOr<std::string> Do(const Fact& fact, const v1::Event& event,
                                 projections::ViewWriter& view) override;
  absl::Status Undo(const Fact& fact, absl::string_view key,
                    projections::ViewWriter& view) override;
};

}  // namespace prongsai::reports

// The city_overview view: per fiscal year, district and ITA item code, a
// small aggregate of the item's latest score and of the measures that serve
// it (by status, with the due days of those still open), and per fiscal year
// and district the number of progress reports of each round. The overview of
// all 50 districts reads these rows only: O(50 x items) small rows.
//
// To keep the aggregates right under corrections and retractions, it also
// keeps one small state row per measure and one mark per progress report and
// score.
#pragma once

#include "projections/reports/correctable.h"
#include "projections/reports/keys.h"

namespace prongsai::reports {

class CityProjection final : public CorrectableProjection {
 public:
  absl::string_view name() const override { return kCityView; }

 protected:
  bool Tracks(v1::Event::PayloadCase kind) const override;
  absl::StatusOr<std::string> Do(const Fact& fact, const v1::Event& event,
                                 projections::ViewWriter& view) override;
  absl::Status Undo(const Fact& fact, absl::string_view key,
                    projections::ViewWriter& view) override;
};

}  // namespace prongsai::reports

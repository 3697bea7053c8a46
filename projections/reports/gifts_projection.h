// The gifts view: the No Gift Policy reports (รายงานการรับของขวัญ) of each
// district by fiscal year, their counts and values per district, half year,
// disposition and value band (for the 6- and 12-month report to ศปท.กทม.
// and the city's comparison), and the submissions of each round's reports.
// Personal fields stay in the rows; readers filter them out (see builders.h).
#pragma once

#include <cstdint>

#include "projections/reports/correctable.h"
#include "projections/reports/keys.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::reports {

// The value band of a gift worth `satang`.
v1::GiftValueBand ValueBandOf(int64_t satang);

// Decodes an aggregate row ("A" keys): count and value.
bool DecodeGiftAggregate(absl::string_view bytes, int64_t* count,
                         int64_t* value_satang);

class GiftsProjection final : public CorrectableProjection {
 public:
  absl::string_view name() const override { return kGiftsView; }

 protected:
  bool Tracks(v1::Event::PayloadCase kind) const override;
  absl::StatusOr<std::string> Do(const Fact& fact, const v1::Event& event,
                                 projections::ViewWriter& view) override;
  absl::Status Undo(const Fact& fact, absl::string_view key,
                    projections::ViewWriter& view) override;
};

}  // namespace prongsai::reports

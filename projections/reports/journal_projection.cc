#include "projections/reports/journal_projection.h"

#include "projections/reports/city_projection.h"
#include "projections/reports/complaints_projection.h"
#include "projections/reports/gifts_projection.h"
#include "projections/reports/progress_projection.h"

namespace prongsai::reports {

std::string JournalKey(absl::string_view stream, uint64_t position) {
  std::string key = Key('J', stream);
  AppendPosition(position, &key);
  return key;
}

JournalProjection::JournalProjection() {
  views_.push_back(std::make_unique<ProgressProjection>());
  views_.push_back(std::make_unique<GiftsProjection>());
  views_.push_back(std::make_unique<ComplaintsProjection>());
  views_.push_back(std::make_unique<CityProjection>());
}

bool JournalProjection::Wants(const v1::Record& record) const {
  for (const auto& view : views_) {
    if (view->Wants(record)) {
      return true;
    }
  }
  return false;
}

absl::Status JournalProjection::Apply(const projections::AppliedRecord& record,
                                      projections::ViewWriter& view) {
  if (record.record.stream().size() != kStreamWidth) {
    return absl::OkStatus();
  }
  view.Put(JournalKey(record.record.stream(), record.position),
           record.record_bytes);
  return absl::OkStatus();
}

}  // namespace prongsai::reports

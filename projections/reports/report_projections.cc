#include "projections/reports/report_projections.h"

#include "projections/reports/city_projection.h"
#include "projections/reports/complaints_projection.h"
#include "projections/reports/gifts_projection.h"
#include "projections/reports/journal_projection.h"
#include "projections/reports/progress_projection.h"

namespace prongsai::reports {

std::vector<std::unique_ptr<projections::Projection>> ReportProjections() {
  std::vector<std::unique_ptr<projections::Projection>> all;
  all.push_back(std::make_unique<ProgressProjection>());
  all.push_back(std::make_unique<GiftsProjection>());
  all.push_back(std::make_unique<ComplaintsProjection>());
  all.push_back(std::make_unique<CityProjection>());
  all.push_back(std::make_unique<JournalProjection>());
  return all;
}

}  // namespace prongsai::reports

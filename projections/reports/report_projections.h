// The report views, for the projection runner.
//
// Example:
//   std::vector<std::unique_ptr<projections::Projection>> all =
//       reports::ReportProjections();
//   // ... plus the other areas' projections ...
//   ASSIGN_OR_RETURN(auto runner, projections::ProjectionRunner::Start(
//       log.get(), {.path = dir + "/views"}, std::move(all)));
#pragma once

#include <memory>
#include <vector>

#include "projections/reports/journal_projection.h"
#include "projections/reports/keys.h"
#include "projections/runtime/projection.h"

namespace prongsai::reports {

// ita_progress, gifts, complaints, city_overview, and report_journal (what
// they apply, for as_of replays).
std::vector<std::unique_ptr<projections::Projection>> ReportProjections();

}  // namespace prongsai::reports

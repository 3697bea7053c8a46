// Builders of the district answers from the ita_progress view: the ITA
// progress report (the seed's five-column table, rows in framework order)
// and the scorecard. The same builders serve the live views and as_of
// replays; they read rows only through a ViewReader.
//
// Example:
//   ASSIGN_OR_RETURN(v1::ItaReport report,
//       BuildItaReport(snapshot->view(kProgressView), "1045", 2568,
//                      v1::ROUND_H1));
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/events.pb.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::reports {

// The framework of `fiscal_year` as the view holds it; NOT_FOUND naming the
// fiscal years that have one when it has none.
absl::StatusOr<v1::FrameworkPublished> LoadFramework(
    const projections::ViewReader& progress, int fiscal_year);

// The fiscal years with a framework in the view, ascending.
absl::StatusOr<std::vector<int>> FrameworkYears(
    const projections::ViewReader& progress);

// A district's names, from its DistrictRegistered event, else the shipped
// reference data; NOT_FOUND for a code that is neither.
absl::StatusOr<v1::Label> DistrictName(const projections::ViewReader& progress,
                                       absl::string_view district);

// The ITA progress report. `round` must be H1, H2 or FULL_YEAR.
absl::StatusOr<v1::ItaReport> BuildItaReport(
    const projections::ViewReader& progress, absl::string_view district,
    int fiscal_year, v1::Round round);

// The scorecard; measures past their plan before `today` are overdue.
absl::StatusOr<v1::Scorecard> BuildScorecard(
    const projections::ViewReader& progress, absl::string_view district,
    int fiscal_year, absl::CivilDay today);

// The five column headings of the report.
std::vector<v1::Label> ItaColumns();

}  // namespace prongsai::reports

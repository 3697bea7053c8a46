// Builders of the gift register, the complaint statistics and the city
// overview from the report views. Like the ITA builders they read rows only
// through ViewReaders, so live views and as_of replays give the same answers
// for the same position.
//
// Example:
//   ASSIGN_OR_RETURN(v1::CityOverview overview, BuildCityOverview(
//       {.city = s.view(kCityView), .progress = s.view(kProgressView),
//        .gifts = s.view(kGiftsView), .complaints = s.view(kComplaintsView)},
//       2568, domain::BangkokDay(absl::Now())));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/message.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::reports {

// The report views an answer reads.
struct ReportViewSet {
  const projections::ViewReader& progress;
  const projections::ViewReader& gifts;
  const projections::ViewReader& complaints;
  const projections::ViewReader& city;
};

// Clears every field marked (prongsai.v1.personal) in `message` and the
// messages it holds. Views keep personal fields; answers drop them for
// readers who may not see them.
void ClearPersonalFields(google::protobuf::Message* message);

// The gift register of `district` (every district's summary when empty) for
// a round: H1 is the 6-month report, FULL_YEAR the 12-month one. A round's
// report counts as submitted when a submission names that round; H2 and
// FULL_YEAR submissions both count as the 12-month report.
absl::StatusOr<v1::GiftRegister> BuildGiftRegister(const ReportViewSet& views,
                                                   absl::string_view district,
                                                   int fiscal_year,
                                                   v1::Round round,
                                                   bool include_personal);

// Complaint statistics of `district` (the whole city when empty) for the
// complaints received in a fiscal year (or one of its halves), judged on
// `today`. Counts only: no personal data.
absl::StatusOr<v1::ComplaintStats> BuildComplaintStats(
    const ReportViewSet& views, absl::string_view district, int fiscal_year,
    v1::Round round, absl::CivilDay today);

// All 50 districts by indicator, with their alerts as of `today`.
absl::StatusOr<v1::CityOverview> BuildCityOverview(const ReportViewSet& views,
                                                   int fiscal_year,
                                                   absl::CivilDay today);

// Complaints open longer than this many days raise an alert.
inline constexpr int kComplaintAlertDays = 60;

}  // namespace prongsai::reports

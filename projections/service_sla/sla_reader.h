// The query side of the service_sla view: timeliness figures per district
// and service by month, round and fiscal year, and the state of single
// requests (for the public Open311 read side). Nothing here holds personal
// data.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<SlaSeries> series,
//                    ReadServiceSla(view, {.district = "1045",
//                                          .fiscal_year = 2568}));
//   for (const SlaRound& r : series[0].rounds) { ... r.figures.on_time ... }
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "projections/runtime/projection.h"
#include "prongsai/v1/common.pb.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::service_sla {

struct SlaFigures {
  // Requests received in the period.
  int64_t received = 0;
  // Requests completed in the period, and of those, by their deadline or
  // after it (a request without a deadline is neither).
  int64_t completed = 0;
  int64_t on_time = 0;
  int64_t late = 0;
  // Requests closed in the period without a completion (e.g. withdrawn).
  int64_t closed_without_completion = 0;
  // Median days from request to completion of the requests completed in the
  // period; unset when none was.
  std::optional<double> median_days;
  // Requests still open at the end of the period.
  int64_t backlog = 0;
};

struct SlaMonth {
  absl::CivilMonth month;
  SlaFigures figures;
};

struct SlaRound {
  int fiscal_year = 0;                      // Buddhist era
  v1::Round round = v1::ROUND_UNSPECIFIED;  // H1, H2 or FULL_YEAR
  SlaFigures figures;
};

// The figures of one district and service ("" when merged).
struct SlaSeries {
  std::string district;
  std::string service_code;
  // Months with activity, ascending.
  std::vector<SlaMonth> months;
  // H1, H2 and the full year of each fiscal year with activity (or of the
  // queried one), ascending.
  std::vector<SlaRound> rounds;
  // Everything in the view (or in the queried fiscal year).
  SlaFigures total;
};

struct SlaQuery {
  // "" = every district.
  std::string district;
  // "" = every service.
  std::string service_code;
  // 0 = every fiscal year; else only its months and rounds (Buddhist era).
  int fiscal_year = 0;
  // One series per district with every service merged (service_code "").
  bool merge_services = false;
  // One series per service with every district merged (district "").
  bool merge_districts = false;
};

// The series matching `query`, ordered by district then service.
absl::StatusOr<std::vector<SlaSeries>> ReadServiceSla(
    const projections::ViewReader& view, const SlaQuery& query);

// One service request as the view knows it.
struct ServiceRequestState {
  std::string district;
  std::string request_id;
  std::string service_code;
  v1::ServiceChannel channel = v1::SERVICE_CHANNEL_UNSPECIFIED;
  absl::Time requested;
  std::optional<absl::Time> expected;
  std::optional<absl::Time> completed;
  // The source system's status of the latest update ("open" before any).
  std::string status;
  // Completed, or closed by its latest update.
  bool closed = false;
  // The latest of receipt, update and completion times.
  absl::Time updated;
};

// Visits the received requests of `district` ("" = all), in district and
// request-id order, until `visit` returns false.
absl::Status ScanServiceRequests(
    const projections::ViewReader& view, absl::string_view district,
    const std::function<bool(const ServiceRequestState&)>& visit);

// The request `request_id` of `district`, if the view holds it.
absl::StatusOr<std::optional<ServiceRequestState>> FindServiceRequest(
    const projections::ViewReader& view, absl::string_view district,
    absl::string_view request_id);

}  // namespace prongsai::service_sla

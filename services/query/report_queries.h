// The report queries behind prongsai.v1.Reports, shared by gRPC and HTTP:
// checks a request, waits for read-your-writes, reads the live views from
// one consistent snapshot - or, for an as_of, replays the log up to that
// point into memory - and builds the answer.
//
// An as_of for one district replays the city stream and that district's
// stream (about 1/50 of the log); a city-wide as_of replays every stream up
// to the point.
//
// Example:
//   ReportQueries queries(log.get(), runner.get());
//   v1::ItaReportRequest request;
//   request.set_district("1045");
//   request.set_fiscal_year(2568);
//   request.set_round(v1::ROUND_H1);
//   ASSIGN_OR_RETURN(v1::ItaReport report, queries.ItaReport(request));
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/log/event_log.h"
#include "google/protobuf/message.h"
#include "projections/reports/builders.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::query {

struct QueryOptions {
  // "Now": for as_of in the future, overdue measures, complaint ages.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // How long min_position waits when the request names no wait_timeout.
  absl::Duration default_wait = absl::Seconds(5);
  // The longest wait a request may ask for.
  absl::Duration max_wait = absl::Minutes(1);
  // Opens the sealed personal fields of an answer for a reader who may see
  // personal data (privacy::PersonalFieldOpener): the plaintext, or a marker
  // once the subject is erased. Unset: such readers get the stored values.
  // Readers who may not see personal data never reach it: their answers have
  // the personal fields cleared.
  std::function<void(google::protobuf::Message*)> open_personal_data;
};

// Who is asking, as far as the answer depends on it.
struct Reader {
  // Personal fields (names, contacts) stay in the answer, opened, only when
  // set; the access rules decide it per reader.
  bool may_see_personal_data = false;
  // The caller's own deadline (gRPC deadline); waits never pass it.
  absl::Time deadline = absl::InfiniteFuture();
};

class ReportQueries {
 public:
  // `log` and `runner` must outlive the queries. The runner must run the
  // report projections (reports::ReportProjections()).
  ReportQueries(log::EventLog* log, projections::ProjectionRunner* runner,
                QueryOptions options = {});
  ~ReportQueries();

  absl::StatusOr<v1::ItaReport> ItaReport(const v1::ItaReportRequest& request,
                                          const Reader& reader = {});
  absl::StatusOr<v1::Scorecard> Scorecard(const v1::ScorecardRequest& request,
                                          const Reader& reader = {});
  absl::StatusOr<v1::GiftRegister> GiftRegister(
      const v1::GiftRegisterRequest& request, const Reader& reader = {});
  absl::StatusOr<v1::ComplaintStats> ComplaintStats(
      const v1::ComplaintStatsRequest& request, const Reader& reader = {});
  absl::StatusOr<v1::CityOverview> CityOverview(
      const v1::CityOverviewRequest& request, const Reader& reader = {});

  const QueryOptions& options() const { return options_; }

  // The views one answer reads (defined in report_queries.cc).
  class Source;

 private:
  // Checks `read`, waits for min_position, and opens the views an answer
  // reads: live, or replayed for `districts` (all when empty) at as_of.
  absl::StatusOr<std::unique_ptr<Source>> Open(
      const v1::ReadOptions& read, const std::vector<std::string>& districts,
      const std::vector<absl::string_view>& views, const Reader& reader);
  // The fiscal year a request means: its own, or the one of the moment the
  // answer is judged at when it names none.
  absl::StatusOr<int> FiscalYear(int requested, const Source& source) const;

  log::EventLog* const log_;
  projections::ProjectionRunner* const runner_;
  const QueryOptions options_;
};

// Checks a district code: INVALID_ARGUMENT for a malformed one, NOT_FOUND for
// one that is not a Bangkok district.
absl::Status CheckDistrictCode(absl::string_view district);

}  // namespace prongsai::query

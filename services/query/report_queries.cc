#include "services/query/report_queries.h"

#include <algorithm>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "projections/reports/ita_report.h"
#include "projections/reports/journal_projection.h"
#include "projections/reports/keys.h"
#include "projections/reports/replay.h"

namespace prongsai::query {
namespace {

using reports::kCityView;
using reports::kComplaintsView;
using reports::kGiftsView;
using reports::kProgressView;

constexpr int kEarliestFiscalYear = 2543;

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  google::protobuf::Timestamp out;
  const int64_t nanos = absl::ToUnixNanos(t);
  out.set_seconds(nanos / 1'000'000'000);
  out.set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  if (out.nanos() < 0) {
    out.set_seconds(out.seconds() - 1);
    out.set_nanos(out.nanos() + 1'000'000'000);
  }
  return out;
}

std::string TimeText(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S%Ez", t, domain::BangkokTimeZone());
}

absl::Status CheckRound(v1::Round round, bool allow_unset) {
  switch (round) {
    case v1::ROUND_H1:
    case v1::ROUND_H2:
    case v1::ROUND_FULL_YEAR:
      return absl::OkStatus();
    case v1::ROUND_UNSPECIFIED:
      if (allow_unset) {
        return absl::OkStatus();
      }
      return absl::InvalidArgumentError(
          "round: required; H1 (October - March), H2 (April - September) "
          "or FULL_YEAR");
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("round: ", static_cast<int>(round),
                       " is not a round; use H1, H2 or FULL_YEAR"));
  }
}

}  // namespace

// The views an answer reads, and what they reflect.
class ReportQueries::Source {
 public:
  virtual ~Source() = default;
  virtual const projections::ViewReader& view(absl::string_view name) const = 0;

  reports::ReportViewSet views() const {
    return {view(kProgressView), view(kGiftsView), view(kComplaintsView),
            view(kCityView)};
  }
  absl::CivilDay today() const { return domain::BangkokDay(evaluated_at); }

  v1::Reflects reflects;
  absl::Time evaluated_at;
};

namespace {

class LiveSource final : public ReportQueries::Source {
 public:
  explicit LiveSource(std::unique_ptr<projections::ViewSnapshot> snapshot)
      : snapshot_(std::move(snapshot)) {}
  const projections::ViewReader& view(absl::string_view name) const override {
    return snapshot_->view(name);
  }
  const projections::ViewSnapshot& snapshot() const { return *snapshot_; }

 private:
  std::unique_ptr<projections::ViewSnapshot> snapshot_;
};

class ReplaySource final : public ReportQueries::Source {
 public:
  explicit ReplaySource(std::unique_ptr<reports::ReplayedViews> views)
      : views_(std::move(views)) {}
  const projections::ViewReader& view(absl::string_view name) const override {
    return views_->view(name);
  }

 private:
  std::unique_ptr<reports::ReplayedViews> views_;
};

}  // namespace

absl::Status CheckDistrictCode(absl::string_view district) {
  if (district.empty()) {
    return absl::InvalidArgumentError(
        "district: required; a district code 1001-1050");
  }
  const bool digits = district.size() == 4 &&
                      std::all_of(district.begin(), district.end(), [](char c) {
                        return absl::ascii_isdigit(c);
                      });
  if (!digits) {
    return absl::InvalidArgumentError(
        absl::StrCat("district: \"", district,
                     "\" is not a district code; use the four digits "
                     "1001-1050 (1045 is Wang Thonglang)"));
  }
  if (domain::FindDistrict(district) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("district: unknown district code \"", district,
                     "\"; Bangkok's district codes are 1001-1050"));
  }
  return absl::OkStatus();
}

ReportQueries::ReportQueries(log::EventLog* log,
                             projections::ProjectionRunner* runner,
                             QueryOptions options)
    : log_(log), runner_(runner), options_(std::move(options)) {}

ReportQueries::~ReportQueries() = default;

absl::StatusOr<std::unique_ptr<ReportQueries::Source>> ReportQueries::Open(
    const v1::ReadOptions& read, const std::vector<std::string>& districts,
    const std::vector<absl::string_view>& views, const Reader& reader) {
  const absl::Time now = options_.clock();

  // as_of: a moment that has happened.
  if (read.has_as_of()) {
    switch (read.as_of().point_case()) {
      case v1::AsOf::kTime: {
        const absl::Time t = ToTime(read.as_of().time());
        if (t > now) {
          return absl::InvalidArgumentError(
              absl::StrCat("read.as_of.time: ", TimeText(t),
                           " is in the future (now is ", TimeText(now), ")"));
        }
        break;
      }
      case v1::AsOf::kPosition: {
        const uint64_t last = log_->LastPosition();
        if (read.as_of().position() > last) {
          return absl::InvalidArgumentError(absl::StrCat(
              "read.as_of.position: ", read.as_of().position(),
              " is beyond the end of the log (the last position is ", last,
              ")"));
        }
        break;
      }
      default:
        return absl::InvalidArgumentError(
            "read.as_of: set time or position, or leave as_of unset for the "
            "current views");
    }
  }

  // Read-your-writes.
  if (read.min_position() > 0) {
    absl::Duration wait = options_.default_wait;
    if (read.has_wait_timeout()) {
      wait = absl::Seconds(read.wait_timeout().seconds()) +
             absl::Nanoseconds(read.wait_timeout().nanos());
      if (wait < absl::ZeroDuration()) {
        return absl::InvalidArgumentError(
            "read.wait_timeout: must not be negative");
      }
      wait = std::min(wait, options_.max_wait);
    }
    // Waits run on the real clock, whatever clock judges the dates.
    const absl::Time started = absl::Now();
    const absl::Time deadline = std::min(started + wait, reader.deadline);
    if (!runner_->WaitForPosition(read.min_position(), deadline)) {
      uint64_t reached = UINT64_MAX;
      for (const projections::ProjectionStatus& status : runner_->Status()) {
        if (status.error.empty()) {
          reached = std::min(reached, status.position);
        }
      }
      return absl::DeadlineExceededError(absl::StrCat(
          "read.min_position: the views reached log position ",
          reached == UINT64_MAX ? 0 : reached, ", not ", read.min_position(),
          ", within ", absl::FormatDuration(deadline - started),
          "; retry, or wait longer with read.wait_timeout"));
    }
  }

  // Every view an answer reads must be running.
  const std::vector<projections::ProjectionStatus> statuses = runner_->Status();
  for (absl::string_view name : views) {
    auto it = std::find_if(
        statuses.begin(), statuses.end(),
        [&](const projections::ProjectionStatus& s) { return s.name == name; });
    if (it == statuses.end()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the view ", name, " is not running on this server"));
    }
    if (!it->error.empty()) {
      return absl::UnavailableError(
          absl::StrCat("the view ", name, " stopped at log position ",
                       it->position, ": ", it->error));
    }
  }

  if (!read.has_as_of()) {
    ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                     runner_->Snapshot());
    uint64_t position = UINT64_MAX;
    for (absl::string_view name : views) {
      position = std::min(position, snapshot->position(name));
    }
    auto source = std::make_unique<LiveSource>(std::move(snapshot));
    source->reflects.set_position(position == UINT64_MAX ? 0 : position);
    source->evaluated_at = now;
    *source->reflects.mutable_evaluated_at() = ToTimestamp(now);
    return source;
  }

  uint64_t position = 0;
  absl::Time evaluated_at = now;
  if (read.as_of().has_time()) {
    evaluated_at = ToTime(read.as_of().time());
    ASSIGN_OR_RETURN(position, reports::PositionAtTime(log_, evaluated_at));
  } else {
    position = read.as_of().position();
    if (position > 0) {
      ASSIGN_OR_RETURN(evaluated_at,
                       reports::RecordedAtPosition(log_, position));
    }
  }
  // The journal holds the records the views apply: when it has reached the
  // position, replay it; otherwise read the streams from the log.
  bool journal_ok = false;
  for (const projections::ProjectionStatus& status : statuses) {
    journal_ok = journal_ok ||
                 (status.name == reports::kJournalView && status.error.empty());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                   runner_->Snapshot());
  std::unique_ptr<reports::ReplayedViews> replayed;
  if (journal_ok && snapshot->position(reports::kJournalView) >= position) {
    ASSIGN_OR_RETURN(replayed, reports::ReplayedViews::ReplayJournal(
                                   snapshot->view(reports::kJournalView),
                                   position, districts, views));
  } else {
    absl::flat_hash_set<uint64_t> refused;
    for (const projections::RejectedRecord& r : runner_->Rejected()) {
      refused.insert(r.position);
    }
    ASSIGN_OR_RETURN(replayed, reports::ReplayedViews::Replay(
                                   log_, position, districts, views, refused));
  }
  auto source = std::make_unique<ReplaySource>(std::move(replayed));
  source->reflects.set_position(position);
  *source->reflects.mutable_as_of() = read.as_of();
  source->evaluated_at = evaluated_at;
  *source->reflects.mutable_evaluated_at() = ToTimestamp(evaluated_at);
  return source;
}

absl::StatusOr<int> ReportQueries::FiscalYear(int requested,
                                              const Source& source) const {
  const int current = domain::FiscalYearOf(source.today());
  if (requested == 0) {
    return current;
  }
  if (requested < kEarliestFiscalYear) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fiscal_year: ", requested,
        " is not a Buddhist-era fiscal year; fiscal years are named by the "
        "Buddhist-era year in which they end, e.g. ",
        current, " (Gregorian + 543)"));
  }
  if (requested > current + 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fiscal_year: FY ", requested,
        " is too far ahead; the current fiscal year is FY ", current));
  }
  return requested;
}

absl::StatusOr<v1::ItaReport> ReportQueries::ItaReport(
    const v1::ItaReportRequest& request, const Reader& reader) {
  RETURN_IF_ERROR(CheckDistrictCode(request.district()));
  RETURN_IF_ERROR(CheckRound(request.round(), false));
  ASSIGN_OR_RETURN(
      std::unique_ptr<Source> source,
      Open(request.read(), {request.district()}, {kProgressView}, reader));
  ASSIGN_OR_RETURN(int fy, FiscalYear(request.fiscal_year(), *source));
  ASSIGN_OR_RETURN(
      v1::ItaReport report,
      reports::BuildItaReport(source->view(kProgressView), request.district(),
                              fy, request.round()));
  *report.mutable_reflects() = source->reflects;
  return report;
}

absl::StatusOr<v1::Scorecard> ReportQueries::Scorecard(
    const v1::ScorecardRequest& request, const Reader& reader) {
  RETURN_IF_ERROR(CheckDistrictCode(request.district()));
  ASSIGN_OR_RETURN(
      std::unique_ptr<Source> source,
      Open(request.read(), {request.district()}, {kProgressView}, reader));
  ASSIGN_OR_RETURN(int fy, FiscalYear(request.fiscal_year(), *source));
  ASSIGN_OR_RETURN(
      v1::Scorecard card,
      reports::BuildScorecard(source->view(kProgressView), request.district(),
                              fy, source->today()));
  *card.mutable_reflects() = source->reflects;
  return card;
}

absl::StatusOr<v1::GiftRegister> ReportQueries::GiftRegister(
    const v1::GiftRegisterRequest& request, const Reader& reader) {
  if (!request.district().empty()) {
    RETURN_IF_ERROR(CheckDistrictCode(request.district()));
  }
  RETURN_IF_ERROR(CheckRound(request.round(), false));
  std::vector<std::string> districts;
  if (!request.district().empty()) {
    districts.push_back(request.district());
  }
  ASSIGN_OR_RETURN(
      std::unique_ptr<Source> source,
      Open(request.read(), districts, {kProgressView, kGiftsView}, reader));
  ASSIGN_OR_RETURN(int fy, FiscalYear(request.fiscal_year(), *source));
  ASSIGN_OR_RETURN(v1::GiftRegister reg,
                   reports::BuildGiftRegister(
                       source->views(), request.district(), fy, request.round(),
                       reader.may_see_personal_data));
  if (reader.may_see_personal_data && options_.open_personal_data) {
    options_.open_personal_data(&reg);
  }
  *reg.mutable_reflects() = source->reflects;
  return reg;
}

absl::StatusOr<v1::ComplaintStats> ReportQueries::ComplaintStats(
    const v1::ComplaintStatsRequest& request, const Reader& reader) {
  if (!request.district().empty()) {
    RETURN_IF_ERROR(CheckDistrictCode(request.district()));
  }
  RETURN_IF_ERROR(CheckRound(request.round(), true));
  std::vector<std::string> districts;
  if (!request.district().empty()) {
    districts.push_back(request.district());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<Source> source,
                   Open(request.read(), districts,
                        {kProgressView, kComplaintsView}, reader));
  ASSIGN_OR_RETURN(int fy, FiscalYear(request.fiscal_year(), *source));
  ASSIGN_OR_RETURN(
      v1::ComplaintStats stats,
      reports::BuildComplaintStats(source->views(), request.district(), fy,
                                   request.round(), source->today()));
  *stats.mutable_reflects() = source->reflects;
  return stats;
}

absl::StatusOr<v1::CityOverview> ReportQueries::CityOverview(
    const v1::CityOverviewRequest& request, const Reader& reader) {
  ASSIGN_OR_RETURN(
      std::unique_ptr<Source> source,
      Open(request.read(), {},
           {kProgressView, kGiftsView, kComplaintsView, kCityView}, reader));
  ASSIGN_OR_RETURN(int fy, FiscalYear(request.fiscal_year(), *source));
  ASSIGN_OR_RETURN(
      v1::CityOverview overview,
      reports::BuildCityOverview(source->views(), fy, source->today()));
  *overview.mutable_reflects() = source->reflects;
  return overview;
}

}  // namespace prongsai::query

#include "projections/service_sla/sla_reader.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/container/btree_map.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "projections/service_sla/rows.h"

namespace prongsai::service_sla {
namespace {

// Sums of month rows, with the day counts merged.
struct Totals {
  int64_t received = 0;
  int64_t completed = 0;
  int64_t on_time = 0;
  int64_t late = 0;
  int64_t closed_without_completion = 0;
  std::map<int32_t, int64_t> days;

  void Add(const MonthRow& row) {
    received += row.received();
    completed += row.completed();
    on_time += row.on_time();
    late += row.late();
    closed_without_completion += row.closed_without_completion();
    for (const DayCount& d : row.days()) {
      days[d.days()] += d.count();
    }
  }
  void Add(const Totals& other) {
    received += other.received;
    completed += other.completed;
    on_time += other.on_time;
    late += other.late;
    closed_without_completion += other.closed_without_completion;
    for (const auto& [d, n] : other.days) {
      days[d] += n;
    }
  }
  int64_t Closed() const { return completed + closed_without_completion; }
};

std::optional<double> Median(const std::map<int32_t, int64_t>& days) {
  int64_t n = 0;
  for (const auto& [d, count] : days) {
    n += count;
  }
  if (n <= 0) {
    return std::nullopt;
  }
  // The values at ranks (n-1)/2 and n/2, from 0.
  const int64_t lo_rank = (n - 1) / 2;
  const int64_t hi_rank = n / 2;
  std::optional<int32_t> lo;
  std::optional<int32_t> hi;
  int64_t seen = 0;
  for (const auto& [d, count] : days) {
    if (!lo.has_value() && lo_rank < seen + count) {
      lo = d;
    }
    if (!hi.has_value() && hi_rank < seen + count) {
      hi = d;
      break;
    }
    seen += count;
  }
  return (static_cast<double>(*lo) + static_cast<double>(*hi)) / 2.0;
}

SlaFigures FiguresOf(const Totals& t, int64_t backlog) {
  SlaFigures f;
  f.received = t.received;
  f.completed = t.completed;
  f.on_time = t.on_time;
  f.late = t.late;
  f.closed_without_completion = t.closed_without_completion;
  f.median_days = Median(t.days);
  f.backlog = backlog;
  return f;
}

using MonthTotals = absl::btree_map<absl::CivilMonth, Totals>;

// Turns the months of one series into its figures.
SlaSeries BuildSeries(std::string district, std::string service,
                      const MonthTotals& months, int fiscal_year) {
  SlaSeries series;
  series.district = std::move(district);
  series.service_code = std::move(service);
  const bool all_years = fiscal_year == 0;
  std::optional<domain::DayRange> year_range;
  if (!all_years) {
    year_range = domain::FiscalYearRange(fiscal_year);
  }
  auto in_scope = [&](absl::CivilMonth m) {
    return all_years || year_range->Contains(absl::CivilDay(m));
  };

  // Backlog: received minus closed, cumulated from the first month.
  absl::btree_map<absl::CivilMonth, int64_t> backlog_at;
  int64_t open = 0;
  std::map<int, bool> years;
  Totals total;
  for (const auto& [month, t] : months) {
    open += t.received - t.Closed();
    backlog_at[month] = open;
    if (!in_scope(month)) {
      continue;
    }
    series.months.push_back({month, FiguresOf(t, open)});
    total.Add(t);
    years[domain::FiscalYearOf(absl::CivilDay(month))] = true;
  }
  auto backlog_until = [&](absl::CivilDay last) {
    auto it = backlog_at.upper_bound(absl::CivilMonth(last));
    return it == backlog_at.begin() ? int64_t{0} : std::prev(it)->second;
  };
  if (!all_years) {
    years[fiscal_year] = true;
  }
  for (const auto& [year, unused] : years) {
    for (v1::Round round : {v1::ROUND_H1, v1::ROUND_H2, v1::ROUND_FULL_YEAR}) {
      const domain::DayRange range = domain::RoundRange(year, round);
      Totals t;
      for (auto it = months.lower_bound(absl::CivilMonth(range.first));
           it != months.end() && absl::CivilDay(it->first) <= range.last;
           ++it) {
        t.Add(it->second);
      }
      series.rounds.push_back(
          {year, round, FiguresOf(t, backlog_until(range.last))});
    }
  }
  int64_t final_backlog = open;
  if (!all_years) {
    final_backlog = backlog_until(year_range->last);
  }
  series.total = FiguresOf(total, final_backlog);
  return series;
}

}  // namespace

absl::StatusOr<std::vector<SlaSeries>> ReadServiceSla(
    const projections::ViewReader& view, const SlaQuery& query) {
  if (!query.district.empty() && query.district.size() != kDistrictWidth) {
    return absl::InvalidArgumentError(
        "district: give a district code 1001-1050");
  }
  // (district, service) -> months; the merged dimensions are "".
  std::map<std::pair<std::string, std::string>, MonthTotals> series;
  absl::Status parse;
  RETURN_IF_ERROR(view.Scan(
      MonthPrefix(query.district),
      [&](absl::string_view key, absl::string_view value) {
        std::string district;
        std::string service;
        absl::CivilMonth month;
        if (!ParseMonthKey(key, &district, &service, &month)) {
          return true;
        }
        if (!query.service_code.empty() && service != query.service_code) {
          return true;
        }
        MonthRow row;
        parse = ParseRow(key, value, row);
        if (!parse.ok()) {
          return false;
        }
        if (query.merge_services) {
          service.clear();
        }
        if (query.merge_districts) {
          district.clear();
        }
        series[{std::move(district), std::move(service)}][month].Add(row);
        return true;
      }));
  RETURN_IF_ERROR(parse);
  std::vector<SlaSeries> out;
  out.reserve(series.size());
  for (auto& [id, months] : series) {
    SlaSeries s = BuildSeries(id.first, id.second, months, query.fiscal_year);
    if (query.fiscal_year != 0 && s.months.empty() && s.total.backlog == 0) {
      continue;
    }
    out.push_back(std::move(s));
  }
  return out;
}

namespace {

ServiceRequestState StateOf(absl::string_view district,
                            absl::string_view request_id,
                            const RequestRow& row) {
  ServiceRequestState s;
  s.district = std::string(district);
  s.request_id = std::string(request_id);
  s.service_code = row.service_code();
  s.channel = static_cast<v1::ServiceChannel>(row.channel());
  s.requested = absl::FromUnixSeconds(row.requested());
  if (row.expected() != 0) {
    s.expected = absl::FromUnixSeconds(row.expected());
  }
  const CurrentStatus status = StatusOf(row);
  s.status = status.status;
  int64_t updated = std::max(row.requested(), status.updated);
  if (row.completed() != 0) {
    s.completed = absl::FromUnixSeconds(row.completed());
    updated = std::max(updated, row.completed());
    s.closed = true;
  } else {
    s.closed = status.status == "closed";
  }
  s.updated = absl::FromUnixSeconds(updated);
  return s;
}

}  // namespace

absl::Status ScanServiceRequests(
    const projections::ViewReader& view, absl::string_view district,
    const std::function<bool(const ServiceRequestState&)>& visit) {
  absl::Status parse;
  RETURN_IF_ERROR(
      view.Scan(RequestPrefix(district),
                [&](absl::string_view key, absl::string_view value) {
                  if (key.size() <= 1 + kDistrictWidth) {
                    return true;
                  }
                  RequestRow row;
                  parse = ParseRow(key, value, row);
                  if (!parse.ok()) {
                    return false;
                  }
                  if (!row.received()) {
                    return true;
                  }
                  return visit(StateOf(key.substr(1, kDistrictWidth),
                                       key.substr(1 + kDistrictWidth), row));
                }));
  return parse;
}

absl::StatusOr<std::optional<ServiceRequestState>> FindServiceRequest(
    const projections::ViewReader& view, absl::string_view district,
    absl::string_view request_id) {
  ASSIGN_OR_RETURN(std::optional<RequestRow> row,
                   ReadRow<RequestRow>(view, RequestKey(district, request_id)));
  if (!row.has_value() || !row->received()) {
    return std::optional<ServiceRequestState>();
  }
  return std::optional<ServiceRequestState>(
      StateOf(district, request_id, *row));
}

}  // namespace prongsai::service_sla

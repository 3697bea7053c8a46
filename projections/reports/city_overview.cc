#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "projections/reports/builders.h"
#include "projections/reports/correctable.h"
#include "projections/reports/ita_report.h"
#include "projections/reports/keys.h"
#include "projections/reports/labels.h"
#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {
namespace {

// Per district and framework item.
struct ItemState {
  bool has_score = false;
  double score = 0;
  uint64_t score_position = 0;
  int serving = 0;
};

// Per district and indicator.
struct IndicatorState {
  v1::MeasureCounts measures;
};

struct DistrictState {
  std::vector<ItemState> items;            // by framework item
  std::vector<IndicatorState> indicators;  // by heading
  int h1_reports = 0;
  int h2_reports = 0;
  std::set<int> submitted_rounds;
  int64_t complaints_too_old = 0;
};

void AddCounts(const v1::MeasureCounts& from, v1::MeasureCounts* to) {
  to->set_planned(to->planned() + from.planned());
  to->set_not_started(to->not_started() + from.not_started());
  to->set_in_progress(to->in_progress() + from.in_progress());
  to->set_done(to->done() + from.done());
  to->set_dropped(to->dropped() + from.dropped());
  to->set_overdue(to->overdue() + from.overdue());
}

double Percent(const v1::MeasureCounts& counts) {
  return counts.planned() == 0 ? 0.0 : 100.0 * counts.done() / counts.planned();
}

v1::Alert MakeAlert(v1::AlertKind kind, v1::Label message) {
  v1::Alert alert;
  alert.set_kind(kind);
  *alert.mutable_message() = std::move(message);
  return alert;
}

}  // namespace

absl::StatusOr<v1::CityOverview> BuildCityOverview(const ReportViewSet& views,
                                                   int fiscal_year,
                                                   absl::CivilDay today) {
  ASSIGN_OR_RETURN(v1::FrameworkPublished framework,
                   LoadFramework(views.progress, fiscal_year));
  const std::string fy = FiscalYearKey(fiscal_year);
  const int32_t today_number = DayNumber(today);

  v1::CityOverview overview;
  overview.set_fiscal_year(fiscal_year);
  *overview.mutable_fiscal_year_label() =
      MakeLabel(domain::FiscalYearLabelTh(fiscal_year),
                domain::FiscalYearLabelEn(fiscal_year));

  // Indicator headings in framework order, and each item's heading.
  std::vector<int> heading_of(framework.items_size());
  for (int i = 0; i < framework.items_size(); ++i) {
    const v1::FrameworkItem& item = framework.items(i);
    if (overview.indicators().empty() ||
        overview.indicators().rbegin()->number() != item.indicator() ||
        overview.indicators().rbegin()->tool() != item.tool()) {
      v1::IndicatorHeading* heading = overview.add_indicators();
      heading->set_tool(item.tool());
      heading->set_number(item.indicator());
      *heading->mutable_name() = IndicatorLabel(
          item.indicator(), item.indicator_name_th(), item.indicator_name_en());
    }
    overview.mutable_indicators()->rbegin()->add_item_codes(item.code());
    heading_of[i] = overview.indicators_size() - 1;
  }
  const int headings = overview.indicators_size();

  std::map<std::string, DistrictState, std::less<>> districts;
  for (const domain::District& d : domain::Districts()) {
    DistrictState& state = districts[d.code];
    state.items.resize(framework.items_size());
    state.indicators.resize(headings);
  }
  absl::flat_hash_map<std::string, int> item_index;
  auto find_item = [&](const std::string& code) {
    auto it = item_index.find(code);
    if (it != item_index.end()) {
      return it->second;
    }
    int found = -1;
    for (int i = 0; i < framework.items_size(); ++i) {
      if (domain::ItemCodeCovers(framework.items(i).code(), code)) {
        found = i;
        break;
      }
    }
    item_index.emplace(code, found);
    return found;
  };

  // O fy d item -> ItemAggregateRow
  absl::Status parse;
  RETURN_IF_ERROR(views.city.Scan(Key('O', fy), [&](absl::string_view key,
                                                    absl::string_view value) {
    if (key.size() <= 1 + 4 + kStreamWidth) {
      return true;
    }
    auto d = districts.find(key.substr(1 + 4, kStreamWidth));
    const int i = find_item(std::string(key.substr(1 + 4 + kStreamWidth)));
    if (d == districts.end() || i < 0) {
      return true;
    }
    ItemAggregateRow row;
    parse = ParseRow(key, value, row);
    if (!parse.ok()) {
      return false;
    }
    ItemState& item = d->second.items[i];
    if (row.has_score() && row.score_position() >= item.score_position) {
      item.has_score = true;
      item.score = row.score();
      item.score_position = row.score_position();
    }
    item.serving += row.serving();
    v1::MeasureCounts& counts = d->second.indicators[heading_of[i]].measures;
    counts.set_planned(counts.planned() + row.planned());
    counts.set_not_started(counts.not_started() + row.not_started());
    counts.set_in_progress(counts.in_progress() + row.in_progress());
    counts.set_done(counts.done() + row.done());
    counts.set_dropped(counts.dropped() + row.dropped());
    for (int32_t due : row.open_due_days()) {
      if (due >= today_number) {
        break;  // ascending
      }
      counts.set_overdue(counts.overdue() + 1);
    }
    return true;
  }));
  RETURN_IF_ERROR(parse);

  // R fy d -> RoundReportsRow
  RETURN_IF_ERROR(views.city.Scan(
      Key('R', fy), [&](absl::string_view key, absl::string_view value) {
        auto d = districts.find(key.substr(1 + 4));
        if (d == districts.end()) {
          return true;
        }
        RoundReportsRow row;
        parse = ParseRow(key, value, row);
        d->second.h1_reports = row.h1();
        d->second.h2_reports = row.h2();
        return parse.ok();
      }));
  RETURN_IF_ERROR(parse);

  // U fy d round submission -> the rounds each district has reported.
  RETURN_IF_ERROR(views.gifts.Scan(
      Key('U', fy), [&](absl::string_view key, absl::string_view) {
        if (key.size() <= 1 + 4 + kStreamWidth) {
          return true;
        }
        auto d = districts.find(key.substr(1 + 4, kStreamWidth));
        if (d != districts.end()) {
          d->second.submitted_rounds.insert(key[1 + 4 + kStreamWidth] - '0');
        }
        return true;
      }));

  // O d day complaint: open complaints by the day received.
  const int32_t too_old_before = today_number - kComplaintAlertDays;
  for (auto& [code, state] : districts) {
    RETURN_IF_ERROR(views.complaints.Scan(
        Key('O', code), [&](absl::string_view key, absl::string_view) {
          if (key.size() < 1 + kStreamWidth + 4 ||
              ReadDay(key.data() + 1 + kStreamWidth) >= too_old_before) {
            return false;
          }
          ++state.complaints_too_old;
          return true;
        }));
  }

  std::map<std::string, v1::Label> names;
  for (const domain::District& d : domain::Districts()) {
    names[d.code] = MakeLabel(d.name_th, d.name_en);
  }
  RETURN_IF_ERROR(views.progress.Scan(
      "D", [&](absl::string_view key, absl::string_view value) {
        DistrictRow row;
        parse = ParseRow(key, value, row);
        if (parse.ok()) {
          names[row.district().code()] =
              MakeLabel(row.district().name_th(), row.district().name_en());
        }
        return parse.ok();
      }));
  RETURN_IF_ERROR(parse);

  const domain::DayRange h1 = domain::RoundRange(fiscal_year, v1::ROUND_H1);
  const domain::DayRange year = domain::FiscalYearRange(fiscal_year);
  const bool h1_closed = today > h1.last;
  const bool year_closed = today > year.last;

  for (auto& [code, state] : districts) {
    v1::DistrictOverview* out = overview.add_districts();
    out->set_district(code);
    *out->mutable_district_name() = names[code];
    std::vector<double> score_sums(headings, 0);
    std::vector<int> scored(headings, 0);
    std::vector<int> items(headings, 0);
    for (int i = 0; i < framework.items_size(); ++i) {
      const ItemState& item = state.items[i];
      ++items[heading_of[i]];
      if (item.has_score) {
        score_sums[heading_of[i]] += item.score;
        ++scored[heading_of[i]];
      }
    }
    for (int h = 0; h < headings; ++h) {
      v1::IndicatorProgress* p = out->add_indicators();
      p->set_indicator(overview.indicators(h).number());
      p->set_items(items[h]);
      p->set_items_scored(scored[h]);
      p->set_mean_score(scored[h] == 0 ? 0 : score_sums[h] / scored[h]);
      *p->mutable_measures() = state.indicators[h].measures;
      p->set_progress_percent(Percent(state.indicators[h].measures));
      AddCounts(state.indicators[h].measures, out->mutable_totals());
    }
    out->set_progress_percent(Percent(out->totals()));

    for (int i = 0; i < framework.items_size(); ++i) {
      const ItemState& item = state.items[i];
      if (item.has_score && item.score < 100 && item.serving == 0) {
        const std::string& item_code = framework.items(i).code();
        v1::Alert alert = MakeAlert(
            v1::ALERT_KIND_ITEM_WITHOUT_MEASURE,
            MakeLabel(
                absl::StrCat(item_code, " ได้ ", FormatScore(item.score),
                             " คะแนน แต่ยังไม่มีมาตรการ"),
                absl::StrCat(item_code, " scored ", FormatScore(item.score),
                             " but no measure serves it")));
        alert.set_item_code(item_code);
        alert.set_indicator(framework.items(i).indicator());
        *out->add_alerts() = std::move(alert);
      }
    }
    for (int h = 0; h < headings; ++h) {
      const int overdue = state.indicators[h].measures.overdue();
      if (overdue > 0) {
        const int number = overview.indicators(h).number();
        v1::Alert alert = MakeAlert(
            v1::ALERT_KIND_MEASURE_OVERDUE,
            MakeLabel(absl::StrCat("ตัวชี้วัดที่ ", number, ": มาตรการเลยกำหนด ",
                                   overdue, " มาตรการ"),
                      absl::StrCat("Indicator ", number, ": ", overdue,
                                   overdue == 1 ? " measure" : " measures",
                                   " overdue")));
        alert.set_indicator(number);
        alert.set_count(overdue);
        *out->add_alerts() = std::move(alert);
      }
    }
    const std::pair<v1::Round, bool> rounds[] = {{v1::ROUND_H1, h1_closed},
                                                 {v1::ROUND_H2, year_closed}};
    for (const auto& [round, closed] : rounds) {
      if (!closed) {
        continue;
      }
      const int reports =
          round == v1::ROUND_H1 ? state.h1_reports : state.h2_reports;
      if (reports == 0) {
        v1::Alert alert = MakeAlert(
            v1::ALERT_KIND_ROUND_REPORT_MISSING,
            MakeLabel(absl::StrCat("ยังไม่รายงานผลการดำเนินงาน",
                                   domain::RoundLabelTh(fiscal_year, round)),
                      absl::StrCat("No progress reported for ",
                                   domain::RoundLabelEn(fiscal_year, round))));
        alert.set_round(round);
        *out->add_alerts() = std::move(alert);
      }
      const bool submitted =
          round == v1::ROUND_H1
              ? state.submitted_rounds.count(v1::ROUND_H1) > 0
              : state.submitted_rounds.count(v1::ROUND_H2) > 0 ||
                    state.submitted_rounds.count(v1::ROUND_FULL_YEAR) > 0;
      if (!submitted) {
        const v1::Round report_round =
            round == v1::ROUND_H1 ? v1::ROUND_H1 : v1::ROUND_FULL_YEAR;
        v1::Alert alert = MakeAlert(
            v1::ALERT_KIND_GIFT_REPORT_MISSING,
            MakeLabel(
                absl::StrCat(
                    "ยังไม่ส่งรายงานการรับของขวัญ",
                    round == v1::ROUND_H1 ? "รอบ 6 เดือน" : "รอบ 12 เดือน",
                    " ให้ ศปท.กทม."),
                absl::StrCat("The ",
                             round == v1::ROUND_H1 ? "6-month" : "12-month",
                             " gift report was not sent to the BMA "
                             "anti-corruption centre")));
        alert.set_round(report_round);
        *out->add_alerts() = std::move(alert);
      }
    }
    if (state.complaints_too_old > 0) {
      v1::Alert alert = MakeAlert(
          v1::ALERT_KIND_COMPLAINT_OPEN_TOO_LONG,
          MakeLabel(
              absl::StrCat("เรื่องร้องเรียนค้างเกิน ", kComplaintAlertDays, " วัน ",
                           state.complaints_too_old, " เรื่อง"),
              absl::StrCat(
                  state.complaints_too_old,
                  state.complaints_too_old == 1 ? " complaint" : " complaints",
                  " open for more than ", kComplaintAlertDays, " days")));
      alert.set_count(state.complaints_too_old);
      *out->add_alerts() = std::move(alert);
    }
    AddCounts(out->totals(), overview.mutable_totals());
    overview.set_alerts(overview.alerts() + out->alerts_size());
  }
  return overview;
}

}  // namespace prongsai::reports

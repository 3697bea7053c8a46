#include "projections/reports/ita_report.h"

#include <algorithm>
#include <map>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "projections/reports/correctable.h"
#include "projections/reports/keys.h"
#include "projections/reports/labels.h"
#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {
namespace {

using projections::ViewReader;

const std::string kNul(1, '\0');

struct MeasureData {
  MeasureRow row;
  std::vector<ProgressRow> progress;  // log order
  std::vector<EvidenceRow> evidence;  // log order
};

// What the view holds for one district and fiscal year.
struct DistrictYear {
  std::vector<ScoreRow> scores;
  std::vector<IssueRow> issues;
  std::vector<MeasureData> measures;  // plan order

  bool empty() const {
    return scores.empty() && issues.empty() && measures.empty();
  }
};

template <typename Row>
absl::Status ScanRows(const ViewReader& view, const std::string& prefix,
                      std::vector<Row>* out) {
  absl::Status parse;
  RETURN_IF_ERROR(
      view.Scan(prefix, [&](absl::string_view key, absl::string_view value) {
        Row row;
        parse = ParseRow(key, value, row);
        if (!parse.ok()) {
          return false;
        }
        out->push_back(std::move(row));
        return true;
      }));
  return parse;
}

absl::StatusOr<DistrictYear> LoadDistrictYear(const ViewReader& view,
                                              absl::string_view district,
                                              int fiscal_year) {
  DistrictYear year;
  const std::string fy = FiscalYearKey(fiscal_year);
  RETURN_IF_ERROR(ScanRows(view, Key('S', district, fy), &year.scores));
  RETURN_IF_ERROR(ScanRows(view, Key('I', district, fy), &year.issues));
  std::vector<MeasureRow> measures;
  RETURN_IF_ERROR(ScanRows(view, Key('M', district, fy), &measures));
  // Rows of one kind sort by item, then position; the report wants log order.
  auto by_position = [](const auto& a, const auto& b) {
    return a.stamp().position() < b.stamp().position();
  };
  std::sort(year.scores.begin(), year.scores.end(), by_position);
  std::sort(year.issues.begin(), year.issues.end(), by_position);

  for (MeasureRow& row : measures) {
    MeasureData data;
    absl::Status parse;
    RETURN_IF_ERROR(
        view.Scan(Key('R', district, row.measure().measure_id(), kNul),
                  [&](absl::string_view key, absl::string_view value) {
                    absl::string_view rest;
                    IdAt(key, 1 + kStreamWidth, &rest);
                    if (!rest.empty() && rest[0] == 'G') {
                      ProgressRow progress;
                      parse = ParseRow(key, value, progress);
                      data.progress.push_back(std::move(progress));
                    } else if (!rest.empty() && rest[0] == 'V') {
                      EvidenceRow evidence;
                      parse = ParseRow(key, value, evidence);
                      data.evidence.push_back(std::move(evidence));
                    }
                    return parse.ok();
                  }));
    RETURN_IF_ERROR(parse);
    data.row = std::move(row);
    year.measures.push_back(std::move(data));
  }
  return year;
}

// Maps item codes to the framework item that holds them ("O5" -> "O1-O17").
class ItemIndex {
 public:
  explicit ItemIndex(const v1::FrameworkPublished& framework)
      : framework_(framework) {}

  // Index of the framework item, or -1.
  int Find(const std::string& code) {
    auto it = cache_.find(code);
    if (it != cache_.end()) {
      return it->second;
    }
    int found = -1;
    for (int i = 0; i < framework_.items_size(); ++i) {
      if (domain::ItemCodeCovers(framework_.items(i).code(), code)) {
        found = i;
        break;
      }
    }
    cache_.emplace(code, found);
    return found;
  }

 private:
  const v1::FrameworkPublished& framework_;
  absl::flat_hash_map<std::string, int> cache_;
};

google::protobuf::Timestamp Seconds(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

std::string MeasureText(const v1::MeasurePlanned& measure) {
  return measure.description().empty()
             ? measure.title()
             : absl::StrCat(measure.title(), " ", measure.description());
}

absl::CivilDay DayOfSeconds(int64_t seconds) {
  return domain::BangkokDay(absl::FromUnixSeconds(seconds));
}

// Whether evidence attached on `day` belongs in a report of `round`: the
// first half's report holds what was attached by the end of the first half,
// the second half's what came after.
bool EvidenceInRound(absl::CivilDay day, int fiscal_year, v1::Round round) {
  const absl::CivilDay h1_end =
      domain::RoundRange(fiscal_year, v1::ROUND_H1).last;
  switch (round) {
    case v1::ROUND_H1:
      return day <= h1_end;
    case v1::ROUND_H2:
      return day > h1_end;
    default:
      return true;
  }
}

bool ProgressInRound(v1::Round reported, v1::Round round) {
  return round == v1::ROUND_FULL_YEAR || reported == round;
}

v1::ItemScore ToItemScore(const ScoreRow& row) {
  v1::ItemScore score;
  score.set_value(row.score().score());
  score.set_band(BandOf(row.score().score()));
  score.set_source(row.score().source());
  score.set_assessment_year(row.score().assessment_year());
  score.set_corrected(row.stamp().corrected());
  return score;
}

void FillMeasure(const MeasureData& data, int fiscal_year, v1::Round round,
                 v1::ItaMeasure* out) {
  const v1::MeasurePlanned& m = data.row.measure();
  out->set_measure_id(m.measure_id());
  out->set_number(m.number());
  out->set_title(m.title());
  out->set_description(m.description());
  out->set_text(MeasureText(m));
  out->set_planned_round(m.round());
  out->set_responsible_division(m.responsible_division());
  if (m.has_planned_start()) {
    *out->mutable_planned_start() = m.planned_start();
  }
  if (m.has_planned_end()) {
    *out->mutable_planned_end() = m.planned_end();
  }
  *out->mutable_item_codes() = m.item_codes();
  out->set_corrected(data.row.stamp().corrected());

  // The latest report of each round in the report's span; each report
  // states the measure's result for its round as of that report.
  std::map<int, const ProgressRow*> latest;
  for (const ProgressRow& p : data.progress) {
    if (ProgressInRound(p.progress().round(), round)) {
      latest[p.progress().round()] = &p;
    }
  }
  v1::ProgressStatus status = v1::PROGRESS_STATUS_NOT_STARTED;
  uint64_t status_position = 0;
  for (const auto& [r, p] : latest) {
    v1::ItaResult* result = out->add_results();
    result->set_round(p->progress().round());
    result->set_status(p->progress().status());
    *result->mutable_status_label() = StatusLabel(p->progress().status());
    result->set_text(p->progress().result_text());
    *result->mutable_reported_at() = Seconds(p->stamp().occurred_seconds());
    result->set_corrected(p->stamp().corrected());
    if (p->stamp().position() >= status_position) {
      status_position = p->stamp().position();
      status = p->progress().status();
    }
  }
  out->set_status(status);
  *out->mutable_status_label() = StatusLabel(status);

  for (const EvidenceRow& e : data.evidence) {
    if (!EvidenceInRound(DayOfSeconds(e.stamp().occurred_seconds()),
                         fiscal_year, round)) {
      continue;
    }
    v1::ItaEvidence* evidence = out->add_evidence();
    evidence->set_evidence_id(e.evidence().evidence_id());
    evidence->set_caption(e.evidence().caption());
    evidence->set_sha256_hex(HexEncode(e.evidence().sha256()));
    evidence->set_media_type(e.evidence().media_type());
    evidence->set_size_bytes(e.evidence().size_bytes());
    evidence->set_uri(e.evidence().uri());
    *evidence->mutable_attached_at() = Seconds(e.stamp().occurred_seconds());
    evidence->set_corrected(e.stamp().corrected());
  }
}

// The framework's items grouped by tool and indicator, in framework order.
struct Grouping {
  struct Indicator {
    int number;
    std::vector<int> items;
  };
  struct Tool {
    v1::Tool tool;
    std::vector<Indicator> indicators;
  };
  std::vector<Tool> tools;
};

Grouping GroupItems(const v1::FrameworkPublished& framework) {
  Grouping grouping;
  for (int i = 0; i < framework.items_size(); ++i) {
    const v1::FrameworkItem& item = framework.items(i);
    if (grouping.tools.empty() || grouping.tools.back().tool != item.tool()) {
      grouping.tools.push_back({item.tool(), {}});
    }
    auto& indicators = grouping.tools.back().indicators;
    if (indicators.empty() || indicators.back().number != item.indicator()) {
      indicators.push_back({item.indicator(), {}});
    }
    indicators.back().items.push_back(i);
  }
  return grouping;
}

}  // namespace

std::vector<v1::Label> ItaColumns() {
  return {
      MakeLabel("ประเด็นการประเมิน", "Assessment item"),
      MakeLabel("ประเด็นที่เป็นที่ต้องปรับปรุง/\nยกระดับการพัฒนา", "What must improve"),
      MakeLabel("มาตรการ/กิจกรรม ในการเตรียมความพร้อมรับการประเมิน",
                "Measures and activities to prepare for the assessment"),
      MakeLabel("ผลการดำเนินการตามมาตรการยกระดับคุณธรรมและความโปร่งใสภายใน"
                "หน่วยงาน",
                "Results of the measures to raise integrity and transparency"),
      MakeLabel("ภาพกิจกรรมที่แสดงถึงการปฏิบัติจริงอย่างเป็นรูปธรรม",
                "Evidence that the activities actually took place"),
  };
}

absl::StatusOr<std::vector<int>> FrameworkYears(const ViewReader& progress) {
  std::vector<int> years;
  RETURN_IF_ERROR(
      progress.Scan("F", [&](absl::string_view key, absl::string_view) {
        int year = 0;
        if (absl::SimpleAtoi(key.substr(1), &year)) {
          years.push_back(year);
        }
        return true;
      }));
  return years;
}

absl::StatusOr<v1::FrameworkPublished> LoadFramework(const ViewReader& progress,
                                                     int fiscal_year) {
  ASSIGN_OR_RETURN(
      std::optional<FrameworkRow> row,
      ReadRow<FrameworkRow>(progress, Key('F', FiscalYearKey(fiscal_year))));
  if (row.has_value()) {
    return std::move(*row->mutable_framework());
  }
  ASSIGN_OR_RETURN(std::vector<int> years, FrameworkYears(progress));
  return absl::NotFoundError(absl::StrCat(
      "fiscal_year: no ITA framework is published for FY ", fiscal_year,
      years.empty()
          ? std::string("; none is published yet")
          : absl::StrCat("; published: FY ", absl::StrJoin(years, ", "))));
}

absl::StatusOr<v1::Label> DistrictName(const ViewReader& progress,
                                       absl::string_view district) {
  ASSIGN_OR_RETURN(std::optional<DistrictRow> row,
                   ReadRow<DistrictRow>(progress, Key('D', district)));
  if (row.has_value()) {
    return MakeLabel(row->district().name_th(), row->district().name_en());
  }
  if (const domain::District* d = domain::FindDistrict(district)) {
    return MakeLabel(d->name_th, d->name_en);
  }
  return absl::NotFoundError(
      absl::StrCat("district: unknown district code \"", district,
                   "\"; Bangkok's district codes are 1001-1050"));
}

absl::StatusOr<v1::ItaReport> BuildItaReport(const ViewReader& progress,
                                             absl::string_view district,
                                             int fiscal_year, v1::Round round) {
  if (round != v1::ROUND_H1 && round != v1::ROUND_H2 &&
      round != v1::ROUND_FULL_YEAR) {
    return absl::InvalidArgumentError(
        "round: required; H1 (October - March), H2 (April - September) or "
        "FULL_YEAR");
  }
  ASSIGN_OR_RETURN(v1::Label name, DistrictName(progress, district));
  ASSIGN_OR_RETURN(v1::FrameworkPublished framework,
                   LoadFramework(progress, fiscal_year));
  ASSIGN_OR_RETURN(DistrictYear year,
                   LoadDistrictYear(progress, district, fiscal_year));

  v1::ItaReport report;
  report.set_district(std::string(district));
  *report.mutable_district_name() = name;
  report.set_fiscal_year(fiscal_year);
  report.set_round(round);
  *report.mutable_fiscal_year_label() =
      MakeLabel(domain::FiscalYearLabelTh(fiscal_year),
                domain::FiscalYearLabelEn(fiscal_year));
  *report.mutable_round_label() =
      MakeLabel(domain::RoundLabelTh(fiscal_year, round),
                domain::RoundLabelEn(fiscal_year, round));
  *report.mutable_title() = MakeLabel(
      absl::StrCat("การรายงานผลการดำเนินการตามมาตรการยกระดับคุณธรรมและความ"
                   "โปร่งใสภายในหน่วยงาน\nของสำนักงานเขต",
                   name.th(), " ประจำ", domain::FiscalYearLabelTh(fiscal_year),
                   " ", domain::RoundLabelTh(fiscal_year, round)),
      absl::StrCat("Report on the measures to raise integrity and "
                   "transparency inside the agency\n",
                   name.en(), " District Office, ",
                   domain::FiscalYearLabelEn(fiscal_year), ", ",
                   domain::RoundLabelEn(fiscal_year, round)));
  for (v1::Label& column : ItaColumns()) {
    *report.add_columns() = std::move(column);
  }

  // One row per framework item.
  ItemIndex index(framework);
  std::vector<v1::ItaRow> rows(framework.items_size());
  for (int i = 0; i < framework.items_size(); ++i) {
    const v1::FrameworkItem& item = framework.items(i);
    rows[i].set_tool(item.tool());
    rows[i].set_indicator(item.indicator());
    rows[i].set_item_code(item.code());
    *rows[i].mutable_title() = MakeLabel(item.title_th(), item.title_en());
  }
  for (const ScoreRow& score : year.scores) {
    const int i = index.Find(score.score().item_code());
    if (i >= 0) {
      // Log order: the latest score wins.
      *rows[i].mutable_score() = ToItemScore(score);
    }
  }
  for (const IssueRow& issue : year.issues) {
    const int i = index.Find(issue.issue().item_code());
    if (i >= 0) {
      v1::ItaIssue* out = rows[i].add_issues();
      out->set_issue_id(issue.issue().issue_id());
      out->set_text(issue.issue().text());
      out->set_corrected(issue.stamp().corrected());
    }
  }
  std::vector<std::string> served_by(framework.items_size());
  for (const MeasureData& data : year.measures) {
    const v1::MeasurePlanned& m = data.row.measure();
    if (m.item_codes().empty()) {
      continue;
    }
    const int holder = index.Find(m.item_codes(0));
    if (holder < 0) {
      continue;
    }
    FillMeasure(data, fiscal_year, round, rows[holder].add_measures());
    for (int k = 1; k < m.item_codes_size(); ++k) {
      const int served = index.Find(m.item_codes(k));
      if (served >= 0 && served != holder && served_by[served].empty()) {
        served_by[served] = framework.items(holder).code();
      }
    }
  }

  v1::ItaReportSummary* summary = report.mutable_summary();
  for (int i = 0; i < framework.items_size(); ++i) {
    v1::ItaRow& row = rows[i];
    if (row.measures().empty()) {
      row.set_measures_shared_with(served_by[i]);
    }
    const bool shared = !row.measures_shared_with().empty();
    if (!row.has_score()) {
      row.add_gaps(v1::ITA_GAP_SCORE);
    }
    if (row.issues().empty()) {
      row.add_gaps(v1::ITA_GAP_ISSUE);
    }
    bool every_result = true;
    bool any_evidence = false;
    for (const v1::ItaMeasure& m : row.measures()) {
      every_result = every_result && !m.results().empty();
      any_evidence = any_evidence || !m.evidence().empty();
      summary->set_measures(summary->measures() + 1);
      summary->set_measures_with_results(summary->measures_with_results() +
                                         (m.results().empty() ? 0 : 1));
      summary->set_results(summary->results() + m.results_size());
      summary->set_evidence(summary->evidence() + m.evidence_size());
    }
    if (!shared) {
      if (row.measures().empty()) {
        row.add_gaps(v1::ITA_GAP_MEASURES);
      }
      if (row.measures().empty() || !every_result) {
        row.add_gaps(v1::ITA_GAP_RESULTS);
      }
      if (!any_evidence) {
        row.add_gaps(v1::ITA_GAP_EVIDENCE);
      }
    }
    summary->set_items(summary->items() + 1);
    summary->set_items_scored(summary->items_scored() +
                              (row.has_score() ? 1 : 0));
    summary->set_rows_with_gaps(summary->rows_with_gaps() +
                                (row.gaps().empty() ? 0 : 1));
  }

  const Grouping grouping = GroupItems(framework);
  for (const Grouping::Tool& tool : grouping.tools) {
    v1::ItaTool* out_tool = report.add_tools();
    out_tool->set_tool(tool.tool);
    *out_tool->mutable_name() = ToolLabel(
        tool.tool, framework.items(tool.indicators[0].items[0]).tool_name_th());
    for (const Grouping::Indicator& indicator : tool.indicators) {
      const v1::FrameworkItem& first = framework.items(indicator.items[0]);
      v1::ItaIndicator* out_indicator = out_tool->add_indicators();
      out_indicator->set_number(indicator.number);
      *out_indicator->mutable_name() =
          IndicatorLabel(indicator.number, first.indicator_name_th(),
                         first.indicator_name_en());
      for (int i : indicator.items) {
        *out_indicator->add_rows() = std::move(rows[i]);
      }
    }
  }

  if (year.empty()) {
    report.set_empty(true);
    *report.mutable_note() = MakeLabel(
        absl::StrCat("สำนักงานเขต", name.th(),
                     " ยังไม่ได้บันทึกข้อมูลการดำเนินการตามมาตรการ ITA ของ",
                     domain::FiscalYearLabelTh(fiscal_year)),
        absl::StrCat(name.en(),
                     " District Office has recorded nothing for the ITA "
                     "measures of ",
                     domain::FiscalYearLabelEn(fiscal_year), " yet"));
  }
  return report;
}

absl::StatusOr<v1::Scorecard> BuildScorecard(const ViewReader& progress,
                                             absl::string_view district,
                                             int fiscal_year,
                                             absl::CivilDay today) {
  ASSIGN_OR_RETURN(v1::Label name, DistrictName(progress, district));
  ASSIGN_OR_RETURN(v1::FrameworkPublished framework,
                   LoadFramework(progress, fiscal_year));
  ASSIGN_OR_RETURN(DistrictYear year,
                   LoadDistrictYear(progress, district, fiscal_year));

  v1::Scorecard card;
  card.set_district(std::string(district));
  *card.mutable_district_name() = name;
  card.set_fiscal_year(fiscal_year);
  *card.mutable_fiscal_year_label() =
      MakeLabel(domain::FiscalYearLabelTh(fiscal_year),
                domain::FiscalYearLabelEn(fiscal_year));
  ItemIndex index(framework);
  std::vector<v1::ScorecardItem> items(framework.items_size());
  std::vector<int64_t> last(framework.items_size(), 0);
  auto touch = [&](int i, int64_t seconds) {
    last[i] = std::max(last[i], seconds);
  };
  for (int i = 0; i < framework.items_size(); ++i) {
    const v1::FrameworkItem& item = framework.items(i);
    items[i].set_tool(item.tool());
    items[i].set_indicator(item.indicator());
    items[i].set_item_code(item.code());
    *items[i].mutable_title() = MakeLabel(item.title_th(), item.title_en());
  }
  for (const ScoreRow& score : year.scores) {
    const int i = index.Find(score.score().item_code());
    if (i >= 0) {
      *items[i].mutable_score() = ToItemScore(score);
      touch(i, score.stamp().occurred_seconds());
    }
  }
  for (const IssueRow& issue : year.issues) {
    const int i = index.Find(issue.issue().item_code());
    if (i >= 0) {
      touch(i, issue.stamp().occurred_seconds());
    }
  }
  v1::MeasureCounts* totals = card.mutable_totals();
  for (const MeasureData& data : year.measures) {
    const v1::MeasurePlanned& m = data.row.measure();
    if (m.item_codes().empty()) {
      continue;
    }
    const int i = index.Find(m.item_codes(0));
    if (i < 0) {
      continue;
    }
    touch(i, data.row.stamp().occurred_seconds());
    v1::ProgressStatus status = v1::PROGRESS_STATUS_NOT_STARTED;
    for (const ProgressRow& p : data.progress) {
      status = p.progress().status();  // log order: the latest wins
      touch(i, p.stamp().occurred_seconds());
    }
    for (const EvidenceRow& e : data.evidence) {
      touch(i, e.stamp().occurred_seconds());
    }
    items[i].set_evidence(items[i].evidence() + data.evidence.size());
    const absl::CivilDay due =
        m.has_planned_end() && domain::IsValidDate(m.planned_end())
            ? domain::ToCivilDay(m.planned_end())
            : domain::RoundRange(fiscal_year, m.round()).last;
    for (v1::MeasureCounts* counts : {items[i].mutable_measures(), totals}) {
      counts->set_planned(counts->planned() + 1);
      switch (status) {
        case v1::PROGRESS_STATUS_IN_PROGRESS:
          counts->set_in_progress(counts->in_progress() + 1);
          break;
        case v1::PROGRESS_STATUS_DONE:
          counts->set_done(counts->done() + 1);
          break;
        case v1::PROGRESS_STATUS_DROPPED:
          counts->set_dropped(counts->dropped() + 1);
          break;
        default:
          counts->set_not_started(counts->not_started() + 1);
          break;
      }
      if (status != v1::PROGRESS_STATUS_DONE &&
          status != v1::PROGRESS_STATUS_DROPPED && due < today) {
        counts->set_overdue(counts->overdue() + 1);
      }
    }
  }
  double sum = 0;
  int scored = 0;
  for (int i = 0; i < framework.items_size(); ++i) {
    if (last[i] > 0) {
      *items[i].mutable_last_activity() = Seconds(last[i]);
    }
    if (items[i].has_score()) {
      sum += items[i].score().value();
      ++scored;
    }
    *card.add_items() = std::move(items[i]);
  }
  if (scored > 0) {
    v1::ItemScore* mean = card.mutable_mean_item_score();
    mean->set_value(sum / scored);
    mean->set_band(BandOf(sum / scored));
    mean->set_source("unweighted mean of the recorded item scores");
  }
  for (v1::ScoreBand band :
       {v1::SCORE_BAND_AA, v1::SCORE_BAND_A, v1::SCORE_BAND_B, v1::SCORE_BAND_C,
        v1::SCORE_BAND_D, v1::SCORE_BAND_E, v1::SCORE_BAND_F}) {
    v1::ScoreBandLegend* legend = card.add_bands();
    legend->set_band(band);
    legend->set_minimum(BandMinimum(band));
    *legend->mutable_label() = BandLabel(band);
  }
  if (year.empty()) {
    card.set_empty(true);
    *card.mutable_note() = MakeLabel(
        absl::StrCat("สำนักงานเขต", name.th(), " ยังไม่ได้บันทึกข้อมูลของ",
                     domain::FiscalYearLabelTh(fiscal_year)),
        absl::StrCat(name.en(), " District Office has recorded nothing for ",
                     domain::FiscalYearLabelEn(fiscal_year), " yet"));
  }
  return card;
}

}  // namespace prongsai::reports

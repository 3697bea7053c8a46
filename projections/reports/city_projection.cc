#include "projections/reports/city_projection.h"

#include <algorithm>
#include <map>

#include "absl/strings/numbers.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {
namespace {

bool IsOpen(v1::ProgressStatus status) {
  return status != v1::PROGRESS_STATUS_DONE &&
         status != v1::PROGRESS_STATUS_DROPPED;
}

std::string StateKey(absl::string_view district, absl::string_view measure) {
  return Key('T', district, measure);
}

std::string MarksKey(absl::string_view district, absl::string_view measure) {
  return Key('G', district, measure);
}

std::string ScoresKey(absl::string_view district, int fiscal_year,
                      absl::string_view item) {
  return Key('S', district, FiscalYearKey(fiscal_year), item);
}

int32_t DueDay(const v1::MeasurePlanned& measure) {
  if (measure.has_planned_end() && domain::IsValidDate(measure.planned_end())) {
    return DayNumber(domain::ToCivilDay(measure.planned_end()));
  }
  return DayNumber(
      domain::RoundRange(measure.fiscal_year(), measure.round()).last);
}

// The item aggregates one event touches, read once and written once.
class Aggregates {
 public:
  Aggregates(projections::ViewWriter& view, absl::string_view district)
      : view_(view), district_(district) {}

  absl::StatusOr<ItemAggregateRow*> Row(int fiscal_year,
                                        absl::string_view item) {
    std::string key = Key('O', FiscalYearKey(fiscal_year), district_, item);
    auto it = rows_.find(key);
    if (it == rows_.end()) {
      ASSIGN_OR_RETURN(std::optional<ItemAggregateRow> row,
                       ReadRow<ItemAggregateRow>(view_, key));
      it =
          rows_.emplace(std::move(key), row.value_or(ItemAggregateRow())).first;
    }
    return &it->second;
  }

  // Adds (sign +1) or removes (-1) what a measure counts for.
  absl::Status Contribute(const MeasureStateRow& m, int sign) {
    if (m.item_codes().empty()) {
      return absl::OkStatus();
    }
    ASSIGN_OR_RETURN(ItemAggregateRow * holder,
                     Row(m.fiscal_year(), m.item_codes(0)));
    holder->set_planned(holder->planned() + sign);
    switch (m.status()) {
      case v1::PROGRESS_STATUS_IN_PROGRESS:
        holder->set_in_progress(holder->in_progress() + sign);
        break;
      case v1::PROGRESS_STATUS_DONE:
        holder->set_done(holder->done() + sign);
        break;
      case v1::PROGRESS_STATUS_DROPPED:
        holder->set_dropped(holder->dropped() + sign);
        break;
      default:
        holder->set_not_started(holder->not_started() + sign);
        break;
    }
    if (IsOpen(m.status())) {
      auto* days = holder->mutable_open_due_days();
      if (sign > 0) {
        days->Add(m.due_day());
        std::sort(days->begin(), days->end());
      } else if (auto it = std::find(days->begin(), days->end(), m.due_day());
                 it != days->end()) {
        days->erase(it);
      }
    }
    for (const std::string& code : m.item_codes()) {
      ASSIGN_OR_RETURN(ItemAggregateRow * row, Row(m.fiscal_year(), code));
      row->set_serving(row->serving() + sign);
    }
    return absl::OkStatus();
  }

  void Flush() {
    for (const auto& [key, row] : rows_) {
      if (!row.has_score() && row.planned() == 0 && row.serving() == 0) {
        view_.Delete(key);
      } else {
        WriteRow(view_, key, row);
      }
    }
    rows_.clear();
  }

 private:
  projections::ViewWriter& view_;
  absl::string_view district_;
  std::map<std::string, ItemAggregateRow> rows_;
};

// The latest progress report of a measure, from its marks.
absl::Status LatestStatus(projections::ViewWriter& view,
                          absl::string_view district, absl::string_view measure,
                          MeasureStateRow* state) {
  state->set_status(v1::PROGRESS_STATUS_NOT_STARTED);
  state->set_status_position(0);
  ASSIGN_OR_RETURN(
      std::optional<ProgressMarksRow> marks,
      ReadRow<ProgressMarksRow>(view, MarksKey(district, measure)));
  if (marks.has_value()) {
    for (const ProgressMarkRow& mark : marks->marks()) {
      if (mark.position() >= state->status_position()) {
        state->set_status(mark.status());
        state->set_status_position(mark.position());
      }
    }
  }
  return absl::OkStatus();
}

// Sets the latest score of an item from its history.
void LatestScore(const ScoreHistoryRow& history, ItemAggregateRow* row) {
  row->set_has_score(false);
  row->set_score(0);
  row->set_score_position(0);
  for (const ScoreHistoryRow::Score& score : history.scores()) {
    if (score.position() >= row->score_position()) {
      row->set_has_score(true);
      row->set_score(score.value());
      row->set_score_position(score.position());
    }
  }
}

// Adds a mark at its position, or removes the mark at `position`.
absl::Status ChangeMarks(projections::ViewWriter& view,
                         absl::string_view district, absl::string_view measure,
                         const ProgressMarkRow* add, uint64_t remove,
                         std::optional<ProgressMarkRow>* removed) {
  const std::string key = MarksKey(district, measure);
  ASSIGN_OR_RETURN(std::optional<ProgressMarksRow> marks,
                   ReadRow<ProgressMarksRow>(view, key));
  ProgressMarksRow row = marks.value_or(ProgressMarksRow());
  if (add != nullptr) {
    *row.add_marks() = *add;
  } else {
    auto* list = row.mutable_marks();
    for (int i = 0; i < list->size(); ++i) {
      if (list->Get(i).position() == remove) {
        if (removed != nullptr) {
          *removed = list->Get(i);
        }
        list->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  if (row.marks().empty()) {
    view.Delete(key);
  } else {
    WriteRow(view, key, row);
  }
  return absl::OkStatus();
}

// Adds a score, or removes the one at `remove`; updates the item's latest.
absl::Status ChangeScores(projections::ViewWriter& view,
                          absl::string_view district, int fiscal_year,
                          absl::string_view item, const Fact* add, double value,
                          uint64_t remove) {
  const std::string key = ScoresKey(district, fiscal_year, item);
  ASSIGN_OR_RETURN(std::optional<ScoreHistoryRow> history,
                   ReadRow<ScoreHistoryRow>(view, key));
  ScoreHistoryRow row = history.value_or(ScoreHistoryRow());
  if (add != nullptr) {
    ScoreHistoryRow::Score* score = row.add_scores();
    score->set_position(add->position);
    score->set_value(value);
  } else {
    auto* list = row.mutable_scores();
    for (int i = 0; i < list->size(); ++i) {
      if (list->Get(i).position() == remove) {
        list->DeleteSubrange(i, 1);
        break;
      }
    }
  }
  if (row.scores().empty()) {
    view.Delete(key);
  } else {
    WriteRow(view, key, row);
  }
  Aggregates aggregates(view, district);
  ASSIGN_OR_RETURN(ItemAggregateRow * aggregate,
                   aggregates.Row(fiscal_year, item));
  LatestScore(row, aggregate);
  aggregates.Flush();
  return absl::OkStatus();
}

absl::Status ChangeRoundCount(projections::ViewWriter& view,
                              absl::string_view district, int fiscal_year,
                              v1::Round round, int sign) {
  if (round != v1::ROUND_H1 && round != v1::ROUND_H2) {
    return absl::OkStatus();
  }
  const std::string key = Key('R', FiscalYearKey(fiscal_year), district);
  ASSIGN_OR_RETURN(std::optional<RoundReportsRow> row,
                   ReadRow<RoundReportsRow>(view, key));
  RoundReportsRow counts = row.value_or(RoundReportsRow());
  if (round == v1::ROUND_H1) {
    counts.set_h1(counts.h1() + sign);
  } else {
    counts.set_h2(counts.h2() + sign);
  }
  if (counts.h1() == 0 && counts.h2() == 0) {
    view.Delete(key);
  } else {
    WriteRow(view, key, counts);
  }
  return absl::OkStatus();
}

// Sets a measure's status from its marks and moves its counts accordingly.
absl::Status RefreshStatus(projections::ViewWriter& view,
                           absl::string_view district,
                           absl::string_view measure) {
  const std::string key = StateKey(district, measure);
  ASSIGN_OR_RETURN(std::optional<MeasureStateRow> state,
                   ReadRow<MeasureStateRow>(view, key));
  if (!state.has_value()) {
    return absl::OkStatus();
  }
  MeasureStateRow updated = *state;
  RETURN_IF_ERROR(LatestStatus(view, district, measure, &updated));
  if (updated.status() != state->status()) {
    Aggregates aggregates(view, district);
    RETURN_IF_ERROR(aggregates.Contribute(*state, -1));
    RETURN_IF_ERROR(aggregates.Contribute(updated, +1));
    aggregates.Flush();
  }
  WriteRow(view, key, updated);
  return absl::OkStatus();
}

}  // namespace

bool CityProjection::Tracks(v1::Event::PayloadCase kind) const {
  return kind == v1::Event::kScoreRecorded ||
         kind == v1::Event::kMeasurePlanned ||
         kind == v1::Event::kMeasureProgressReported;
}

absl::StatusOr<std::string> CityProjection::Do(const Fact& fact,
                                               const v1::Event& event,
                                               projections::ViewWriter& view) {
  const absl::string_view d = fact.stream;
  switch (event.payload_case()) {
    case v1::Event::kScoreRecorded: {
      const v1::ScoreRecorded& score = event.score_recorded();
      RETURN_IF_ERROR(ChangeScores(view, d, score.fiscal_year(),
                                   score.item_code(), &fact, score.score(), 0));
      return ScoresKey(d, score.fiscal_year(), score.item_code());
    }
    case v1::Event::kMeasurePlanned: {
      const v1::MeasurePlanned& measure = event.measure_planned();
      MeasureStateRow state;
      state.set_fiscal_year(measure.fiscal_year());
      *state.mutable_item_codes() = measure.item_codes();
      state.set_due_day(DueDay(measure));
      // Marks survive a correction of the measure (and would precede a
      // measure planned again under a retracted one's id).
      RETURN_IF_ERROR(LatestStatus(view, d, measure.measure_id(), &state));
      Aggregates aggregates(view, d);
      RETURN_IF_ERROR(aggregates.Contribute(state, +1));
      aggregates.Flush();
      std::string key = StateKey(d, measure.measure_id());
      WriteRow(view, key, state);
      return key;
    }
    case v1::Event::kMeasureProgressReported: {
      const v1::MeasureProgressReported& progress =
          event.measure_progress_reported();
      ProgressMarkRow mark;
      mark.set_position(fact.position);
      mark.set_round(progress.round());
      mark.set_status(progress.status());
      mark.set_fiscal_year(progress.fiscal_year());
      RETURN_IF_ERROR(
          ChangeMarks(view, d, progress.measure_id(), &mark, 0, nullptr));
      RETURN_IF_ERROR(ChangeRoundCount(view, d, progress.fiscal_year(),
                                       progress.round(), +1));
      RETURN_IF_ERROR(RefreshStatus(view, d, progress.measure_id()));
      return MarksKey(d, progress.measure_id());
    }
    default:
      return std::string();
  }
}

absl::Status CityProjection::Undo(const Fact& fact, absl::string_view key,
                                  projections::ViewWriter& view) {
  if (key.empty()) {
    return absl::OkStatus();
  }
  const absl::string_view d = fact.stream;
  switch (key[0]) {
    case 'S': {
      // S d fy item
      int fiscal_year = 0;
      if (key.size() < 1 + kStreamWidth + 4 ||
          !absl::SimpleAtoi(key.substr(1 + kStreamWidth, 4), &fiscal_year)) {
        return absl::DataLossError("malformed score key in city_overview");
      }
      const std::string item(key.substr(1 + kStreamWidth + 4));
      return ChangeScores(view, d, fiscal_year, item, nullptr, 0,
                          fact.position);
    }
    case 'T': {
      ASSIGN_OR_RETURN(std::optional<MeasureStateRow> state,
                       ReadRow<MeasureStateRow>(view, key));
      if (state.has_value()) {
        Aggregates aggregates(view, d);
        RETURN_IF_ERROR(aggregates.Contribute(*state, -1));
        aggregates.Flush();
      }
      view.Delete(key);
      return absl::OkStatus();
    }
    case 'G': {
      // G d measure
      const std::string measure(key.substr(1 + kStreamWidth));
      std::optional<ProgressMarkRow> removed;
      RETURN_IF_ERROR(
          ChangeMarks(view, d, measure, nullptr, fact.position, &removed));
      if (removed.has_value()) {
        RETURN_IF_ERROR(ChangeRoundCount(view, d, removed->fiscal_year(),
                                         removed->round(), -1));
      }
      return RefreshStatus(view, d, measure);
    }
    default:
      view.Delete(key);
      return absl::OkStatus();
  }
}

}  // namespace prongsai::reports

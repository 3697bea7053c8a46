// The seed events against the table they come from: every row of
// tests/seed/seed_table.json (made from the report's text) must be in
// core/domain/data/seed_1045_2568_h1.jsonl exactly - issue, measures, results,
// photos - and the events must hold nothing the table lacks. The events must
// also be clean by the domain rules: ids, enums, dates inside FY 2568 H1,
// item codes of the FY 2568 framework, references to earlier events.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "tests/seed/seed_files.h"

namespace prongsai {
namespace {

using ::nlohmann::json;

constexpr int kFiscalYear = 2568;
constexpr int kAssessmentYear = 2567;

// The seed's events, indexed the way the table reads them.
struct SeedIndex {
  std::vector<v1::Event> events;
  std::map<std::string, std::vector<const v1::ScoreRecorded*>> scores;
  std::map<std::string, std::vector<const v1::ImprovementIssueIdentified*>>
      issues;
  // By the first of item_codes: the row that holds the measure.
  std::map<std::string, std::vector<const v1::MeasurePlanned*>> measures;
  std::map<std::string, std::vector<const v1::MeasureProgressReported*>>
      progress;                                              // by measure_id
  std::map<std::string, std::vector<std::string>> captions;  // by measure_id
  int measure_count = 0;
  int progress_count = 0;
  int evidence_count = 0;
};

class SeedTableTest : public ::testing::Test {
 protected:
  // Loaded per test (the files are small) so that a bad file fails each test
  // rather than skipping the suite.
  void SetUp() override {
    absl::StatusOr<json> table =
        testing::seed::ReadJsonFile(testing::seed::SeedTablePath());
    ASSERT_TRUE(table.ok()) << table.status();
    ASSERT_TRUE(table->contains("rows")) << "the table has no rows";
    table_ = std::move(*table);
    absl::StatusOr<std::vector<v1::Event>> events =
        testing::seed::ReadEventLines(testing::seed::SeedEventsPath());
    ASSERT_TRUE(events.ok()) << events.status();
    index_ = std::make_unique<SeedIndex>();
    index_->events = std::move(*events);
    for (const v1::Event& event : index_->events) {
      switch (event.payload_case()) {
        case v1::Event::kScoreRecorded:
          index_->scores[event.score_recorded().item_code()].push_back(
              &event.score_recorded());
          break;
        case v1::Event::kImprovementIssueIdentified:
          index_->issues[event.improvement_issue_identified().item_code()]
              .push_back(&event.improvement_issue_identified());
          break;
        case v1::Event::kMeasurePlanned: {
          const v1::MeasurePlanned& measure = event.measure_planned();
          ++index_->measure_count;
          const std::string holder =
              measure.item_codes().empty() ? "" : measure.item_codes(0);
          index_->measures[holder].push_back(&measure);
          break;
        }
        case v1::Event::kMeasureProgressReported:
          ++index_->progress_count;
          index_->progress[event.measure_progress_reported().measure_id()]
              .push_back(&event.measure_progress_reported());
          break;
        case v1::Event::kEvidenceAttached:
          ++index_->evidence_count;
          index_->captions[event.evidence_attached().measure_id()].push_back(
              event.evidence_attached().caption());
          break;
        default:
          break;
      }
    }
  }

  const json& Rows() const { return table_.at("rows"); }
  void CheckRow(const json& row);

  json table_;
  std::unique_ptr<SeedIndex> index_;
};

// The measure's text as the report has it: the title, then the description
// after one space when the text was split.
std::string MeasureText(const v1::MeasurePlanned& measure) {
  return measure.description().empty()
             ? measure.title()
             : absl::StrCat(measure.title(), " ", measure.description());
}

template <typename T>
size_t Count(const std::map<std::string, std::vector<T>>& map,
             const std::string& key) {
  auto it = map.find(key);
  return it == map.end() ? 0 : it->second.size();
}

// Checks one row of the table against the events; a fatal failure ends the
// check of this row only.
void SeedTableTest::CheckRow(const json& row) {
  const std::string item = row.at("item").get<std::string>();
  SCOPED_TRACE(absl::StrCat("row ", item));

  // Score.
  if (row.at("score").is_null()) {
    EXPECT_EQ(Count(index_->scores, item), 0u);
  } else {
    ASSERT_EQ(Count(index_->scores, item), 1u);
    const v1::ScoreRecorded& score = *index_->scores[item][0];
    EXPECT_DOUBLE_EQ(score.score(), row.at("score").get<double>());
    EXPECT_EQ(score.fiscal_year(), kFiscalYear);
    EXPECT_EQ(score.assessment_year(), kAssessmentYear);
  }

  // Improvement issue: the whole cell, or nothing when it is empty.
  EXPECT_EQ(row.at("issue_cell_empty").get<bool>(), row.at("issue").is_null());
  if (row.at("issue").is_null()) {
    EXPECT_EQ(Count(index_->issues, item), 0u);
  } else {
    ASSERT_EQ(Count(index_->issues, item), 1u);
    EXPECT_EQ(index_->issues[item][0]->text(),
              row.at("issue").get<std::string>());
    EXPECT_EQ(index_->issues[item][0]->fiscal_year(), kFiscalYear);
  }

  // Measures: held by this row, in report order, serving this row and the
  // rows that share them.
  std::vector<std::string> served = {item};
  for (const json& other : Rows()) {
    if (other.at("measures_shared_with") == item) {
      served.push_back(other.at("item").get<std::string>());
    }
  }
  const json& measures = row.at("measures");
  EXPECT_EQ(row.at("measures_cell_empty").get<bool>(), measures.empty());
  if (!row.at("measures_shared_with").is_null()) {
    EXPECT_TRUE(measures.empty()) << "a sharing row holds no measures";
  }
  const std::vector<const v1::MeasurePlanned*>& held = index_->measures[item];
  ASSERT_EQ(held.size(), measures.size());
  std::map<size_t, std::vector<std::string>> results;
  for (const json& result : row.at("results")) {
    results[result.at("measure").get<size_t>()].push_back(
        result.at("text").get<std::string>());
  }
  std::map<size_t, std::vector<std::string>> captions;
  for (const json& evidence : row.at("evidence")) {
    captions[evidence.at("measure").get<size_t>()].push_back(
        evidence.at("caption").get<std::string>());
  }
  EXPECT_EQ(row.at("results_cell_empty").get<bool>(), results.empty());
  EXPECT_EQ(row.at("evidence_cell_empty").get<bool>(), captions.empty());

  for (size_t j = 0; j < measures.size(); ++j) {
    const json& expected = measures[j];
    const v1::MeasurePlanned& measure = *held[j];
    SCOPED_TRACE(absl::StrCat("measure ", j + 1, " (number ",
                              expected.at("number").get<int>(), ")"));
    EXPECT_EQ(measure.number(), expected.at("number").get<int>());
    EXPECT_EQ(MeasureText(measure), expected.at("text").get<std::string>());
    EXPECT_EQ(std::vector<std::string>(measure.item_codes().begin(),
                                       measure.item_codes().end()),
              served);
    EXPECT_EQ(measure.fiscal_year(), kFiscalYear);
    EXPECT_EQ(measure.round(), v1::ROUND_FULL_YEAR);

    // Results: one progress report joining this measure's results, or
    // none, so that the gap shows.
    const std::vector<const v1::MeasureProgressReported*>& reports =
        index_->progress[measure.measure_id()];
    if (results[j].empty()) {
      EXPECT_TRUE(reports.empty()) << "progress without a result in the table";
      EXPECT_TRUE(expected.at("h1_status").is_null());
    } else {
      ASSERT_EQ(reports.size(), 1u);
      EXPECT_EQ(reports[0]->result_text(), absl::StrJoin(results[j], "\n"));
      EXPECT_EQ(reports[0]->round(), v1::ROUND_H1);
      EXPECT_EQ(reports[0]->fiscal_year(), kFiscalYear);
      EXPECT_EQ(v1::ProgressStatus_Name(reports[0]->status()),
                expected.at("h1_status").get<std::string>());
    }
    EXPECT_EQ(index_->captions[measure.measure_id()], captions[j]);
  }
  for (const auto& [j, texts] : results) {
    EXPECT_LT(j, measures.size()) << "a result names no measure of the row";
  }
  for (const auto& [j, texts] : captions) {
    EXPECT_LT(j, measures.size()) << "a photo names no measure of the row";
  }
}

TEST_F(SeedTableTest, EveryRowOfTheTableIsInTheEvents) {
  for (const json& row : Rows()) {
    CheckRow(row);
  }
}

TEST_F(SeedTableTest, TheEventsHoldNothingTheTableLacks) {
  std::set<std::string> rows;
  size_t measures = 0;
  size_t measures_with_results = 0;
  size_t photos = 0;
  for (const json& row : Rows()) {
    rows.insert(row.at("item").get<std::string>());
    measures += row.at("measures").size();
    photos += row.at("evidence").size();
    std::set<size_t> reported;
    for (const json& result : row.at("results")) {
      reported.insert(result.at("measure").get<size_t>());
    }
    measures_with_results += reported.size();
  }
  for (const auto& [item, scores] : index_->scores) {
    EXPECT_TRUE(rows.count(item)) << "score for " << item;
  }
  for (const auto& [item, issues] : index_->issues) {
    EXPECT_TRUE(rows.count(item)) << "issue for " << item;
  }
  for (const auto& [item, held] : index_->measures) {
    EXPECT_TRUE(rows.count(item)) << "measures held by " << item;
  }
  EXPECT_EQ(static_cast<size_t>(index_->measure_count), measures);
  EXPECT_EQ(static_cast<size_t>(index_->progress_count), measures_with_results);
  EXPECT_EQ(static_cast<size_t>(index_->evidence_count), photos);
}

// The FY 2568 framework's item codes, from the reference data the server
// embeds.
std::set<std::string> FrameworkItems() {
  std::set<std::string> codes;
  std::ifstream in(testing::seed::SourceDir() +
                   "/core/domain/data/ita_items_2568.csv");
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    // tool,tool_name_th,indicator,indicator_name_th,indicator_name_en,item,...
    std::vector<std::string> fields = absl::StrSplit(line, ',');
    if (fields.size() > 5) {
      codes.insert(fields[5]);
    }
  }
  return codes;
}

bool InFirstHalf(const v1::Date& date) {
  const absl::CivilDay day(date.year(), date.month(), date.day());
  return day.year() == date.year() && day.month() == date.month() &&
         day.day() == date.day() && day >= absl::CivilDay(2024, 10, 1) &&
         day <= absl::CivilDay(2025, 3, 31);
}

TEST_F(SeedTableTest, TheEventsAreCleanByTheDomainRules) {
  const std::set<std::string> framework = FrameworkItems();
  ASSERT_TRUE(framework.count("I1") && framework.count("O1-O17"))
      << "reference data not found";
  const absl::TimeZone bangkok = absl::FixedTimeZone(7 * 60 * 60);
  const absl::Time h1_start =
      absl::FromCivil(absl::CivilSecond(2024, 10, 1, 0, 0, 0), bangkok);
  const absl::Time h1_end =
      absl::FromCivil(absl::CivilSecond(2025, 4, 1, 0, 0, 0), bangkok);

  std::set<std::string> event_ids;
  std::set<std::string> entity_ids;
  std::set<std::string> measure_ids;
  auto check_item = [&](const std::string& code) {
    EXPECT_TRUE(framework.count(code)) << "not an FY 2568 item: " << code;
  };
  auto new_entity = [&](const std::string& id) {
    EXPECT_TRUE(IsUuid(id)) << id;
    EXPECT_TRUE(entity_ids.insert(id).second) << "id used twice: " << id;
  };
  auto check_measure_ref = [&](const std::string& id) {
    EXPECT_TRUE(measure_ids.count(id)) << "no earlier measure " << id;
  };
  auto check_date = [&](const v1::Date& date) {
    EXPECT_TRUE(InFirstHalf(date)) << date.ShortDebugString();
  };

  for (size_t i = 0; i < index_->events.size(); ++i) {
    const v1::Event& event = index_->events[i];
    SCOPED_TRACE(absl::StrCat("line ", i + 1));
    EXPECT_TRUE(IsUuid(event.event_id())) << event.event_id();
    EXPECT_TRUE(event_ids.insert(event.event_id()).second);
    const absl::Time occurred =
        absl::FromUnixSeconds(event.occurred_at().seconds());
    EXPECT_GE(occurred, h1_start);
    EXPECT_LT(occurred, h1_end);
    EXPECT_EQ(event.actor().id(), "1045-ita-working-group");
    EXPECT_FALSE(event.actor().division().empty());

    switch (event.payload_case()) {
      case v1::Event::kScoreRecorded: {
        const v1::ScoreRecorded& score = event.score_recorded();
        check_item(score.item_code());
        EXPECT_GE(score.score(), 0);
        EXPECT_LE(score.score(), 100);
        EXPECT_FALSE(score.source().empty());
        break;
      }
      case v1::Event::kImprovementIssueIdentified:
        new_entity(event.improvement_issue_identified().issue_id());
        check_item(event.improvement_issue_identified().item_code());
        EXPECT_FALSE(event.improvement_issue_identified().text().empty());
        break;
      case v1::Event::kMeasurePlanned: {
        const v1::MeasurePlanned& measure = event.measure_planned();
        new_entity(measure.measure_id());
        measure_ids.insert(measure.measure_id());
        EXPECT_FALSE(measure.item_codes().empty());
        for (const std::string& code : measure.item_codes()) {
          check_item(code);
        }
        EXPECT_GE(measure.number(), 1);
        EXPECT_FALSE(measure.title().empty());
        EXPECT_NE(measure.round(), v1::ROUND_UNSPECIFIED);
        break;
      }
      case v1::Event::kMeasureProgressReported: {
        const v1::MeasureProgressReported& progress =
            event.measure_progress_reported();
        check_measure_ref(progress.measure_id());
        EXPECT_EQ(progress.round(), v1::ROUND_H1);
        EXPECT_NE(progress.status(), v1::PROGRESS_STATUS_UNSPECIFIED);
        EXPECT_FALSE(progress.result_text().empty());
        break;
      }
      case v1::Event::kEvidenceAttached: {
        const v1::EvidenceAttached& evidence = event.evidence_attached();
        new_entity(evidence.evidence_id());
        EXPECT_EQ(evidence.sha256().size(), kHashSize);
        EXPECT_GT(evidence.size_bytes(), 0);
        EXPECT_EQ(evidence.media_type(), "image/jpeg");
        ASSERT_EQ(evidence.subject_case(), v1::EvidenceAttached::kMeasureId);
        check_measure_ref(evidence.measure_id());
        break;
      }
      case v1::Event::kMeetingHeld: {
        const v1::MeetingHeld& meeting = event.meeting_held();
        new_entity(meeting.meeting_id());
        EXPECT_NE(meeting.kind(), v1::MEETING_KIND_UNSPECIFIED);
        EXPECT_FALSE(meeting.title().empty());
        check_date(meeting.date());
        EXPECT_FALSE(meeting.agenda_items().empty());
        for (const v1::AgendaItem& agenda : meeting.agenda_items()) {
          EXPECT_FALSE(agenda.text().empty());
          for (const std::string& id : agenda.measure_ids()) {
            check_measure_ref(id);
          }
        }
        break;
      }
      case v1::Event::kPolicyAnnounced:
        new_entity(event.policy_announced().policy_id());
        EXPECT_NE(event.policy_announced().kind(), v1::POLICY_KIND_UNSPECIFIED);
        check_date(event.policy_announced().date());
        break;
      case v1::Event::kWorkingGroupAppointed:
        new_entity(event.working_group_appointed().group_id());
        EXPECT_FALSE(event.working_group_appointed().title().empty());
        check_date(event.working_group_appointed().date());
        break;
      case v1::Event::kCommunityProjectApproved:
        new_entity(event.community_project_approved().project_id());
        EXPECT_EQ(event.community_project_approved().fiscal_year(),
                  kFiscalYear);
        EXPECT_GT(event.community_project_approved().amount_satang(), 0);
        check_date(event.community_project_approved().approved_on());
        break;
      case v1::Event::kBudgetReviewHeld:
        new_entity(event.budget_review_held().review_id());
        EXPECT_EQ(event.budget_review_held().fiscal_year(), kFiscalYear);
        EXPECT_GE(event.budget_review_held().quarter(), 1);
        EXPECT_LE(event.budget_review_held().quarter(), 2)
            << "only the first half's quarters end inside H1";
        check_date(event.budget_review_held().date());
        break;
      default:
        ADD_FAILURE() << "unexpected event type "
                      << event.GetDescriptor()
                             ->FindFieldByNumber(event.payload_case())
                             ->name();
    }
  }
}

}  // namespace
}  // namespace prongsai

// The report views in memory: how each event, correction and retraction
// changes their rows and the answers built from them, the score bands, the
// labels, and the filter of personal fields.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "projections/reports/builders.h"
#include "projections/reports/ita_report.h"
#include "projections/reports/labels.h"
#include "services/query/http_server.h"
#include "tests/reports/memory_ledger.h"
#include "tests/testing/testing.h"

namespace prongsai::reports {
namespace {

using testing::MemoryLedger;

int64_t Bangkok(int year, int month, int day) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(year, month, day, 10, 0, 0),
                      absl::FixedTimeZone(7 * 3600)));
}

v1::Event NewEvent(int64_t seconds) {
  v1::Event event;
  event.set_event_id(prongsai::testing::NewUuid());
  event.mutable_occurred_at()->set_seconds(seconds);
  event.mutable_actor()->set_id("1045-test");
  return event;
}

v1::Event Measure(const std::string& id, std::vector<std::string> items) {
  v1::Event e = NewEvent(Bangkok(2024, 10, 5));
  v1::MeasurePlanned* m = e.mutable_measure_planned();
  m->set_measure_id(id);
  m->set_fiscal_year(2568);
  for (const std::string& item : items) {
    m->add_item_codes(item);
  }
  m->set_number(1);
  m->set_title("มาตรการทดสอบ");
  m->set_round(v1::ROUND_FULL_YEAR);
  return e;
}

v1::Event Progress(const std::string& measure, v1::Round round,
                   v1::ProgressStatus status, int64_t seconds) {
  v1::Event e = NewEvent(seconds);
  v1::MeasureProgressReported* p = e.mutable_measure_progress_reported();
  p->set_measure_id(measure);
  p->set_fiscal_year(2568);
  p->set_round(round);
  p->set_status(status);
  p->set_result_text("ดำเนินการแล้ว");
  return e;
}

v1::Event Score(const std::string& item, double score, int64_t seconds) {
  v1::Event e = NewEvent(seconds);
  e.mutable_score_recorded()->set_fiscal_year(2568);
  e.mutable_score_recorded()->set_item_code(item);
  e.mutable_score_recorded()->set_score(score);
  e.mutable_score_recorded()->set_source("ทดสอบ");
  return e;
}

v1::Event Correct(const v1::Event& original, v1::Event replacement) {
  v1::Event e = NewEvent(original.occurred_at().seconds() + 3600);
  e.mutable_event_corrected()->set_corrected_event_id(original.event_id());
  e.mutable_event_corrected()->set_reason("แก้ไข");
  replacement.clear_event_id();
  replacement.clear_occurred_at();
  replacement.clear_actor();
  *e.mutable_event_corrected()->mutable_replacement() = std::move(replacement);
  return e;
}

v1::Event Retract(const v1::Event& original) {
  v1::Event e = NewEvent(original.occurred_at().seconds() + 3600);
  e.mutable_event_retracted()->set_retracted_event_id(original.event_id());
  e.mutable_event_retracted()->set_reason("ผิด");
  return e;
}

class ViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ledger_
                    .Append(std::string(domain::kCityStream),
                            domain::CityBootstrapEvents())
                    .ok());
  }

  v1::CityOverview Overview(absl::CivilDay today = absl::CivilDay(2025, 1,
                                                                  15)) {
    absl::StatusOr<v1::CityOverview> overview =
        BuildCityOverview(ledger_.views(), 2568, today);
    EXPECT_TRUE(overview.ok()) << overview.status();
    return overview.value_or(v1::CityOverview());
  }

  // 1045's counts for the indicator of `number`.
  v1::MeasureCounts Counts(const v1::CityOverview& overview, int number) {
    for (const v1::DistrictOverview& d : overview.districts()) {
      if (d.district() != "1045") {
        continue;
      }
      for (const v1::IndicatorProgress& p : d.indicators()) {
        if (p.indicator() == number) {
          return p.measures();
        }
      }
    }
    return {};
  }

  v1::Scorecard Card(absl::CivilDay today = absl::CivilDay(2025, 1, 15)) {
    absl::StatusOr<v1::Scorecard> card =
        BuildScorecard(ledger_.view(kProgressView), "1045", 2568, today);
    EXPECT_TRUE(card.ok()) << card.status();
    return card.value_or(v1::Scorecard());
  }

  MemoryLedger ledger_;
};

TEST_F(ViewsTest, ACorrectedMeasureMovesItsCounts) {
  const v1::Event measure = Measure("M1", {"I1", "I2"});
  ASSERT_TRUE(ledger_.Append("1045", {measure}).ok());
  EXPECT_EQ(Counts(Overview(), 1).planned(), 1);
  EXPECT_EQ(Counts(Overview(), 2).planned(), 0);

  v1::Event moved = measure;
  moved.mutable_measure_planned()->clear_item_codes();
  moved.mutable_measure_planned()->add_item_codes("I4");
  ASSERT_TRUE(ledger_.Append("1045", {Correct(measure, moved)}).ok());
  EXPECT_EQ(Counts(Overview(), 1).planned(), 0);
  EXPECT_EQ(Counts(Overview(), 2).planned(), 1);
  const v1::Scorecard card = Card();
  for (const v1::ScorecardItem& item : card.items()) {
    EXPECT_EQ(item.measures().planned(), item.item_code() == "I4" ? 1 : 0)
        << item.item_code();
  }

  ASSERT_TRUE(ledger_.Append("1045", {Retract(measure)}).ok());
  EXPECT_EQ(Counts(Overview(), 2).planned(), 0);
  // Nothing of the measure is left in the overview's rows.
  absl::Status scan = ledger_.view(kCityView).Scan(
      "O", [](absl::string_view key, absl::string_view) {
        ADD_FAILURE() << "left over: " << key;
        return true;
      });
  EXPECT_TRUE(scan.ok());
}

TEST_F(ViewsTest, ARetractedProgressReportRestoresTheEarlierStatus) {
  const v1::Event measure = Measure("M1", {"I1"});
  const v1::Event doing =
      Progress("M1", v1::ROUND_H1, v1::PROGRESS_STATUS_IN_PROGRESS,
               Bangkok(2025, 1, 10));
  const v1::Event done = Progress("M1", v1::ROUND_H1, v1::PROGRESS_STATUS_DONE,
                                  Bangkok(2025, 3, 20));
  ASSERT_TRUE(ledger_.Append("1045", {measure, doing, done}).ok());
  EXPECT_EQ(Counts(Overview(), 1).done(), 1);
  EXPECT_EQ(Card().totals().done(), 1);

  ASSERT_TRUE(ledger_.Append("1045", {Retract(done)}).ok());
  const v1::MeasureCounts counts = Counts(Overview(), 1);
  EXPECT_EQ(counts.done(), 0);
  EXPECT_EQ(counts.in_progress(), 1);
  EXPECT_EQ(Card().totals().in_progress(), 1);

  // A correction of the earlier report to DONE is the measure's status.
  v1::Event finished = doing;
  finished.mutable_measure_progress_reported()->set_status(
      v1::PROGRESS_STATUS_DONE);
  ASSERT_TRUE(ledger_.Append("1045", {Correct(doing, finished)}).ok());
  EXPECT_EQ(Counts(Overview(), 1).done(), 1);
  absl::StatusOr<v1::ItaReport> report =
      BuildItaReport(ledger_.view(kProgressView), "1045", 2568, v1::ROUND_H1);
  ASSERT_TRUE(report.ok());
  const v1::ItaMeasure& m = report->tools(0).indicators(0).rows(0).measures(0);
  ASSERT_EQ(m.results_size(), 1);
  EXPECT_TRUE(m.results(0).corrected());
  EXPECT_EQ(m.status(), v1::PROGRESS_STATUS_DONE);
}

TEST_F(ViewsTest, OverdueMeasuresAreJudgedOnTheDayAsked) {
  ASSERT_TRUE(ledger_.Append("1045", {Measure("M1", {"I1"})}).ok());
  // FULL_YEAR measures of FY 2568 are due on 30 September 2025.
  EXPECT_EQ(Counts(Overview(absl::CivilDay(2025, 9, 30)), 1).overdue(), 0);
  EXPECT_EQ(Counts(Overview(absl::CivilDay(2025, 10, 1)), 1).overdue(), 1);
  EXPECT_EQ(Card(absl::CivilDay(2025, 10, 1)).totals().overdue(), 1);
}

TEST_F(ViewsTest, ARetractedScoreRevealsTheEarlierOne) {
  const v1::Event first = Score("I7", 99.76, Bangkok(2024, 10, 1));
  const v1::Event second = Score("I7", 80, Bangkok(2024, 11, 1));
  ASSERT_TRUE(ledger_.Append("1045", {first, second}).ok());
  auto i7 = [&] {
    const v1::Scorecard card = Card();
    for (const v1::ScorecardItem& item : card.items()) {
      if (item.item_code() == "I7") {
        return item.score();
      }
    }
    return v1::ItemScore();
  };
  EXPECT_DOUBLE_EQ(i7().value(), 80);
  EXPECT_EQ(i7().band(), v1::SCORE_BAND_B);
  ASSERT_TRUE(ledger_.Append("1045", {Retract(second)}).ok());
  EXPECT_DOUBLE_EQ(i7().value(), 99.76);
  EXPECT_EQ(i7().band(), v1::SCORE_BAND_AA);
  // An item scored below 100 that no measure serves raises an alert.
  bool alerted = false;
  const v1::CityOverview overview = Overview();
  for (const v1::DistrictOverview& d : overview.districts()) {
    for (const v1::Alert& a : d.alerts()) {
      alerted = alerted || (d.district() == "1045" &&
                            a.kind() == v1::ALERT_KIND_ITEM_WITHOUT_MEASURE &&
                            a.item_code() == "I7");
    }
  }
  EXPECT_TRUE(alerted);
}

TEST_F(ViewsTest, ACorrectedComplaintDateMovesItsAge) {
  v1::Event received = NewEvent(Bangkok(2025, 1, 10));
  v1::ComplaintReceived* c = received.mutable_complaint_received();
  c->set_complaint_id("C1");
  c->set_channel(v1::COMPLAINT_CHANNEL_WEBSITE);
  c->set_category(v1::COMPLAINT_CATEGORY_BRIBERY);
  c->set_summary("เรียกรับเงิน");
  c->mutable_complainant()->set_anonymous(true);
  c->mutable_received_on()->set_year(2025);
  c->mutable_received_on()->set_month(1);
  c->mutable_received_on()->set_day(10);
  ASSERT_TRUE(ledger_.Append("1045", {received}).ok());
  auto too_old = [&](absl::CivilDay today) {
    int64_t count = 0;
    const v1::CityOverview overview = Overview(today);
    for (const v1::DistrictOverview& d : overview.districts()) {
      for (const v1::Alert& a : d.alerts()) {
        if (a.kind() == v1::ALERT_KIND_COMPLAINT_OPEN_TOO_LONG) {
          count += a.count();
        }
      }
    }
    return count;
  };
  EXPECT_EQ(too_old(absl::CivilDay(2025, 3, 11)), 0);  // 60 days
  EXPECT_EQ(too_old(absl::CivilDay(2025, 3, 12)), 1);  // 61 days
  v1::Event earlier = received;
  earlier.mutable_complaint_received()->mutable_received_on()->set_month(3);
  ASSERT_TRUE(ledger_.Append("1045", {Correct(received, earlier)}).ok());
  EXPECT_EQ(too_old(absl::CivilDay(2025, 3, 12)), 0);
  absl::StatusOr<v1::ComplaintStats> stats =
      BuildComplaintStats(ledger_.views(), "1045", 2568, v1::ROUND_UNSPECIFIED,
                          absl::CivilDay(2025, 3, 12));
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->monthly(5).received(), 1);  // March
  EXPECT_EQ(stats->monthly(3).received(), 0);  // January
}

TEST_F(ViewsTest, EvidenceOfAMeetingIsNotAMeasuresEvidence) {
  v1::Event evidence = NewEvent(Bangkok(2025, 1, 10));
  v1::EvidenceAttached* e = evidence.mutable_evidence_attached();
  e->set_evidence_id("E1");
  e->set_sha256(std::string(32, 'x'));
  e->set_media_type("image/jpeg");
  e->set_size_bytes(10);
  e->set_meeting_id("MT1");
  ASSERT_TRUE(ledger_.Append("1045", {Measure("M1", {"I1"}), evidence}).ok());
  EXPECT_EQ(Card().items(0).evidence(), 0);
  // Corrected to the measure, it counts.
  v1::Event onto_measure = evidence;
  onto_measure.mutable_evidence_attached()->set_measure_id("M1");
  ASSERT_TRUE(ledger_.Append("1045", {Correct(evidence, onto_measure)}).ok());
  EXPECT_EQ(Card().items(0).evidence(), 1);
}

TEST(LabelsTest, ScoreBands) {
  const std::pair<double, v1::ScoreBand> cases[] = {
      {100, v1::SCORE_BAND_AA},  {95, v1::SCORE_BAND_AA},
      {94.99, v1::SCORE_BAND_A}, {85, v1::SCORE_BAND_A},
      {84.99, v1::SCORE_BAND_B}, {75, v1::SCORE_BAND_B},
      {74.99, v1::SCORE_BAND_C}, {65, v1::SCORE_BAND_C},
      {64.99, v1::SCORE_BAND_D}, {55, v1::SCORE_BAND_D},
      {54.99, v1::SCORE_BAND_E}, {50, v1::SCORE_BAND_E},
      {49.99, v1::SCORE_BAND_F}, {0, v1::SCORE_BAND_F}};
  for (const auto& [score, band] : cases) {
    SCOPED_TRACE(score);
    EXPECT_EQ(BandOf(score), band);
    EXPECT_FALSE(BandLabel(band).th().empty());
    EXPECT_FALSE(BandLabel(band).en().empty());
  }
  EXPECT_EQ(FormatScore(100), "100");
  EXPECT_EQ(FormatScore(99.76), "99.76");
  EXPECT_EQ(FormatScore(97.5), "97.5");
  EXPECT_EQ(FormatBaht(643490500), "6,434,905.00");
}

TEST(LabelsTest, EveryLabelHasThaiAndEnglish) {
  for (int s = v1::PROGRESS_STATUS_NOT_STARTED;
       s <= v1::PROGRESS_STATUS_DROPPED; ++s) {
    const v1::Label l = StatusLabel(static_cast<v1::ProgressStatus>(s));
    EXPECT_FALSE(l.th().empty() || l.en().empty()) << s;
  }
  for (int c = 1; c <= 8; ++c) {
    const v1::Label l = CategoryLabel(static_cast<v1::ComplaintCategory>(c));
    EXPECT_FALSE(l.th().empty() || l.en().empty()) << c;
  }
  for (int c = 1; c <= 7; ++c) {
    const v1::Label l = ChannelLabel(static_cast<v1::ComplaintChannel>(c));
    EXPECT_FALSE(l.th().empty() || l.en().empty()) << c;
  }
  for (int d = 1; d <= 4; ++d) {
    const v1::Label l = DispositionLabel(static_cast<v1::GiftDisposition>(d));
    EXPECT_FALSE(l.th().empty() || l.en().empty()) << d;
  }
}

TEST(PersonalDataTest, FieldsMarkedPersonalAreCleared) {
  v1::GiftRegister reg;
  v1::GiftEntry* entry = reg.add_entries();
  entry->mutable_official()->set_subject_id("p-1");
  entry->mutable_official()->set_name("ชื่อจริง นามสกุล");
  entry->mutable_official()->set_contact("081");
  entry->mutable_official()->set_position("นักจัดการงานทั่วไป");
  entry->mutable_giver()->set_name("ผู้ให้");
  entry->set_description("กระเช้า");
  ClearPersonalFields(&reg);
  EXPECT_EQ(entry->official().subject_id(), "p-1");
  EXPECT_EQ(entry->official().position(), "นักจัดการงานทั่วไป");
  EXPECT_TRUE(entry->official().name().empty());
  EXPECT_TRUE(entry->official().contact().empty());
  EXPECT_TRUE(entry->giver().name().empty());
  EXPECT_EQ(entry->description(), "กระเช้า");
}

TEST(HttpParamsTest, AsOfAndRound) {
  const absl::Time now = absl::FromUnixSeconds(1768453200);  // 15 Jan 2026
  struct Case {
    std::string text;
    bool ok;
    bool position;
    int64_t value;  // position, or seconds
  };
  const Case cases[] = {
      {"1234", true, true, 1234},
      {"2025-03-31", true, false, 1743440399},  // 23:59:59 in Bangkok
      {"2026-01-15", true, false, 1768453200},  // today: now
      {"2025-03-31T17:00:00+07:00", true, false, 1743415200},
      {"yesterday", false, false, 0},
      {"", false, false, 0},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    v1::AsOf as_of;
    absl::Status status = query::ParseAsOf(c.text, now, &as_of);
    EXPECT_EQ(status.ok(), c.ok) << status;
    if (!c.ok) {
      EXPECT_TRUE(absl::StrContains(status.message(), "as_of"));
      continue;
    }
    if (c.position) {
      EXPECT_EQ(as_of.position(), static_cast<uint64_t>(c.value));
    } else {
      EXPECT_EQ(as_of.time().seconds(), c.value);
    }
  }
  EXPECT_EQ(*query::ParseRound("h1"), v1::ROUND_H1);
  EXPECT_EQ(*query::ParseRound("FULL_YEAR"), v1::ROUND_FULL_YEAR);
  EXPECT_EQ(query::ParseRound("H3").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(query::HttpStatusOf(absl::StatusCode::kDeadlineExceeded), 504);
  EXPECT_EQ(query::HttpStatusOf(absl::StatusCode::kNotFound), 404);
}

}  // namespace
}  // namespace prongsai::reports

// The generated demo city: valid by the domain rules (every batch goes
// through the real ingest), deterministic, and with its many corrections and
// retractions a hard test of the views: every view rebuilt equals the view
// kept incrementally, and every answer replayed from the log (as_of) equals
// the live one at the same position.
#include "projections/reports/demo_city.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/base/hash.h"
#include "core/domain/calendar.h"
#include "google/protobuf/util/message_differencer.h"
#include "projections/reports/replay.h"
#include "tests/reports/report_stack.h"

namespace prongsai::reports {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::ReportStack;

DemoCityOptions SmallCity(absl::Time now) {
  DemoCityOptions options;
  options.seed = 7;
  options.events = 24'000;
  options.fiscal_years = 2;
  options.now = now;
  options.districts = {"1001", "1045", "1050"};
  return options;
}

template <typename T>
void ExpectSame(T live, T replayed) {
  live.clear_reflects();
  replayed.clear_reflects();
  std::string differences;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differ.Compare(live, replayed)) << differences.substr(0, 2000);
}

TEST(DemoCityTest, TheSameSeedGivesTheSameCity) {
  const absl::Time now = absl::Now();
  auto digest = [&](uint64_t seed) {
    DemoCityOptions options = SmallCity(now);
    options.seed = seed;
    options.events = 3'000;
    std::string all;
    absl::StatusOr<DemoCityStats> stats =
        GenerateDemoCity(options, [&](DemoBatch& batch) {
          all += batch.stream;
          for (const v1::Event& e : batch.events) {
            all += e.SerializeAsString();
          }
          return absl::OkStatus();
        });
    EXPECT_TRUE(stats.ok()) << stats.status();
    return HexEncode(Sha256(all));
  };
  EXPECT_EQ(digest(7), digest(7));
  EXPECT_NE(digest(7), digest(8));
}

class DemoCityStackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<ReportStack>(dir_.path());
    ASSERT_TRUE(stack_->Open({.background = false, .http = false}).ok());
    // Recorded and judged at one moment, so that live answers and replays
    // at the same position are judged on the same day.
    const int64_t now = absl::ToUnixSeconds(absl::Now());
    stack_->set_ingest_time(now);
    stack_->set_query_time(now);
    ASSERT_TRUE(stack_->AppendCity().ok());
    absl::StatusOr<DemoCityStats> stats = GenerateDemoCity(
        SmallCity(absl::FromUnixSeconds(now)), [&](DemoBatch& batch) {
          absl::StatusOr<v1::AppendResponse> appended =
              stack_->AppendOnly(batch.stream, batch.events);
          return appended.status();
        });
    ASSERT_TRUE(stats.ok()) << stats.status();
    stats_ = *stats;
    ASSERT_TRUE(stack_->runner()->CatchUp().ok());
    current_fy_ =
        domain::FiscalYearOf(domain::BangkokDay(absl::FromUnixSeconds(now)));
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<ReportStack> stack_;
  DemoCityStats stats_;
  int current_fy_ = 0;
};

TEST_F(DemoCityStackTest, EveryEventPassesTheDomainRules) {
  // SetUp appended every batch through the ingest; here, what they held.
  EXPECT_GT(stats_.events, 20'000);
  EXPECT_LT(stats_.events, 30'000);
  for (const char* kind : {"score_recorded",
                           "improvement_issue_identified",
                           "measure_planned",
                           "measure_progress_reported",
                           "evidence_attached",
                           "meeting_held",
                           "policy_announced",
                           "working_group_appointed",
                           "disclosure_published",
                           "disclosure_checklist_assigned",
                           "gift_report_filed",
                           "gift_reports_submitted",
                           "complaint_received",
                           "complaint_assigned",
                           "complaint_closed",
                           "budget_review_held",
                           "community_project_approved",
                           "service_request_received",
                           "service_request_completed",
                           "event_corrected",
                           "event_retracted",
                           "framework_published"}) {
    EXPECT_GT(stats_.by_kind[kind], 0) << kind;
  }
  // Service requests are most of the volume, as in the catalog.
  EXPECT_GT(stats_.by_kind["service_request_received"], stats_.events / 4);
  for (const projections::ProjectionStatus& s : stack_->runner()->Status()) {
    EXPECT_EQ(s.error, "") << s.name;
    EXPECT_EQ(s.position, stack_->log()->LastPosition()) << s.name;
  }
}

TEST_F(DemoCityStackTest, RebuiltViewsEqualTheIncrementalOnes) {
  for (absl::string_view name : testing::ReportViewNames()) {
    SCOPED_TRACE(name);
    absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> before =
        stack_->runner()->Snapshot();
    ASSERT_TRUE(before.ok());
    const auto incremental = testing::AllRows((*before)->view(name));
    EXPECT_GT(incremental.size(), 100u);
    ASSERT_TRUE(stack_->runner()->Rebuild(name).ok());
    absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> after =
        stack_->runner()->Snapshot();
    ASSERT_TRUE(after.ok());
    const auto rebuilt = testing::AllRows((*after)->view(name));
    ASSERT_EQ(rebuilt.size(), incremental.size());
    EXPECT_TRUE(rebuilt == incremental);
  }
}

TEST_F(DemoCityStackTest, ReplayedAnswersEqualTheLiveOnes) {
  query::ReportQueries& queries = stack_->queries();
  const uint64_t position = stack_->log()->LastPosition();
  v1::ReadOptions as_of;
  as_of.mutable_as_of()->set_position(position);
  for (const int fy : {current_fy_ - 1, current_fy_}) {
    for (const char* district : {"1001", "1045", "1050"}) {
      SCOPED_TRACE(absl::StrCat(district, " FY ", fy));
      for (v1::Round round :
           {v1::ROUND_H1, v1::ROUND_H2, v1::ROUND_FULL_YEAR}) {
        v1::ItaReportRequest request;
        request.set_district(district);
        request.set_fiscal_year(fy);
        request.set_round(round);
        absl::StatusOr<v1::ItaReport> live = queries.ItaReport(request);
        *request.mutable_read() = as_of;
        absl::StatusOr<v1::ItaReport> replayed = queries.ItaReport(request);
        ASSERT_TRUE(live.ok() && replayed.ok()) << live.status();
        EXPECT_EQ(live->reflects().position(), position);
        EXPECT_GT(live->summary().measures(), 0);
        ExpectSame(*live, *replayed);

        v1::GiftRegisterRequest gifts;
        gifts.set_district(district);
        gifts.set_fiscal_year(fy);
        gifts.set_round(round);
        absl::StatusOr<v1::GiftRegister> live_gifts =
            queries.GiftRegister(gifts);
        *gifts.mutable_read() = as_of;
        absl::StatusOr<v1::GiftRegister> replayed_gifts =
            queries.GiftRegister(gifts);
        ASSERT_TRUE(live_gifts.ok() && replayed_gifts.ok());
        ExpectSame(*live_gifts, *replayed_gifts);
      }
      v1::ScorecardRequest card;
      card.set_district(district);
      card.set_fiscal_year(fy);
      absl::StatusOr<v1::Scorecard> live_card = queries.Scorecard(card);
      *card.mutable_read() = as_of;
      absl::StatusOr<v1::Scorecard> replayed_card = queries.Scorecard(card);
      ASSERT_TRUE(live_card.ok() && replayed_card.ok());
      ExpectSame(*live_card, *replayed_card);

      v1::ComplaintStatsRequest complaints;
      complaints.set_district(district);
      complaints.set_fiscal_year(fy);
      absl::StatusOr<v1::ComplaintStats> live_stats =
          queries.ComplaintStats(complaints);
      *complaints.mutable_read() = as_of;
      absl::StatusOr<v1::ComplaintStats> replayed_stats =
          queries.ComplaintStats(complaints);
      ASSERT_TRUE(live_stats.ok() && replayed_stats.ok());
      EXPECT_GT(live_stats->received(), 0);
      ExpectSame(*live_stats, *replayed_stats);
    }
    v1::CityOverviewRequest overview;
    overview.set_fiscal_year(fy);
    absl::StatusOr<v1::CityOverview> live = queries.CityOverview(overview);
    *overview.mutable_read() = as_of;
    absl::StatusOr<v1::CityOverview> replayed = queries.CityOverview(overview);
    ASSERT_TRUE(live.ok() && replayed.ok()) << live.status();
    ExpectSame(*live, *replayed);
  }
}

TEST_F(DemoCityStackTest, TheJournalReplaysWhatTheLogReplays) {
  absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> snapshot =
      stack_->runner()->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  const uint64_t last = stack_->log()->LastPosition();
  const std::vector<absl::string_view> views = {kProgressView, kGiftsView,
                                                kComplaintsView, kCityView};
  for (const uint64_t position : {last / 3, last / 2, last}) {
    for (const std::vector<std::string>& districts :
         std::vector<std::vector<std::string>>{{"1045"}, {}}) {
      SCOPED_TRACE(absl::StrCat("position ", position, ", ",
                                districts.empty() ? "every stream" : "1045"));
      absl::StatusOr<std::unique_ptr<ReplayedViews>> from_journal =
          ReplayedViews::ReplayJournal((*snapshot)->view(kJournalView),
                                       position, districts, views);
      absl::StatusOr<std::unique_ptr<ReplayedViews>> from_log =
          ReplayedViews::Replay(stack_->log(), position, districts, views, {});
      ASSERT_TRUE(from_journal.ok() && from_log.ok());
      // The journal holds only what the views apply.
      EXPECT_LT((*from_journal)->records(), (*from_log)->records());
      for (absl::string_view name : views) {
        SCOPED_TRACE(name);
        const auto journal_rows = testing::AllRows((*from_journal)->view(name));
        EXPECT_TRUE(journal_rows == testing::AllRows((*from_log)->view(name)));
        if (name == kProgressView) {
          EXPECT_GT(journal_rows.size(), 100u);
        }
      }
    }
  }
  // At the views' own position a replay holds the views' rows.
  absl::StatusOr<std::unique_ptr<ReplayedViews>> all =
      ReplayedViews::ReplayJournal((*snapshot)->view(kJournalView), last, {},
                                   views);
  ASSERT_TRUE(all.ok());
  for (absl::string_view name : views) {
    SCOPED_TRACE(name);
    EXPECT_TRUE(testing::AllRows((*all)->view(name)) ==
                testing::AllRows((*snapshot)->view(name)));
  }
}

TEST_F(DemoCityStackTest, TheOverviewShowsTheGeneratedDistrictsWork) {
  v1::CityOverviewRequest request;
  request.set_fiscal_year(current_fy_ - 1);
  absl::StatusOr<v1::CityOverview> overview =
      stack_->queries().CityOverview(request);
  ASSERT_TRUE(overview.ok()) << overview.status();
  ASSERT_EQ(overview->districts_size(), 50);
  int busy = 0;
  for (const v1::DistrictOverview& d : overview->districts()) {
    if (d.totals().planned() > 0) {
      ++busy;
      EXPECT_GT(d.totals().done(), 0) << d.district();
      EXPECT_GT(d.progress_percent(), 0) << d.district();
    } else {
      // Districts without a generated year raise their missing reports.
      EXPECT_FALSE(d.alerts().empty()) << d.district();
    }
  }
  EXPECT_EQ(busy, 3);
}

}  // namespace
}  // namespace prongsai::reports

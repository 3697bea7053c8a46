// The Reports service on the seed ledger and on events added to it:
// corrections and retractions shown as corrected, as_of by time and by
// position, read-your-writes, every bad input, the gift register, complaint
// statistics, the city overview, and every view rebuilt from scratch equal
// to the view kept up incrementally.
#include <httplib.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "projections/reports/labels.h"
#include "services/query/render.h"
#include "tests/reports/report_stack.h"

namespace prongsai::reports {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::Bangkok;
using testing::MakeDate;
using testing::NewEvent;
using testing::ReportStack;

// Ingest times: the seed is recorded on 1 April 2025, later events on 1 July.
const int64_t kSeedRecorded = Bangkok(2025, 4, 1);
const int64_t kLaterRecorded = Bangkok(2025, 7, 1);

const v1::ItaRow* FindRow(const v1::ItaReport& report, absl::string_view code) {
  for (const v1::ItaTool& tool : report.tools()) {
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      for (const v1::ItaRow& row : indicator.rows()) {
        if (row.item_code() == code) {
          return &row;
        }
      }
    }
  }
  return nullptr;
}

const v1::ItaMeasure* FindMeasure(const v1::ItaReport& report,
                                  absl::string_view measure_id) {
  for (const v1::ItaTool& tool : report.tools()) {
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      for (const v1::ItaRow& row : indicator.rows()) {
        for (const v1::ItaMeasure& m : row.measures()) {
          if (m.measure_id() == measure_id) {
            return &m;
          }
        }
      }
    }
  }
  return nullptr;
}

v1::Event Correction(const v1::Event& original, v1::Event replacement,
                     int64_t seconds) {
  v1::Event event = NewEvent(seconds);
  v1::EventCorrected* c = event.mutable_event_corrected();
  c->set_corrected_event_id(original.event_id());
  c->set_reason("แก้ไขให้ตรงกับเอกสาร");
  replacement.clear_event_id();
  replacement.clear_occurred_at();
  replacement.clear_actor();
  *c->mutable_replacement() = std::move(replacement);
  return event;
}

v1::Event Retraction(const v1::Event& original, int64_t seconds) {
  v1::Event event = NewEvent(seconds);
  event.mutable_event_retracted()->set_retracted_event_id(original.event_id());
  event.mutable_event_retracted()->set_reason("บันทึกผิด");
  return event;
}

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

class QueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<v1::Event>> seed =
        prongsai::testing::seed::ReadEventLines(
            prongsai::testing::seed::SeedEventsPath());
    ASSERT_TRUE(seed.ok()) << seed.status();
    seed_ = std::move(*seed);
    stack_ = std::make_unique<ReportStack>(dir_.path());
    ASSERT_TRUE(stack_->Open().ok());
    stack_->set_ingest_time(kSeedRecorded);
    ASSERT_TRUE(stack_->AppendCity().ok());
    absl::StatusOr<v1::AppendResponse> appended = stack_->AppendSeed();
    ASSERT_TRUE(appended.ok()) << appended.status();
    seed_position_ = appended->last_position();
    stack_->set_ingest_time(kLaterRecorded);
  }

  // The first seed event matching `predicate`.
  template <typename Predicate>
  const v1::Event& SeedEvent(Predicate predicate) {
    for (const v1::Event& e : seed_) {
      if (predicate(e)) {
        return e;
      }
    }
    ADD_FAILURE() << "no such seed event";
    static const v1::Event kNone;
    return kNone;
  }

  absl::StatusOr<v1::ItaReport> Ita(const std::string& district = "1045",
                                    int fy = 2568,
                                    v1::Round round = v1::ROUND_H1,
                                    v1::ReadOptions read = {}) {
    v1::ItaReportRequest request;
    request.set_district(district);
    request.set_fiscal_year(fy);
    request.set_round(round);
    *request.mutable_read() = read;
    grpc::ClientContext context;
    v1::ItaReport report;
    grpc::Status status =
        stack_->stub()->GetItaReport(&context, request, &report);
    if (!status.ok()) {
      return FromGrpc(status);
    }
    return report;
  }

  absl::StatusOr<v1::AppendResponse> Append(
      std::vector<v1::Event> events, const std::string& stream = "1045") {
    absl::StatusOr<v1::AppendResponse> appended =
        stack_->Append(stream, events);
    EXPECT_TRUE(appended.ok()) << appended.status();
    return appended;
  }

  // Every view rebuilt from the log equals the view kept incrementally.
  void ExpectRebuildsEqualIncremental() {
    for (absl::string_view name : testing::ReportViewNames()) {
      SCOPED_TRACE(name);
      absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> before =
          stack_->runner()->Snapshot();
      ASSERT_TRUE(before.ok());
      const auto incremental = testing::AllRows((*before)->view(name));
      ASSERT_TRUE(stack_->runner()->Rebuild(name).ok());
      absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> after =
          stack_->runner()->Snapshot();
      ASSERT_TRUE(after.ok());
      EXPECT_TRUE(incremental == testing::AllRows((*after)->view(name)))
          << "the rebuilt view differs";
      EXPECT_EQ((*after)->position(name), (*before)->position(name));
    }
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<ReportStack> stack_;
  std::vector<v1::Event> seed_;
  uint64_t seed_position_ = 0;
};

TEST_F(QueryTest, CorrectionsAndRetractionsShowAsCorrected) {
  const v1::Event& score = SeedEvent([](const v1::Event& e) {
    return e.has_score_recorded() && e.score_recorded().item_code() == "I7";
  });
  const v1::Event& measure = SeedEvent([](const v1::Event& e) {
    return e.has_measure_planned() && e.measure_planned().item_codes(0) == "I1";
  });
  const v1::Event& issue = SeedEvent([](const v1::Event& e) {
    return e.has_improvement_issue_identified() &&
           e.improvement_issue_identified().item_code() == "I3";
  });
  const v1::Event& evidence =
      SeedEvent([](const v1::Event& e) { return e.has_evidence_attached(); });
  const v1::Event& progress = SeedEvent([&](const v1::Event& e) {
    return e.has_measure_progress_reported() &&
           e.measure_progress_reported().measure_id() ==
               measure.measure_planned().measure_id();
  });
  absl::StatusOr<v1::ItaReport> before = Ita();
  ASSERT_TRUE(before.ok()) << before.status();

  v1::Event new_score = score;
  new_score.mutable_score_recorded()->set_score(81.25);
  v1::Event new_measure = measure;
  new_measure.mutable_measure_planned()->set_title("ชื่อมาตรการที่แก้ไขแล้ว");
  new_measure.mutable_measure_planned()->clear_description();
  v1::Event new_progress = progress;
  new_progress.mutable_measure_progress_reported()->set_status(
      v1::PROGRESS_STATUS_IN_PROGRESS);
  new_progress.mutable_measure_progress_reported()->set_result_text(
      "ผลที่แก้ไขแล้ว");
  const int64_t t = Bangkok(2025, 5, 20);
  ASSERT_TRUE(Append({Correction(score, new_score, t),
                      Correction(measure, new_measure, t),
                      Correction(progress, new_progress, t),
                      Retraction(evidence, t), Retraction(issue, t)})
                  .ok());

  absl::StatusOr<v1::ItaReport> after = Ita();
  ASSERT_TRUE(after.ok()) << after.status();
  const v1::ItaRow* i7 = FindRow(*after, "I7");
  ASSERT_NE(i7, nullptr);
  EXPECT_DOUBLE_EQ(i7->score().value(), 81.25);
  EXPECT_EQ(i7->score().band(), v1::SCORE_BAND_B);
  EXPECT_TRUE(i7->score().corrected());

  const v1::ItaMeasure* m =
      FindMeasure(*after, measure.measure_planned().measure_id());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->text(), "ชื่อมาตรการที่แก้ไขแล้ว");
  EXPECT_TRUE(m->corrected());
  EXPECT_EQ(m->number(), 1) << "a corrected measure keeps its place";
  ASSERT_EQ(m->results_size(), 1);
  EXPECT_EQ(m->results(0).text(), "ผลที่แก้ไขแล้ว");
  EXPECT_EQ(m->status(), v1::PROGRESS_STATUS_IN_PROGRESS);
  EXPECT_TRUE(m->results(0).corrected());
  const v1::ItaRow* i1 = FindRow(*after, "I1");
  ASSERT_NE(i1, nullptr);
  EXPECT_EQ(i1->measures(0).measure_id(),
            measure.measure_planned().measure_id());

  const v1::ItaRow* i3 = FindRow(*after, "I3");
  ASSERT_NE(i3, nullptr);
  EXPECT_TRUE(i3->issues().empty());
  EXPECT_NE(std::find(i3->gaps().begin(), i3->gaps().end(), v1::ITA_GAP_ISSUE),
            i3->gaps().end());
  EXPECT_EQ(after->summary().evidence(), before->summary().evidence() - 1);
  EXPECT_EQ(after->summary().measures(), before->summary().measures());

  // The scorecard reads the same view.
  v1::ScorecardRequest request;
  request.set_district("1045");
  request.set_fiscal_year(2568);
  absl::StatusOr<v1::Scorecard> card = stack_->queries().Scorecard(request);
  ASSERT_TRUE(card.ok()) << card.status();
  for (const v1::ScorecardItem& item : card->items()) {
    if (item.item_code() == "I7") {
      EXPECT_EQ(item.score().band(), v1::SCORE_BAND_B);
    }
  }
  ExpectRebuildsEqualIncremental();
}

TEST_F(QueryTest, AsOfRedrawsTheReportAsTheLedgerStoodThen) {
  const v1::Event& score = SeedEvent([](const v1::Event& e) {
    return e.has_score_recorded() && e.score_recorded().item_code() == "I7";
  });
  v1::Event changed = score;
  changed.mutable_score_recorded()->set_score(70);
  ASSERT_TRUE(Append({Correction(score, changed, Bangkok(2025, 5, 20))}).ok());

  auto i7_score = [](const v1::ItaReport& report) {
    return FindRow(report, "I7")->score().value();
  };
  struct Case {
    std::string name;
    v1::AsOf as_of;
    double score;
  };
  std::vector<Case> cases(4);
  cases[0].name = "position of the seed";
  cases[0].as_of.set_position(seed_position_);
  cases[0].score = 99.76;
  cases[1].name = "time of the seed";
  cases[1].as_of.mutable_time()->set_seconds(kSeedRecorded + 60);
  cases[1].score = 99.76;
  cases[2].name = "time of the correction";
  cases[2].as_of.mutable_time()->set_seconds(kLaterRecorded);
  cases[2].score = 70;
  cases[3].name = "latest position";
  cases[3].as_of.set_position(stack_->log()->LastPosition());
  cases[3].score = 70;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::ReadOptions read;
    *read.mutable_as_of() = c.as_of;
    absl::StatusOr<v1::ItaReport> report =
        Ita("1045", 2568, v1::ROUND_H1, read);
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_DOUBLE_EQ(i7_score(*report), c.score);
    EXPECT_TRUE(report->reflects().has_as_of());
  }
  // As of the seed's position, the reflected position is exactly that.
  v1::ReadOptions read;
  read.mutable_as_of()->set_position(seed_position_);
  absl::StatusOr<v1::ItaReport> then = Ita("1045", 2568, v1::ROUND_H1, read);
  ASSERT_TRUE(then.ok());
  EXPECT_EQ(then->reflects().position(), seed_position_);

  // Replayed at the live position, the report is the live one.
  absl::StatusOr<v1::ItaReport> live = Ita();
  read.mutable_as_of()->set_position(live->reflects().position());
  absl::StatusOr<v1::ItaReport> replayed =
      Ita("1045", 2568, v1::ROUND_H1, read);
  ASSERT_TRUE(live.ok() && replayed.ok());
  replayed->clear_reflects();
  live->clear_reflects();
  EXPECT_TRUE(MessageDifferencer::Equals(*replayed, *live));

  // Before anything was recorded, FY 2568 had no framework.
  read.mutable_as_of()->mutable_time()->set_seconds(kSeedRecorded - 3600);
  absl::StatusOr<v1::ItaReport> before = Ita("1045", 2568, v1::ROUND_H1, read);
  EXPECT_EQ(before.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(absl::StrContains(before.status().message(),
                                "no ITA framework is published for FY 2568"))
      << before.status();

  // A date over HTTP means the end of that day in Bangkok.
  httplib::Client client("127.0.0.1", stack_->http_port());
  httplib::Result res = client.Get(
      "/v1/districts/1045/ita-report?fy=2568&round=H1&as_of=2025-05-01");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  v1::ItaReport from_http;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(res->body, &from_http).ok());
  EXPECT_DOUBLE_EQ(i7_score(from_http), 99.76);
}

TEST_F(QueryTest, ReadYourWritesWaitsForTheViews) {
  // A stack whose views do not follow the log on their own.
  prongsai::testing::TempDir dir;
  ReportStack stack(dir.path());
  ASSERT_TRUE(stack.Open({.background = false, .http = false}).ok());
  ASSERT_TRUE(stack.AppendCity().ok());
  absl::StatusOr<v1::AppendResponse> appended =
      stack.AppendOnly("1045", {seed_.begin(), seed_.begin() + 20});
  ASSERT_TRUE(appended.ok()) << appended.status();

  v1::ItaReportRequest request;
  request.set_district("1045");
  request.set_fiscal_year(2568);
  request.set_round(v1::ROUND_H1);
  request.mutable_read()->set_min_position(appended->last_position());
  request.mutable_read()->mutable_wait_timeout()->set_nanos(100'000'000);
  absl::StatusOr<v1::ItaReport> late = stack.queries().ItaReport(request);
  EXPECT_EQ(late.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_TRUE(absl::StrContains(late.status().message(), "min_position"))
      << late.status();

  // Over gRPC as well, with the call's own deadline shorter than the wait.
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::milliseconds(200));
    request.mutable_read()->mutable_wait_timeout()->set_seconds(30);
    v1::ItaReport report;
    grpc::Status status =
        stack.stub()->GetItaReport(&context, request, &report);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  }

  // Once the views catch up, the same request sees the write.
  request.mutable_read()->mutable_wait_timeout()->set_seconds(30);
  std::thread catch_up([&] { ASSERT_TRUE(stack.runner()->CatchUp().ok()); });
  absl::StatusOr<v1::ItaReport> report = stack.queries().ItaReport(request);
  catch_up.join();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GE(report->reflects().position(), appended->last_position());
  EXPECT_FALSE(report->empty());
}

TEST_F(QueryTest, ReadYourWritesWithTheViewsFollowingTheLog) {
  prongsai::testing::TempDir dir;
  ReportStack stack(dir.path());
  ASSERT_TRUE(stack.Open({.background = true, .http = false}).ok());
  ASSERT_TRUE(stack.AppendCity().ok());
  absl::StatusOr<v1::AppendResponse> appended = stack.AppendOnly("1045", seed_);
  ASSERT_TRUE(appended.ok()) << appended.status();
  v1::ItaReportRequest request;
  request.set_district("1045");
  request.set_fiscal_year(2568);
  request.set_round(v1::ROUND_H1);
  request.mutable_read()->set_min_position(appended->last_position());
  request.mutable_read()->mutable_wait_timeout()->set_seconds(30);
  absl::StatusOr<v1::ItaReport> report = stack.queries().ItaReport(request);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_GE(report->reflects().position(), appended->last_position());
  EXPECT_EQ(report->summary().measures(), 64);
}

TEST_F(QueryTest, BadInputGetsAClearError) {
  struct Case {
    std::string name;
    std::string district;
    int fy;
    int round;
    v1::AsOf as_of;
    absl::StatusCode code;
    std::string message;
    int http_status;
    std::string http_path;
  };
  v1::AsOf future;
  future.mutable_time()->set_seconds(testing::kTestNowSeconds + 86'400);
  v1::AsOf beyond;
  beyond.set_position(stack_->log()->LastPosition() + 10);
  const std::string ita = "/v1/districts/";
  const std::vector<Case> cases = {
      {"unknown district",
       "9999",
       2568,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kNotFound,
       "unknown district code \"9999\"",
       404,
       ita + "9999/ita-report?fy=2568&round=H1"},
      {"malformed district",
       "wang",
       2568,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kInvalidArgument,
       "is not a district code",
       400,
       ita + "wang/ita-report?fy=2568&round=H1"},
      {"no district",
       "",
       2568,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kInvalidArgument,
       "district: required",
       400,
       ita + "/ita-report?fy=2568&round=H1"},
      {"fiscal year without a framework",
       "1045",
       2560,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kNotFound,
       "no ITA framework is published for FY 2560; published: FY 2568",
       404,
       ita + "1045/ita-report?fy=2560&round=H1"},
      {"gregorian year",
       "1045",
       2025,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kInvalidArgument,
       "not a Buddhist-era fiscal year",
       400,
       ita + "1045/ita-report?fy=2025&round=H1"},
      {"fiscal year far ahead",
       "1045",
       2590,
       v1::ROUND_H1,
       {},
       absl::StatusCode::kInvalidArgument,
       "too far ahead",
       400,
       ita + "1045/ita-report?fy=2590&round=H1"},
      {"no round",
       "1045",
       2568,
       v1::ROUND_UNSPECIFIED,
       {},
       absl::StatusCode::kInvalidArgument,
       "round: required",
       400,
       ita + "1045/ita-report?fy=2568"},
      {"round that does not exist",
       "1045",
       2568,
       7,
       {},
       absl::StatusCode::kInvalidArgument,
       "is not a round",
       400,
       ita + "1045/ita-report?fy=2568&round=H3"},
      {"as_of in the future", "1045", 2568, v1::ROUND_H1, future,
       absl::StatusCode::kInvalidArgument, "is in the future", 400,
       ita + "1045/ita-report?fy=2568&round=H1&as_of=2030-01-01"},
      {"as_of beyond the log", "1045", 2568, v1::ROUND_H1, beyond,
       absl::StatusCode::kInvalidArgument, "beyond the end of the log", 400,
       absl::StrCat(
           ita, "1045/ita-report?fy=2568&round=H1&as_of=", beyond.position())},
  };
  httplib::Client client("127.0.0.1", stack_->http_port());
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::ReadOptions read;
    if (c.as_of.point_case() != v1::AsOf::POINT_NOT_SET) {
      *read.mutable_as_of() = c.as_of;
    }
    absl::StatusOr<v1::ItaReport> report =
        Ita(c.district, c.fy, static_cast<v1::Round>(c.round), read);
    EXPECT_EQ(report.status().code(), c.code) << report.status();
    EXPECT_TRUE(absl::StrContains(report.status().message(), c.message))
        << report.status();

    httplib::Result res = client.Get(c.http_path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, c.http_status) << res->body;
    nlohmann::json body = nlohmann::json::parse(res->body, nullptr, false);
    ASSERT_TRUE(body.is_object()) << res->body;
    EXPECT_EQ(body.value("code", ""), absl::StatusCodeToString(c.code));
    EXPECT_FALSE(body.value("message", "").empty());
  }

  // HTTP's own bad input.
  const std::pair<std::string, int> http_cases[] = {
      {"/v1/districts/1045/ita-report?fy=2568&round=H1&format=pdf", 400},
      {"/v1/districts/1045/ita-report?fy=x&round=H1", 400},
      {"/v1/districts/1045/ita-report?fy=2568&round=H1&as_of=yesterday", 400},
      {"/v1/districts/1045/ita-report?fy=2568&round=H1&min_position=-1", 400},
      {"/v1/districts/1045/ita-report?fy=2568&round=H1&min_position=1&wait=x",
       400},
      {"/v1/nothing-here", 404},
  };
  for (const auto& [path, status] : http_cases) {
    SCOPED_TRACE(path);
    httplib::Result res = client.Get(path);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, status) << res->body;
    EXPECT_TRUE(absl::StrContains(res->body, "\"message\"")) << res->body;
  }
}

TEST_F(QueryTest, EveryQueryRefusesBadInput) {
  query::ReportQueries& q = stack_->queries();
  v1::ReadOptions future;
  future.mutable_as_of()->mutable_time()->set_seconds(testing::kTestNowSeconds +
                                                      3600);
  struct Case {
    std::string name;
    absl::Status status;
    absl::StatusCode code;
    std::string message;
  };
  auto scorecard = [&](const std::string& district, int fy,
                       v1::ReadOptions read = {}) {
    v1::ScorecardRequest r;
    r.set_district(district);
    r.set_fiscal_year(fy);
    *r.mutable_read() = read;
    return q.Scorecard(r).status();
  };
  auto gifts = [&](const std::string& district, int round) {
    v1::GiftRegisterRequest r;
    r.set_district(district);
    r.set_fiscal_year(2568);
    r.set_round(static_cast<v1::Round>(round));
    return q.GiftRegister(r).status();
  };
  auto complaints = [&](const std::string& district, int round) {
    v1::ComplaintStatsRequest r;
    r.set_district(district);
    r.set_fiscal_year(2568);
    r.set_round(static_cast<v1::Round>(round));
    return q.ComplaintStats(r).status();
  };
  auto overview = [&](int fy, v1::ReadOptions read = {}) {
    v1::CityOverviewRequest r;
    r.set_fiscal_year(fy);
    *r.mutable_read() = read;
    return q.CityOverview(r).status();
  };
  const Case cases[] = {
      {"scorecard of an unknown district", scorecard("1099", 2568),
       absl::StatusCode::kNotFound, "unknown district code"},
      {"scorecard of a year without a framework", scorecard("1045", 2567),
       absl::StatusCode::kNotFound, "no ITA framework"},
      {"scorecard as of the future", scorecard("1045", 2568, future),
       absl::StatusCode::kInvalidArgument, "in the future"},
      {"gift register without a round", gifts("1045", v1::ROUND_UNSPECIFIED),
       absl::StatusCode::kInvalidArgument, "round: required"},
      {"gift register of an unknown district", gifts("0000", v1::ROUND_H1),
       absl::StatusCode::kNotFound, "unknown district code"},
      {"complaints of a round that does not exist", complaints("", 9),
       absl::StatusCode::kInvalidArgument, "is not a round"},
      {"complaints of a malformed district", complaints("10450", 0),
       absl::StatusCode::kInvalidArgument, "not a district code"},
      {"overview of a year without a framework", overview(2566),
       absl::StatusCode::kNotFound, "no ITA framework"},
      {"overview as of the future", overview(2568, future),
       absl::StatusCode::kInvalidArgument, "in the future"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(c.status.code(), c.code) << c.status;
    EXPECT_TRUE(absl::StrContains(c.status.message(), c.message)) << c.status;
  }
}

TEST_F(QueryTest, AnEmptyDistrictGetsAnEmptyReportThatSaysSo) {
  absl::StatusOr<v1::ItaReport> report = Ita("1001");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->empty());
  EXPECT_TRUE(absl::StrContains(report->note().th(), "พระนคร"));
  EXPECT_TRUE(absl::StrContains(report->note().en(), "recorded nothing"));
  EXPECT_EQ(report->summary().items(), 20);
  EXPECT_EQ(report->summary().measures(), 0);
  EXPECT_EQ(report->summary().rows_with_gaps(), 20);
  const std::string html = query::RenderItaHtml(*report);
  EXPECT_TRUE(absl::StrContains(html, report->note().th()));
}

TEST_F(QueryTest, GiftRegisterCountsAndTheReportToTheCentre) {
  auto gift = [](const std::string& id, v1::Date received, int64_t satang,
                 v1::GiftDisposition disposition) {
    v1::Event e =
        NewEvent(Bangkok(received.year(), received.month(), received.day()));
    v1::GiftReportFiled* g = e.mutable_gift_report_filed();
    g->set_report_id(id);
    g->mutable_official()->set_subject_id("person-" + id);
    g->mutable_official()->set_name("นางสาวทดสอบ ใจดี");
    g->mutable_official()->set_position("นักจัดการงานทั่วไป");
    g->set_giver_category(v1::GIVER_CATEGORY_CITIZEN);
    g->set_description("กระเช้าปีใหม่");
    g->set_estimated_value_satang(satang);
    *g->mutable_received_on() = received;
    g->set_disposition(disposition);
    return e;
  };
  const v1::Event g1 =
      gift("G1", MakeDate(2024, 11, 10), 50'000, v1::GIFT_DISPOSITION_DECLINED);
  const v1::Event g2 = gift("G2", MakeDate(2025, 1, 2), 500'000,
                            v1::GIFT_DISPOSITION_HANDED_TO_AGENCY);
  const v1::Event g3 =
      gift("G3", MakeDate(2025, 2, 1), 0, v1::GIFT_DISPOSITION_RETURNED);
  const v1::Event g4 =
      gift("G4", MakeDate(2025, 5, 1), 100'000, v1::GIFT_DISPOSITION_DECLINED);
  v1::Event submitted = NewEvent(Bangkok(2025, 4, 5));
  v1::GiftReportsSubmitted* s = submitted.mutable_gift_reports_submitted();
  s->set_submission_id("S-2568-H1");
  s->set_fiscal_year(2568);
  s->set_round(v1::ROUND_H1);
  s->add_report_ids("G1");
  s->add_report_ids("G2");
  s->add_report_ids("G3");
  *s->mutable_submitted_on() = MakeDate(2025, 4, 5);
  ASSERT_TRUE(Append({g1, g2, g3, submitted, g4}).ok());

  auto reg = [&](const std::string& district, v1::Round round) {
    v1::GiftRegisterRequest request;
    request.set_district(district);
    request.set_fiscal_year(2568);
    request.set_round(round);
    absl::StatusOr<v1::GiftRegister> answer =
        stack_->queries().GiftRegister(request);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or(v1::GiftRegister());
  };
  auto count = [](const v1::GiftTotals& totals, v1::GiftDisposition d) {
    for (const v1::GiftCount& c : totals.by_disposition()) {
      if (c.disposition() == d) {
        return std::make_pair(c.count(), c.value_satang());
      }
    }
    return std::make_pair(int64_t{-1}, int64_t{-1});
  };
  auto band = [](const v1::GiftTotals& totals, v1::GiftValueBand b) {
    for (const v1::GiftCount& c : totals.by_value_band()) {
      if (c.value_band() == b) {
        return c.count();
      }
    }
    return int64_t{-1};
  };

  v1::GiftRegister h1 = reg("1045", v1::ROUND_H1);
  ASSERT_EQ(h1.entries_size(), 3);
  EXPECT_EQ(h1.entries(0).report_id(), "G1");
  EXPECT_EQ(h1.entries(0).submission_ids_size(), 1);
  EXPECT_EQ(h1.totals().count(), 3);
  EXPECT_EQ(h1.totals().value_satang(), 550'000);
  EXPECT_EQ(count(h1.totals(), v1::GIFT_DISPOSITION_DECLINED),
            std::make_pair(int64_t{1}, int64_t{50'000}));
  EXPECT_EQ(count(h1.totals(), v1::GIFT_DISPOSITION_HANDED_TO_AGENCY),
            std::make_pair(int64_t{1}, int64_t{500'000}));
  EXPECT_EQ(band(h1.totals(), v1::GIFT_VALUE_BAND_NONE), 1);
  EXPECT_EQ(band(h1.totals(), v1::GIFT_VALUE_BAND_UP_TO_3000), 1);
  EXPECT_EQ(band(h1.totals(), v1::GIFT_VALUE_BAND_OVER_3000), 1);
  ASSERT_EQ(h1.districts_size(), 1);
  EXPECT_TRUE(h1.districts(0).submitted());
  // Personal fields are filtered out for this reader, not rewritten.
  EXPECT_FALSE(h1.personal_data_included());
  EXPECT_TRUE(h1.entries(0).official().name().empty());
  EXPECT_EQ(h1.entries(0).official().subject_id(), "person-G1");
  EXPECT_EQ(h1.entries(0).official().position(), "นักจัดการงานทั่วไป");
  {
    query::Reader reader;
    reader.may_see_personal_data = true;
    v1::GiftRegisterRequest request;
    request.set_district("1045");
    request.set_fiscal_year(2568);
    request.set_round(v1::ROUND_H1);
    absl::StatusOr<v1::GiftRegister> full =
        stack_->queries().GiftRegister(request, reader);
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(full->entries(0).official().name(), "นางสาวทดสอบ ใจดี");
  }

  // The city: every district, and who has sent the 6-month report.
  v1::GiftRegister city = reg("", v1::ROUND_H1);
  EXPECT_EQ(city.districts_size(), 50);
  EXPECT_EQ(city.entries_size(), 0);
  EXPECT_EQ(city.totals().count(), 3);
  EXPECT_EQ(std::vector<std::string>(city.submitted_districts().begin(),
                                     city.submitted_districts().end()),
            std::vector<std::string>{"1045"});
  EXPECT_EQ(city.missing_districts_size(), 49);

  // Corrected value and a retracted report change the totals.
  v1::Event cheaper = g2;
  cheaper.mutable_gift_report_filed()->set_estimated_value_satang(250'000);
  ASSERT_TRUE(Append({Correction(g2, cheaper, Bangkok(2025, 5, 10)),
                      Retraction(g3, Bangkok(2025, 5, 10))})
                  .ok());
  h1 = reg("1045", v1::ROUND_H1);
  EXPECT_EQ(h1.totals().count(), 2);
  EXPECT_EQ(h1.totals().value_satang(), 300'000);
  EXPECT_EQ(band(h1.totals(), v1::GIFT_VALUE_BAND_OVER_3000), 0);
  EXPECT_EQ(band(h1.totals(), v1::GIFT_VALUE_BAND_UP_TO_3000), 2);
  EXPECT_TRUE(h1.entries(1).corrected());

  // The 12-month report is not sent yet.
  v1::GiftRegister year = reg("1045", v1::ROUND_FULL_YEAR);
  EXPECT_EQ(year.entries_size(), 3);
  EXPECT_FALSE(year.districts(0).submitted());
  ExpectRebuildsEqualIncremental();
}

TEST_F(QueryTest, ComplaintStatisticsWithoutPersonalData) {
  auto received = [](const std::string& id, v1::Date day,
                     v1::ComplaintChannel channel,
                     v1::ComplaintCategory category, bool anonymous) {
    v1::Event e = NewEvent(Bangkok(day.year(), day.month(), day.day()));
    v1::ComplaintReceived* c = e.mutable_complaint_received();
    c->set_complaint_id(id);
    c->set_channel(channel);
    c->set_category(category);
    c->set_summary("ร้องเรียนเจ้าหน้าที่ นายสมมติ ชื่อปลอม");
    if (anonymous) {
      c->mutable_complainant()->set_anonymous(true);
    } else {
      c->mutable_complainant()->mutable_person()->set_name("ผู้ร้อง ลับมาก");
      c->mutable_complainant()->mutable_person()->set_contact("0812345678");
    }
    *c->mutable_received_on() = day;
    return e;
  };
  auto closed = [](const std::string& id, int64_t at) {
    v1::Event e = NewEvent(at);
    e.mutable_complaint_closed()->set_complaint_id(id);
    e.mutable_complaint_closed()->set_outcome(
        v1::COMPLAINT_OUTCOME_UNSUBSTANTIATED);
    e.mutable_complaint_closed()->set_action_taken("ตรวจสอบแล้ว");
    return e;
  };
  v1::Event assigned = NewEvent(Bangkok(2024, 10, 21));
  assigned.mutable_complaint_assigned()->set_complaint_id("C1");
  assigned.mutable_complaint_assigned()->set_division("ฝ่ายปกครอง");
  v1::Event reopened = NewEvent(Bangkok(2024, 12, 15));
  reopened.mutable_complaint_reopened()->set_complaint_id("C2");
  reopened.mutable_complaint_reopened()->set_reason("ผู้ร้องส่งข้อมูลเพิ่ม");
  ASSERT_TRUE(
      Append(
          {received("C1", MakeDate(2024, 10, 20), v1::COMPLAINT_CHANNEL_WEBSITE,
                    v1::COMPLAINT_CATEGORY_BRIBERY, true),
           assigned, closed("C1", Bangkok(2024, 11, 19)),
           received("C2", MakeDate(2024, 12, 1),
                    v1::COMPLAINT_CHANNEL_HOTLINE_1555,
                    v1::COMPLAINT_CATEGORY_SERVICE_DELAY, false),
           closed("C2", Bangkok(2024, 12, 11)), reopened,
           received("C3", MakeDate(2025, 2, 10), v1::COMPLAINT_CHANNEL_WALK_IN,
                    v1::COMPLAINT_CATEGORY_MISCONDUCT, true),
           received("C4", MakeDate(2025, 6, 1), v1::COMPLAINT_CHANNEL_LETTER,
                    v1::COMPLAINT_CATEGORY_OTHER, true),
           closed("C4", Bangkok(2025, 6, 21))})
          .ok());

  auto stats = [&](const std::string& district, v1::Round round) {
    v1::ComplaintStatsRequest request;
    request.set_district(district);
    request.set_fiscal_year(2568);
    request.set_round(round);
    absl::StatusOr<v1::ComplaintStats> answer =
        stack_->queries().ComplaintStats(request);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or(v1::ComplaintStats());
  };
  v1::ComplaintStats year = stats("1045", v1::ROUND_UNSPECIFIED);
  EXPECT_EQ(year.received(), 4);
  EXPECT_EQ(year.open(), 2);
  EXPECT_EQ(year.closed(), 2);
  EXPECT_EQ(year.closed_count(), 2);
  EXPECT_DOUBLE_EQ(year.mean_days_to_close(), 25);
  EXPECT_DOUBLE_EQ(year.median_days_to_close(), 25);
  EXPECT_EQ(year.max_days_to_close(), 30);
  ASSERT_EQ(year.monthly_size(), 12);
  EXPECT_EQ(year.monthly(0).label().th(), "ตุลาคม 2567");
  EXPECT_EQ(year.monthly(0).received(), 1);
  EXPECT_EQ(year.monthly(0).completed(), 1);
  EXPECT_EQ(year.monthly(2).in_progress(), 1);  // December: C2, reopened
  EXPECT_EQ(year.monthly(8).completed(), 1);    // June: C4
  // Both open ones were received more than 60 days before 15 January 2026.
  EXPECT_EQ(year.open_ages(3).open(), 2);
  for (const v1::ComplaintGroup& g : year.by_category()) {
    if (g.category() == v1::COMPLAINT_CATEGORY_BRIBERY) {
      EXPECT_EQ(g.received(), 1);
      EXPECT_EQ(g.closed(), 1);
    }
  }
  absl::StatusOr<std::string> json = query::ToJson(year);
  ASSERT_TRUE(json.ok());
  EXPECT_FALSE(absl::StrContains(*json, "ลับมาก"));
  EXPECT_FALSE(absl::StrContains(*json, "0812345678"));
  EXPECT_FALSE(absl::StrContains(*json, "ชื่อปลอม"));

  EXPECT_EQ(stats("1045", v1::ROUND_H1).received(), 3);
  EXPECT_EQ(stats("", v1::ROUND_UNSPECIFIED).received(), 4);

  // Retracting the reopening closes C2 again, after 10 days.
  ASSERT_TRUE(Append({Retraction(reopened, Bangkok(2025, 6, 25))}).ok());
  year = stats("1045", v1::ROUND_UNSPECIFIED);
  EXPECT_EQ(year.open(), 1);
  EXPECT_EQ(year.closed_count(), 3);
  EXPECT_EQ(year.median_days_to_close(), 20);
  ExpectRebuildsEqualIncremental();
}

TEST_F(QueryTest, CityOverviewShowsEveryDistrictWithItsAlerts) {
  // 1001 scores I1 below 100 and plans nothing for it.
  v1::Event score = NewEvent(Bangkok(2024, 10, 2));
  score.mutable_score_recorded()->set_fiscal_year(2568);
  score.mutable_score_recorded()->set_item_code("I1");
  score.mutable_score_recorded()->set_score(88.5);
  score.mutable_score_recorded()->set_source("ผลการประเมิน ITA 2567");
  ASSERT_TRUE(Append({score}, "1001").ok());
  v1::Event open = NewEvent(Bangkok(2025, 3, 1));
  open.mutable_complaint_received()->set_complaint_id("C-OPEN");
  open.mutable_complaint_received()->set_channel(v1::COMPLAINT_CHANNEL_WEBSITE);
  open.mutable_complaint_received()->set_category(
      v1::COMPLAINT_CATEGORY_BRIBERY);
  open.mutable_complaint_received()->set_summary("เรียกรับเงิน");
  open.mutable_complaint_received()->mutable_complainant()->set_anonymous(true);
  *open.mutable_complaint_received()->mutable_received_on() =
      MakeDate(2025, 3, 1);
  ASSERT_TRUE(Append({open}).ok());

  v1::CityOverviewRequest request;
  request.set_fiscal_year(2568);
  absl::StatusOr<v1::CityOverview> overview =
      stack_->queries().CityOverview(request);
  ASSERT_TRUE(overview.ok()) << overview.status();
  ASSERT_EQ(overview->districts_size(), 50);
  ASSERT_EQ(overview->indicators_size(), 10);
  auto alerts = [&](absl::string_view code) {
    std::map<v1::AlertKind, int64_t> by_kind;
    for (const v1::DistrictOverview& d : overview->districts()) {
      if (d.district() == code) {
        for (const v1::Alert& a : d.alerts()) {
          by_kind[a.kind()] += a.count() == 0 ? 1 : a.count();
          EXPECT_FALSE(a.message().th().empty());
          EXPECT_FALSE(a.message().en().empty());
        }
      }
    }
    return by_kind;
  };
  const v1::DistrictOverview* wang = nullptr;
  for (const v1::DistrictOverview& d : overview->districts()) {
    if (d.district() == "1045") {
      wang = &d;
    }
  }
  ASSERT_NE(wang, nullptr);
  EXPECT_EQ(wang->district_name().th(), "วังทองหลาง");
  EXPECT_EQ(wang->totals().planned(), 64);
  // By 15 January 2026 every FY 2568 measure not done is overdue.
  EXPECT_EQ(wang->totals().overdue(), wang->totals().planned() -
                                          wang->totals().done() -
                                          wang->totals().dropped());
  EXPECT_GT(wang->totals().done(), 0);
  std::map<v1::AlertKind, int64_t> a1045 = alerts("1045");
  EXPECT_EQ(a1045[v1::ALERT_KIND_MEASURE_OVERDUE], wang->totals().overdue());
  EXPECT_EQ(a1045[v1::ALERT_KIND_ROUND_REPORT_MISSING], 1);  // H2 only
  EXPECT_EQ(a1045[v1::ALERT_KIND_GIFT_REPORT_MISSING], 2);   // 6 and 12 months
  EXPECT_EQ(a1045[v1::ALERT_KIND_COMPLAINT_OPEN_TOO_LONG], 1);
  EXPECT_EQ(a1045[v1::ALERT_KIND_ITEM_WITHOUT_MEASURE], 0);
  std::map<v1::AlertKind, int64_t> a1001 = alerts("1001");
  EXPECT_EQ(a1001[v1::ALERT_KIND_ITEM_WITHOUT_MEASURE], 1);
  EXPECT_EQ(a1001[v1::ALERT_KIND_ROUND_REPORT_MISSING], 2);
  std::map<v1::AlertKind, int64_t> a1050 = alerts("1050");
  EXPECT_EQ(a1050[v1::ALERT_KIND_ROUND_REPORT_MISSING], 2);
  EXPECT_EQ(a1050[v1::ALERT_KIND_GIFT_REPORT_MISSING], 2);

  // The same answer replayed from the log at the views' position, judged
  // on the same day (an as_of position is judged when it was recorded).
  stack_->set_query_time(kLaterRecorded);
  overview = stack_->queries().CityOverview(request);
  ASSERT_TRUE(overview.ok()) << overview.status();
  request.mutable_read()->mutable_as_of()->set_position(
      overview->reflects().position());
  absl::StatusOr<v1::CityOverview> replayed =
      stack_->queries().CityOverview(request);
  ASSERT_TRUE(replayed.ok()) << replayed.status();
  replayed->clear_reflects();
  overview->clear_reflects();
  std::string differences;
  MessageDifferencer differ;
  differ.ReportDifferencesToString(&differences);
  EXPECT_TRUE(differ.Compare(*replayed, *overview)) << differences;
  ExpectRebuildsEqualIncremental();
}

}  // namespace
}  // namespace prongsai::reports

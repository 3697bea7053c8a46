// The seed report regenerated from its events: the 182 events of Wang
// Thonglang's FY 2568 H1 report, appended through the real ingest on a
// RocksDB log, give through prongsai.v1.Reports the same table as the one
// made from the report's text (tests/seed/seed_table.json), item by item.
#include <httplib.h>

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "services/query/render.h"
#include "tests/reports/report_stack.h"

namespace prongsai::reports {
namespace {

using ::nlohmann::json;
using testing::ReportStack;

std::vector<const v1::ItaRow*> Rows(const v1::ItaReport& report) {
  std::vector<const v1::ItaRow*> rows;
  for (const v1::ItaTool& tool : report.tools()) {
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      for (const v1::ItaRow& row : indicator.rows()) {
        rows.push_back(&row);
      }
    }
  }
  return rows;
}

bool HasGap(const v1::ItaRow& row, v1::ItaGap gap) {
  return std::find(row.gaps().begin(), row.gaps().end(), gap) !=
         row.gaps().end();
}

class SeedReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<json> table = prongsai::testing::seed::ReadJsonFile(
        prongsai::testing::seed::SeedTablePath());
    ASSERT_TRUE(table.ok()) << table.status();
    table_ = std::move(*table);
    stack_ = std::make_unique<ReportStack>(dir_.path());
    ASSERT_TRUE(stack_->Open().ok());
    ASSERT_TRUE(stack_->AppendCity().ok());
    absl::StatusOr<v1::AppendResponse> seed = stack_->AppendSeed();
    ASSERT_TRUE(seed.ok()) << seed.status();
    seed_position_ = seed->last_position();
  }

  absl::StatusOr<v1::ItaReport> Report(v1::Round round = v1::ROUND_H1) {
    v1::ItaReportRequest request;
    request.set_district("1045");
    request.set_fiscal_year(2568);
    request.set_round(round);
    grpc::ClientContext context;
    v1::ItaReport report;
    grpc::Status status =
        stack_->stub()->GetItaReport(&context, request, &report);
    if (!status.ok()) {
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                          status.error_message());
    }
    return report;
  }

  void CheckRow(const json& expected, const v1::ItaRow& row);

  prongsai::testing::TempDir dir_;
  std::unique_ptr<ReportStack> stack_;
  json table_;
  uint64_t seed_position_ = 0;
};

void SeedReportTest::CheckRow(const json& expected, const v1::ItaRow& row) {
  const std::string item = expected.at("item").get<std::string>();
  SCOPED_TRACE(absl::StrCat("row ", item));
  EXPECT_EQ(row.item_code(), item);
  EXPECT_EQ(row.indicator(), expected.at("indicator").get<int>());
  EXPECT_EQ(v1::Tool_Name(row.tool()),
            absl::StrCat("TOOL_", expected.at("tool").get<std::string>()));

  // Score.
  if (expected.at("score").is_null()) {
    EXPECT_FALSE(row.has_score());
    EXPECT_TRUE(HasGap(row, v1::ITA_GAP_SCORE));
  } else {
    ASSERT_TRUE(row.has_score());
    EXPECT_DOUBLE_EQ(row.score().value(), expected.at("score").get<double>());
    EXPECT_FALSE(HasGap(row, v1::ITA_GAP_SCORE));
  }

  // Improvement issue.
  if (expected.at("issue").is_null()) {
    EXPECT_TRUE(row.issues().empty());
  } else {
    ASSERT_EQ(row.issues_size(), 1);
    EXPECT_EQ(row.issues(0).text(), expected.at("issue").get<std::string>());
  }
  EXPECT_EQ(HasGap(row, v1::ITA_GAP_ISSUE),
            expected.at("issue_cell_empty").get<bool>());

  // Measures, with the results of the round and the evidence of each.
  const json& measures = expected.at("measures");
  EXPECT_EQ(row.measures().empty(),
            expected.at("measures_cell_empty").get<bool>());
  const bool shared = !expected.at("measures_shared_with").is_null();
  EXPECT_EQ(
      row.measures_shared_with(),
      shared ? expected.at("measures_shared_with").get<std::string>() : "");
  ASSERT_EQ(static_cast<size_t>(row.measures_size()), measures.size());
  std::map<size_t, std::vector<std::string>> results;
  for (const json& result : expected.at("results")) {
    results[result.at("measure").get<size_t>()].push_back(
        result.at("text").get<std::string>());
  }
  std::map<size_t, std::vector<std::string>> captions;
  for (const json& evidence : expected.at("evidence")) {
    captions[evidence.at("measure").get<size_t>()].push_back(
        evidence.at("caption").get<std::string>());
  }
  bool every_result = true;
  bool any_result = false;
  bool any_evidence = false;
  for (size_t j = 0; j < measures.size(); ++j) {
    const v1::ItaMeasure& m = row.measures(static_cast<int>(j));
    SCOPED_TRACE(absl::StrCat("measure ", j + 1));
    EXPECT_EQ(m.number(), measures[j].at("number").get<int>());
    EXPECT_EQ(m.text(), measures[j].at("text").get<std::string>());
    if (results[j].empty()) {
      EXPECT_TRUE(m.results().empty());
      EXPECT_EQ(m.status(), v1::PROGRESS_STATUS_NOT_STARTED);
      every_result = false;
    } else {
      any_result = true;
      ASSERT_EQ(m.results_size(), 1);
      EXPECT_EQ(m.results(0).round(), v1::ROUND_H1);
      EXPECT_EQ(m.results(0).text(), absl::StrJoin(results[j], "\n"));
      EXPECT_EQ(v1::ProgressStatus_Name(m.status()),
                measures[j].at("h1_status").get<std::string>());
    }
    std::vector<std::string> got;
    for (const v1::ItaEvidence& e : m.evidence()) {
      got.push_back(e.caption());
      EXPECT_EQ(e.sha256_hex().size(), 64u);
    }
    EXPECT_EQ(got, captions[j]);
    any_evidence = any_evidence || !got.empty();
  }
  EXPECT_EQ(any_result, !expected.at("results_cell_empty").get<bool>());
  EXPECT_EQ(any_evidence, !expected.at("evidence_cell_empty").get<bool>());

  // Gaps are flagged where the row's own cells are empty; a row that shares
  // another row's measures points there instead.
  EXPECT_EQ(HasGap(row, v1::ITA_GAP_MEASURES),
            !shared && expected.at("measures_cell_empty").get<bool>());
  EXPECT_EQ(HasGap(row, v1::ITA_GAP_RESULTS),
            !shared && (measures.empty() || !every_result));
  EXPECT_EQ(HasGap(row, v1::ITA_GAP_EVIDENCE),
            !shared && expected.at("evidence_cell_empty").get<bool>());
}

TEST_F(SeedReportTest, ItaReportMatchesTheSeedTableItemByItem) {
  absl::StatusOr<v1::ItaReport> report = Report();
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->empty());
  EXPECT_EQ(report->reflects().position(), seed_position_);

  const json& meta = table_.at("report");
  EXPECT_EQ(report->title().th(), meta.at("title").get<std::string>());
  ASSERT_EQ(static_cast<size_t>(report->columns_size()),
            meta.at("columns").size());
  for (int c = 0; c < report->columns_size(); ++c) {
    EXPECT_EQ(report->columns(c).th(),
              meta.at("columns")[c].get<std::string>());
    EXPECT_FALSE(report->columns(c).en().empty());
  }

  const std::vector<const v1::ItaRow*> rows = Rows(*report);
  const json& expected = table_.at("rows");
  ASSERT_EQ(rows.size(), expected.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    CheckRow(expected[i], *rows[i]);
  }
}

TEST_F(SeedReportTest, HeadingsGroupRowsByToolAndIndicatorAsTheSeed) {
  absl::StatusOr<v1::ItaReport> report = Report();
  ASSERT_TRUE(report.ok()) << report.status();
  std::map<std::string, std::string> tool_before;
  std::map<std::string, std::string> indicator_before;
  for (const v1::ItaTool& tool : report->tools()) {
    tool_before[tool.indicators(0).rows(0).item_code()] = tool.name().th();
    EXPECT_FALSE(tool.name().en().empty());
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      indicator_before[indicator.rows(0).item_code()] = indicator.name().th();
      EXPECT_FALSE(indicator.name().en().empty());
    }
  }
  for (const json& heading : table_.at("headings")) {
    const std::string before = heading.at("before").get<std::string>();
    const std::string text = heading.at("text").get<std::string>();
    SCOPED_TRACE(text);
    if (text.rfind("ตัวชี้วัดที่", 0) == 0) {
      EXPECT_EQ(indicator_before[before], text);
    } else {
      EXPECT_EQ(tool_before[before], text);
    }
  }
}

TEST_F(SeedReportTest, HttpServesTheSameMessageAsGrpc) {
  absl::StatusOr<v1::ItaReport> expected = Report();
  ASSERT_TRUE(expected.ok()) << expected.status();
  httplib::Client client("127.0.0.1", stack_->http_port());
  httplib::Result res =
      client.Get("/v1/districts/1045/ita-report?fy=2568&round=H1");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("X-Prongsai-Position"),
            absl::StrCat(seed_position_));
  v1::ItaReport report;
  ASSERT_TRUE(
      google::protobuf::util::JsonStringToMessage(res->body, &report).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(report, *expected))
      << report.ShortDebugString().substr(0, 400);
}

TEST_F(SeedReportTest, DownloadsComeInEveryFormat) {
  httplib::Client client("127.0.0.1", stack_->http_port());
  struct Case {
    std::string format;
    std::string content_type;
    std::string starts_with;
  };
  const Case cases[] = {
      {"html", "text/html; charset=utf-8", "<!DOCTYPE html>"},
      {"csv", "text/csv; charset=utf-8", "\xEF\xBB\xBF"},
      {"xlsx",
       "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
       std::string("PK\x03\x04", 4)},
      {"json", "application/json; charset=utf-8", "{"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.format);
    httplib::Result res = client.Get(absl::StrCat(
        "/v1/districts/1045/ita-report?fy=2568&round=H1&format=", c.format));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
    EXPECT_EQ(res->get_header_value("Content-Type"), c.content_type);
    EXPECT_EQ(res->body.substr(0, c.starts_with.size()), c.starts_with);
    if (c.format == "csv" || c.format == "xlsx") {
      EXPECT_EQ(res->get_header_value("Content-Disposition"),
                absl::StrCat("attachment; filename=\"ita-1045-2568-H1.",
                             c.format, "\""));
    }
  }
  // The HTML asks for the Thai font the server has.
  httplib::Result font = client.Get("/fonts/Laksaman.ttf");
  ASSERT_TRUE(font);
  EXPECT_EQ(font->status, 200);
  EXPECT_GT(font->body.size(), 10'000u);
  httplib::Result missing = client.Get("/fonts/NoSuchFont.ttf");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(SeedReportTest, FullYearReportHoldsTheFirstHalfsResults) {
  absl::StatusOr<v1::ItaReport> h1 = Report(v1::ROUND_H1);
  absl::StatusOr<v1::ItaReport> h2 = Report(v1::ROUND_H2);
  absl::StatusOr<v1::ItaReport> year = Report(v1::ROUND_FULL_YEAR);
  ASSERT_TRUE(h1.ok() && h2.ok() && year.ok());
  EXPECT_EQ(year->summary().results(), h1->summary().results());
  EXPECT_EQ(year->summary().evidence(), h1->summary().evidence());
  // Nothing was reported for the second half: every measure is a gap there.
  EXPECT_EQ(h2->summary().results(), 0);
  EXPECT_EQ(h2->summary().measures(), h1->summary().measures());
  EXPECT_EQ(h2->round_label().th(),
            "รอบ 6 เดือนหลัง (เมษายน 2568 - กันยายน 2568)");
}

}  // namespace
}  // namespace prongsai::reports

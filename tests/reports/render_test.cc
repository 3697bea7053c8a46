// The ITA report as documents, from the seed's events driven through the
// report views in memory: CSV (UTF-8 with a BOM, one line per measure,
// parseable), XLSX (a zip holding the worksheets), HTML (A4 landscape, a Thai
// font, gaps visible) and JSON.
#include "services/query/render.h"

#include <gtest/gtest.h>

#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "projections/reports/ita_report.h"
#include "tests/reports/memory_ledger.h"
#include "tests/seed/seed_files.h"

namespace prongsai::reports {
namespace {

// RFC 4180 records.
std::vector<std::vector<std::string>> ParseCsv(absl::string_view text) {
  std::vector<std::vector<std::string>> records(1);
  std::string field;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        field.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field.push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      records.back().push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      records.back().push_back(std::move(field));
      field.clear();
      records.emplace_back();
      ++i;
    } else {
      field.push_back(c);
    }
  }
  if (records.back().empty() && field.empty()) {
    records.pop_back();
  } else {
    records.back().push_back(std::move(field));
  }
  return records;
}

uint32_t Le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  std::memcpy(&v, s.data() + at, 4);
  return v;
}
uint16_t Le16(const std::string& s, size_t at) {
  uint16_t v = 0;
  std::memcpy(&v, s.data() + at, 2);
  return v;
}

// The names in a zip file's central directory; empty when it is not a zip.
std::vector<std::string> ZipEntries(const std::string& zip) {
  std::vector<std::string> names;
  if (zip.size() < 22) {
    return names;
  }
  size_t end = std::string::npos;
  for (size_t i = zip.size() - 22; i != static_cast<size_t>(-1); --i) {
    if (Le32(zip, i) == 0x06054b50) {
      end = i;
      break;
    }
  }
  if (end == std::string::npos) {
    return names;
  }
  const uint16_t count = Le16(zip, end + 10);
  size_t at = Le32(zip, end + 16);
  for (uint16_t n = 0; n < count && at + 46 <= zip.size(); ++n) {
    if (Le32(zip, at) != 0x02014b50) {
      break;
    }
    const uint16_t name = Le16(zip, at + 28);
    const uint16_t extra = Le16(zip, at + 30);
    const uint16_t comment = Le16(zip, at + 32);
    names.push_back(zip.substr(at + 46, name));
    at += 46 + name + extra + comment;
  }
  return names;
}

class RenderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ledger_
                    .Append(std::string(domain::kCityStream),
                            domain::CityBootstrapEvents())
                    .ok());
    absl::StatusOr<std::vector<v1::Event>> seed =
        prongsai::testing::seed::ReadEventLines(
            prongsai::testing::seed::SeedEventsPath());
    ASSERT_TRUE(seed.ok()) << seed.status();
    ASSERT_TRUE(ledger_.Append("1045", *seed).ok());
    absl::StatusOr<v1::ItaReport> report =
        BuildItaReport(ledger_.view(kProgressView), "1045", 2568, v1::ROUND_H1);
    ASSERT_TRUE(report.ok()) << report.status();
    report_ = std::move(*report);
    report_.mutable_reflects()->set_position(ledger_.position());
  }

  int Measures() const { return report_.summary().measures(); }
  int RowsWithoutMeasures() const {
    int rows = 0;
    for (const v1::ItaTool& tool : report_.tools()) {
      for (const v1::ItaIndicator& indicator : tool.indicators()) {
        for (const v1::ItaRow& row : indicator.rows()) {
          rows += row.measures().empty() ? 1 : 0;
        }
      }
    }
    return rows;
  }

  testing::MemoryLedger ledger_;
  v1::ItaReport report_;
};

TEST_F(RenderTest, CsvStartsWithTheBomAndParses) {
  const std::string csv = query::RenderItaCsv(report_);
  ASSERT_EQ(csv.substr(0, 3), "\xEF\xBB\xBF");
  const std::vector<std::vector<std::string>> records =
      ParseCsv(absl::string_view(csv).substr(3));
  ASSERT_FALSE(records.empty());
  const size_t columns = records[0].size();
  EXPECT_EQ(columns, 13u);
  EXPECT_EQ(records[0][0], "เครื่องมือ (Tool)");
  // One line per measure, and one per row that holds none.
  EXPECT_EQ(records.size(), 1u + Measures() + RowsWithoutMeasures());
  for (size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(records[i].size(), columns);
  }
  // A line of I1's first measure keeps the texts whole, line breaks included.
  EXPECT_EQ(records[1][2], "I1");
  EXPECT_EQ(records[1][6], "1");
  EXPECT_EQ(records[1][9],
            "1. เผยแพร่ประชาสัมพันธ์คู่มือ/มาตรฐานการปฏิบัติงานของหน่วยงาน ผ่านทาง"
            "เว็บไซต์ของสำนักงานเขต");
  bool shared_line = false;
  for (const std::vector<std::string>& r : records) {
    if (r[2] == "I2") {
      shared_line = true;
      EXPECT_EQ(r[11], "I1");
    }
  }
  EXPECT_TRUE(shared_line);
}

TEST_F(RenderTest, XlsxIsAWorkbookWithTheTable) {
  absl::StatusOr<std::string> xlsx = query::RenderItaXlsx(report_);
  ASSERT_TRUE(xlsx.ok()) << xlsx.status();
  ASSERT_EQ(xlsx->substr(0, 4), std::string("PK\x03\x04", 4));
  const std::vector<std::string> entries = ZipEntries(*xlsx);
  EXPECT_NE(
      std::find(entries.begin(), entries.end(), "xl/worksheets/sheet1.xml"),
      entries.end());
  EXPECT_NE(
      std::find(entries.begin(), entries.end(), "xl/worksheets/sheet2.xml"),
      entries.end());
  EXPECT_NE(std::find(entries.begin(), entries.end(), "xl/sharedStrings.xml"),
            entries.end());
}

TEST_F(RenderTest, HtmlPrintsOnA4LandscapeWithAThaiFontAndVisibleGaps) {
  query::HtmlOptions options;
  const std::string html = query::RenderItaHtml(report_, options);
  EXPECT_TRUE(absl::StartsWith(html, "<!DOCTYPE html>"));
  EXPECT_TRUE(absl::StrContains(html, "@page { size: A4 landscape;"));
  EXPECT_TRUE(absl::StrContains(html, "local(\"TH Sarabun New\")"));
  EXPECT_TRUE(absl::StrContains(html, "url(\"/fonts/Laksaman.ttf\")"));
  EXPECT_TRUE(
      absl::StrContains(html, "thead { display: table-header-group; }"));
  // The title block as the seed writes it.
  EXPECT_TRUE(
      absl::StrContains(html,
                        "ของสำนักงานเขตวังทองหลาง ประจำปีงบประมาณ พ.ศ. 2568 รอบ 6 "
                        "เดือนแรก (ตุลาคม 2567 - มีนาคม 2568)"));
  // Every tool and indicator heading, every item row.
  for (const v1::ItaTool& tool : report_.tools()) {
    EXPECT_TRUE(absl::StrContains(html, tool.name().th()));
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      EXPECT_TRUE(absl::StrContains(html, indicator.name().th()));
      for (const v1::ItaRow& row : indicator.rows()) {
        EXPECT_TRUE(absl::StrContains(
            html, absl::StrCat("<tr id=\"item-", row.item_code(), "\">")));
      }
    }
  }
  // I6 has no issue: its cell says so.
  const size_t i6 = html.find("<tr id=\"item-I6\">");
  ASSERT_NE(i6, std::string::npos);
  EXPECT_NE(html.find("ไม่มีประเด็นที่ต้องปรับปรุง", i6), std::string::npos);
  // A measure with no result of the round is flagged where the result goes.
  EXPECT_TRUE(absl::StrContains(html, ": ยังไม่มีผลการดำเนินการ"));
  // English labels on request.
  options.english = true;
  const std::string english = query::RenderItaHtml(report_, options);
  EXPECT_TRUE(absl::StrContains(english, "Assessment item"));
  EXPECT_TRUE(absl::StrContains(english, "Wang Thonglang District Office"));
}

TEST_F(RenderTest, JsonIsTheProto3Mapping) {
  absl::StatusOr<std::string> json = query::ToJson(report_);
  ASSERT_TRUE(json.ok());
  EXPECT_TRUE(absl::StrContains(*json, "\"itemCode\":\"I1\""));
  v1::ItaReport parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(*json, &parsed).ok());
  EXPECT_TRUE(
      google::protobuf::util::MessageDifferencer::Equals(parsed, report_));
}

TEST(RenderFormatTest, ParsesFormatsAndNamesFiles) {
  struct Case {
    std::string name;
    bool ok;
    query::ReportFormat format;
  };
  const Case cases[] = {{"json", true, query::ReportFormat::kJson},
                        {"HTML", true, query::ReportFormat::kHtml},
                        {"csv", true, query::ReportFormat::kCsv},
                        {"xlsx", true, query::ReportFormat::kXlsx},
                        {"pdf", false, query::ReportFormat::kJson}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<query::ReportFormat> format = query::ParseFormat(c.name);
    EXPECT_EQ(format.ok(), c.ok);
    if (c.ok) {
      EXPECT_EQ(*format, c.format);
    } else {
      EXPECT_TRUE(absl::StrContains(format.status().message(), "pdf"));
    }
  }
  v1::ItaReport report;
  report.set_district("1045");
  report.set_fiscal_year(2568);
  report.set_round(v1::ROUND_FULL_YEAR);
  EXPECT_EQ(query::ReportFileName(report, query::ReportFormat::kXlsx),
            "ita-1045-2568-FULL_YEAR.xlsx");
}

}  // namespace
}  // namespace prongsai::reports

#include "services/query/render.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "google/protobuf/util/json_util.h"
#include "projections/reports/labels.h"

namespace prongsai::query {
namespace {

const char kBom[] = "\xEF\xBB\xBF";

std::string CsvField(absl::string_view text) {
  return absl::StrCat("\"", absl::StrReplaceAll(text, {{"\"", "\"\""}}), "\"");
}

void CsvLine(const std::vector<std::string>& fields, std::string* out) {
  std::vector<std::string> quoted;
  quoted.reserve(fields.size());
  for (const std::string& f : fields) {
    quoted.push_back(CsvField(f));
  }
  absl::StrAppend(out, absl::StrJoin(quoted, ","), "\r\n");
}

const std::string& Pick(const v1::Label& label, bool english) {
  return english && !label.en().empty() ? label.en() : label.th();
}

}  // namespace

absl::StatusOr<ReportFormat> ParseFormat(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower.empty() || lower == "json") {
    return ReportFormat::kJson;
  }
  if (lower == "html") {
    return ReportFormat::kHtml;
  }
  if (lower == "csv") {
    return ReportFormat::kCsv;
  }
  if (lower == "xlsx") {
    return ReportFormat::kXlsx;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("format: \"", name,
                   "\" is not a report format; use json, html, csv or "
                   "xlsx"));
}

absl::string_view FormatName(ReportFormat format) {
  switch (format) {
    case ReportFormat::kHtml:
      return "html";
    case ReportFormat::kCsv:
      return "csv";
    case ReportFormat::kXlsx:
      return "xlsx";
    default:
      return "json";
  }
}

absl::string_view ContentType(ReportFormat format) {
  switch (format) {
    case ReportFormat::kHtml:
      return "text/html; charset=utf-8";
    case ReportFormat::kCsv:
      return "text/csv; charset=utf-8";
    case ReportFormat::kXlsx:
      return "application/"
             "vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    default:
      return "application/json; charset=utf-8";
  }
}

absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  const google::protobuf::util::Status status =
      google::protobuf::util::MessageToJsonString(message, &out, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("printing ", message.GetTypeName(),
                     " as JSON: ", status.message().as_string()));
  }
  return out;
}

std::string ReportFileName(const v1::ItaReport& report, ReportFormat format) {
  return absl::StrCat("ita-", report.district(), "-", report.fiscal_year(), "-",
                      reports::RoundCode(report.round()), ".",
                      FormatName(format));
}

std::string ResultsText(const v1::ItaMeasure& measure) {
  std::vector<std::string> parts;
  for (const v1::ItaResult& result : measure.results()) {
    if (measure.results_size() > 1) {
      parts.push_back(absl::StrCat("[", reports::RoundCode(result.round()),
                                   "] ", result.text()));
    } else {
      parts.push_back(result.text());
    }
  }
  return absl::StrJoin(parts, "\n");
}

std::string EvidenceText(const v1::ItaMeasure& measure) {
  std::vector<std::string> parts;
  for (const v1::ItaEvidence& e : measure.evidence()) {
    std::string line =
        e.caption().empty() ? std::string("(ไม่มีคำบรรยายภาพ)") : e.caption();
    absl::StrAppend(&line, "\nSHA-256 ", e.sha256_hex().substr(0, 16), "…");
    if (!e.uri().empty()) {
      absl::StrAppend(&line, "\n", e.uri());
    }
    parts.push_back(std::move(line));
  }
  return absl::StrJoin(parts, "\n\n");
}

std::string ItemCellText(const v1::ItaRow& row, bool english) {
  const std::string score =
      row.has_score()
          ? absl::StrCat("(", reports::FormatScore(row.score().value()),
                         english ? " points)" : " คะแนน)")
          : std::string(english ? "(no score recorded)" : "(ไม่มีคะแนน)");
  return absl::StrCat(row.item_code(), " ", Pick(row.title(), english), "\n",
                      score);
}

std::string GapText(v1::ItaGap gap, bool english) {
  switch (gap) {
    case v1::ITA_GAP_SCORE:
      return english ? "no score recorded" : "ไม่มีคะแนน";
    case v1::ITA_GAP_ISSUE:
      return english ? "no improvement issue" : "ไม่มีประเด็นที่ต้องปรับปรุง";
    case v1::ITA_GAP_MEASURES:
      return english ? "no measure planned" : "ไม่มีมาตรการ";
    case v1::ITA_GAP_RESULTS:
      return english ? "results missing" : "ไม่มีผลการดำเนินการ";
    case v1::ITA_GAP_EVIDENCE:
      return english ? "no evidence" : "ไม่มีภาพกิจกรรม/หลักฐาน";
    default:
      return "";
  }
}

std::string RenderItaCsv(const v1::ItaReport& report) {
  std::string out = kBom;
  CsvLine({"เครื่องมือ (Tool)", "ตัวชี้วัด (Indicator)", "รหัส (Item)",
           "ประเด็นการประเมิน (Assessment item)", "คะแนน (Score)",
           "ประเด็นที่ต้องปรับปรุง (What must improve)", "ลำดับมาตรการ (Measure no.)",
           "มาตรการ/กิจกรรม (Measure)", "สถานะ (Status)",
           "ผลการดำเนินการ (Results)", "ภาพกิจกรรม/หลักฐาน (Evidence)",
           "ใช้มาตรการร่วมกับ (Shares measures of)", "ช่องว่าง (Gaps)"},
          &out);
  for (const v1::ItaTool& tool : report.tools()) {
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      for (const v1::ItaRow& row : indicator.rows()) {
        std::vector<std::string> issues;
        for (const v1::ItaIssue& issue : row.issues()) {
          issues.push_back(issue.text());
        }
        std::vector<std::string> gaps;
        for (int gap : row.gaps()) {
          gaps.push_back(GapText(static_cast<v1::ItaGap>(gap), false));
        }
        const std::vector<std::string> common = {
            std::string(reports::ToolCode(tool.tool())),
            absl::StrCat(indicator.number()),
            row.item_code(),
            row.title().th(),
            row.has_score() ? reports::FormatScore(row.score().value()) : "",
            absl::StrJoin(issues, "\n")};
        if (row.measures().empty()) {
          std::vector<std::string> line = common;
          line.insert(line.end(),
                      {"", "", "", "", "", row.measures_shared_with(),
                       absl::StrJoin(gaps, "; ")});
          CsvLine(line, &out);
          continue;
        }
        for (const v1::ItaMeasure& m : row.measures()) {
          std::vector<std::string> line = common;
          line.insert(
              line.end(),
              {absl::StrCat(m.number()), m.text(), m.status_label().th(),
               ResultsText(m), EvidenceText(m), "", absl::StrJoin(gaps, "; ")});
          CsvLine(line, &out);
        }
      }
    }
  }
  return out;
}

absl::StatusOr<std::string> RenderItaReport(const v1::ItaReport& report,
                                            ReportFormat format,
                                            const HtmlOptions& options) {
  switch (format) {
    case ReportFormat::kHtml:
      return RenderItaHtml(report, options);
    case ReportFormat::kCsv:
      return RenderItaCsv(report);
    case ReportFormat::kXlsx:
      return RenderItaXlsx(report);
    default:
      return ToJson(report);
  }
}

}  // namespace prongsai::query

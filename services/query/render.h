// The ITA progress report as documents: HTML ready to print on A4 landscape
// with a Thai font, CSV in UTF-8 with a byte order mark (opens cleanly in
// Excel), XLSX, and JSON in the proto3 JSON mapping (as any answer).
//
// Example:
//   ASSIGN_OR_RETURN(ReportFormat format, ParseFormat("html"));
//   ASSIGN_OR_RETURN(std::string html, RenderItaReport(report, format, {}));
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::query {

enum class ReportFormat { kJson, kHtml, kCsv, kXlsx };

// "json", "html", "csv", "xlsx"; INVALID_ARGUMENT naming the others.
absl::StatusOr<ReportFormat> ParseFormat(absl::string_view name);
absl::string_view FormatName(ReportFormat format);
absl::string_view ContentType(ReportFormat format);

// Where the HTML finds its Thai font files when the reader's machine has no
// Thai font installed: "/fonts/" (the query server serves fonts-thai-tlwg
// there) or a file:// URL of the font directory.
inline constexpr absl::string_view kServedFontPrefix = "/fonts/";
// The Debian fonts-thai-tlwg directory.
inline constexpr absl::string_view kThaiFontDir =
    "/usr/share/fonts/truetype/tlwg";

struct HtmlOptions {
  std::string font_url_prefix = std::string(kServedFontPrefix);
  // Labels in English instead of Thai (the recorded texts stay as written).
  bool english = false;
};

// Any answer in the proto3 JSON mapping, zero values included.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message);

std::string RenderItaHtml(const v1::ItaReport& report,
                          const HtmlOptions& options = {});
std::string RenderItaCsv(const v1::ItaReport& report);
absl::StatusOr<std::string> RenderItaXlsx(const v1::ItaReport& report);

absl::StatusOr<std::string> RenderItaReport(const v1::ItaReport& report,
                                            ReportFormat format,
                                            const HtmlOptions& options = {});

// "ita-1045-2568-H1.html".
std::string ReportFileName(const v1::ItaReport& report, ReportFormat format);

// The measure's results as one cell's text, and its evidence; shared by the
// renderers so that every format says the same.
std::string ResultsText(const v1::ItaMeasure& measure);
std::string EvidenceText(const v1::ItaMeasure& measure);
// "I1 เต็มใจให้บริการ ...\n(100 คะแนน)", as the seed writes the item cell.
std::string ItemCellText(const v1::ItaRow& row, bool english);
// The gaps of a row as words, e.g. "ไม่มีผลการดำเนินการ".
std::string GapText(v1::ItaGap gap, bool english);

}  // namespace prongsai::query

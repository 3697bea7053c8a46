#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "core/domain/calendar.h"
#include "projections/reports/labels.h"
#include "services/query/render.h"

namespace prongsai::query {
namespace {

std::string Escape(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
        break;
    }
  }
  return out;
}

// Escaped, with line breaks kept.
std::string Text(absl::string_view text) {
  std::string escaped = Escape(text);
  std::string out;
  for (char c : escaped) {
    if (c == '\n') {
      out += "<br>";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

const std::string& Pick(const v1::Label& label, bool english) {
  return english && !label.en().empty() ? label.en() : label.th();
}

std::string Gap(v1::ItaGap gap, bool english) {
  return absl::StrCat("<div class=\"gap\" title=\"",
                      english ? "empty cell" : "ช่องว่าง (gap)", "\">",
                      Escape(GapText(gap, english)), "</div>");
}

bool HasGap(const v1::ItaRow& row, v1::ItaGap gap) {
  for (int g : row.gaps()) {
    if (g == gap) {
      return true;
    }
  }
  return false;
}

std::string StatusClass(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_STATUS_DONE:
      return "done";
    case v1::PROGRESS_STATUS_IN_PROGRESS:
      return "doing";
    case v1::PROGRESS_STATUS_DROPPED:
      return "dropped";
    default:
      return "todo";
  }
}

std::string DateText(int64_t seconds, bool english) {
  const absl::CivilDay day = domain::BangkokDay(absl::FromUnixSeconds(seconds));
  return english ? domain::FormatDateEn(day) : domain::FormatDateTh(day);
}

std::string Shared(const v1::ItaRow& row, bool english) {
  return absl::StrCat(
      "<div class=\"shared\">",
      english
          ? absl::StrCat("Shares the measures of ",
                         Escape(row.measures_shared_with()))
          : absl::StrCat("ใช้มาตรการร่วมกับ ", Escape(row.measures_shared_with()),
                         " (ดูแถว ", Escape(row.measures_shared_with()), ")"),
      "</div>");
}

std::string Style(const HtmlOptions& options) {
  const std::string& p = options.font_url_prefix;
  return absl::StrCat(R"css(
@font-face {
  font-family: "ReportThai";
  src: local("TH Sarabun New"), local("THSarabunNew"), local("Sarabun"),
       local("Laksaman"), url(")css",
                      p, R"css(Laksaman.ttf") format("truetype");
  font-weight: normal; font-style: normal;
}
@font-face {
  font-family: "ReportThai";
  src: local("TH Sarabun New Bold"), local("THSarabunNew-Bold"),
       local("Sarabun Bold"), local("Laksaman Bold"), local("Laksaman-Bold"),
       url(")css",
                      p, R"css(Laksaman-Bold.ttf") format("truetype");
  font-weight: bold; font-style: normal;
}
@page { size: A4 landscape; margin: 12mm 10mm 14mm 10mm; }
html { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
body {
  font-family: "ReportThai", "Laksaman", "Loma", "Garuda", "Noto Sans Thai",
               "Tahoma", sans-serif;
  font-size: 15pt; line-height: 1.25; color: #111; margin: 0 auto;
  max-width: 277mm;
}
header { text-align: center; margin: 0 0 8px 0; }
header h1 { font-size: 17pt; font-weight: bold; margin: 0; line-height: 1.3; }
header .meta { font-size: 12pt; color: #444; margin-top: 4px; }
.note { border: 1px solid #b36b00; background: #fff6e5; color: #5a3500;
        padding: 6px 10px; margin: 8px 0; font-size: 14pt; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
col.c1 { width: 17%; } col.c2 { width: 17%; } col.c3 { width: 24%; }
col.c4 { width: 26%; } col.c5 { width: 16%; }
th, td { border: 1px solid #222; vertical-align: top; padding: 3px 5px;
         text-align: left; overflow-wrap: anywhere; }
thead { display: table-header-group; }
thead th { background: #d9e2f3; font-weight: bold; text-align: center;
           vertical-align: middle; font-size: 14pt; }
tr { break-inside: auto; }
tr.tool td { background: #bfcfe8; font-weight: bold; font-size: 15pt;
             break-after: avoid; }
tr.indicator td { background: #e8eef8; font-weight: bold;
                  break-after: avoid; }
td.item .code { font-weight: bold; }
td.item .score { display: block; margin-top: 2px; font-weight: bold; }
.band { display: inline-block; font-size: 10pt; border: 1px solid #555;
        border-radius: 3px; padding: 0 4px; margin-left: 4px;
        vertical-align: middle; }
.entry { margin: 0 0 4px 0; }
.num { font-weight: bold; }
.status { display: inline-block; font-size: 10pt; border-radius: 3px;
          padding: 0 4px; margin-left: 2px; vertical-align: middle;
          border: 1px solid; }
.status.done { color: #145a24; border-color: #145a24; background: #e6f4ea; }
.status.doing { color: #7a4b00; border-color: #7a4b00; background: #fff4e0; }
.status.todo { color: #555; border-color: #888; background: #f2f2f2; }
.status.dropped { color: #555; border-color: #888; text-decoration: line-through; }
.gap { color: #a1001d; border: 1px dashed #a1001d; background: #fdecee;
       padding: 1px 4px; margin: 2px 0; font-size: 12pt; }
.shared { color: #334; font-style: italic; font-size: 13pt; }
.corrected { font-size: 10pt; color: #5b2a86; border: 1px solid #5b2a86;
             border-radius: 3px; padding: 0 3px; margin-left: 3px; }
.evidence { margin: 0 0 5px 0; font-size: 13pt; }
.evidence .hash { font-family: "TlwgTypist", "DejaVu Sans Mono", monospace;
                  font-size: 9pt; color: #555; overflow-wrap: anywhere; }
.evidence a { color: #0b4f9c; }
footer { margin-top: 8px; font-size: 12pt; color: #333; }
footer .legend .gap { display: inline-block; }
@media screen { body { padding: 12px; } }
)css");
}

void RenderRow(const v1::ItaRow& row, bool english, std::string* out) {
  absl::StrAppend(out, "<tr id=\"item-", Escape(row.item_code()), "\">");

  // Column 1: the item and its score.
  absl::StrAppend(out, "<td class=\"item\"><span class=\"code\">",
                  Escape(row.item_code()), "</span> ",
                  Text(Pick(row.title(), english)));
  if (row.has_score()) {
    absl::StrAppend(
        out, "<span class=\"score\">(",
        reports::FormatScore(row.score().value()),
        english ? " points)" : " คะแนน)", "<span class=\"band\">",
        reports::BandCode(row.score().band()), "</span>",
        row.score().corrected()
            ? absl::StrCat("<span class=\"corrected\">",
                           english ? "corrected" : "แก้ไขแล้ว", "</span>")
            : "",
        "</span>");
  } else {
    absl::StrAppend(out, Gap(v1::ITA_GAP_SCORE, english));
  }
  absl::StrAppend(out, "</td>");

  // Column 2: what must improve.
  absl::StrAppend(out, "<td>");
  for (const v1::ItaIssue& issue : row.issues()) {
    absl::StrAppend(
        out, "<div class=\"entry\">", Text(issue.text()),
        issue.corrected()
            ? absl::StrCat("<span class=\"corrected\">",
                           english ? "corrected" : "แก้ไขแล้ว", "</span>")
            : "",
        "</div>");
  }
  if (HasGap(row, v1::ITA_GAP_ISSUE)) {
    absl::StrAppend(out, Gap(v1::ITA_GAP_ISSUE, english));
  }
  absl::StrAppend(out, "</td>");

  const bool shared = !row.measures_shared_with().empty();
  const std::string corrected_tag =
      absl::StrCat("<span class=\"corrected\">",
                   english ? "corrected" : "แก้ไขแล้ว", "</span>");

  // Column 3: the measures.
  absl::StrAppend(out, "<td>");
  for (const v1::ItaMeasure& m : row.measures()) {
    absl::StrAppend(out, "<div class=\"entry\"><span class=\"num\">",
                    m.number(), ".</span> ", Text(m.text()),
                    m.corrected() ? corrected_tag : "", "</div>");
  }
  if (shared) {
    absl::StrAppend(out, Shared(row, english));
  } else if (HasGap(row, v1::ITA_GAP_MEASURES)) {
    absl::StrAppend(out, Gap(v1::ITA_GAP_MEASURES, english));
  }
  absl::StrAppend(out, "</td>");

  // Column 4: the results of the round, per measure.
  absl::StrAppend(out, "<td>");
  for (const v1::ItaMeasure& m : row.measures()) {
    if (m.results().empty()) {
      absl::StrAppend(
          out, "<div class=\"gap\">",
          english
              ? absl::StrCat("Measure ", m.number(), ": no result reported")
              : absl::StrCat("มาตรการที่ ", m.number(), ": ยังไม่มีผลการดำเนินการ"),
          "</div>");
      continue;
    }
    for (const v1::ItaResult& r : m.results()) {
      absl::StrAppend(out, "<div class=\"entry\">");
      if (m.results_size() > 1) {
        absl::StrAppend(out, "<span class=\"num\">[",
                        reports::RoundCode(r.round()), "]</span> ");
      }
      absl::StrAppend(out, Text(r.text()), " <span class=\"status ",
                      StatusClass(r.status()), "\">",
                      Escape(Pick(r.status_label(), english)), "</span>",
                      r.corrected() ? corrected_tag : "", "</div>");
    }
  }
  if (shared) {
    absl::StrAppend(out, Shared(row, english));
  } else if (row.measures().empty()) {
    absl::StrAppend(out, Gap(v1::ITA_GAP_RESULTS, english));
  }
  absl::StrAppend(out, "</td>");

  // Column 5: the evidence.
  absl::StrAppend(out, "<td>");
  for (const v1::ItaMeasure& m : row.measures()) {
    for (const v1::ItaEvidence& e : m.evidence()) {
      absl::StrAppend(
          out, "<div class=\"evidence\"><span class=\"num\">",
          english ? "Photo" : "ภาพ", " (", english ? "measure " : "มาตรการที่ ",
          m.number(), ")</span> ",
          e.caption().empty() ? (english ? "(no caption)" : "(ไม่มีคำบรรยายภาพ)")
                              : Text(e.caption()),
          e.corrected() ? corrected_tag : "",
          "<br><span class=\"hash\">SHA-256 ", Escape(e.sha256_hex()),
          "</span>");
      if (!e.uri().empty()) {
        absl::StrAppend(out, "<br><a href=\"", Escape(e.uri()), "\">",
                        Escape(e.uri()), "</a>");
      }
      absl::StrAppend(out, "</div>");
    }
  }
  if (shared) {
    absl::StrAppend(out, Shared(row, english));
  } else if (HasGap(row, v1::ITA_GAP_EVIDENCE)) {
    absl::StrAppend(out, Gap(v1::ITA_GAP_EVIDENCE, english));
  }
  absl::StrAppend(out, "</td></tr>\n");
}

}  // namespace

std::string RenderItaHtml(const v1::ItaReport& report,
                          const HtmlOptions& options) {
  const bool en = options.english;
  std::string out;
  absl::StrAppend(&out, "<!DOCTYPE html>\n<html lang=\"", en ? "en" : "th",
                  "\">\n<head>\n<meta charset=\"utf-8\">\n<title>",
                  Escape(absl::StrCat(report.district_name().th(), " ",
                                      reports::RoundCode(report.round()), " ",
                                      report.fiscal_year(), " ITA")),
                  "</title>\n<style>", Style(options),
                  "</style>\n</head>\n<body>\n<header>\n<h1>",
                  Text(Pick(report.title(), en)),
                  "</h1>\n<div class=\"meta\">");
  const v1::Reflects& reflects = report.reflects();
  const int64_t evaluated = reflects.evaluated_at().seconds();
  if (en) {
    absl::StrAppend(&out, "From the Prongsai ledger up to log position ",
                    reflects.position(),
                    reflects.has_as_of() ? " (as it stood then)" : "",
                    " · dates judged on ", DateText(evaluated, true));
  } else {
    absl::StrAppend(&out, "จัดทำจากบัญชีข้อมูล Prongsai ถึงลำดับที่ ",
                    reflects.position(),
                    reflects.has_as_of() ? " (ตามข้อมูล ณ ขณะนั้น)" : "",
                    " · ข้อมูล ณ วันที่ ", DateText(evaluated, false));
  }
  absl::StrAppend(&out, "</div>\n</header>\n");
  if (report.empty()) {
    absl::StrAppend(&out, "<div class=\"note\">", Text(Pick(report.note(), en)),
                    "</div>\n");
  }

  absl::StrAppend(&out,
                  "<table>\n<colgroup><col class=\"c1\"><col class=\"c2\">"
                  "<col class=\"c3\"><col class=\"c4\"><col class=\"c5\">"
                  "</colgroup>\n<thead><tr>");
  for (const v1::Label& column : report.columns()) {
    absl::StrAppend(&out, "<th>", Text(Pick(column, en)), "</th>");
  }
  absl::StrAppend(&out, "</tr></thead>\n<tbody>\n");
  for (const v1::ItaTool& tool : report.tools()) {
    absl::StrAppend(&out, "<tr class=\"tool\"><td colspan=\"5\">",
                    Escape(Pick(tool.name(), en)), "</td></tr>\n");
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      absl::StrAppend(&out, "<tr class=\"indicator\"><td colspan=\"5\">",
                      Escape(Pick(indicator.name(), en)), "</td></tr>\n");
      for (const v1::ItaRow& row : indicator.rows()) {
        RenderRow(row, en, &out);
      }
    }
  }
  absl::StrAppend(&out, "</tbody>\n</table>\n<footer>\n");
  const v1::ItaReportSummary& s = report.summary();
  if (en) {
    absl::StrAppend(&out, "<div>", s.items(), " items (", s.items_scored(),
                    " scored) · ", s.measures(), " measures, ",
                    s.measures_with_results(), " with results this round · ",
                    s.evidence(), " pieces of evidence · ", s.rows_with_gaps(),
                    " rows with gaps</div>");
  } else {
    absl::StrAppend(
        &out, "<div>ประเด็นการประเมิน ", s.items(), " ประเด็น (มีคะแนน ",
        s.items_scored(), ") · มาตรการ ", s.measures(), " มาตรการ รายงานผลแล้ว ",
        s.measures_with_results(), " มาตรการ · ภาพกิจกรรม ", s.evidence(),
        " ภาพ · แถวที่มีช่องว่าง ", s.rows_with_gaps(), " แถว</div>");
  }
  absl::StrAppend(
      &out, "<div class=\"legend\"><span class=\"gap\">",
      en ? "red dashed box" : "กรอบเส้นประสีแดง", "</span> ",
      en ? "= a cell with nothing recorded (a gap)" : "= ช่องที่ยังไม่มีข้อมูลบันทึก",
      "</div>\n</footer>\n</body>\n</html>\n");
  return out;
}

}  // namespace prongsai::query

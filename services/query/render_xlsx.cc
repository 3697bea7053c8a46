#include <unistd.h>
#include <xlsxwriter.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status.h"
#include "projections/reports/labels.h"
#include "services/query/render.h"

namespace prongsai::query {
namespace {

// Closing a workbook writes it out and frees it.
struct WorkbookCloser {
  void operator()(lxw_workbook* workbook) const { workbook_close(workbook); }
};
using Workbook = std::unique_ptr<lxw_workbook, WorkbookCloser>;

constexpr uint8_t kPaperA4 = 9;
constexpr const char* kFont = "TH Sarabun New";
constexpr double kFontSize = 14;

struct Formats {
  lxw_format* title;
  lxw_format* meta;
  lxw_format* header;
  lxw_format* tool;
  lxw_format* indicator;
  lxw_format* cell;
  lxw_format* item;
  lxw_format* gap;
};

lxw_format* NewFormat(lxw_workbook* wb) {
  lxw_format* f = workbook_add_format(wb);
  format_set_font_name(f, kFont);
  format_set_font_size(f, kFontSize);
  format_set_text_wrap(f);
  format_set_align(f, LXW_ALIGN_VERTICAL_TOP);
  return f;
}

lxw_format* Bordered(lxw_workbook* wb) {
  lxw_format* f = NewFormat(wb);
  format_set_border(f, LXW_BORDER_THIN);
  return f;
}

Formats MakeFormats(lxw_workbook* wb) {
  Formats f;
  f.title = NewFormat(wb);
  format_set_bold(f.title);
  format_set_font_size(f.title, 16);
  format_set_align(f.title, LXW_ALIGN_CENTER);
  format_set_align(f.title, LXW_ALIGN_VERTICAL_CENTER);
  f.meta = NewFormat(wb);
  format_set_font_size(f.meta, 11);
  format_set_align(f.meta, LXW_ALIGN_CENTER);
  f.header = Bordered(wb);
  format_set_bold(f.header);
  format_set_align(f.header, LXW_ALIGN_CENTER);
  format_set_align(f.header, LXW_ALIGN_VERTICAL_CENTER);
  format_set_bg_color(f.header, 0xD9E2F3);
  f.tool = Bordered(wb);
  format_set_bold(f.tool);
  format_set_bg_color(f.tool, 0xBFCFE8);
  f.indicator = Bordered(wb);
  format_set_bold(f.indicator);
  format_set_bg_color(f.indicator, 0xE8EEF8);
  f.cell = Bordered(wb);
  f.item = Bordered(wb);
  format_set_bold(f.item);
  f.gap = Bordered(wb);
  format_set_font_color(f.gap, 0xA1001D);
  format_set_bg_color(f.gap, 0xFDECEE);
  return f;
}

absl::Status Check(lxw_error error, absl::string_view what) {
  if (error == LXW_NO_ERROR) {
    return absl::OkStatus();
  }
  return absl::InternalError(absl::StrCat("writing the XLSX report (", what,
                                          "): ", lxw_strerror(error)));
}

std::string GapCell(v1::ItaGap gap) {
  return absl::StrCat("[ช่องว่าง] ", GapText(gap, false));
}

bool HasGap(const v1::ItaRow& row, v1::ItaGap gap) {
  for (int g : row.gaps()) {
    if (g == gap) {
      return true;
    }
  }
  return false;
}

absl::Status WriteTable(lxw_workbook* wb, const Formats& f,
                        const v1::ItaReport& report) {
  lxw_worksheet* ws = workbook_add_worksheet(wb, "ITA");
  if (ws == nullptr) {
    return absl::InternalError("writing the XLSX report: no worksheet");
  }
  worksheet_set_landscape(ws);
  worksheet_set_paper(ws, kPaperA4);
  worksheet_set_margins(ws, 0.4, 0.4, 0.5, 0.5);
  worksheet_fit_to_pages(ws, 1, 0);
  const double widths[] = {30, 32, 45, 50, 30};
  for (int c = 0; c < 5; ++c) {
    RETURN_IF_ERROR(Check(worksheet_set_column(ws, c, c, widths[c], nullptr),
                          "column widths"));
  }
  lxw_row_t r = 0;
  auto merged = [&](const std::string& text, lxw_format* format) {
    return Check(worksheet_merge_range(ws, r, 0, r, 4, text.c_str(), format),
                 "a merged row");
  };
  auto cell = [&](lxw_col_t c, const std::string& text, lxw_format* format) {
    return Check(worksheet_write_string(ws, r, c, text.c_str(), format),
                 "a cell");
  };
  RETURN_IF_ERROR(merged(report.title().th(), f.title));
  worksheet_set_row(ws, r, 48, nullptr);
  ++r;
  RETURN_IF_ERROR(merged(
      absl::StrCat(
          "จัดทำจากบัญชีข้อมูล Prongsai ถึงลำดับที่ ", report.reflects().position(),
          report.empty() ? absl::StrCat(" · ", report.note().th()) : ""),
      f.meta));
  ++r;
  const lxw_row_t header_row = r;
  for (int c = 0; c < report.columns_size() && c < 5; ++c) {
    RETURN_IF_ERROR(cell(c, report.columns(c).th(), f.header));
  }
  worksheet_repeat_rows(ws, header_row, header_row);
  ++r;

  for (const v1::ItaTool& tool : report.tools()) {
    RETURN_IF_ERROR(merged(tool.name().th(), f.tool));
    ++r;
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      RETURN_IF_ERROR(merged(indicator.name().th(), f.indicator));
      ++r;
      for (const v1::ItaRow& row : indicator.rows()) {
        const bool shared = !row.measures_shared_with().empty();
        const std::string shared_text =
            absl::StrCat("ใช้มาตรการร่วมกับ ", row.measures_shared_with());
        std::vector<std::string> issues;
        for (const v1::ItaIssue& issue : row.issues()) {
          issues.push_back(issue.text());
        }
        std::vector<std::string> measures;
        std::vector<std::string> results;
        std::vector<std::string> evidence;
        bool result_gap = false;
        for (const v1::ItaMeasure& m : row.measures()) {
          measures.push_back(absl::StrCat(m.number(), ". ", m.text()));
          if (m.results().empty()) {
            result_gap = true;
            results.push_back(absl::StrCat("[ช่องว่าง] มาตรการที่ ", m.number(),
                                           ": ยังไม่มีผลการดำเนินการ"));
          } else {
            results.push_back(ResultsText(m));
          }
          if (!m.evidence().empty()) {
            evidence.push_back(EvidenceText(m));
          }
        }
        struct Cell {
          std::string text;
          lxw_format* format;
        };
        const Cell cells[5] = {
            {ItemCellText(row, false), f.item},
            {issues.empty() ? GapCell(v1::ITA_GAP_ISSUE)
                            : absl::StrJoin(issues, "\n"),
             issues.empty() ? f.gap : f.cell},
            {shared ? shared_text
                    : (measures.empty() ? GapCell(v1::ITA_GAP_MEASURES)
                                        : absl::StrJoin(measures, "\n")),
             !shared && measures.empty() ? f.gap : f.cell},
            {shared ? shared_text
                    : (measures.empty() ? GapCell(v1::ITA_GAP_RESULTS)
                                        : absl::StrJoin(results, "\n")),
             !shared && (measures.empty() || result_gap) ? f.gap : f.cell},
            {shared ? shared_text
                    : (evidence.empty() ? GapCell(v1::ITA_GAP_EVIDENCE)
                                        : absl::StrJoin(evidence, "\n\n")),
             !shared && HasGap(row, v1::ITA_GAP_EVIDENCE) ? f.gap : f.cell},
        };
        for (int c = 0; c < 5; ++c) {
          RETURN_IF_ERROR(cell(c, cells[c].text, cells[c].format));
        }
        ++r;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status WriteMeasures(lxw_workbook* wb, const Formats& f,
                           const v1::ItaReport& report) {
  lxw_worksheet* ws = workbook_add_worksheet(wb, "Measures");
  if (ws == nullptr) {
    return absl::InternalError("writing the XLSX report: no worksheet");
  }
  worksheet_set_landscape(ws);
  worksheet_set_paper(ws, kPaperA4);
  worksheet_fit_to_pages(ws, 1, 0);
  const char* headings[] = {"รหัส (Item)",
                            "ลำดับ (No.)",
                            "มาตรการ (Measure)",
                            "สถานะ (Status)",
                            "ผลการดำเนินการ (Results)",
                            "หลักฐาน (Evidence)"};
  const double widths[] = {10, 8, 50, 18, 55, 40};
  for (int c = 0; c < 6; ++c) {
    worksheet_set_column(ws, c, c, widths[c], nullptr);
    RETURN_IF_ERROR(Check(
        worksheet_write_string(ws, 0, c, headings[c], f.header), "a heading"));
  }
  worksheet_repeat_rows(ws, 0, 0);
  lxw_row_t r = 1;
  for (const v1::ItaTool& tool : report.tools()) {
    for (const v1::ItaIndicator& indicator : tool.indicators()) {
      for (const v1::ItaRow& row : indicator.rows()) {
        for (const v1::ItaMeasure& m : row.measures()) {
          const std::string values[] = {
              row.item_code(),       absl::StrCat(m.number()), m.text(),
              m.status_label().th(), ResultsText(m),           EvidenceText(m)};
          for (int c = 0; c < 6; ++c) {
            lxw_format* format = c == 4 && m.results().empty() ? f.gap : f.cell;
            const std::string text = c == 4 && m.results().empty()
                                         ? GapCell(v1::ITA_GAP_RESULTS)
                                         : values[c];
            RETURN_IF_ERROR(
                Check(worksheet_write_string(ws, r, c, text.c_str(), format),
                      "a measure"));
          }
          ++r;
        }
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> RenderItaXlsx(const v1::ItaReport& report) {
  // libxlsxwriter writes to a file; the bytes are read back and the file
  // removed.
  std::string path =
      (std::filesystem::temp_directory_path() / "prongsai-report-XXXXXX.xlsx")
          .string();
  const int fd = mkstemps(path.data(), 5);
  if (fd < 0) {
    return absl::UnavailableError(
        "writing the XLSX report: cannot create a temporary file");
  }
  close(fd);
  absl::Status status;
  {
    Workbook wb(workbook_new(path.c_str()));
    if (wb == nullptr) {
      std::filesystem::remove(path);
      return absl::InternalError("writing the XLSX report: no workbook");
    }
    const Formats formats = MakeFormats(wb.get());
    status = WriteTable(wb.get(), formats, report);
    if (status.ok()) {
      status = WriteMeasures(wb.get(), formats, report);
    }
    if (status.ok()) {
      status = Check(workbook_close(wb.release()), "closing the workbook");
    }
  }
  std::string bytes;
  if (status.ok()) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buffer;
    buffer << in.rdbuf();
    bytes = buffer.str();
    if (!in.good() && !in.eof()) {
      status = absl::InternalError("reading back the XLSX report");
    }
  }
  std::error_code ignored;
  std::filesystem::remove(path, ignored);
  if (!status.ok()) {
    return status;
  }
  return bytes;
}

}  // namespace prongsai::query

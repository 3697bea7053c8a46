#include "core/domain/reference.h"

#include <algorithm>
#include <cstdlib>
#include <map>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace prongsai::domain {
namespace {

// Generated from data/*.csv at build time.
#include "reference_data.inc"

using Row = std::map<std::string, std::string>;

// Splits one CSV line (RFC 4180 quoting, no line breaks inside fields).
std::vector<std::string> SplitCsvLine(absl::string_view line) {
  std::vector<std::string> cells(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        cells.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cells.back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.emplace_back();
    } else {
      cells.back().push_back(c);
    }
  }
  return cells;
}

// The rows of an embedded CSV file, keyed by its header. The files are part
// of the build, so a malformed one is a defect that the reference tests
// catch; it must not take down a running process.
std::vector<Row> ParseCsv(absl::string_view text) {
  std::vector<Row> rows;
  std::vector<std::string> header;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty()) {
      continue;
    }
    std::vector<std::string> cells = SplitCsvLine(line);
    if (header.empty()) {
      header = std::move(cells);
      continue;
    }
    Row row;
    for (size_t i = 0; i < header.size() && i < cells.size(); ++i) {
      row[header[i]] = std::move(cells[i]);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::vector<District> ParseDistricts() {
  std::vector<District> out;
  for (Row& row : ParseCsv(kDistrictsCsv)) {
    out.push_back({row["code"], row["name_th"], row["name_en"]});
  }
  std::sort(out.begin(), out.end(), [](const District& a, const District& b) {
    return a.code < b.code;
  });
  return out;
}

v1::Tool ParseTool(absl::string_view name) {
  if (name == "IIT") {
    return v1::TOOL_IIT;
  }
  if (name == "EIT") {
    return v1::TOOL_EIT;
  }
  if (name == "OIT") {
    return v1::TOOL_OIT;
  }
  return v1::TOOL_UNSPECIFIED;
}

v1::FrameworkPublished ParseFramework(int fiscal_year, absl::string_view csv) {
  v1::FrameworkPublished framework;
  framework.set_fiscal_year(fiscal_year);
  for (Row& row : ParseCsv(csv)) {
    v1::FrameworkItem* item = framework.add_items();
    item->set_tool(ParseTool(row["tool"]));
    item->set_tool_name_th(row["tool_name_th"]);
    item->set_tool_name_en(row["tool_name_en"]);
    int indicator = 0;
    if (absl::SimpleAtoi(row["indicator"], &indicator)) {
      item->set_indicator(indicator);
    }
    item->set_indicator_name_th(row["indicator_name_th"]);
    item->set_indicator_name_en(row["indicator_name_en"]);
    item->set_code(row["item"]);
    item->set_title_th(row["title_th"]);
    item->set_title_en(row["title_en"]);
  }
  return framework;
}

// Reads the number at the start of `text` (1-999) and the letters before it.
bool ParseSingle(absl::string_view text, std::string* prefix, int* number) {
  size_t letters = 0;
  while (letters < text.size() && absl::ascii_isupper(text[letters])) {
    ++letters;
  }
  const absl::string_view digits = text.substr(letters);
  if (letters == 0 || digits.empty() || digits.size() > 3 || digits[0] == '0' ||
      !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) {
    return false;
  }
  *prefix = std::string(text.substr(0, letters));
  *number = std::atoi(std::string(digits).c_str());
  return true;
}

}  // namespace

const std::vector<District>& Districts() {
  static const auto* districts = new std::vector<District>(ParseDistricts());
  return *districts;
}

const District* FindDistrict(absl::string_view code) {
  const auto& all = Districts();
  auto it = std::lower_bound(
      all.begin(), all.end(), code,
      [](const District& d, absl::string_view c) { return d.code < c; });
  return it == all.end() || it->code != code ? nullptr : &*it;
}

const std::vector<v1::FrameworkPublished>& ShippedFrameworks() {
  static const auto* frameworks = new std::vector<v1::FrameworkPublished>{
      ParseFramework(2568, kItaItems2568Csv)};
  return *frameworks;
}

const v1::FrameworkPublished* ShippedFramework(int fiscal_year) {
  for (const v1::FrameworkPublished& framework : ShippedFrameworks()) {
    if (framework.fiscal_year() == fiscal_year) {
      return &framework;
    }
  }
  return nullptr;
}

std::optional<ItemCode> ParseItemCode(absl::string_view code) {
  ItemCode out;
  const size_t dash = code.find('-');
  if (dash == absl::string_view::npos) {
    if (!ParseSingle(code, &out.prefix, &out.first)) {
      return std::nullopt;
    }
    out.last = out.first;
    return out;
  }
  std::string last_prefix;
  if (!ParseSingle(code.substr(0, dash), &out.prefix, &out.first) ||
      !ParseSingle(code.substr(dash + 1), &last_prefix, &out.last) ||
      last_prefix != out.prefix || out.last <= out.first) {
    return std::nullopt;
  }
  return out;
}

bool ItemCodeCovers(absl::string_view framework_code, absl::string_view code) {
  if (framework_code == code) {
    return true;
  }
  const std::optional<ItemCode> group = ParseItemCode(framework_code);
  const std::optional<ItemCode> item = ParseItemCode(code);
  return group.has_value() && item.has_value() && !item->is_group() &&
         group->prefix == item->prefix && group->first <= item->first &&
         item->first <= group->last;
}

}  // namespace prongsai::domain

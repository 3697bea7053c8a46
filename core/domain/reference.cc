#include "core/domain/reference.h"

#include <algorithm>
#include "absl/strings/string_view.h"

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace prongsai::domain {
namespace {

// Generated from data/*.csv at build time.
#include "reference_data.inc"

std::vector<District> ParseDistricts() {
  std::vector<District> out;
  bool header = true;
  for (absl::string_view line : absl::StrSplit(kDistrictsCsv, '\n')) {
    line = absl::StripTrailingAsciiWhitespace(line);
    if (line.empty()) {
      continue;
    }
    if (header) {
      header = false;
      continue;
    }
    std::vector<std::string> cells = absl::StrSplit(line, ',');
    if (cells.size() == 3) {
      out.push_back({cells[0], cells[1], cells[2]});
    }
  }
  return out;
}

}  // namespace

const std::vector<District>& Districts() {
  static const auto* districts = new std::vector<District>(ParseDistricts());
  return *districts;
}

const District* FindDistrict(absl::string_view code) {
  const auto& all = Districts();
  auto it = std::find_if(all.begin(), all.end(),
                         [&](const District& d) { return d.code == code; });
  return it == all.end() ? nullptr : &*it;
}

}  // namespace prongsai::domain

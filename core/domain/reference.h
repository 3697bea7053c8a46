// Reference data shipped with Prongsai: the 50 district offices of Bangkok and
// the ITA framework of each fiscal year, as published on the city stream on
// first start (see bootstrap.h), and the grammar of ITA item codes.
//
// Example:
//   const District* d = FindDistrict("1045");       // วังทองหลาง
//   const v1::FrameworkPublished* fy = ShippedFramework(2568);
//   ItemCodeCovers("O1-O17", "O5");                 // true
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain {

struct District {
  std::string code;  // "1001".."1050"
  std::string name_th;
  std::string name_en;
};

// The 50 districts, in code order.
const std::vector<District>& Districts();

// The district with `code`, or nullptr.
const District* FindDistrict(absl::string_view code);

// The name of the city-wide stream.
inline constexpr absl::string_view kCityStream = "city";

// The ITA frameworks that ship with Prongsai (data/ita_items_<year>.csv), in
// fiscal-year order. FY 2568 lists the items of the seed report: I1-I12,
// E1-E6, and the OIT as the two groups the report assesses together, O1-O17
// and O18-O22.
const std::vector<v1::FrameworkPublished>& ShippedFrameworks();

// The shipped framework of `fiscal_year` (Buddhist era), or nullptr.
const v1::FrameworkPublished* ShippedFramework(int fiscal_year);

// An ITA item code: one item ("I7", "O5") or a group of consecutive items of
// one tool that are assessed together ("O1-O17").
struct ItemCode {
  std::string prefix;  // "I", "E", "O"
  int first = 0;
  int last = 0;  // equal to `first` for a single item

  bool is_group() const { return last != first; }
};

// Parses "I7" or "O1-O17": upper-case ASCII letters, then a number 1-999,
// optionally "-", the same letters and a larger number. nullopt otherwise.
std::optional<ItemCode> ParseItemCode(absl::string_view code);

// True when the framework item `framework_code` is `code` itself, or is a
// group that contains it: "O1-O17" covers "O5" and "O1-O17", not "O18".
bool ItemCodeCovers(absl::string_view framework_code, absl::string_view code);

}  // namespace prongsai::domain

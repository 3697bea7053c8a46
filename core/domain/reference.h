// Reference data shipped with Prongsai: the 50 district offices of Bangkok and
// the ITA framework of each fiscal year, as published on the city stream on
// first start.
#pragma once

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

}  // namespace prongsai::domain

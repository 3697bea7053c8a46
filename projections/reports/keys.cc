#include "projections/reports/keys.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/bytes.h"

namespace prongsai::reports {

std::string FiscalYearKey(int fiscal_year) {
  return absl::StrFormat("%04d", fiscal_year);
}

void AppendPosition(uint64_t position, std::string* key) {
  AppendBigEndian64(position, key);
}

void AppendDay(int32_t day, std::string* key) {
  const auto u = static_cast<uint32_t>(day);
  key->push_back(static_cast<char>(u >> 24));
  key->push_back(static_cast<char>(u >> 16));
  key->push_back(static_cast<char>(u >> 8));
  key->push_back(static_cast<char>(u));
}

int32_t ReadDay(const char* data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
                              (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}

std::string Key(char kind, absl::string_view a, absl::string_view b,
                absl::string_view c, absl::string_view d) {
  std::string key;
  key.reserve(1 + a.size() + b.size() + c.size() + d.size());
  key.push_back(kind);
  absl::StrAppend(&key, a, b, c, d);
  return key;
}

std::string LocatorKey(absl::string_view stream, absl::string_view event_id) {
  return Key('E', stream, event_id);
}

absl::string_view IdAt(absl::string_view key, size_t offset,
                       absl::string_view* rest) {
  if (offset > key.size()) {
    if (rest != nullptr) {
      *rest = {};
    }
    return {};
  }
  key.remove_prefix(offset);
  const size_t nul = key.find('\0');
  if (rest != nullptr) {
    *rest = nul == absl::string_view::npos ? absl::string_view()
                                           : key.substr(nul + 1);
  }
  return key.substr(0, nul);
}

uint64_t TrailingPosition(absl::string_view key) {
  if (key.size() < 8) {
    return 0;
  }
  return ReadBigEndian64(key.data() + key.size() - 8);
}

int32_t DayNumber(absl::CivilDay day) {
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

absl::CivilDay DayOf(int32_t day_number) {
  return absl::CivilDay(1970, 1, 1) + day_number;
}

}  // namespace prongsai::reports

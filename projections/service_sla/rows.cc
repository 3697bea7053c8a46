#include "projections/service_sla/rows.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/bytes.h"
#include "core/domain/calendar.h"

namespace prongsai::service_sla {

std::string RequestKey(absl::string_view district,
                       absl::string_view request_id) {
  return absl::StrCat(absl::string_view(&kRequestKind, 1), district,
                      request_id);
}

std::string RequestPrefix(absl::string_view district) {
  return absl::StrCat(absl::string_view(&kRequestKind, 1), district);
}

std::string MonthKey(absl::string_view district, absl::string_view service,
                     absl::CivilMonth month) {
  std::string key = MonthPrefix(district);
  absl::StrAppend(&key, service);
  key.push_back('\0');
  absl::StrAppendFormat(&key, "%04d%02d", month.year(), month.month());
  return key;
}

std::string MonthPrefix(absl::string_view district) {
  return absl::StrCat(absl::string_view(&kMonthKind, 1), district);
}

std::string EventKey(absl::string_view district, absl::string_view event_id) {
  return absl::StrCat(absl::string_view(&kEventKind, 1), district,
                      EventBytes(event_id));
}

bool ParseMonthKey(absl::string_view key, std::string* district,
                   std::string* service, absl::CivilMonth* month) {
  if (key.size() < 1 + kDistrictWidth + 1 + 6 || key[0] != kMonthKind) {
    return false;
  }
  const absl::string_view yyyymm = key.substr(key.size() - 6);
  const absl::string_view middle =
      key.substr(1 + kDistrictWidth, key.size() - 7 - 1 - kDistrictWidth);
  if (key[key.size() - 7] != '\0') {
    return false;
  }
  int year = 0;
  int mon = 0;
  if (!absl::SimpleAtoi(yyyymm.substr(0, 4), &year) ||
      !absl::SimpleAtoi(yyyymm.substr(4), &mon)) {
    return false;
  }
  *district = std::string(key.substr(1, kDistrictWidth));
  *service = std::string(middle);
  *month = absl::CivilMonth(year, mon);
  return true;
}

std::string EventBytes(absl::string_view event_id) {
  if (!IsUuid(event_id)) {
    return std::string(event_id);
  }
  std::string hex;
  hex.reserve(32);
  for (char c : event_id) {
    if (c != '-') {
      hex.push_back(c);
    }
  }
  return absl::HexStringToBytes(absl::AsciiStrToLower(hex));
}

absl::Status ParseRow(absl::string_view key, absl::string_view bytes,
                      google::protobuf::MessageLite& row) {
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(
        absl::StrCat("service_sla row ", absl::CHexEscape(key),
                     " does not parse as ", row.GetTypeName()));
  }
  return absl::OkStatus();
}

absl::CivilMonth MonthOf(int64_t seconds) {
  return absl::CivilMonth(domain::BangkokDay(absl::FromUnixSeconds(seconds)));
}

int32_t DaysBetween(int64_t from, int64_t to) {
  const absl::CivilDay a = domain::BangkokDay(absl::FromUnixSeconds(from));
  const absl::CivilDay b = domain::BangkokDay(absl::FromUnixSeconds(to));
  const int64_t days = b - a;
  return days < 0 ? 0 : static_cast<int32_t>(days);
}

CurrentStatus StatusOf(const RequestRow& row) {
  CurrentStatus current{"open", 0};
  bool any = false;
  // Later in log order wins a tie of update times.
  for (const StatusFact& fact : row.updates()) {
    if (!any || fact.updated() >= current.updated) {
      current.status = fact.status();
      current.updated = fact.updated();
      any = true;
    }
  }
  return current;
}

}  // namespace prongsai::service_sla

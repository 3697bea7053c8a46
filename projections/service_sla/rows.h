// Keys and row helpers shared by the service_sla projection and its reader.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "projections/runtime/projection.h"
#include "projections/service_sla/sla_rows.pb.h"

namespace prongsai::service_sla {

// District codes, the only streams the view keeps, are 4 bytes wide.
inline constexpr size_t kDistrictWidth = 4;
inline constexpr char kRequestKind = 'R';
inline constexpr char kMonthKind = 'M';
inline constexpr char kEventKind = 'E';

std::string RequestKey(absl::string_view district,
                       absl::string_view request_id);
std::string RequestPrefix(absl::string_view district);
// yyyymm as 6 ASCII digits, so months sort in order.
std::string MonthKey(absl::string_view district, absl::string_view service,
                     absl::CivilMonth month);
std::string MonthPrefix(absl::string_view district);
std::string EventKey(absl::string_view district, absl::string_view event_id);

// Splits a month key into its parts; false when it is not one.
bool ParseMonthKey(absl::string_view key, std::string* district,
                   std::string* service, absl::CivilMonth* month);

// The 16 bytes of a UUID, or the id itself when it is not one.
std::string EventBytes(absl::string_view event_id);

// Reads and parses a row; nullopt when absent, DATA_LOSS when it does not
// parse.
template <typename Row>
absl::StatusOr<std::optional<Row>> ReadRow(const projections::ViewReader& view,
                                           absl::string_view key);
absl::Status ParseRow(absl::string_view key, absl::string_view bytes,
                      google::protobuf::MessageLite& row);

// The Bangkok month of a Unix time.
absl::CivilMonth MonthOf(int64_t seconds);
// Bangkok calendar days from `from` to `to`, at least 0.
int32_t DaysBetween(int64_t from, int64_t to);

// The request's current status as the latest update says ("open" without
// one), and the time of that update (0 without one).
struct CurrentStatus {
  std::string status;
  int64_t updated = 0;
};
CurrentStatus StatusOf(const RequestRow& row);

template <typename Row>
absl::StatusOr<std::optional<Row>> ReadRow(const projections::ViewReader& view,
                                           absl::string_view key) {
  absl::StatusOr<std::optional<std::string>> bytes = view.Get(key);
  if (!bytes.ok()) {
    return bytes.status();
  }
  if (!bytes->has_value()) {
    return std::optional<Row>();
  }
  Row row;
  if (absl::Status status = ParseRow(key, **bytes, row); !status.ok()) {
    return status;
  }
  return std::optional<Row>(std::move(row));
}

}  // namespace prongsai::service_sla

// The adapter contract of the BMA OSS bridge: one service request record,
// shaped on the Open311 GeoReport v2 service request, as it arrives (JSON,
// a CSV row, or a prongsai.v1.OssRequestRecord), and its ISO 8601 times.
//
// Fields: service_request_id, status ("open" or "closed"), status_notes,
// service_code, service_name, agency_responsible (the district),
// requested_datetime, updated_datetime, expected_datetime, and the extensions
// channel and completed_datetime. Other fields (address, lat, long,
// description, media_url, ...) are accepted and ignored: the ledger keeps no
// location or description of a request.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "prongsai/v1/oss.pb.h"

namespace prongsai::oss {

// Every field as sent; empty when absent or null.
struct OssRecord {
  std::string service_request_id;
  std::string status;
  std::string status_notes;
  std::string service_code;
  std::string service_name;
  std::string agency_responsible;
  std::string requested_datetime;
  std::string updated_datetime;
  std::string expected_datetime;
  std::string channel;
  std::string completed_datetime;
};

// The field names, in the order of the contract (and of a CSV export).
const std::vector<std::string>& RecordFieldNames();

// Reads a JSON object. A field of the wrong type is INVALID_ARGUMENT naming
// it; service_request_id may be an integer.
absl::StatusOr<OssRecord> RecordFromJson(const nlohmann::json& value);

// Reads a CSV row whose columns are named by `header` (unknown columns are
// ignored).
OssRecord RecordFromCsv(const std::vector<std::string>& header,
                        const std::vector<std::string>& fields);

OssRecord RecordFromProto(const v1::OssRequestRecord& record);

// The record as a JSON object of its non-empty fields.
nlohmann::json RecordToJson(const OssRecord& record);

// Parses an ISO 8601 date-time with a time zone: "2024-10-15T09:30:00+07:00",
// "2024-10-15T02:30:00Z", with optional fractions of a second and "+0700".
// INVALID_ARGUMENT saying what is wrong.
absl::StatusOr<absl::Time> ParseIsoTime(absl::string_view text);

// The reason of a JSON parse error, without the library's prefix: "syntax
// error while parsing value - invalid literal; last read: 'x'".
std::string JsonErrorReason(const nlohmann::json::parse_error& error);

// RFC 3339 in UTC with as many fraction digits as needed:
// "2024-10-15T02:30:00Z".
std::string FormatUtc(absl::Time t);
// RFC 3339 in Bangkok time: "2024-10-15T09:30:00+07:00".
std::string FormatBangkok(absl::Time t);

}  // namespace prongsai::oss

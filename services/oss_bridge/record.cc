#include "services/oss_bridge/record.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/domain/calendar.h"

namespace prongsai::oss {
namespace {

using Field = std::string OssRecord::*;

const std::vector<std::pair<std::string, Field>>& Fields() {
  static const auto* const fields =
      new std::vector<std::pair<std::string, Field>>{
          {"service_request_id", &OssRecord::service_request_id},
          {"status", &OssRecord::status},
          {"status_notes", &OssRecord::status_notes},
          {"service_code", &OssRecord::service_code},
          {"service_name", &OssRecord::service_name},
          {"agency_responsible", &OssRecord::agency_responsible},
          {"requested_datetime", &OssRecord::requested_datetime},
          {"updated_datetime", &OssRecord::updated_datetime},
          {"expected_datetime", &OssRecord::expected_datetime},
          {"channel", &OssRecord::channel},
          {"completed_datetime", &OssRecord::completed_datetime},
      };
  return *fields;
}

// Reads `n` digits at `pos`; false if they are not all digits.
bool Digits(absl::string_view text, size_t pos, size_t n, int* out) {
  if (pos + n > text.size()) {
    return false;
  }
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(text[i]))) {
      return false;
    }
    value = value * 10 + (text[i] - '0');
  }
  *out = value;
  return true;
}

absl::Status BadTime(absl::string_view text, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", text, "\" is not an ISO 8601 date-time with a time zone (", why,
      "); e.g. 2024-10-15T09:30:00+07:00"));
}

}  // namespace

const std::vector<std::string>& RecordFieldNames() {
  static const auto* const names = [] {
    auto* out = new std::vector<std::string>();
    for (const auto& [name, field] : Fields()) {
      out->push_back(name);
    }
    return out;
  }();
  return *names;
}

absl::StatusOr<OssRecord> RecordFromJson(const nlohmann::json& value) {
  if (!value.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a record must be a JSON object, got ", value.type_name()));
  }
  OssRecord record;
  for (const auto& [name, field] : Fields()) {
    auto it = value.find(name);
    if (it == value.end() || it->is_null()) {
      continue;
    }
    if (it->is_string()) {
      record.*field = it->get<std::string>();
    } else if (name == "service_request_id" &&
               (it->is_number_integer() || it->is_number_unsigned())) {
      record.*field = it->dump();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": expected a string, got ", it->type_name(), " ", it->dump()));
    }
  }
  return record;
}

OssRecord RecordFromCsv(const std::vector<std::string>& header,
                        const std::vector<std::string>& fields) {
  OssRecord record;
  for (size_t i = 0; i < header.size() && i < fields.size(); ++i) {
    for (const auto& [name, field] : Fields()) {
      if (header[i] == name) {
        record.*field = fields[i];
      }
    }
  }
  return record;
}

OssRecord RecordFromProto(const v1::OssRequestRecord& r) {
  OssRecord record;
  record.service_request_id = r.service_request_id();
  record.status = r.status();
  record.status_notes = r.status_notes();
  record.service_code = r.service_code();
  record.service_name = r.service_name();
  record.agency_responsible = r.agency_responsible();
  record.requested_datetime = r.requested_datetime();
  record.updated_datetime = r.updated_datetime();
  record.expected_datetime = r.expected_datetime();
  record.channel = r.channel();
  record.completed_datetime = r.completed_datetime();
  return record;
}

nlohmann::json RecordToJson(const OssRecord& record) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [name, field] : Fields()) {
    if (!(record.*field).empty()) {
      out[name] = record.*field;
    }
  }
  return out;
}

absl::StatusOr<absl::Time> ParseIsoTime(absl::string_view text) {
  int year = 0;
  int month = 0;
  int day = 0;
  int hour = 0;
  int minute = 0;
  int second = 0;
  if (!Digits(text, 0, 4, &year) || text.size() < 10 || text[4] != '-' ||
      !Digits(text, 5, 2, &month) || text[7] != '-' ||
      !Digits(text, 8, 2, &day)) {
    return BadTime(text, "the date must read YYYY-MM-DD");
  }
  if (text.size() == 10) {
    return BadTime(text, "no time of day");
  }
  if ((text[10] != 'T' && text[10] != 't') || !Digits(text, 11, 2, &hour) ||
      text.size() < 16 || text[13] != ':' || !Digits(text, 14, 2, &minute)) {
    return BadTime(text, "the time must read THH:MM:SS");
  }
  size_t pos = 16;
  if (pos < text.size() && text[pos] == ':') {
    if (!Digits(text, pos + 1, 2, &second)) {
      return BadTime(text, "the seconds must be two digits");
    }
    pos += 3;
  }
  absl::Duration fraction;
  if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
    ++pos;
    int64_t nanos = 0;
    int digits = 0;
    while (pos < text.size() &&
           absl::ascii_isdigit(static_cast<unsigned char>(text[pos]))) {
      if (digits < 9) {
        nanos = nanos * 10 + (text[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    if (digits == 0) {
      return BadTime(text, "no digits after the decimal point");
    }
    for (int i = digits; i < 9; ++i) {
      nanos *= 10;
    }
    fraction = absl::Nanoseconds(nanos);
  }
  if (pos >= text.size()) {
    return BadTime(text, "no time zone; add Z or an offset such as +07:00");
  }
  int offset_seconds = 0;
  if (text[pos] == 'Z' || text[pos] == 'z') {
    ++pos;
  } else if (text[pos] == '+' || text[pos] == '-') {
    const int sign = text[pos] == '-' ? -1 : 1;
    int oh = 0;
    int om = 0;
    if (!Digits(text, pos + 1, 2, &oh)) {
      return BadTime(text, "the offset must read +HH:MM");
    }
    pos += 3;
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
    }
    if (!Digits(text, pos, 2, &om)) {
      return BadTime(text, "the offset must read +HH:MM");
    }
    pos += 2;
    if (oh > 14 || om > 59) {
      return BadTime(text, "the offset is out of range");
    }
    offset_seconds = sign * (oh * 3600 + om * 60);
  } else {
    return BadTime(text, "unexpected text after the time");
  }
  if (pos != text.size()) {
    return BadTime(text, "unexpected text after the time zone");
  }
  const absl::CivilSecond civil(year, month, day, hour, minute, second);
  if (year < 1 || civil.year() != year || civil.month() != month ||
      civil.day() != day || civil.hour() != hour || civil.minute() != minute ||
      civil.second() != second) {
    return BadTime(text, "no such date or time of day");
  }
  return absl::FromCivil(civil, absl::UTCTimeZone()) -
         absl::Seconds(offset_seconds) + fraction;
}

std::string JsonErrorReason(const nlohmann::json::parse_error& error) {
  absl::string_view text = error.what();
  // "[json.exception.parse_error.101] parse error at line 1, column 7: ..."
  if (const size_t colon = text.find(": "); colon != absl::string_view::npos) {
    text.remove_prefix(colon + 2);
  }
  return std::string(text);
}

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*SZ", t, absl::UTCTimeZone());
}

std::string FormatBangkok(absl::Time t) {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%E*S%Ez", t,
                          domain::BangkokTimeZone());
}

}  // namespace prongsai::oss

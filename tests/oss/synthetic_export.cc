#include "tests/oss/synthetic_export.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "core/domain/reference.h"
#include "services/oss_bridge/catalog.h"

namespace prongsai::oss::testing {
namespace {

std::string Bangkok(absl::CivilSecond s) {
  return absl::FormatCivilTime(s) + "+07:00";
}

std::string CsvField(const std::string& value) {
  if (value.find_first_of(",\"\n\r") == std::string::npos) {
    return value;
  }
  std::string out = "\"";
  for (char c : value) {
    if (c == '"') {
      out.push_back('"');
    }
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

struct Timed {
  absl::CivilSecond updated;
  OssRecord record;
};

}  // namespace

const std::vector<MalformedKind>& MalformedKinds() {
  static const auto* const kinds = new std::vector<MalformedKind>{
      {"unknown district", "unknown district"},
      {"bad time", "no such date"},
      {"missing id", "service_request_id: required"},
      {"unknown service", "is not in the service catalog"},
      {"unreadable", "malformed"},
      {"no time zone", "no time zone"},
  };
  return *kinds;
}

SyntheticExport MakeExport(uint64_t total, uint64_t malformed_every,
                           uint32_t seed, const std::string& id_prefix) {
  std::mt19937 rng(seed);
  auto uniform = [&](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  const auto& districts = domain::Districts();
  const auto& services = ServiceCatalog::Shipped().services();
  const char* const kChannels[] = {"online", "counter", "phone", "other", ""};

  SyntheticExport out;
  const uint64_t malformed = malformed_every == 0 ? 0 : total / malformed_every;
  const uint64_t valid = total - malformed;
  std::vector<Timed> records;
  records.reserve(valid);
  const absl::CivilDay first_day(2024, 10, 1);
  while (records.size() < valid) {
    const uint64_t n = out.requests++;
    const auto& district = districts[uniform(0, districts.size() - 1)];
    const auto& service = services[uniform(0, services.size() - 1)];
    // 08:30 - 15:00 Bangkok, so that a same-day completion an hour or two
    // later is still on the day.
    const absl::CivilSecond requested =
        absl::CivilSecond(first_day + uniform(0, 181)) + 8 * 3600 + 1800 +
        uniform(0, 6 * 3600 + 1800);
    OssRecord base;
    base.service_request_id = absl::StrFormat("%s-%07d", id_prefix, n);
    base.service_code = service.code;
    switch (uniform(0, 3)) {
      case 0:
        base.agency_responsible = district.name_th;
        break;
      case 1:
        base.agency_responsible = district.name_en;
        break;
      default:
        base.agency_responsible = district.code;
    }
    base.channel = kChannels[uniform(0, 4)];
    base.requested_datetime = Bangkok(requested);
    if (uniform(0, 1) == 0) {
      base.service_name = service.name_th;
    }

    const int shape = uniform(0, 19);
    const bool has_update = shape >= 11;     // 45%
    const bool has_completion = shape >= 3;  // 85%
    OssRecord opened = base;
    opened.status = "open";
    opened.updated_datetime = base.requested_datetime;
    records.push_back({requested, opened});

    absl::CivilSecond last = requested;
    if (has_update && records.size() < valid) {
      OssRecord update = base;
      update.status = "open";
      last = requested + 3600 * uniform(1, 20);
      update.updated_datetime = Bangkok(last);
      update.status_notes = "เจ้าหน้าที่ตรวจสอบเอกสาร, รอผลการพิจารณา";
      records.push_back({last, update});
      ++out.status_updates;
    }
    if (has_completion && records.size() < valid) {
      const bool late = uniform(0, 4) == 0;
      absl::CivilSecond completed;
      if (service.standard_days == 0 && !late) {
        completed = requested + 3600;
      } else {
        const int day =
            late ? service.standard_days + 1 + uniform(0, 10)
                 : uniform(1, service.standard_days > 0 ? service.standard_days
                                                        : 1) -
                       (service.standard_days > 0 ? 0 : 1);
        completed =
            absl::CivilSecond(absl::CivilDay(requested) + day) + 16 * 3600;
      }
      completed = std::max(completed, last + 60);
      OssRecord done = base;
      done.status = "closed";
      done.updated_datetime = Bangkok(completed);
      done.completed_datetime = Bangkok(completed);
      done.status_notes = "ดำเนินการแล้วเสร็จ";
      records.push_back({completed, done});
      ++out.completed;
      // The deadline is the end of day requested + standard_days.
      const bool on_time = absl::CivilDay(completed) <=
                           absl::CivilDay(requested) + service.standard_days;
      ++(on_time ? out.on_time : out.late);
    }
  }
  std::stable_sort(
      records.begin(), records.end(),
      [](const Timed& a, const Timed& b) { return a.updated < b.updated; });
  out.valid = valid;

  // Malformed records at random places, each kind in turn.
  const auto& kinds = MalformedKinds();
  std::vector<ExportRow> bad;
  std::vector<size_t> places;
  for (uint64_t m = 0; m < malformed; ++m) {
    const int kind = static_cast<int>(m % kinds.size());
    ExportRow row;
    row.valid = false;
    row.malformed_kind = kind;
    OssRecord r;
    r.service_request_id = absl::StrFormat("%s-BAD-%05d", id_prefix, m);
    r.status = "open";
    r.service_code = "REG-BIRTH";
    r.agency_responsible = "1045";
    r.requested_datetime = "2024-11-05T10:00:00+07:00";
    switch (kind) {
      case 0:
        r.agency_responsible = "Atlantis";
        break;
      case 1:
        r.requested_datetime = "2024-13-45T10:00:00+07:00";
        break;
      case 2:
        r.service_request_id.clear();
        break;
      case 3:
        r.service_code = "NOT-A-SERVICE";
        break;
      case 5:
        r.requested_datetime = "2024-11-05T10:00:00";
        break;
      default:
        break;
    }
    row.record = r;
    if (kind == 4) {
      row.raw_json = absl::StrCat("{\"service_request_id\": \"",
                                  r.service_request_id, "\", \"status\": ");
      row.raw_csv = absl::StrCat(r.service_request_id, ",op\"e\"n");
    }
    bad.push_back(std::move(row));
    places.push_back(static_cast<size_t>(
        std::uniform_int_distribution<uint64_t>(0, records.size())(rng)));
    ++out.malformed;
    ++out.malformed_by_kind[kinds[kind].name];
  }
  std::sort(places.begin(), places.end());
  out.rows.reserve(total);
  size_t next_bad = 0;
  for (size_t i = 0; i <= records.size(); ++i) {
    while (next_bad < places.size() && places[next_bad] == i) {
      out.rows.push_back(std::move(bad[next_bad++]));
    }
    if (i < records.size()) {
      ExportRow row;
      row.record = std::move(records[i].record);
      out.rows.push_back(std::move(row));
    }
  }
  return out;
}

void WriteJsonLines(const SyntheticExport& e, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  for (const ExportRow& row : e.rows) {
    if (!row.raw_json.empty()) {
      out << row.raw_json << "\n";
    } else {
      out << RecordToJson(row.record).dump() << "\n";
    }
  }
}

void WriteCsv(const SyntheticExport& e, const std::string& path) {
  std::ofstream out(path, std::ios::binary);
  const std::vector<std::string>& names = RecordFieldNames();
  for (size_t i = 0; i < names.size(); ++i) {
    out << (i == 0 ? "" : ",") << names[i];
  }
  out << "\r\n";
  for (const ExportRow& row : e.rows) {
    if (!row.raw_csv.empty()) {
      out << row.raw_csv << "\r\n";
      continue;
    }
    const nlohmann::json json = RecordToJson(row.record);
    for (size_t i = 0; i < names.size(); ++i) {
      out << (i == 0 ? "" : ",")
          << CsvField(json.value(names[i], std::string()));
    }
    out << "\r\n";
  }
}

}  // namespace prongsai::oss::testing

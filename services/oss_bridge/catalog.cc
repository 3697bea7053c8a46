#include "services/oss_bridge/catalog.h"

#include <cstdlib>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "services/oss_bridge/csv.h"

namespace prongsai::oss {
namespace {

#include "service_catalog.inc"

constexpr int kMaxStandardDays = 3650;

}  // namespace

const ServiceCatalog& ServiceCatalog::Shipped() {
  static const ServiceCatalog* const catalog = [] {
    absl::StatusOr<ServiceCatalog> parsed = Parse(kServiceCatalogCsv);
    // The shipped file is checked by the tests; a broken build must not run.
    if (!parsed.ok()) {
      std::abort();
    }
    return new ServiceCatalog(std::move(*parsed));
  }();
  return *catalog;
}

absl::StatusOr<ServiceCatalog> ServiceCatalog::Parse(absl::string_view csv) {
  std::istringstream in{std::string(csv)};
  std::string text;
  size_t bytes = 0;
  size_t lines = 0;
  size_t line = 0;
  if (!ReadCsvRecord(in, &text, &bytes, &lines)) {
    return absl::InvalidArgumentError("service catalog: empty");
  }
  line += lines;
  ASSIGN_OR_RETURN(std::vector<std::string> header, SplitCsvRecord(text));
  const std::vector<std::string> kColumns = {"service_code", "name_th",
                                             "name_en",      "group_th",
                                             "group_en",     "standard_days"};
  std::vector<int> index(kColumns.size(), -1);
  for (size_t c = 0; c < kColumns.size(); ++c) {
    for (size_t h = 0; h < header.size(); ++h) {
      if (header[h] == kColumns[c]) {
        index[c] = static_cast<int>(h);
      }
    }
    if (index[c] < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "service catalog: the header has no column ", kColumns[c]));
    }
  }
  ServiceCatalog catalog;
  while (ReadCsvRecord(in, &text, &bytes, &lines)) {
    line += lines;
    if (text.empty()) {
      continue;
    }
    const std::string where = absl::StrCat("service catalog line ", line);
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvRecord(text);
    if (!fields.ok()) {
      return Annotate(fields.status(), where);
    }
    auto column = [&](size_t c) -> const std::string& {
      static const std::string kEmpty;
      const int i = index[c];
      return i < static_cast<int>(fields->size()) ? (*fields)[i] : kEmpty;
    };
    CatalogService service;
    service.code = column(0);
    service.name_th = column(1);
    service.name_en = column(2);
    service.group_th = column(3);
    service.group_en = column(4);
    if (service.code.empty() || service.name_th.empty() ||
        service.name_en.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": service_code, name_th and name_en are required"));
    }
    if (!absl::SimpleAtoi(column(5), &service.standard_days) ||
        service.standard_days < 0 || service.standard_days > kMaxStandardDays) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": standard_days must be a whole number 0-",
                       kMaxStandardDays, ", got \"", column(5), "\""));
    }
    if (!catalog.by_code_.emplace(service.code, catalog.services_.size())
             .second) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, ": service_code ", service.code, " appears twice"));
    }
    catalog.services_.push_back(std::move(service));
  }
  return catalog;
}

const CatalogService* ServiceCatalog::Find(absl::string_view code) const {
  auto it = by_code_.find(code);
  return it == by_code_.end() ? nullptr : &services_[it->second];
}

absl::Time Deadline(const CatalogService& service, absl::Time requested) {
  const absl::CivilDay due =
      domain::BangkokDay(requested) + service.standard_days;
  return absl::FromCivil(due + 1, domain::BangkokTimeZone()) - absl::Seconds(1);
}

}  // namespace prongsai::oss

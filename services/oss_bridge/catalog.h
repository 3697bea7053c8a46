// The service catalog: the services district offices deliver through BMA
// OSS, with their standard time to complete (data/service_catalog.csv,
// embedded in the binary). It gives each request its deadline.
//
// Example:
//   const ServiceCatalog& catalog = ServiceCatalog::Shipped();
//   const CatalogService* s = catalog.Find("BLD-PERMIT");  // 45 days
//   absl::Time due = Deadline(*s, requested);
#pragma once

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace prongsai::oss {

struct CatalogService {
  std::string code;
  std::string name_th;
  std::string name_en;
  std::string group_th;
  std::string group_en;
  // Calendar days from the day of the request; 0 = the same day.
  int standard_days = 0;
};

class ServiceCatalog {
 public:
  // The catalog shipped in the binary.
  static const ServiceCatalog& Shipped();

  // Reads a catalog in the CSV form of data/service_catalog.csv;
  // INVALID_ARGUMENT naming the line and column of a bad entry.
  static absl::StatusOr<ServiceCatalog> Parse(absl::string_view csv);

  // The service with `code`, or nullptr.
  const CatalogService* Find(absl::string_view code) const;

  // In file order.
  const std::vector<CatalogService>& services() const { return services_; }

 private:
  std::vector<CatalogService> services_;
  absl::flat_hash_map<std::string, size_t> by_code_;
};

// The deadline of a request of `service` made at `requested`: the end of the
// Bangkok day `standard_days` days after the day of the request.
absl::Time Deadline(const CatalogService& service, absl::Time requested);

}  // namespace prongsai::oss

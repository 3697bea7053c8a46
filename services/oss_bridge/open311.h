// The public, anonymised Open311 GeoReport v2 read side of the service
// requests, answered from the service_sla view, so that civic tools that
// already speak Open311 can read how districts deliver their services.
//
//   GET /open311/v2/services.json       the service catalog
//   GET /open311/v2/requests.json       requests, newest first
//   GET /open311/v2/requests/{id}.json  one request (a one-element array)
//
// requests.json filters: service_request_id (comma-separated; the other
// filters are then ignored), service_code (comma-separated), status (open,
// closed or both), start_date and end_date (ISO 8601 with a time zone, on
// requested_datetime; by default the 90 days up to now), and
// agency_responsible (the district: code or Thai or English name). At most
// 1000 requests are returned. lang=en gives English service and agency names.
//
// Each request carries service_request_id, status, service_code,
// service_name, agency_responsible, requested_datetime, updated_datetime and
// expected_datetime (Bangkok time). No personal data: no status notes, no
// address, location, description or media, which the view never holds.
// Errors follow Open311: an array of {"code": <http status>,
// "description": "..."}.
//
// Example:
//   httplib::Server http;
//   RegisterOpen311Routes(http, [&] { return runner->Snapshot(); });
#pragma once

#include <httplib.h>

#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "projections/runtime/runner.h"
#include "services/oss_bridge/catalog.h"

namespace prongsai::oss {

using SnapshotSource =
    std::function<absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>>()>;

struct Open311Options {
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Most requests in one answer.
  int max_requests = 1'000;
  // The window of requests.json without start_date.
  absl::Duration default_window = absl::Hours(24 * 90);
};

// Registers the three routes on `server`; each request takes a fresh snapshot
// from `snapshots`. `catalog` must outlive the server.
void RegisterOpen311Routes(
    httplib::Server& server, SnapshotSource snapshots,
    const ServiceCatalog* catalog = &ServiceCatalog::Shipped(),
    Open311Options options = {});

}  // namespace prongsai::oss

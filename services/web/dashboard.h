// The monitoring dashboard of the query role: a city page (all 50 districts
// by ITA indicator, with alerts and city totals) and a district page (the
// ITA progress report, measures with evidence, meetings, gifts, complaints
// and the audit status), served on the HTTP server of the Reports queries.
//
// The pages are a small script over the JSON API; everything they load is
// embedded in the binary. Next to the pages it serves:
//   GET /                          the city page
//   GET /districts/{code}          the district page
//   GET /assets/{name}             the embedded CSS and JavaScript
//   GET /v1/about                  {"demo": bool, "logPosition": n, ...}
//   GET /v1/live                   server-sent events: the log position the
//                                  views have consumed, whenever it advances
//   GET /v1/districts/{code}/meetings?fy=2568
//   GET /v1/districts/{code}/audit the latest signed checkpoint, checked
//   GET /v1/districts/{code}/export the export file for `prongsai verify`
//   GET /v1/city/services?fy=2568  BMA OSS timeliness: city and per district
//   GET /v1/districts/{code}/services?fy=2568   ... per service
//
// Example:
//   query::HttpOptions http;
//   http.extra_routes = [&](httplib::Server& server) {
//     web::RegisterDashboard(server, {.log = log, .runner = runner,
//                                     .checkpointer = checkpointer});
//   };
#pragma once

#include <string>

#include "core/log/event_log.h"
#include "projections/runtime/runner.h"
#include "services/audit/checkpointer.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace prongsai::web {

struct DashboardContext {
  // Required; must outlive the server.
  log::EventLog* log = nullptr;
  projections::ProjectionRunner* runner = nullptr;
  // Optional: without it the audit status says no checkpoint is kept.
  audit_service::Checkpointer* checkpointer = nullptr;
  // The gRPC address the export command shown to readers should name.
  std::string grpc_address;
};

// Adds the dashboard's routes to `server`.
void RegisterDashboard(httplib::Server& server, const DashboardContext& context);

}  // namespace prongsai::web

// The Reports queries over HTTP/JSON, for browsers, spreadsheets and scripts:
// the same messages as gRPC in the proto3 JSON mapping, the ITA report also
// as HTML, CSV and XLSX downloads, and the Thai font the HTML asks for.
//
//   GET /v1/districts/{code}/ita-report?fy=2568&round=H1&format=html
//   GET /v1/districts/{code}/scorecard?fy=2568
//   GET /v1/districts/{code}/gift-register?fy=2568&round=H1
//   GET /v1/districts/{code}/complaints?fy=2568[&round=H1]
//   GET /v1/city/gift-register?fy=2568&round=FULL_YEAR
//   GET /v1/city/complaints?fy=2568
//   GET /v1/city/overview?fy=2568
//   GET /healthz
//   GET /fonts/Laksaman.ttf
//
// Every query also takes as_of (a log position, an RFC 3339 time, or a date
// meaning the end of that day in Bangkok), min_position and wait (e.g. "5s")
// for read-your-writes, and lang=en for English labels in HTML. Errors are
// {"code": "INVALID_ARGUMENT", "message": "..."} with the matching status
// (400, 404, 412, 503, 504, ...). The log position an answer reflects is
// also in the X-Prongsai-Position header.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/log/event_log.h"
#include "core/security/guard.h"
#include "core/security/http_guard.h"
#include "projections/runtime/runner.h"
#include "services/query/render.h"
#include "services/query/report_queries.h"

namespace httplib {
class Server;
}  // namespace httplib

namespace prongsai::query {

struct HttpOptions {
  // host:port; port 0 picks a free one.
  std::string listen = "127.0.0.1:8080";
  // Where the Thai fonts are read from (Debian's fonts-thai-tlwg).
  std::string font_dir = std::string(kThaiFontDir);
  // Every request passes it (core/security/http_guard.h) and what a reader
  // sees of personal data follows from its principal; null: the library
  // default, insecure-dev.
  security::Guard* guard = nullptr;
  // PEM files: with both, HTTPS. (No client certificates: browsers are
  // clients; roles come from bearer tokens.)
  std::string tls_cert;
  std::string tls_key;
  // A request (headers and body) must arrive, and its answer leave, within
  // this long; slower clients are cut off.
  absl::Duration io_timeout = absl::Seconds(30);
  // Largest request body accepted.
  size_t max_body_bytes = 1 << 20;
  // More routes on the same server (the dashboard), registered before the
  // error handler.
  std::function<void(httplib::Server&)> extra_routes;
};

class HttpServer {
 public:
  // Binds and starts serving in a background thread. `queries` and `runner`
  // must outlive the server.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      ReportQueries* queries, projections::ProjectionRunner* runner,
      HttpOptions options);
  virtual ~HttpServer() = default;

  // The port actually bound.
  virtual int port() const = 0;
  // Stops taking requests and waits for the serving thread.
  virtual void Stop() = 0;
};

// Parses an HTTP as_of value into `as_of`: digits are a log position, a date
// (2025-03-31) is the end of that day in Bangkok (now, for today), anything
// else an RFC 3339 time. INVALID_ARGUMENT naming as_of otherwise.
absl::Status ParseAsOf(absl::string_view text, absl::Time now, v1::AsOf* as_of);

// "H1", "H2", "FULL_YEAR" (also "full", "year", case-insensitive).
absl::StatusOr<v1::Round> ParseRound(absl::string_view text);

using security::HttpStatusOf;

}  // namespace prongsai::query

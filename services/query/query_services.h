// The query role: prongsai.v1.Reports over gRPC and the same answers over
// HTTP/JSON (with the report downloads), on top of the report views that a
// ProjectionRunner keeps (reports::ReportProjections()).
//
// Example:
//   std::vector<std::unique_ptr<projections::Projection>> views =
//       reports::ReportProjections();
//   ASSIGN_OR_RETURN(auto runner, projections::ProjectionRunner::Start(
//       log.get(), {.path = dir + "/views"}, std::move(views)));
//   query::QueryServices query(log.get(), runner.get(),
//                              {.http = {.listen = "127.0.0.1:8080"}});
//   query.Register(builder);           // before builder.BuildAndStart()
//   RETURN_IF_ERROR(query.StartHttp());
//   ...
//   query.Stop();                      // before the runner goes away
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>

#include "absl/status/status.h"
#include "core/log/event_log.h"
#include "projections/runtime/runner.h"
#include "services/query/http_server.h"
#include "services/query/report_queries.h"

namespace prongsai::query {

struct QueryServiceOptions {
  QueryOptions queries;
  // HTTP/JSON; an empty http.listen serves no HTTP.
  HttpOptions http;
  // Every gRPC call and HTTP request passes it (HttpOptions::guard is set
  // from it); null: the library default, insecure-dev.
  security::Guard* guard = nullptr;
};

class ReportsService;

class QueryServices {
 public:
  // `log` and `runner` must outlive the services.
  QueryServices(log::EventLog* log, projections::ProjectionRunner* runner,
                QueryServiceOptions options = {});
  ~QueryServices();
  QueryServices(const QueryServices&) = delete;
  QueryServices& operator=(const QueryServices&) = delete;

  // Registers prongsai.v1.Reports; call before builder.BuildAndStart().
  void Register(grpc::ServerBuilder& builder);
  // Starts HTTP (when options.http.listen is set).
  absl::Status StartHttp();
  // The HTTP port bound; 0 when HTTP is not serving.
  int http_port() const;
  // Stops HTTP. (gRPC stops with its server.)
  void Stop();

  ReportQueries& queries() { return *queries_; }

 private:
  const QueryServiceOptions options_;
  projections::ProjectionRunner* const runner_;
  std::unique_ptr<ReportQueries> queries_;
  std::unique_ptr<ReportsService> service_;
  std::unique_ptr<HttpServer> http_;
};

}  // namespace prongsai::query

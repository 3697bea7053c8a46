#include "services/query/query_services.h"

#include "core/base/status.h"
#include "services/query/reports_service.h"

namespace prongsai::query {

namespace {

QueryServiceOptions WithGuard(QueryServiceOptions options) {
  if (options.guard == nullptr) {
    options.guard = &security::Guard::InsecureDev();
  }
  options.http.guard = options.guard;
  return options;
}

}  // namespace

QueryServices::QueryServices(log::EventLog* log,
                             projections::ProjectionRunner* runner,
                             QueryServiceOptions options)
    : options_(WithGuard(std::move(options))),
      runner_(runner),
      queries_(std::make_unique<ReportQueries>(log, runner, options_.queries)),
      service_(std::make_unique<ReportsService>(queries_.get(),
                                                options_.guard)) {}

QueryServices::~QueryServices() { Stop(); }

void QueryServices::Register(grpc::ServerBuilder& builder) {
  builder.RegisterService(service_.get());
}

absl::Status QueryServices::StartHttp() {
  if (options_.http.listen.empty() || http_ != nullptr) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(http_,
                   HttpServer::Start(queries_.get(), runner_, options_.http));
  return absl::OkStatus();
}

int QueryServices::http_port() const {
  return http_ == nullptr ? 0 : http_->port();
}

void QueryServices::Stop() {
  if (http_ != nullptr) {
    http_->Stop();
  }
}

}  // namespace prongsai::query

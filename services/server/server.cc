#include "services/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <filesystem>

#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/log/rocksdb_log.h"
#include "services/ingest/ingestor.h"
#include "services/ingest/ledger_service.h"

namespace prongsai::server {
namespace {

constexpr absl::Duration kShutdownGrace = absl::Seconds(5);

class ServerImpl final : public Server {
 public:
  ~ServerImpl() override { Shutdown(); }

  int port() const override { return port_; }

  void Shutdown() override {
    absl::MutexLock lock(&mu_);
    if (down_) {
      return;
    }
    down_ = true;
    grpc_->Shutdown(std::chrono::system_clock::now() +
                    absl::ToChronoSeconds(kShutdownGrace));
    ingestor_->Stop();
  }

  void Wait() override { grpc_->Wait(); }

  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<ingest::LedgerService> ledger_;
  std::unique_ptr<grpc::Server> grpc_;
  int port_ = 0;
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data directory ", options.data_dir, ": ", error.message()));
  }
  auto server = std::make_unique<ServerImpl>();
  ASSIGN_OR_RETURN(server->log_,
                   log::OpenRocksDbLog({.path = options.data_dir + "/log",
                                        .sync = options.sync}));
  ingest::IngestOptions ingest_options;
  ingest_options.max_events_per_append = options.max_events_per_append;
  ASSIGN_OR_RETURN(server->ingestor_,
                   ingest::Ingestor::Start(server->log_.get(), ingest_options));
  server->ledger_ = std::make_unique<ingest::LedgerService>(
      server->ingestor_.get(), server->log_.get());

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  builder.RegisterService(server->ledger_.get());
  server->grpc_ = builder.BuildAndStart();
  if (server->grpc_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options.listen));
  }
  return server;
}

}  // namespace prongsai::server

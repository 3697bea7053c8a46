#include "services/server/server.h"

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <httplib.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include <algorithm>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/audit/note.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "core/log/kafka_log.h"
#include "core/log/rocksdb_log.h"
#include "core/privacy/key_store.h"
#include "core/privacy/sealer.h"
#include "core/security/grpc_security.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/privacy.grpc.pb.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"
#include "projections/reports/report_projections.h"
#include "projections/runtime/runner.h"
#include "projections/service_sla/service_sla_projection.h"
#include "services/audit/audit_service.h"
#include "services/audit/checkpointer.h"
#include "services/ingest/ingestor.h"
#include "services/ingest/ledger_service.h"
#include "services/oss_bridge/open311.h"
#include "services/privacy/privacy_service.h"
#include "services/metrics/metrics.h"
#include "services/query/query_services.h"
#include "services/server/demo.h"
#include "services/server/projections_service.h"
#include "services/web/dashboard.h"

namespace prongsai::server {
namespace {

constexpr absl::Duration kShutdownGrace = absl::Seconds(5);

bool Has(const std::vector<std::string>& roles, absl::string_view role) {
  return std::find(roles.begin(), roles.end(), role) != roles.end();
}

class ServerImpl final : public Server {
 public:
  ~ServerImpl() override { Shutdown(); }

  int port() const override { return port_; }
  int http_port() const override {
    return query_ == nullptr ? 0 : query_->http_port();
  }
  int metrics_port() const override {
    return metrics_ == nullptr ? 0 : metrics_->port();
  }
  std::string verifier_key() const override {
    return checkpointer_ == nullptr ? "" : checkpointer_->VerifierKey();
  }

  void Shutdown() override {
    absl::MutexLock lock(&mu_);
    if (down_) {
      return;
    }
    down_ = true;
    if (metrics_ != nullptr) {
      metrics_->Stop();
    }
    if (grpc_ != nullptr && grpc_->GetHealthCheckService() != nullptr) {
      // NOT_SERVING from now on: load balancers stop sending new calls
      // while those in flight finish.
      grpc_->GetHealthCheckService()->Shutdown();
    }
    if (grpc_ != nullptr) {
      grpc_->Shutdown(std::chrono::system_clock::now() +
                      absl::ToChronoSeconds(kShutdownGrace));
    }
    if (query_ != nullptr) {
      query_->Stop();
    }
    if (checkpointer_ != nullptr) {
      checkpointer_->Stop();
    }
    if (runner_ != nullptr) {
      runner_->Stop();
    }
    if (ingestor_ != nullptr) {
      ingestor_->Stop();
    }
  }

  void Wait() override {
    if (grpc_ != nullptr) {
      grpc_->Wait();
    }
  }

  // Members in construction order; destroyed in reverse.
  std::unique_ptr<security::Guard> guard_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<privacy::KeyStore> key_store_;
  std::unique_ptr<privacy::PersonalFieldSealer> sealer_;
  std::unique_ptr<privacy::PersonalFieldOpener> opener_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<audit_service::Checkpointer> checkpointer_;
  std::unique_ptr<ingest::LedgerService> ledger_;
  std::unique_ptr<privacy_service::PrivacyService> privacy_;
  std::unique_ptr<ProjectionsService> projections_;
  std::unique_ptr<audit_service::AuditService> audit_;
  std::unique_ptr<query::QueryServices> query_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<metrics::MetricsServer> metrics_;
  int port_ = 0;
  absl::Mutex mu_;
  bool down_ ABSL_GUARDED_BY(mu_) = false;
};

absl::StatusOr<std::unique_ptr<log::EventLog>> OpenLog(
    const ServerOptions& options, bool writer) {
  if (options.log == "rocksdb") {
    ASSIGN_OR_RETURN(std::unique_ptr<log::EventLog> log,
                     log::OpenRocksDbLog({.path = options.data_dir + "/log",
                                          .sync = options.sync}));
    return log;
  }
  if (options.log == "kafka") {
    if (options.kafka_brokers.empty()) {
      return absl::InvalidArgumentError("--log=kafka needs --brokers");
    }
    log::KafkaLogOptions kafka;
    kafka.brokers = options.kafka_brokers;
    kafka.topic = options.kafka_topic;
    kafka.replica_path = options.data_dir + "/kafka-replica";
    kafka.shard = options.kafka_shard;
    kafka.shard_count = options.kafka_shards;
    kafka.read_only = !writer;
    kafka.properties = options.kafka_properties;
    ASSIGN_OR_RETURN(std::unique_ptr<log::KafkaEventLog> log,
                     log::OpenKafkaLog(kafka));
    return std::unique_ptr<log::EventLog>(std::move(log));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "--log: unknown log \"", options.log, "\"; use rocksdb or kafka"));
}

// Appends the shipped reference data (districts, frameworks) that the city
// stream does not hold yet, in one append.
absl::Status PublishReferenceData(ingest::Ingestor& ingestor,
                                  log::EventLog& log) {
  v1::AppendRequest request;
  request.set_stream(std::string(domain::kCityStream));
  for (v1::Event& event : domain::CityBootstrapEvents()) {
    ASSIGN_OR_RETURN(std::optional<log::EventRef> stored,
                     log.FindEvent(event.event_id()));
    if (!stored.has_value()) {
      *request.add_events() = std::move(event);
    }
  }
  if (request.events().empty()) {
    return absl::OkStatus();
  }
  return Annotate(ingestor.Append(request).status(),
                  "publishing the reference data on the city stream");
}

absl::Status CheckRoles(const ServerOptions& options) {
  if (options.roles.empty()) {
    return absl::InvalidArgumentError("--roles: name at least one role");
  }
  for (const std::string& role : options.roles) {
    if (role != "ingest" && role != "projector" && role != "query") {
      return absl::InvalidArgumentError(absl::StrCat(
          "--roles: unknown role \"", role,
          "\"; use ingest, projector and query"));
    }
  }
  if (Has(options.roles, "query") && !Has(options.roles, "projector")) {
    return absl::InvalidArgumentError(
        "--roles: query needs projector in the same process (the views it "
        "reads are local)");
  }
  if (options.demo && !Has(options.roles, "ingest")) {
    return absl::InvalidArgumentError("--demo needs the ingest role");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  RETURN_IF_ERROR(CheckRoles(options));
  RETURN_IF_ERROR(security::CheckServeSecurity(
      options.security, {options.listen, options.http_listen}));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   security::ServerCredentials(options.security));
  const bool ingest = Has(options.roles, "ingest");
  const bool projector = Has(options.roles, "projector");
  const bool query = Has(options.roles, "query");
  std::error_code error;
  std::filesystem::create_directories(options.data_dir, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "data directory ", options.data_dir, ": ", error.message()));
  }

  auto server = std::make_unique<ServerImpl>();
  ASSIGN_OR_RETURN(server->guard_, security::Guard::Create(options.security));
  security::Guard* guard = server->guard_.get();
  ASSIGN_OR_RETURN(server->log_, OpenLog(options, ingest));
  log::EventLog* log = server->log_.get();
  grpc::ServerBuilder builder;

  // Personal fields are sealed at ingest under the key store's per-subject
  // keys and opened in answers for readers who may see them.
  if (ingest || query) {
    ASSIGN_OR_RETURN(server->key_store_,
                     privacy::KeyStore::Open(
                         {.path = options.keystore.empty()
                                      ? options.data_dir + "/keystore"
                                      : options.keystore}));
    ASSIGN_OR_RETURN(server->sealer_, privacy::PersonalFieldSealer::Create(
                                          server->key_store_.get()));
    server->opener_ = std::make_unique<privacy::PersonalFieldOpener>(
        server->key_store_.get());
  }

  if (ingest) {
    const bool empty = log->LastPosition() == 0;
    ingest::IngestOptions ingest_options;
    ingest_options.max_events_per_append = options.max_events_per_append;
    if (options.log == "rocksdb") {
      // A restart loads this instead of replaying the whole log.
      ingest_options.state_path = options.data_dir + "/ingest.state";
    }
    ingest_options.seal = [sealer = server->sealer_.get()](
                              const v1::Event& event)
        -> absl::StatusOr<std::optional<std::string>> {
      if (!sealer->MayHoldPersonalData(event)) {
        return std::nullopt;
      }
      return sealer->Seal(event);
    };
    // On Kafka an ingest writes the streams of its shard only; the others
    // are refused per append rather than failing the log write.
    auto* kafka = dynamic_cast<log::KafkaEventLog*>(log);
    if (kafka != nullptr) {
      ingest_options.check_owner = [kafka](absl::string_view stream) {
        return kafka->CheckOwnership(stream);
      };
    }
    ASSIGN_OR_RETURN(server->ingestor_,
                     ingest::Ingestor::Start(log, ingest_options));
    // The reference data is published by the owner of the city stream.
    if (kafka == nullptr || kafka->CheckOwnership(domain::kCityStream).ok()) {
      RETURN_IF_ERROR(PublishReferenceData(*server->ingestor_, *log));
    }
    if (options.demo && empty) {
      RETURN_IF_ERROR(LoadDemo(*server->ingestor_, options.demo_events));
    }
    server->ledger_ = std::make_unique<ingest::LedgerService>(
        server->ingestor_.get(), log, guard);
    builder.RegisterService(server->ledger_.get());
    server->privacy_ = std::make_unique<privacy_service::PrivacyService>(
        server->key_store_.get(), guard);
    builder.RegisterService(server->privacy_.get());
  }

  if (projector) {
    ASSIGN_OR_RETURN(
        server->runner_,
        projections::ProjectionRunner::Start(
            log, {.path = options.data_dir + "/views"}, AllProjections()));
    projections::ProjectionRunner* runner = server->runner_.get();
    server->projections_ = std::make_unique<ProjectionsService>(runner, guard);
    builder.RegisterService(server->projections_.get());
    const std::string key_path = options.signing_key.empty()
                                     ? options.data_dir + "/keys/checkpoint.key"
                                     : options.signing_key;
    std::filesystem::create_directories(
        std::filesystem::path(key_path).parent_path(), error);
    ASSIGN_OR_RETURN(audit::NoteSigner signer,
                     audit::LoadOrCreateSignerKey(key_path, options.log_name));
    audit_service::CheckpointerOptions checkpoints;
    checkpoints.path = options.data_dir + "/checkpoints";
    checkpoints.log_name = options.log_name;
    checkpoints.interval = options.checkpoint_interval;
    checkpoints.log_position = [log] { return log->LastPosition(); };
    ASSIGN_OR_RETURN(server->checkpointer_,
                     audit_service::Checkpointer::Start(
                         std::move(signer), [runner] { return runner->Snapshot(); },
                         checkpoints));
  }

  if (query) {
    projections::ProjectionRunner* runner = server->runner_.get();
    server->audit_ = std::make_unique<audit_service::AuditService>(
        log, [runner] { return runner->Snapshot(); },
        server->checkpointer_.get(), guard);
    builder.RegisterService(server->audit_.get());
    query::QueryServiceOptions query_options;
    query_options.http.listen = options.http_listen;
    query_options.queries.open_personal_data =
        [opener = server->opener_.get()](google::protobuf::Message* answer) {
          opener->Open(answer);
        };
    query_options.guard = guard;
    query_options.http.tls_cert = options.security.tls_cert;
    query_options.http.tls_key = options.security.tls_key;
    // The dashboard and the Open311 read side share the query's HTTP server;
    // routes are added in StartHttp, after the gRPC port is bound.
    ServerImpl* self = server.get();
    const std::string grpc_host =
        options.listen.substr(0, options.listen.rfind(':'));
    query_options.http.extra_routes = [self, log, runner,
                                       grpc_host](httplib::Server& http) {
      web::RegisterDashboard(
          http, {.log = log,
                 .runner = runner,
                 .checkpointer = self->checkpointer_.get(),
                 .grpc_address = absl::StrCat(grpc_host, ":", self->port_)});
      oss::RegisterOpen311Routes(http, [runner] { return runner->Snapshot(); });
    };
    server->query_ =
        std::make_unique<query::QueryServices>(log, runner, query_options);
    server->query_->Register(builder);
  }

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_request_bytes);
  // Idle connections are closed, and a client that stops reading cannot
  // hold a connection forever.
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_IDLE_MS,
                             static_cast<int>(absl::ToInt64Milliseconds(
                                 options.security.max_call)));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 60'000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20'000);
  server->grpc_ = builder.BuildAndStart();
  if (server->grpc_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options.listen));
  }
  if (server->query_ != nullptr && !options.http_listen.empty()) {
    RETURN_IF_ERROR(server->query_->StartHttp());
  }
  // Health per service, for probes that ask about one role: the Ledger is
  // the ingest's, Reports and Audit the query's.
  if (grpc::HealthCheckServiceInterface* health =
          server->grpc_->GetHealthCheckService();
      health != nullptr) {
    if (ingest) {
      health->SetServingStatus(v1::Ledger::service_full_name(), true);
      health->SetServingStatus(v1::Privacy::service_full_name(), true);
    }
    if (query) {
      health->SetServingStatus(v1::Reports::service_full_name(), true);
      health->SetServingStatus(v1::Audit::service_full_name(), true);
    }
  }
  if (!options.metrics_listen.empty()) {
    metrics::MetricsSources sources;
    sources.log = log;
    sources.kafka = dynamic_cast<log::KafkaEventLog*>(log);
    sources.ingestor = server->ingestor_.get();
    sources.runner = server->runner_.get();
    sources.checkpointer = server->checkpointer_.get();
    sources.log_kind = options.log;
    sources.roles = absl::StrJoin(options.roles, ",");
    ASSIGN_OR_RETURN(server->metrics_, metrics::MetricsServer::Start(
                                           options.metrics_listen, sources));
  }
  return server;
}

}  // namespace prongsai::server

// The Prongsai server: opens the event log (embedded RocksDB, or Apache Kafka),
// and runs the roles asked for in one process:
//   ingest     the single writer: prongsai.v1.Ledger (Append, Read,
//              Subscribe, GetHead); publishes the reference data on the city
//              stream on first start; seals personal fields under the key
//              store and serves prongsai.v1.Privacy (erasure)
//   projector  the views (projection runtime) and the signed checkpoints
//   query      prongsai.v1.Reports and prongsai.v1.Audit over gRPC, and
//              HTTP/JSON with the report downloads (needs the projector in
//              the same process: views are local)
// with gRPC health checking (grpc.health.v1) and server reflection, and, if
// asked, GET /metrics in the Prometheus text format (services/metrics).
//
// Example:
//   ASSIGN_OR_RETURN(auto server, Server::Start({.data_dir = dir,
//                                                .listen = "127.0.0.1:0"}));
//   std::cout << server->port();
//   server->Shutdown();
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/security/guard.h"

namespace prongsai::server {

struct ServerOptions {
  std::string data_dir = "./prongsai-data";
  // gRPC host:port; port 0 picks a free port.
  std::string listen = "127.0.0.1:50051";
  // HTTP/JSON and reports (query role); empty serves no HTTP.
  std::string http_listen = "127.0.0.1:8080";
  // GET /metrics (Prometheus text format) for every role; empty serves none.
  std::string metrics_listen;
  // Any of "ingest", "projector", "query".
  std::vector<std::string> roles = {"ingest", "projector", "query"};

  // The log: "rocksdb" (embedded, in data_dir/log) or "kafka".
  std::string log = "rocksdb";
  std::string kafka_brokers;
  std::string kafka_topic = "prongsai.events.v1";
  int kafka_shard = 0;
  int kafka_shards = 1;
  // Further librdkafka properties (security.protocol=ssl, ssl.ca.location,
  // ssl.certificate.location, ssl.key.location, sasl.*, ...).
  std::vector<std::pair<std::string, std::string>> kafka_properties;

  // TLS, bearer tokens, the rate limit and the longest call (core/security).
  // The library default is insecure-dev: plain TCP on loopback, and calls
  // without a token act as the development principal.
  security::SecurityOptions security;

  // Largest request accepted; bigger ones get RESOURCE_EXHAUSTED.
  int max_request_bytes = 16 << 20;
  int max_events_per_append = 10'000;
  // Sync the log on every acknowledged write.
  bool sync = true;

  // The key store of the personal data keys (core/privacy/key_store.h),
  // kept apart from the log and backed up on its own; empty:
  // data_dir/keystore. Opened by the ingest and query roles.
  std::string keystore;

  // The checkpoint signing key (made on first start, mode 0600); empty:
  // data_dir/keys/checkpoint.key.
  std::string signing_key;
  // The log's name in checkpoint origins ("<log_name>/<stream>").
  std::string log_name = "prongsai";
  absl::Duration checkpoint_interval = absl::Minutes(1);

  // On an empty data directory, load the seed report of district 1045 and a
  // generated city (marked as demo data).
  bool demo = false;
  int64_t demo_events = 60'000;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  virtual ~Server() = default;

  // The gRPC port actually bound.
  virtual int port() const = 0;
  // The HTTP port actually bound; 0 without HTTP.
  virtual int http_port() const = 0;
  // The metrics port actually bound; 0 without metrics.
  virtual int metrics_port() const = 0;
  // The checkpoint verifier key ("name+hash+key"); empty without projector.
  virtual std::string verifier_key() const = 0;
  // Stops taking calls, finishes the ones in flight (up to a grace period),
  // and closes the log.
  virtual void Shutdown() = 0;
  // Blocks until Shutdown completes.
  virtual void Wait() = 0;
};

}  // namespace prongsai::server

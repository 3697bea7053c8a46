// The Prongsai server on the embedded log: opens the RocksDB event log,
// recovers the ingest from it and serves the gRPC API, with health checking
// (grpc.health.v1) and server reflection.
//
// Example:
//   ASSIGN_OR_RETURN(auto server, Server::Start({.data_dir = dir,
//                                                .listen = "127.0.0.1:0"}));
//   std::cout << server->port();
//   server->Shutdown();
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace prongsai::server {

struct ServerOptions {
  std::string data_dir = "./prongsai-data";
  // host:port; port 0 picks a free port.
  std::string listen = "127.0.0.1:50051";
  // Largest request accepted; bigger ones get RESOURCE_EXHAUSTED.
  int max_request_bytes = 16 << 20;
  int max_events_per_append = 10'000;
  // Sync the log on every acknowledged write.
  bool sync = true;
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);
  virtual ~Server() = default;

  // The port actually bound.
  virtual int port() const = 0;
  // Stops taking calls, finishes the ones in flight (up to a grace period),
  // and closes the log.
  virtual void Shutdown() = 0;
  // Blocks until Shutdown completes.
  virtual void Wait() = 0;
};

}  // namespace prongsai::server

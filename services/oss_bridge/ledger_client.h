// How the bridge writes: appends to the Ledger API of a running ingest,
// several at once so that the ingest's group commit stores them together.
//
// Example:
//   auto ledger = NewGrpcLedgerClient("127.0.0.1:50051", {});
//   std::vector<absl::StatusOr<v1::AppendResponse>> results =
//       ledger->AppendAll({&request_a, &request_b});
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prongsai/v1/ledger.pb.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace prongsai::oss {

class LedgerClient {
 public:
  virtual ~LedgerClient() = default;

  // Sends every request, concurrently, and waits for all; one outcome per
  // request, in order. The Ledger's status codes are kept (INVALID_ARGUMENT,
  // ALREADY_EXISTS, UNAVAILABLE, ...).
  virtual std::vector<absl::StatusOr<v1::AppendResponse>> AppendAll(
      const std::vector<const v1::AppendRequest*>& requests) = 0;
};

struct GrpcLedgerOptions {
  // Deadline of one append.
  absl::Duration timeout = absl::Seconds(60);
  // Most appends in flight at once.
  int max_in_flight = 64;
};

// A client of prongsai.v1.Ledger at `address` (host:port).
std::unique_ptr<LedgerClient> NewGrpcLedgerClient(
    const std::string& address, const GrpcLedgerOptions& options);
// The same over `channel` (TLS, client certificate and token as the channel
// was made: core/security/grpc_security.h Dial).
std::unique_ptr<LedgerClient> NewGrpcLedgerClient(
    std::shared_ptr<grpc::Channel> channel, const GrpcLedgerOptions& options);

}  // namespace prongsai::oss

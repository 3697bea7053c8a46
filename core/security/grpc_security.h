// gRPC's side of security: the listener's credentials (TLS, mutual TLS when
// a client CA is given), the check a handler makes first, and the client
// channel (TLS, client certificate, bearer token) every client command and
// the OSS bridge use.
//
// Example (a handler):
//   absl::StatusOr<security::Principal> who = security::CheckCall(
//       *guard_, *context, "/prongsai.v1.Ledger/Read", {request->stream()});
//   if (!who.ok()) return ToGrpcStatus(who.status());
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/security/guard.h"

namespace prongsai::security {

// Insecure credentials with insecure_dev, TLS otherwise (files read now).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const SecurityOptions& options);

// Guard::Check for a gRPC call: the "authorization" metadata, the peer, the
// method. A RESOURCE_EXHAUSTED also sets the trailing metadata
// "retry-after-ms".
absl::StatusOr<Principal> CheckCall(Guard& guard,
                                    grpc::ServerContextBase& context,
                                    absl::string_view method,
                                    std::vector<std::string> districts);
// CheckCall of the role only (Call::role_only); check the districts with
// Guard::AuthorizeScope once the request is decoded.
absl::StatusOr<Principal> CheckCallRole(Guard& guard,
                                        grpc::ServerContextBase& context,
                                        absl::string_view method);

// The deadline of a call: the client's, or now + SecurityOptions::max_call
// if that is sooner.
absl::Time CallDeadline(const Guard& guard,
                        const grpc::ServerContextBase& context);

struct ClientSecurity {
  // PEM files: the CA that signed the server's certificate (TLS when set),
  // and this client's certificate and key (mutual TLS).
  std::string tls_ca;
  std::string tls_cert;
  std::string tls_key;
  // A bearer token, sent as "authorization: Bearer <token>" on every call.
  std::string token;
};

// A channel to `address`: plain TCP without tls_ca, TLS with it.
absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(
    const std::string& address, const ClientSecurity& security,
    const grpc::ChannelArguments& arguments = {});

// Reads a whole file; INVALID_ARGUMENT naming `what` and the path.
absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what);

}  // namespace prongsai::security

// The channel of a client command to `prongsai serve`: plain or TLS, with a
// client certificate and a bearer token, from the flags every client command
// takes (args.h: ClientSecurityFlags) and PRONGSAI_TOKEN.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/security/grpc_security.h"
#include "services/cli/args.h"

namespace prongsai::cli {

// --tls-ca, --tls-cert, --tls-key and --token (or --token-file, or
// PRONGSAI_TOKEN). An unreadable --token-file exits with status 2.
security::ClientSecurity ClientSecurityOf(const Args& args);

// A channel to `address` (default: --server). On bad TLS flags or files it
// prints the error and exits with status 2: a client command cannot go on.
std::shared_ptr<grpc::Channel> Dial(const Args& args,
                                    const std::string& address = "");

}  // namespace prongsai::cli

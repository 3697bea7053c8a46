// The gate every call passes: who is calling (a verified bearer token, the
// anonymous public, or with --insecure-dev the development principal), a
// per-client rate limit, and the policy table (policy.h). Denials are logged
// with who, what and which district; never a token, never personal data.
//
// The transports adapt it: grpc_security.h for gRPC handlers, http_guard.h
// for the HTTP server.
//
// Example:
//   ASSIGN_OR_RETURN(std::unique_ptr<Guard> guard, Guard::Create(options));
//   ASSIGN_OR_RETURN(Principal who,
//                    guard->Check({.authorization = header,
//                                  .peer = "ipv4:10.0.0.7:50122",
//                                  .operation = "/prongsai.v1.Ledger/Append",
//                                  .districts = {"1045"}}));
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/security/jwt.h"
#include "core/security/principal.h"

namespace prongsai::security {

struct SecurityOptions {
  // Plain TCP, loopback only; calls without a token act as the development
  // principal. The library default, so that in-process servers in tests need
  // no certificates; `prongsai serve` asks for it explicitly.
  bool insecure_dev = true;
  // PEM files. With cert and key every listener speaks TLS; with client_ca
  // the gRPC listener also requires and verifies client certificates.
  std::string tls_cert;
  std::string tls_key;
  std::string tls_client_ca;
  // Bearer tokens: the expected iss, and a file with the verifying key (an
  // HS256 secret or an Ed25519 public key PEM).
  std::string jwt_issuer;
  std::string jwt_key;
  // Requests per second per client (token subject, or peer address without
  // a token), with bursts up to rate_burst; 0 = no limit.
  double rate_limit = 0;
  double rate_burst = 0;
  // The longest a call may run: the server's deadline when the client's is
  // later or unset. Subscribe and Rebuild, which follow the log for as long
  // as the client wants, are exempt.
  absl::Duration max_call = absl::Minutes(5);
  // Injected for tests.
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Where denials are logged; empty: standard error.
  std::function<void(absl::string_view)> log;
};

// OK when `options` is a configuration `prongsai serve` may run with:
// TLS (cert and key) and tokens (issuer and key), or insecure_dev with every
// listen address on loopback. The error names the flags.
absl::Status CheckServeSecurity(const SecurityOptions& options,
                                const std::vector<std::string>& listens);

// The names a command gives the listener flags, for the errors of
// CheckListenSecurity.
struct ListenSecurityFlags {
  absl::string_view command = "prongsai serve";
  absl::string_view tls_cert = "tls-cert";
  absl::string_view tls_key = "tls-key";
  absl::string_view tls_client_ca = "tls-client-ca";
};

// CheckServeSecurity for any command that listens (`prongsai oss-bridge`
// names its certificate flags --listen-tls-cert ..., as its --tls-* flags are
// those of its ledger client).
absl::Status CheckListenSecurity(const SecurityOptions& options,
                                 const std::vector<std::string>& listens,
                                 const ListenSecurityFlags& flags);

// The status payload of a RESOURCE_EXHAUSTED from the rate limit: the
// milliseconds to wait, in decimal.
inline constexpr absl::string_view kRetryAfterPayload =
    "type.prongsai.dev/retry-after-ms";

struct Call {
  // The Authorization header / metadata value, if any ("Bearer <jwt>").
  std::optional<absl::string_view> authorization;
  // The transport's peer ("ipv4:127.0.0.1:5012", "127.0.0.1").
  absl::string_view peer;
  absl::string_view operation;
  // The districts (streams) the call touches; empty = city-wide or none.
  std::vector<std::string> districts;
  // Check the role only: the districts are known after decoding the
  // request, and AuthorizeScope checks them then.
  bool role_only = false;
};

class Guard {
 public:
  static absl::StatusOr<std::unique_ptr<Guard>> Create(SecurityOptions options);
  // The library default: insecure-dev, no token key, no rate limit.
  static Guard& InsecureDev();

  // The caller, from the Authorization value: UNAUTHENTICATED for a token
  // that does not verify (or any token when no key is configured).
  absl::StatusOr<Principal> Authenticate(
      std::optional<absl::string_view> authorization) const;

  // Authenticate, rate limit, Authorize; logs a denial. RESOURCE_EXHAUSTED
  // carries kRetryAfterPayload.
  absl::StatusOr<Principal> Check(const Call& call);

  // The scope part of Check, for a call checked with role_only; logs a
  // denial.
  absl::Status AuthorizeScope(const Principal& principal, const Call& call) const;

  // Logs a denial decided elsewhere (AuthorizePayloads).
  void LogDenial(const Principal& principal, const Call& call,
                 const absl::Status& status) const;

  const SecurityOptions& options() const { return options_; }

 private:
  explicit Guard(SecurityOptions options) : options_(std::move(options)) {}

  // How long the client must wait; zero when the call may go ahead.
  absl::Duration Take(const std::string& client);

  const SecurityOptions options_;
  std::optional<JwtKey> key_;

  struct Bucket {
    double tokens = 0;
    absl::Time updated;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace prongsai::security

#include "core/security/guard.h"

#include <algorithm>
#include <cmath>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status.h"
#include "core/security/policy.h"

namespace prongsai::security {
namespace {

// Above this many clients, buckets that are full again are forgotten.
constexpr size_t kMaxBuckets = 10'000;

// The address of a peer without its port: "ipv4:10.0.0.7:5012" -> "10.0.0.7".
std::string PeerAddress(absl::string_view peer) {
  for (absl::string_view prefix : {"ipv4:", "ipv6:"}) {
    if (absl::StartsWith(peer, prefix)) {
      peer.remove_prefix(prefix.size());
      break;
    }
  }
  if (absl::StartsWith(peer, "[")) {
    return std::string(peer.substr(0, peer.find(']') + 1));
  }
  if (std::count(peer.begin(), peer.end(), ':') == 1) {
    return std::string(peer.substr(0, peer.find(':')));
  }
  return std::string(peer);
}

bool IsLoopback(absl::string_view listen) {
  const size_t colon = listen.rfind(':');
  absl::string_view host =
      colon == absl::string_view::npos ? listen : listen.substr(0, colon);
  if (absl::StartsWith(host, "[") && absl::EndsWith(host, "]")) {
    host = host.substr(1, host.size() - 2);
  }
  return host == "localhost" || host == "::1" ||
         absl::StartsWith(host, "127.");
}

}  // namespace

absl::Status CheckListenSecurity(const SecurityOptions& options,
                                 const std::vector<std::string>& listens,
                                 const ListenSecurityFlags& flags) {
  const std::string cert = absl::StrCat("--", flags.tls_cert);
  const std::string key = absl::StrCat("--", flags.tls_key);
  const std::string client_ca = absl::StrCat("--", flags.tls_client_ca);
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(cert, " and ", key, " go together: give both"));
  }
  if (!options.tls_client_ca.empty() && options.tls_cert.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(client_ca, " needs ", cert, " and ", key));
  }
  if (options.jwt_issuer.empty() != options.jwt_key.empty()) {
    return absl::InvalidArgumentError(
        "--jwt-issuer and --jwt-key go together: give both");
  }
  if (options.insecure_dev) {
    for (const std::string& listen : listens) {
      if (!listen.empty() && !IsLoopback(listen)) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--insecure-dev listens on loopback only (127.0.0.1, ::1, "
            "localhost), not on ",
            listen, "; for other addresses use ", cert, ", ", key,
            ", --jwt-issuer and --jwt-key"));
      }
    }
    if (!options.tls_cert.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--insecure-dev is plain TCP; drop it to serve with ", cert));
    }
    return absl::OkStatus();
  }
  if (options.tls_cert.empty() || options.jwt_key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        flags.command, " needs TLS and bearer tokens: ", cert, ", ", key,
        " (and ", client_ca, " for mutual TLS), --jwt-issuer and --jwt-key; "
        "or, on a development machine, --insecure-dev (loopback only)"));
  }
  return absl::OkStatus();
}

absl::Status CheckServeSecurity(const SecurityOptions& options,
                                const std::vector<std::string>& listens) {
  return CheckListenSecurity(options, listens, ListenSecurityFlags{});
}

absl::StatusOr<std::unique_ptr<Guard>> Guard::Create(SecurityOptions options) {
  if (options.rate_limit < 0 || options.rate_burst < 0 ||
      !std::isfinite(options.rate_limit) || !std::isfinite(options.rate_burst)) {
    return absl::InvalidArgumentError(
        "rate limit: requests per second and burst must be 0 or more");
  }
  if (options.jwt_issuer.empty() != options.jwt_key.empty()) {
    return absl::InvalidArgumentError(
        "--jwt-issuer and --jwt-key go together: give both");
  }
  std::unique_ptr<Guard> guard(new Guard(std::move(options)));
  if (!guard->options_.jwt_key.empty()) {
    ASSIGN_OR_RETURN(guard->key_, JwtKey::FromFile(guard->options_.jwt_key));
  }
  return guard;
}

Guard& Guard::InsecureDev() {
  static Guard* guard = new Guard(SecurityOptions{});
  return *guard;
}

absl::StatusOr<Principal> Guard::Authenticate(
    std::optional<absl::string_view> authorization) const {
  if (!authorization.has_value()) {
    return options_.insecure_dev ? Principal::Development()
                                 : Principal::Anonymous();
  }
  absl::string_view value = *authorization;
  constexpr absl::string_view kBearer = "bearer ";
  if (value.size() < kBearer.size() ||
      !absl::EqualsIgnoreCase(value.substr(0, kBearer.size()), kBearer)) {
    return absl::UnauthenticatedError(
        "authorization: use \"Bearer <token>\"");
  }
  value.remove_prefix(kBearer.size());
  value = absl::StripAsciiWhitespace(value);
  if (!key_.has_value()) {
    return absl::UnauthenticatedError(
        "token: this server has no --jwt-key to verify tokens with; call "
        "without one (--insecure-dev) or configure --jwt-issuer and "
        "--jwt-key");
  }
  return VerifyJwt(value, *key_, options_.jwt_issuer, options_.clock());
}

absl::StatusOr<Principal> Guard::Check(const Call& call) {
  absl::StatusOr<Principal> principal = Authenticate(call.authorization);
  if (!principal.ok()) {
    LogDenial(Principal::Anonymous(), call, principal.status());
    return principal.status();
  }
  if (options_.rate_limit > 0) {
    const std::string client =
        principal->anonymous
            ? absl::StrCat("peer:", PeerAddress(call.peer))
            : absl::StrCat("sub:", principal->subject);
    if (absl::Duration wait = Take(client); wait > absl::ZeroDuration()) {
      const int64_t ms = std::max<int64_t>(1, absl::ToInt64Milliseconds(
                                                  absl::Ceil(wait, absl::Milliseconds(1))));
      absl::Status limited = absl::ResourceExhaustedError(absl::StrCat(
          "rate limit: more than ", options_.rate_limit,
          " requests per second from this client; retry in ", ms, " ms"));
      limited.SetPayload(kRetryAfterPayload, absl::Cord(absl::StrCat(ms)));
      LogDenial(*principal, call, limited);
      return limited;
    }
  }
  if (absl::Status allowed =
          call.role_only ? AuthorizeRole(*principal, call.operation)
                         : Authorize(*principal, call.operation, call.districts);
      !allowed.ok()) {
    LogDenial(*principal, call, allowed);
    return allowed;
  }
  return principal;
}

absl::Status Guard::AuthorizeScope(const Principal& principal,
                                   const Call& call) const {
  absl::Status allowed = Authorize(principal, call.operation, call.districts);
  if (!allowed.ok()) {
    LogDenial(principal, call, allowed);
  }
  return allowed;
}

void Guard::LogDenial(const Principal& principal, const Call& call,
                      const absl::Status& status) const {
  // The status messages name operations, roles and districts, never the
  // token or a request's contents.
  const std::string line = absl::StrCat(
      "prongsai security: denied ", absl::StatusCodeToString(status.code()),
      " subject=", principal.anonymous ? "(none)" : principal.subject,
      " role=", principal.anonymous ? "(none)" : RoleName(principal.role),
      principal.district.empty() ? "" : " scope=", principal.district,
      " operation=", call.operation, " districts=",
      call.districts.empty() ? std::string("(all)")
                             : absl::StrJoin(call.districts, ","),
      ": ", status.message());
  if (options_.log) {
    options_.log(line);
  } else {
    std::cerr << line + "\n" << std::flush;
  }
}

absl::Duration Guard::Take(const std::string& client) {
  const double burst = std::max(options_.rate_burst, options_.rate_limit);
  const absl::Time now = options_.clock();
  absl::MutexLock lock(&mu_);
  if (buckets_.size() > kMaxBuckets) {
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      const Bucket& old = it->second;
      if (old.tokens + absl::ToDoubleSeconds(now - old.updated) *
                           options_.rate_limit >=
          burst) {
        buckets_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  auto [it, inserted] = buckets_.try_emplace(client);
  Bucket& bucket = it->second;
  if (inserted) {
    bucket.tokens = burst;
  } else {
    bucket.tokens = std::min(
        burst, bucket.tokens + std::max(0.0, absl::ToDoubleSeconds(
                                                 now - bucket.updated)) *
                                   options_.rate_limit);
  }
  bucket.updated = now;
  if (bucket.tokens >= 1) {
    bucket.tokens -= 1;
    return absl::ZeroDuration();
  }
  return absl::Seconds((1 - bucket.tokens) / options_.rate_limit);
}

}  // namespace prongsai::security

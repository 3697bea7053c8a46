// HTTP's side of security: the policy in front of every route of an
// httplib server (one pre-routing handler), and the principal of a request
// for handlers that decide what a reader sees.
//
// Requests without a rule get 404; a path with "." or ".." segments 400;
// unauthenticated 401 (WWW-Authenticate: Bearer), denied 403, rate-limited
// 429 with Retry-After. Errors are {"code": ..., "message": ...}.
#pragma once

#include "absl/status/statusor.h"
#include "core/security/guard.h"

namespace httplib {
class Server;
struct Request;
}  // namespace httplib

namespace prongsai::security {

// `guard` must outlive `server`.
void InstallHttpGuard(httplib::Server& server, Guard& guard);

// The principal of a request the guard let through (the token is verified
// again: handlers do not trust state from elsewhere).
absl::StatusOr<Principal> HttpPrincipal(const Guard& guard,
                                        const httplib::Request& req);

// The HTTP status of a Status code, for every HTTP answer of the project.
int HttpStatusOf(absl::StatusCode code);

}  // namespace prongsai::security

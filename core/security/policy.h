// The access policy: for every gRPC method and HTTP endpoint, the roles that
// may call it and its scope. This table is the one place that decides; the
// gRPC handlers and the HTTP server ask it through Guard (guard.h).
//
// Scope: a district-scoped role (district staff, executive, complaint
// officer) may act only on its own district's stream; a call that names no
// district (city-wide) or another district is denied. City monitors,
// auditors, the OSS bridge and administrators are not district-scoped.
//
// Example:
//   RETURN_IF_ERROR(Authorize(principal, "/prongsai.v1.Ledger/Append",
//                             {request.stream()}));
//   reader.may_see_personal_data =
//       MaySeePersonal(principal, PersonalKind::kGiftGiver, district);
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/security/principal.h"

namespace prongsai::security {

struct Rule {
  // A gRPC full method name ("/prongsai.v1.Ledger/Append") or an HTTP
  // route ("GET /v1/districts/{district}/gift-register"; {district} is one
  // path segment and the call's district, * any one segment).
  absl::string_view operation;
  // Bit (1 << Role) per role allowed.
  uint32_t roles = 0;
  // Anyone, the anonymous public included.
  bool anyone = false;
};

// Every rule, gRPC methods first.
absl::Span<const Rule> Rules();

// The rule of a gRPC method or an HTTP route pattern; nullptr if none.
const Rule* FindRule(absl::string_view operation);

struct HttpMatch {
  const Rule* rule = nullptr;
  // The {district} segment, if the route has one.
  std::string district;
};

// The rule of an HTTP request, by method and (decoded) path; nullopt when no
// rule matches. A path with a "." or ".." segment matches nothing.
std::optional<HttpMatch> MatchHttp(absl::string_view method,
                                   absl::string_view path);

// OK, or: UNAUTHENTICATED for an anonymous caller who needs a token,
// PERMISSION_DENIED for a role not allowed or a district out of scope.
// `districts` are the streams the call touches; empty = city-wide (or none).
// An operation without a rule is denied.
absl::Status Authorize(const Principal& principal, absl::string_view operation,
                       absl::Span<const std::string> districts);
// Authorize without the scope: whether the role may call `operation` at all
// (for a call whose districts are known only after decoding it).
absl::Status AuthorizeRole(const Principal& principal,
                           absl::string_view operation);

// The OSS bridge appends service-request events only. `payloads` are the
// field names of the events' payloads ("service_request_received", ...).
absl::Status AuthorizePayloads(const Principal& principal,
                               absl::Span<const std::string> payloads);

enum class PersonalKind {
  // Complainants' identities in complaints.
  kComplainant,
  // Names in the gift register (givers and receiving officials).
  kGiftGiver,
};

// Whether `principal` may see personal data of `kind` in `district`'s
// records: a complaint officer sees the complainants of its district, a
// district executive the gift register's names of its district; nobody
// else (the development principal neither).
bool MaySeePersonal(const Principal& principal, PersonalKind kind,
                    absl::string_view district);

}  // namespace prongsai::security

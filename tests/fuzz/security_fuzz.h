// The logic of the token and HTTP request fuzz targets, shared by the
// libFuzzer binaries (clang) and the corpus test (the normal build).
//
// Example:
//   absl::StatusOr<TokenOutcome> outcome = RunTokenInput(bytes);
//   if (!outcome.ok()) abort();  // an invariant is broken
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::fuzz {

// The HS256 secret and issuer the token corpus is signed for, and the
// fixed clock (15 June 2025, 12:00 in Bangkok).
inline constexpr absl::string_view kFuzzSecret =
    "prongsai-fuzz-hs256-secret-0123456789abcdef";
inline constexpr absl::string_view kFuzzIssuer = "prongsai-fuzz";

struct TokenOutcome {
  // What VerifyJwt said with the HS256 key.
  absl::Status verified;
};

// Verifies `bytes` as a bearer token, with the HS256 key and with an
// Ed25519 key. Returns an error only when an invariant breaks:
//   - a refusal is UNAUTHENTICATED, starts with "token: ", is short, and
//     never repeats the token;
//   - an accepted token has a subject, a role a token may carry, and a
//     district exactly when the role is district-scoped;
//   - the Ed25519 key accepts nothing (no token is signed with it).
absl::StatusOr<TokenOutcome> RunTokenInput(absl::string_view bytes);

struct HttpOutcome {
  // The request line matched a rule of the access policy.
  bool matched = false;
  // The body is a JSON object or array.
  bool json = false;
  int records = 0;
  int refused_records = 0;
};

// `bytes` is "METHOD PATH\n\nBODY". Matches the request line against the
// access policy's HTTP routes, and reads the body as the OSS webhook does
// (a record object or an array of them). Returns an error only when an
// invariant breaks:
//   - a path with a "." or ".." segment matches no route;
//   - a matched route is of the request's method, and its district is one
//     path segment; an anonymous caller is allowed or asked for a token;
//   - a record is read or refused with INVALID_ARGUMENT and a message.
absl::StatusOr<HttpOutcome> RunHttpInput(absl::string_view bytes);

}  // namespace prongsai::fuzz

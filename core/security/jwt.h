// JSON Web Tokens (RFC 7519) as Prongsai's bearer tokens: compact JWS
// signed with EdDSA (Ed25519) or HS256, claims sub, role, district, iss,
// exp, nbf and iat. Parsing is strict: one algorithm, the configured one
// ("none" never), canonical base64url, JSON objects, a size limit; every
// refusal says what is wrong without repeating the token.
//
// Example:
//   ASSIGN_OR_RETURN(JwtKey key, JwtKey::FromFile("/etc/prongsai/jwt.pub"));
//   ASSIGN_OR_RETURN(Principal who,
//                    VerifyJwt(token, key, "bma-prongsai", absl::Now()));
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/security/principal.h"

namespace prongsai::security {

// Tokens longer than this are refused before any parsing.
inline constexpr size_t kMaxTokenBytes = 8192;
// Clock skew allowed on exp, nbf and iat.
inline constexpr absl::Duration kClockLeeway = absl::Seconds(60);

enum class JwtAlgorithm { kHs256, kEdDsa };

// A key: an HS256 secret (verifies and signs), an Ed25519 public key
// (verifies) or an Ed25519 private key (signs and verifies).
class JwtKey {
 public:
  // A file holding a PEM Ed25519 key ("-----BEGIN PUBLIC KEY-----" or
  // "-----BEGIN PRIVATE KEY-----"), or else an HS256 secret: the file's
  // bytes without a trailing newline, at least 32 of them.
  static absl::StatusOr<JwtKey> FromFile(const std::string& path);
  // The same from the file's contents.
  static absl::StatusOr<JwtKey> FromBytes(absl::string_view bytes);
  // A fresh Ed25519 private key.
  static absl::StatusOr<JwtKey> GenerateEd25519();

  JwtAlgorithm algorithm() const { return algorithm_; }
  // "HS256" or "EdDSA", as in the JWS header.
  absl::string_view algorithm_name() const;
  bool can_sign() const { return can_sign_; }
  // PEM of the public key (Ed25519) to give to verifiers.
  absl::StatusOr<std::string> PublicPem() const;
  // PEM (PKCS#8) of the private key (Ed25519).
  absl::StatusOr<std::string> PrivatePem() const;

  absl::StatusOr<std::string> Sign(absl::string_view data) const;
  bool Verify(absl::string_view data, absl::string_view signature) const;

 private:
  struct Ed25519;
  JwtAlgorithm algorithm_ = JwtAlgorithm::kHs256;
  bool can_sign_ = false;
  std::string secret_;
  std::shared_ptr<Ed25519> ed25519_;
};

struct JwtClaims {
  std::string subject;
  Role role = Role::kPublic;
  std::string district;
  std::string issuer;
  absl::Time expires = absl::InfinitePast();
  absl::Time not_before = absl::InfinitePast();
  absl::Time issued_at = absl::InfinitePast();
};

// The principal of `token`, or UNAUTHENTICATED ("token: ...") when it is
// malformed, oversized, signed with another algorithm or key, from another
// issuer, outside its validity, or wrongly scoped (a district-scoped role
// without a valid district, or a district on any other role).
absl::StatusOr<Principal> VerifyJwt(absl::string_view token, const JwtKey& key,
                                    absl::string_view issuer, absl::Time now);

// Signs `claims` (exp, iat and, if set, nbf as seconds). The key must be
// able to sign. INVALID_ARGUMENT for claims VerifyJwt would refuse.
absl::StatusOr<std::string> MintJwt(const JwtClaims& claims, const JwtKey& key);

// "1001".."1050", or "city": the streams a district-scoped role may hold.
bool IsDistrictScope(absl::string_view district);

}  // namespace prongsai::security

#include "core/security/jwt.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/status.h"
#include "nlohmann/json.hpp"

namespace prongsai::security {

struct JwtKey::Ed25519 {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr,
                                                          EVP_PKEY_free};
};

namespace {

constexpr size_t kMinSecretBytes = 32;
constexpr size_t kMaxSubjectBytes = 256;

using Json = nlohmann::json;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

absl::Status Bad(absl::string_view what) {
  return absl::UnauthenticatedError(absl::StrCat("token: ", what));
}

// Strict base64url: the URL-safe alphabet, no padding, canonical.
bool DecodeSegment(absl::string_view text, std::string* out) {
  for (char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c)) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  if (!absl::WebSafeBase64Unescape(text, out)) {
    return false;
  }
  return absl::WebSafeBase64Escape(*out) == text;
}

std::string EncodeSegment(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<Json> ParseObject(absl::string_view bytes,
                                 absl::string_view what) {
  Json json = Json::parse(bytes.begin(), bytes.end(), nullptr,
                          /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object()) {
    return Bad(absl::StrCat("the ", what, " is not a JSON object"));
  }
  return json;
}

// A NumericDate claim, if present.
absl::StatusOr<std::optional<absl::Time>> TimeClaim(const Json& claims,
                                                    const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    return std::nullopt;
  }
  if (!it->is_number()) {
    return Bad(absl::StrCat("claim ", name, " is not a number of seconds"));
  }
  const double seconds = it->get<double>();
  if (!std::isfinite(seconds) || seconds < 0 || seconds > 1e11) {
    return Bad(absl::StrCat("claim ", name, " is out of range"));
  }
  return absl::FromUnixSeconds(static_cast<int64_t>(seconds));
}

absl::StatusOr<std::string> StringClaim(const Json& claims, const char* name,
                                        bool required) {
  auto it = claims.find(name);
  if (it == claims.end()) {
    if (required) {
      return Bad(absl::StrCat("claim ", name, " is missing"));
    }
    return std::string();
  }
  if (!it->is_string()) {
    return Bad(absl::StrCat("claim ", name, " is not a string"));
  }
  return it->get<std::string>();
}

absl::Status CheckScope(Role role, absl::string_view district) {
  if (IsDistrictScoped(role)) {
    if (district.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("the role ", RoleName(role),
                       " needs a district claim (1001 to 1050, or city)"));
    }
    if (!IsDistrictScope(district)) {
      return absl::InvalidArgumentError(
          "the district claim is not a district code (1001 to 1050) or city");
    }
  } else if (!district.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the role ", RoleName(role),
                     " is not district-scoped; it takes no district claim"));
  }
  return absl::OkStatus();
}

std::string UtcTime(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

}  // namespace

bool IsDistrictScope(absl::string_view district) {
  if (district == "city") {
    return true;
  }
  int code = 0;
  return district.size() == 4 && absl::SimpleAtoi(district, &code) &&
         code >= 1001 && code <= 1050;
}

absl::StatusOr<JwtKey> JwtKey::FromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat("JWT key ", path, ": cannot read the file"));
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  absl::StatusOr<JwtKey> key = FromBytes(bytes.str());
  if (!key.ok()) {
    return Annotate(key.status(), absl::StrCat("JWT key ", path));
  }
  return key;
}

absl::StatusOr<JwtKey> JwtKey::FromBytes(absl::string_view bytes) {
  JwtKey key;
  const bool is_public = absl::StrContains(bytes, "-----BEGIN PUBLIC KEY-----");
  const bool is_private =
      absl::StrContains(bytes, "-----BEGIN PRIVATE KEY-----");
  if (is_public || is_private) {
    Bio bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())),
            BIO_free);
    auto ed = std::make_shared<Ed25519>();
    ed->key.reset(is_private
                      ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                                nullptr)
                      : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr,
                                            nullptr));
    if (ed->key == nullptr) {
      return absl::InvalidArgumentError("the PEM key does not parse");
    }
    if (EVP_PKEY_id(ed->key.get()) != EVP_PKEY_ED25519) {
      return absl::InvalidArgumentError(
          "the PEM key is not an Ed25519 key; EdDSA tokens need Ed25519");
    }
    key.algorithm_ = JwtAlgorithm::kEdDsa;
    key.can_sign_ = is_private;
    key.ed25519_ = std::move(ed);
    return key;
  }
  if (absl::StrContains(bytes, "-----BEGIN")) {
    return absl::InvalidArgumentError(
        "a PEM block other than PUBLIC KEY or PRIVATE KEY; use an Ed25519 "
        "key or an HS256 secret");
  }
  absl::string_view secret = bytes;
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
    secret.remove_suffix(1);
  }
  if (secret.size() < kMinSecretBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "an HS256 secret needs at least ", kMinSecretBytes, " bytes, not ",
        secret.size()));
  }
  key.algorithm_ = JwtAlgorithm::kHs256;
  key.can_sign_ = true;
  key.secret_ = std::string(secret);
  return key;
}

absl::StatusOr<JwtKey> JwtKey::GenerateEd25519() {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* raw = nullptr;
  if (ctx == nullptr || EVP_PKEY_keygen_init(ctx.get()) != 1 ||
      EVP_PKEY_keygen(ctx.get(), &raw) != 1) {
    return absl::InternalError("could not generate an Ed25519 key");
  }
  JwtKey key;
  key.algorithm_ = JwtAlgorithm::kEdDsa;
  key.can_sign_ = true;
  key.ed25519_ = std::make_shared<Ed25519>();
  key.ed25519_->key.reset(raw);
  return key;
}

absl::string_view JwtKey::algorithm_name() const {
  return algorithm_ == JwtAlgorithm::kHs256 ? "HS256" : "EdDSA";
}

absl::StatusOr<std::string> JwtKey::PublicPem() const {
  if (ed25519_ == nullptr) {
    return absl::FailedPreconditionError("an HS256 secret has no public key");
  }
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PUBKEY(bio.get(), ed25519_->key.get()) != 1) {
    return absl::InternalError("could not write the public key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

absl::StatusOr<std::string> JwtKey::PrivatePem() const {
  if (ed25519_ == nullptr || !can_sign_) {
    return absl::FailedPreconditionError("not an Ed25519 private key");
  }
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(bio.get(), ed25519_->key.get(), nullptr,
                               nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError("could not write the private key");
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, size);
}

absl::StatusOr<std::string> JwtKey::Sign(absl::string_view data) const {
  if (!can_sign_) {
    return absl::FailedPreconditionError(
        "the key cannot sign: an Ed25519 public key only verifies; give the "
        "private key");
  }
  if (algorithm_ == JwtAlgorithm::kHs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             mac, &size) == nullptr) {
      return absl::InternalError("HMAC-SHA256 failed");
    }
    return std::string(reinterpret_cast<char*>(mac), size);
  }
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  std::string signature(64, '\0');
  size_t size = signature.size();
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                         ed25519_->key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(&signature[0]),
                     &size, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return absl::InternalError("Ed25519 signing failed");
  }
  signature.resize(size);
  return signature;
}

bool JwtKey::Verify(absl::string_view data, absl::string_view signature) const {
  if (algorithm_ == JwtAlgorithm::kHs256) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(data.data()), data.size(),
             mac, &size) == nullptr) {
      return false;
    }
    return signature.size() == size &&
           CRYPTO_memcmp(mac, signature.data(), size) == 0;
  }
  if (signature.size() != 64) {
    return false;
  }
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx != nullptr &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr,
                              ed25519_->key.get()) == 1 &&
         EVP_DigestVerify(
             ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(data.data()),
             data.size()) == 1;
}

absl::StatusOr<Principal> VerifyJwt(absl::string_view token, const JwtKey& key,
                                    absl::string_view issuer, absl::Time now) {
  if (token.empty()) {
    return Bad("empty");
  }
  if (token.size() > kMaxTokenBytes) {
    return Bad(absl::StrCat("longer than ", kMaxTokenBytes, " bytes"));
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Bad(
        "not a compact JWS (header.payload.signature, three base64url parts)");
  }
  std::string header_bytes, payload_bytes, signature;
  if (!DecodeSegment(parts[0], &header_bytes)) {
    return Bad("the header is not unpadded base64url");
  }
  if (!DecodeSegment(parts[1], &payload_bytes)) {
    return Bad("the payload is not unpadded base64url");
  }
  if (!DecodeSegment(parts[2], &signature)) {
    return Bad("the signature is not unpadded base64url");
  }
  ASSIGN_OR_RETURN(Json header, ParseObject(header_bytes, "header"));
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return Bad("the header has no alg");
  }
  const std::string alg_name = alg->get<std::string>();
  if (absl::AsciiStrToLower(alg_name) == "none") {
    return Bad("alg none is never accepted");
  }
  if (alg_name != key.algorithm_name()) {
    return Bad(absl::StrCat("alg must be ", key.algorithm_name(),
                            ", the configured key's algorithm"));
  }
  if (auto typ = header.find("typ");
      typ != header.end() &&
      (!typ->is_string() || absl::AsciiStrToUpper(typ->get<std::string>()) !=
                                "JWT")) {
    return Bad("typ must be JWT");
  }
  if (header.contains("crit")) {
    return Bad("critical header extensions are not supported");
  }
  const absl::string_view signed_part =
      token.substr(0, parts[0].size() + 1 + parts[1].size());
  if (!key.Verify(signed_part, signature)) {
    return Bad("the signature does not verify with the configured key");
  }

  ASSIGN_OR_RETURN(Json claims, ParseObject(payload_bytes, "payload"));
  ASSIGN_OR_RETURN(std::string iss, StringClaim(claims, "iss", true));
  if (iss != issuer) {
    return Bad("the issuer (iss) is not the configured one");
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> exp, TimeClaim(claims, "exp"));
  if (!exp.has_value()) {
    return Bad("claim exp is missing; tokens must expire");
  }
  if (now >= *exp + kClockLeeway) {
    return Bad(absl::StrCat("expired at ", UtcTime(*exp)));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> nbf, TimeClaim(claims, "nbf"));
  if (nbf.has_value() && now + kClockLeeway < *nbf) {
    return Bad(absl::StrCat("not valid before ", UtcTime(*nbf)));
  }
  ASSIGN_OR_RETURN(std::optional<absl::Time> iat, TimeClaim(claims, "iat"));
  if (iat.has_value() && now + kClockLeeway < *iat) {
    return Bad("issued in the future (iat)");
  }
  Principal principal;
  principal.anonymous = false;
  ASSIGN_OR_RETURN(principal.subject, StringClaim(claims, "sub", true));
  if (principal.subject.empty() || principal.subject.size() > kMaxSubjectBytes) {
    return Bad(absl::StrCat("claim sub must have 1 to ", kMaxSubjectBytes,
                            " bytes"));
  }
  ASSIGN_OR_RETURN(std::string role_name, StringClaim(claims, "role", true));
  absl::StatusOr<Role> role = ParseRole(role_name);
  if (!role.ok()) {
    return Bad(absl::StrCat("claim role: ", role.status().message()));
  }
  principal.role = *role;
  ASSIGN_OR_RETURN(principal.district, StringClaim(claims, "district", false));
  if (absl::Status scope = CheckScope(principal.role, principal.district);
      !scope.ok()) {
    return Bad(absl::StrCat("wrongly scoped: ", scope.message()));
  }
  return principal;
}

absl::StatusOr<std::string> MintJwt(const JwtClaims& claims,
                                    const JwtKey& key) {
  if (claims.subject.empty() || claims.subject.size() > kMaxSubjectBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("subject: needs 1 to ", kMaxSubjectBytes, " bytes"));
  }
  if (claims.issuer.empty()) {
    return absl::InvalidArgumentError("issuer: required");
  }
  if (claims.role == Role::kDevelopment) {
    return absl::InvalidArgumentError(
        "role: development is never carried by a token");
  }
  RETURN_IF_ERROR(Annotate(CheckScope(claims.role, claims.district),
                           "district"));
  if (claims.expires == absl::InfinitePast() ||
      claims.expires == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("expires: tokens must expire");
  }
  Json header = {{"alg", std::string(key.algorithm_name())}, {"typ", "JWT"}};
  Json payload = {{"iss", claims.issuer},
                  {"sub", claims.subject},
                  {"role", std::string(RoleName(claims.role))},
                  {"exp", absl::ToUnixSeconds(claims.expires)}};
  if (!claims.district.empty()) {
    payload["district"] = claims.district;
  }
  if (claims.issued_at != absl::InfinitePast()) {
    payload["iat"] = absl::ToUnixSeconds(claims.issued_at);
  }
  if (claims.not_before != absl::InfinitePast()) {
    payload["nbf"] = absl::ToUnixSeconds(claims.not_before);
  }
  const std::string signing_input = absl::StrCat(
      EncodeSegment(header.dump()), ".", EncodeSegment(payload.dump()));
  ASSIGN_OR_RETURN(std::string signature, key.Sign(signing_input));
  return absl::StrCat(signing_input, ".", EncodeSegment(signature));
}

}  // namespace prongsai::security

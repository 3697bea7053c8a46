// Bearer tokens: what verifies, and every way a token is refused.
#include "core/security/jwt.h"

#include <fstream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/testing.h"

namespace prongsai::security {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1749963600);
constexpr char kIssuer[] = "prongsai-test";
constexpr char kSecret[] = "0123456789abcdef0123456789abcdef-test-secret";

JwtKey Secret() { return *JwtKey::FromBytes(kSecret); }

JwtClaims Claims(Role role = Role::kDistrictStaff,
                 std::string district = "1045") {
  JwtClaims claims;
  claims.subject = "somchai";
  claims.role = role;
  claims.district = std::move(district);
  claims.issuer = kIssuer;
  claims.issued_at = kNow - absl::Minutes(1);
  claims.expires = kNow + absl::Hours(8);
  return claims;
}

std::string Encode(absl::string_view json) {
  return absl::WebSafeBase64Escape(json);
}

// A token with the given header and payload JSON, signed with `key`.
std::string Forge(absl::string_view header, absl::string_view payload,
                  const JwtKey& key) {
  const std::string input = absl::StrCat(Encode(header), ".", Encode(payload));
  return absl::StrCat(input, ".", Encode(*key.Sign(input)));
}

void ExpectRefused(absl::string_view token, const JwtKey& key,
                   absl::string_view why) {
  absl::StatusOr<Principal> principal = VerifyJwt(token, key, kIssuer, kNow);
  ASSERT_FALSE(principal.ok());
  EXPECT_EQ(principal.status().code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(absl::StartsWith(principal.status().message(), "token: "))
      << principal.status();
  EXPECT_TRUE(absl::StrContains(principal.status().message(), why))
      << principal.status();
  if (token.size() > 8) {
    EXPECT_FALSE(absl::StrContains(principal.status().message(), token));
  }
}

TEST(JwtTest, Hs256TokenVerifiesToItsPrincipal) {
  absl::StatusOr<std::string> token = MintJwt(Claims(), Secret());
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Principal> principal =
      VerifyJwt(*token, Secret(), kIssuer, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->subject, "somchai");
  EXPECT_EQ(principal->role, Role::kDistrictStaff);
  EXPECT_EQ(principal->district, "1045");
  EXPECT_FALSE(principal->anonymous);
}

TEST(JwtTest, EdDsaTokenVerifiesWithThePublicKeyOnly) {
  absl::StatusOr<JwtKey> signer = JwtKey::GenerateEd25519();
  ASSERT_TRUE(signer.ok());
  absl::StatusOr<JwtKey> verifier = JwtKey::FromBytes(*signer->PublicPem());
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_FALSE(verifier->can_sign());
  absl::StatusOr<std::string> token =
      MintJwt(Claims(Role::kCityMonitor, ""), *signer);
  ASSERT_TRUE(token.ok()) << token.status();
  absl::StatusOr<Principal> principal =
      VerifyJwt(*token, *verifier, kIssuer, kNow);
  ASSERT_TRUE(principal.ok()) << principal.status();
  EXPECT_EQ(principal->role, Role::kCityMonitor);
  // A public key cannot mint.
  EXPECT_FALSE(MintJwt(Claims(), *verifier).ok());
}

TEST(JwtTest, KeysFromFiles) {
  testing::TempDir dir;
  std::ofstream(dir.Sub("short")) << "too short\n";
  std::ofstream(dir.Sub("secret")) << kSecret << "\n";
  std::ofstream(dir.Sub("rsa")) << "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n";
  EXPECT_EQ(JwtKey::FromFile(dir.Sub("missing")).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<JwtKey> short_secret = JwtKey::FromFile(dir.Sub("short"));
  ASSERT_FALSE(short_secret.ok());
  EXPECT_TRUE(absl::StrContains(short_secret.status().message(), "32 bytes"));
  EXPECT_FALSE(JwtKey::FromFile(dir.Sub("rsa")).ok());
  absl::StatusOr<JwtKey> secret = JwtKey::FromFile(dir.Sub("secret"));
  ASSERT_TRUE(secret.ok()) << secret.status();
  // The trailing newline is not part of the secret.
  absl::StatusOr<std::string> token = MintJwt(Claims(), *secret);
  EXPECT_TRUE(VerifyJwt(*token, Secret(), kIssuer, kNow).ok());
}

TEST(JwtTest, RefusesExpiredNotYetValidAndFutureTokens) {
  JwtClaims expired = Claims();
  expired.expires = kNow - absl::Minutes(5);
  ExpectRefused(*MintJwt(expired, Secret()), Secret(), "expired at");
  JwtClaims early = Claims();
  early.not_before = kNow + absl::Hours(1);
  ExpectRefused(*MintJwt(early, Secret()), Secret(), "not valid before");
  JwtClaims future = Claims();
  future.issued_at = kNow + absl::Hours(1);
  ExpectRefused(*MintJwt(future, Secret()), Secret(), "iat");
  // Within the clock leeway it still verifies.
  JwtClaims skewed = Claims();
  skewed.expires = kNow - absl::Seconds(30);
  EXPECT_TRUE(VerifyJwt(*MintJwt(skewed, Secret()), Secret(), kIssuer, kNow)
                  .ok());
}

TEST(JwtTest, RefusesWrongSignatureIssuerAndAlgorithm) {
  const JwtKey other = *JwtKey::FromBytes(std::string(40, 'x'));
  ExpectRefused(*MintJwt(Claims(), other), Secret(), "does not verify");

  JwtClaims stranger = Claims();
  stranger.issuer = "someone-else";
  ExpectRefused(*MintJwt(stranger, Secret()), Secret(), "issuer");

  // An Ed25519 token against an HS256 configuration, and the reverse.
  const JwtKey ed = *JwtKey::GenerateEd25519();
  ExpectRefused(*MintJwt(Claims(), ed), Secret(), "alg must be HS256");
  ExpectRefused(*MintJwt(Claims(), Secret()), ed, "alg must be EdDSA");

  const std::string payload = absl::StrCat(
      R"({"iss":"prongsai-test","sub":"x","role":"auditor","exp":)",
      absl::ToUnixSeconds(kNow + absl::Hours(1)), "}");
  // alg none, whatever the case, with or without a signature.
  for (absl::string_view alg : {"none", "None", "NONE"}) {
    const std::string header = absl::StrCat(R"({"alg":")", alg, R"("})");
    ExpectRefused(absl::StrCat(Encode(header), ".", Encode(payload), "."),
                  Secret(), "alg none");
  }
  ExpectRefused(Forge(R"({"typ":"JWT"})", payload, Secret()), Secret(),
                "no alg");
  ExpectRefused(Forge(R"({"alg":"HS256","crit":["exp"]})", payload, Secret()),
                Secret(), "critical");
  ExpectRefused(Forge(R"({"alg":"HS256","typ":"JOSE+JSON"})", payload,
                      Secret()),
                Secret(), "typ");
}

TEST(JwtTest, RefusesMalformedAndOversizedTokens) {
  const std::string good = *MintJwt(Claims(), Secret());
  ExpectRefused("", Secret(), "empty");
  ExpectRefused(std::string(kMaxTokenBytes + 1, 'a'), Secret(), "longer than");
  ExpectRefused("abc", Secret(), "compact JWS");
  ExpectRefused(absl::StrCat(good, ".x"), Secret(), "compact JWS");
  ExpectRefused(absl::StrCat("!!", good), Secret(), "header");
  ExpectRefused(absl::StrCat(good, "="), Secret(), "signature");
  // Standard base64 (+ and /) is not base64url.
  std::string plus = good;
  plus[plus.size() - 2] = '+';
  ExpectRefused(plus, Secret(), "signature");
  ExpectRefused(Forge("[1,2]", "{}", Secret()), Secret(), "header");
  ExpectRefused(Forge(R"({"alg":"HS256"})", "not json", Secret()), Secret(),
                "payload");
}

TEST(JwtTest, RefusesMissingAndWronglyTypedClaims) {
  const std::string exp =
      absl::StrCat(absl::ToUnixSeconds(kNow + absl::Hours(1)));
  const std::string header = R"({"alg":"HS256","typ":"JWT"})";
  struct Case {
    std::string payload;
    std::string why;
  };
  const Case cases[] = {
      {absl::StrCat(R"({"iss":"prongsai-test","role":"auditor","exp":)", exp,
                    "}"),
       "sub is missing"},
      {R"({"iss":"prongsai-test","sub":"a","role":"auditor"})",
       "exp is missing"},
      {absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"auditor","exp":")",
                    exp, R"("})"),
       "exp is not a number"},
      {absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"root","exp":)",
                    exp, "}"),
       "is not a role"},
      {absl::StrCat(
           R"({"iss":"prongsai-test","sub":"a","role":"development","exp":)",
           exp, "}"),
       "is not a role"},
      {absl::StrCat(R"({"iss":"prongsai-test","sub":"","role":"auditor","exp":)",
                    exp, "}"),
       "sub must have"},
      {absl::StrCat(R"({"iss":7,"sub":"a","role":"auditor","exp":)", exp, "}"),
       "iss is not a string"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.payload);
    ExpectRefused(Forge(header, c.payload, Secret()), Secret(), c.why);
  }
}

TEST(JwtTest, RefusesWronglyScopedTokens) {
  const std::string exp =
      absl::StrCat(absl::ToUnixSeconds(kNow + absl::Hours(1)));
  const std::string header = R"({"alg":"HS256"})";
  const std::string cases[] = {
      // A district role without a district, or with a bad one.
      absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"district_staff","exp":)",
                   exp, "}"),
      absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"complaint_officer","district":"9999","exp":)",
                   exp, "}"),
      absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"district_executive","district":"../1045","exp":)",
                   exp, "}"),
      // A district on a role that is not district-scoped.
      absl::StrCat(R"({"iss":"prongsai-test","sub":"a","role":"city_monitor","district":"1045","exp":)",
                   exp, "}"),
  };
  for (const std::string& payload : cases) {
    SCOPED_TRACE(payload);
    ExpectRefused(Forge(header, payload, Secret()), Secret(), "wrongly scoped");
  }
  // Minting refuses them too.
  EXPECT_EQ(MintJwt(Claims(Role::kDistrictStaff, ""), Secret()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MintJwt(Claims(Role::kAuditor, "1045"), Secret()).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MintJwt(Claims(Role::kDistrictStaff, "city"), Secret()).ok());
}

}  // namespace
}  // namespace prongsai::security

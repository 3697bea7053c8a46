#include "tests/fuzz/security_fuzz.h"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/base/bytes.h"
#include "core/security/jwt.h"
#include "core/security/policy.h"
#include "services/oss_bridge/record.h"

namespace prongsai::fuzz {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1749963600);
constexpr size_t kMaxMessageBytes = 1024;

absl::Status Broken(absl::string_view what, const absl::Status& status) {
  return absl::InternalError(absl::StrCat("invariant broken: ", what,
                                          "; status: ", status.ToString()));
}

const security::JwtKey& Hs256() {
  static const auto* key =
      new security::JwtKey(*security::JwtKey::FromBytes(kFuzzSecret));
  return *key;
}

const security::JwtKey& Ed25519() {
  static const auto* key = new security::JwtKey(
      *security::JwtKey::FromBytes(*security::JwtKey::GenerateEd25519()
                                        ->PublicPem()));
  return *key;
}

absl::Status CheckToken(absl::string_view token,
                        const absl::StatusOr<security::Principal>& result) {
  if (result.ok()) {
    const security::Principal& who = *result;
    if (who.subject.empty() || who.anonymous ||
        who.role == security::Role::kDevelopment) {
      return Broken("an accepted token lacks a subject or has a bad role",
                    absl::OkStatus());
    }
    if (security::IsDistrictScoped(who.role) !=
            !who.district.empty() ||
        (!who.district.empty() && !security::IsDistrictScope(who.district))) {
      return Broken("an accepted token is wrongly scoped", absl::OkStatus());
    }
    return absl::OkStatus();
  }
  const absl::Status& status = result.status();
  if (status.code() != absl::StatusCode::kUnauthenticated) {
    return Broken("a refusal must be UNAUTHENTICATED", status);
  }
  if (!absl::StartsWith(status.message(), "token: ") ||
      status.message().size() > kMaxMessageBytes ||
      !IsValidUtf8(status.message())) {
    return Broken("a refusal must be a short UTF-8 \"token: ...\"", status);
  }
  // No message has a run of 32 bytes without a space: one that contains such
  // a token repeats it.
  if (token.size() >= 32 && token.find(' ') == absl::string_view::npos &&
      absl::StrContains(status.message(), token)) {
    return Broken("a refusal repeats the token", status);
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TokenOutcome> RunTokenInput(absl::string_view bytes) {
  TokenOutcome outcome;
  absl::StatusOr<security::Principal> hs256 =
      security::VerifyJwt(bytes, Hs256(), kFuzzIssuer, kNow);
  if (absl::Status bad = CheckToken(bytes, hs256); !bad.ok()) {
    return bad;
  }
  outcome.verified = hs256.status();
  absl::StatusOr<security::Principal> ed =
      security::VerifyJwt(bytes, Ed25519(), kFuzzIssuer, kNow);
  if (ed.ok()) {
    return Broken("a token verified with a key that signed nothing",
                  absl::OkStatus());
  }
  if (absl::Status bad = CheckToken(bytes, ed); !bad.ok()) {
    return bad;
  }
  return outcome;
}

absl::StatusOr<HttpOutcome> RunHttpInput(absl::string_view bytes) {
  HttpOutcome outcome;
  const size_t blank = bytes.find("\n\n");
  const absl::string_view line = bytes.substr(0, blank);
  const absl::string_view body =
      blank == absl::string_view::npos ? absl::string_view()
                                       : bytes.substr(blank + 2);
  const size_t space = line.find(' ');
  const absl::string_view method = line.substr(0, space);
  const absl::string_view path = space == absl::string_view::npos
                                     ? absl::string_view()
                                     : line.substr(space + 1);

  const std::optional<security::HttpMatch> match =
      security::MatchHttp(method, path);
  bool dot_segment = false;
  for (absl::string_view segment : absl::StrSplit(path, '/')) {
    dot_segment = dot_segment || segment == "." || segment == "..";
  }
  if (match.has_value()) {
    outcome.matched = true;
    if (dot_segment) {
      return Broken("a path with a dot segment matched a route",
                    absl::OkStatus());
    }
    if (match->rule == nullptr ||
        !absl::StartsWith(match->rule->operation, absl::StrCat(method, " ")) ||
        absl::StrContains(match->district, "/")) {
      return Broken("a route matched another method or a district of more "
                    "than one segment",
                    absl::OkStatus());
    }
    std::vector<std::string> districts;
    if (!match->district.empty()) {
      districts.push_back(match->district);
    }
    const absl::Status anonymous = security::Authorize(
        security::Principal::Anonymous(), match->rule->operation, districts);
    if (!anonymous.ok() &&
        anonymous.code() != absl::StatusCode::kUnauthenticated) {
      return Broken("an anonymous caller must be allowed or asked for a token",
                    anonymous);
    }
  }

  if (body.empty()) {
    return outcome;
  }
  const nlohmann::json json = nlohmann::json::parse(
      body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !(json.is_object() || json.is_array())) {
    return outcome;
  }
  outcome.json = true;
  auto read = [&](const nlohmann::json& element) -> absl::Status {
    ++outcome.records;
    absl::StatusOr<oss::OssRecord> record = oss::RecordFromJson(element);
    if (record.ok()) {
      return absl::OkStatus();
    }
    ++outcome.refused_records;
    if (record.status().code() != absl::StatusCode::kInvalidArgument ||
        record.status().message().empty()) {
      return Broken("a record must be read or refused with INVALID_ARGUMENT",
                    record.status());
    }
    return absl::OkStatus();
  };
  if (json.is_object()) {
    if (absl::Status bad = read(json); !bad.ok()) {
      return bad;
    }
  } else {
    for (const nlohmann::json& element : json) {
      if (absl::Status bad = read(element); !bad.ok()) {
        return bad;
      }
    }
  }
  return outcome;
}

}  // namespace prongsai::fuzz

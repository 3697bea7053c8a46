#include "core/security/policy.h"

#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/strings/str_split.h"
#include "core/base/status.h"

namespace prongsai::security {
namespace {

constexpr uint32_t Bits(std::initializer_list<Role> roles) {
  uint32_t bits = 0;
  for (Role role : roles) {
    bits |= uint32_t{1} << static_cast<int>(role);
  }
  return bits;
}

constexpr Role kStaff = Role::kDistrictStaff;
constexpr Role kExecutive = Role::kDistrictExecutive;
constexpr Role kOfficer = Role::kComplaintOfficer;
constexpr Role kMonitor = Role::kCityMonitor;
constexpr Role kAuditor = Role::kAuditor;
constexpr Role kOss = Role::kOssBridge;
constexpr Role kAdmin = Role::kAdministrator;

constexpr Rule Anyone(absl::string_view operation) {
  return Rule{.operation = operation, .roles = 0, .anyone = true};
}
constexpr Rule Only(absl::string_view operation,
                    std::initializer_list<Role> roles) {
  return Rule{.operation = operation, .roles = Bits(roles), .anyone = false};
}

// THE table. Add a rule here with every new gRPC method or HTTP route: an
// operation without one is denied (HTTP: answered 404).
constexpr Rule kRules[] = {
    // prongsai.v1.Ledger: the districts write and read their own history;
    // the OSS bridge writes service requests (AuthorizePayloads).
    Only("/prongsai.v1.Ledger/Append", {kStaff, kExecutive, kOfficer, kOss}),
    Only("/prongsai.v1.Ledger/Read", {kStaff, kExecutive, kOfficer, kAuditor}),
    Only("/prongsai.v1.Ledger/Subscribe",
         {kStaff, kExecutive, kOfficer, kAuditor}),
    Only("/prongsai.v1.Ledger/GetHead",
         {kStaff, kExecutive, kOfficer, kMonitor, kAuditor, kOss}),
    // prongsai.v1.Reports: the anonymised statistics are public; the gift
    // register and the complaints are the executive's, the complaint
    // officer's and the city monitor's.
    Anyone("/prongsai.v1.Reports/GetItaReport"),
    Anyone("/prongsai.v1.Reports/GetScorecard"),
    Only("/prongsai.v1.Reports/GetGiftRegister",
         {kExecutive, kOfficer, kMonitor}),
    Only("/prongsai.v1.Reports/GetComplaintStats",
         {kExecutive, kOfficer, kMonitor}),
    Anyone("/prongsai.v1.Reports/GetCityOverview"),
    // prongsai.v1.Audit: checkpoints are public; proofs, raw records and the
    // trail are the auditor's.
    Anyone("/prongsai.v1.Audit/GetCheckpoint"),
    Only("/prongsai.v1.Audit/GetInclusionProof", {kAuditor}),
    Only("/prongsai.v1.Audit/GetConsistencyProof", {kAuditor}),
    Only("/prongsai.v1.Audit/ReadRecords", {kAuditor}),
    Only("/prongsai.v1.Audit/GetTrail", {kAuditor}),
    // Operations.
    Only("/prongsai.v1.Projections/GetStatus", {kAdmin}),
    Only("/prongsai.v1.Projections/Rebuild", {kAdmin}),
    Only("/prongsai.v1.Privacy/Erase", {kAdmin}),
    Only("/prongsai.v1.OssBridge/ImportRequests", {kOss, kAdmin}),

    // HTTP: the query's JSON and downloads.
    Anyone("GET /v1/districts/{district}/ita-report"),
    Anyone("GET /v1/districts/{district}/scorecard"),
    Only("GET /v1/districts/{district}/gift-register",
         {kExecutive, kOfficer, kMonitor}),
    Only("GET /v1/districts/{district}/complaints",
         {kExecutive, kOfficer, kMonitor}),
    Only("GET /v1/city/gift-register", {kMonitor}),
    Only("GET /v1/city/complaints", {kMonitor}),
    Anyone("GET /v1/city/overview"),
    Anyone("GET /healthz"),
    Anyone("GET /fonts/*"),
    // HTTP: the public dashboard.
    Anyone("GET /"),
    Anyone("GET /districts/{district}"),
    Anyone("GET /assets/*"),
    Anyone("GET /v1/about"),
    Anyone("GET /v1/live"),
    Anyone("GET /v1/districts/{district}/meetings"),
    Anyone("GET /v1/districts/{district}/services"),
    Anyone("GET /v1/districts/{district}/audit"),
    Anyone("GET /v1/city/services"),
    // The raw records of a stream, for offline verification.
    Only("GET /v1/districts/{district}/export", {kAuditor}),
    // HTTP: the Open311 read side.
    Anyone("GET /open311/v2/services.json"),
    Anyone("GET /open311/v2/requests.json"),
    Anyone("GET /open311/v2/requests/*"),

    // HTTP: the OSS bridge's listener (`prongsai oss-bridge --listen`). BMA
    // OSS posts service-request records with an oss_bridge token; the
    // bridge's counters are unauthenticated, like every metrics endpoint.
    Only("POST /oss/v1/requests", {kOss, kAdmin}),
    Anyone("GET /metrics"),
};

bool Allows(const Rule& rule, Role role) {
  return rule.anyone || role == Role::kDevelopment ||
         (rule.roles & (uint32_t{1} << static_cast<int>(role))) != 0;
}

std::string AllowedRoles(const Rule& rule) {
  std::vector<std::string> names;
  for (Role role : kTokenRoles) {
    if ((rule.roles & (uint32_t{1} << static_cast<int>(role))) != 0) {
      names.emplace_back(RoleName(role));
    }
  }
  return absl::StrJoin(names, ", ");
}

// Segments of a path between its leading and one trailing slash; an empty
// segment ("/v1/districts//scorecard") stays, so that a route answers what
// is missing rather than 404.
std::vector<absl::string_view> Segments(absl::string_view path) {
  absl::ConsumePrefix(&path, "/");
  absl::ConsumeSuffix(&path, "/");
  if (path.empty()) {
    return {};
  }
  return absl::StrSplit(path, '/');
}

}  // namespace

absl::Span<const Rule> Rules() { return kRules; }

const Rule* FindRule(absl::string_view operation) {
  for (const Rule& rule : kRules) {
    if (rule.operation == operation) {
      return &rule;
    }
  }
  return nullptr;
}

std::optional<HttpMatch> MatchHttp(absl::string_view method,
                                   absl::string_view path) {
  const std::vector<absl::string_view> segments = Segments(path);
  for (absl::string_view segment : segments) {
    if (segment == "." || segment == "..") {
      return std::nullopt;
    }
  }
  for (const Rule& rule : kRules) {
    const absl::string_view operation = rule.operation;
    const size_t space = operation.find(' ');
    if (space == absl::string_view::npos ||
        operation.substr(0, space) != method) {
      continue;
    }
    const std::vector<absl::string_view> pattern =
        Segments(operation.substr(space + 1));
    if (pattern.size() != segments.size()) {
      continue;
    }
    HttpMatch match;
    match.rule = &rule;
    bool matches = true;
    for (size_t i = 0; i < pattern.size() && matches; ++i) {
      if (pattern[i] == "{district}") {
        match.district = std::string(segments[i]);
      } else if (pattern[i] != "*" && pattern[i] != segments[i]) {
        matches = false;
      }
    }
    if (matches) {
      return match;
    }
  }
  return std::nullopt;
}

absl::Status AuthorizeRole(const Principal& principal,
                           absl::string_view operation) {
  const Rule* rule = FindRule(operation);
  if (rule == nullptr) {
    return absl::PermissionDeniedError(
        absl::StrCat(operation, ": no access rule; denied to everyone"));
  }
  if (!Allows(*rule, principal.role)) {
    if (principal.anonymous) {
      return absl::UnauthenticatedError(
          absl::StrCat(operation, ": needs a bearer token with the role ",
                       AllowedRoles(*rule)));
    }
    return absl::PermissionDeniedError(
        absl::StrCat(operation, ": the role ", RoleName(principal.role),
                     " may not call this; roles allowed: ",
                     AllowedRoles(*rule)));
  }
  return absl::OkStatus();
}

absl::Status Authorize(const Principal& principal, absl::string_view operation,
                       absl::Span<const std::string> districts) {
  RETURN_IF_ERROR(AuthorizeRole(principal, operation));
  const Rule* rule = FindRule(operation);
  if (rule->anyone || !IsDistrictScoped(principal.role)) {
    return absl::OkStatus();
  }
  if (districts.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        operation, ": the role ", RoleName(principal.role),
        " acts for district ", principal.district,
        " only; name that district"));
  }
  for (const std::string& district : districts) {
    if (district != principal.district) {
      return absl::PermissionDeniedError(absl::StrCat(
          operation, ": the role ", RoleName(principal.role),
          " of district ", principal.district,
          " may not act on district ", district.substr(0, 16)));
    }
  }
  return absl::OkStatus();
}

absl::Status AuthorizePayloads(const Principal& principal,
                               absl::Span<const std::string> payloads) {
  if (principal.role != Role::kOssBridge) {
    return absl::OkStatus();
  }
  for (size_t i = 0; i < payloads.size(); ++i) {
    const std::string& payload = payloads[i];
    if (payload != "service_request_received" &&
        payload != "service_request_status_changed" &&
        payload != "service_request_completed") {
      return absl::PermissionDeniedError(absl::StrCat(
          "events[", i, "]: the role oss_bridge appends service-request "
          "events only, not ",
          payload.empty() ? std::string("an event without payload")
                          : payload));
    }
  }
  return absl::OkStatus();
}

bool MaySeePersonal(const Principal& principal, PersonalKind kind,
                    absl::string_view district) {
  if (principal.anonymous || district.empty() ||
      principal.district != district) {
    return false;
  }
  switch (kind) {
    case PersonalKind::kComplainant:
      return principal.role == Role::kComplaintOfficer;
    case PersonalKind::kGiftGiver:
      return principal.role == Role::kDistrictExecutive;
  }
  return false;
}

}  // namespace prongsai::security

// Who is calling: the role and district scope a verified bearer token
// carries, or the anonymous public, or (with --insecure-dev only) the
// development principal.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::security {

enum class Role {
  kPublic,
  kDistrictStaff,
  kDistrictExecutive,
  kComplaintOfficer,
  kCityMonitor,
  kAuditor,
  kOssBridge,
  kAdministrator,
  // Every permission, no personal data; only with --insecure-dev and never
  // from a token.
  kDevelopment,
};

// Every role a token may carry, in the order of the enum.
inline constexpr Role kTokenRoles[] = {
    Role::kPublic,          Role::kDistrictStaff, Role::kDistrictExecutive,
    Role::kComplaintOfficer, Role::kCityMonitor,  Role::kAuditor,
    Role::kOssBridge,       Role::kAdministrator};

// "district_staff", "city_monitor", ...
absl::string_view RoleName(Role role);
// The role of a token's "role" claim; INVALID_ARGUMENT naming the known ones.
absl::StatusOr<Role> ParseRole(absl::string_view name);
// District staff, executives and complaint officers act for one district
// (or "city", the city stream) only.
bool IsDistrictScoped(Role role);

struct Principal {
  Role role = Role::kPublic;
  // The token's "sub"; "anonymous" or "development" without a token.
  std::string subject = "anonymous";
  // The district code ("1045", or "city") of a district-scoped role.
  std::string district;
  // True when no token was presented.
  bool anonymous = true;

  static Principal Anonymous() { return Principal{}; }
  static Principal Development() {
    Principal principal;
    principal.role = Role::kDevelopment;
    principal.subject = "development";
    return principal;
  }
};

}  // namespace prongsai::security

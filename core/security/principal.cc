#include "core/security/principal.h"

#include "absl/strings/str_cat.h"

namespace prongsai::security {

absl::string_view RoleName(Role role) {
  switch (role) {
    case Role::kPublic:
      return "public";
    case Role::kDistrictStaff:
      return "district_staff";
    case Role::kDistrictExecutive:
      return "district_executive";
    case Role::kComplaintOfficer:
      return "complaint_officer";
    case Role::kCityMonitor:
      return "city_monitor";
    case Role::kAuditor:
      return "auditor";
    case Role::kOssBridge:
      return "oss_bridge";
    case Role::kAdministrator:
      return "administrator";
    case Role::kDevelopment:
      return "development";
  }
  return "unknown";
}

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (Role role : kTokenRoles) {
    if (RoleName(role) == name) {
      return role;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", name.substr(0, 40), "\" is not a role; use public, district_staff, district_executive, "
      "complaint_officer, city_monitor, auditor, oss_bridge or "
      "administrator"));
}

bool IsDistrictScoped(Role role) {
  return role == Role::kDistrictStaff || role == Role::kDistrictExecutive ||
         role == Role::kComplaintOfficer;
}

}  // namespace prongsai::security

// The policy table: every method of every service has a rule, HTTP routes
// match as the servers route them, and who sees personal data.
#include "core/security/policy.h"

#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/oss.grpc.pb.h"
#include "prongsai/v1/projections.grpc.pb.h"
#include "prongsai/v1/reports.grpc.pb.h"

namespace prongsai::security {
namespace {

const google::protobuf::ServiceDescriptor* Service(const std::string& name) {
  // Through a message of each file, so that the file is linked in.
  const google::protobuf::FileDescriptor* files[] = {
      v1::AppendRequest::descriptor()->file(),
      v1::ItaReportRequest::descriptor()->file(),
      v1::GetCheckpointRequest::descriptor()->file(),
      v1::RebuildRequest::descriptor()->file(),
      v1::ImportRequestsRequest::descriptor()->file()};
  for (const google::protobuf::FileDescriptor* file : files) {
    if (const google::protobuf::ServiceDescriptor* service =
            file->FindServiceByName(name);
        service != nullptr) {
      return service;
    }
  }
  ADD_FAILURE() << "no service " << name;
  return v1::AppendRequest::descriptor()->file()->service(0);
}

Principal As(Role role, std::string district = "") {
  Principal principal;
  principal.role = role;
  principal.subject = "tester";
  principal.district = std::move(district);
  principal.anonymous = false;
  return principal;
}

TEST(PolicyTest, EveryMethodOfEveryServiceHasARule) {
  const google::protobuf::ServiceDescriptor* services[] = {
      Service("Ledger"), Service("Reports"),
      Service("Audit"), Service("Projections"),
      Service("OssBridge")};
  for (const google::protobuf::ServiceDescriptor* service : services) {
    for (int i = 0; i < service->method_count(); ++i) {
      const std::string method = absl::StrCat(
          "/", service->full_name(), "/", service->method(i)->name());
      SCOPED_TRACE(method);
      EXPECT_NE(FindRule(method), nullptr);
    }
  }
  // The Privacy service's one method is the administrator's alone.
  const Rule* erase = FindRule("/prongsai.v1.Privacy/Erase");
  ASSERT_NE(erase, nullptr);
  for (Role role : kTokenRoles) {
    SCOPED_TRACE(RoleName(role));
    EXPECT_EQ(Authorize(As(role), "/prongsai.v1.Privacy/Erase", {}).ok(),
              role == Role::kAdministrator);
  }
}

TEST(PolicyTest, AnOperationWithoutARuleIsDeniedToEveryone) {
  EXPECT_EQ(Authorize(As(Role::kAdministrator), "/prongsai.v1.Ledger/Drop", {})
                .code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(Authorize(Principal::Development(), "/prongsai.v1.Ledger/Drop", {})
                  .code() == absl::StatusCode::kPermissionDenied);
}

TEST(PolicyTest, DistrictRolesActOnTheirOwnDistrictOnly) {
  const Principal staff = As(Role::kDistrictStaff, "1045");
  const std::string append = "/prongsai.v1.Ledger/Append";
  EXPECT_TRUE(Authorize(staff, append, {"1045"}).ok());
  EXPECT_EQ(Authorize(staff, append, {"1001"}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(Authorize(staff, append, {"city"}).code(),
            absl::StatusCode::kPermissionDenied);
  // City-wide (no district) is out of scope too.
  EXPECT_EQ(Authorize(staff, "/prongsai.v1.Ledger/Subscribe", {}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      Authorize(staff, "/prongsai.v1.Ledger/Subscribe", {"1045", "1001"}).code(),
      absl::StatusCode::kPermissionDenied);
  // The city stream's own staff.
  EXPECT_TRUE(Authorize(As(Role::kDistrictStaff, "city"), append, {"city"}).ok());
  // Not district-scoped: any district.
  EXPECT_TRUE(
      Authorize(As(Role::kCityMonitor), "/prongsai.v1.Reports/GetGiftRegister",
                {"1001"})
          .ok());
}

TEST(PolicyTest, AnonymousCallersNeedATokenWherePublicIsNotEnough) {
  const absl::Status status =
      Authorize(Principal::Anonymous(), "/prongsai.v1.Ledger/Append", {"1045"});
  EXPECT_EQ(status.code(), absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(Authorize(Principal::Anonymous(),
                        "/prongsai.v1.Audit/GetCheckpoint", {"1045"})
                  .ok());
  EXPECT_EQ(Authorize(As(Role::kPublic), "/prongsai.v1.Ledger/Append", {"1045"})
                .code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(PolicyTest, TheOssBridgeAppendsServiceRequestsOnly) {
  const Principal bridge = As(Role::kOssBridge);
  EXPECT_TRUE(AuthorizePayloads(bridge, {"service_request_received",
                                         "service_request_completed"})
                  .ok());
  const absl::Status status = AuthorizePayloads(
      bridge, {"service_request_received", "complaint_received"});
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(status.message().find("events[1]"), absl::string_view::npos);
  EXPECT_EQ(AuthorizePayloads(bridge, {""}).code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(
      AuthorizePayloads(As(Role::kDistrictStaff, "1045"), {"complaint_received"})
          .ok());
}

TEST(PolicyTest, HttpRoutesMatchWithTheirDistrict) {
  std::optional<HttpMatch> match =
      MatchHttp("GET", "/v1/districts/1045/gift-register");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->rule->operation, "GET /v1/districts/{district}/gift-register");
  EXPECT_EQ(match->district, "1045");
  EXPECT_TRUE(MatchHttp("GET", "/").has_value());
  EXPECT_TRUE(MatchHttp("GET", "/districts/1045/").has_value());
  EXPECT_TRUE(MatchHttp("GET", "/assets/app.js").has_value());
  EXPECT_FALSE(MatchHttp("POST", "/v1/city/overview").has_value());
  EXPECT_FALSE(MatchHttp("GET", "/v1/nothing").has_value());
  // An empty district still reaches the route, which says what is missing.
  match = MatchHttp("GET", "/v1/districts//scorecard");
  ASSERT_TRUE(match.has_value());
  EXPECT_EQ(match->district, "");
  for (const char* path :
       {"/assets/..", "/assets/../etc/passwd", "/fonts/.", "/v1/districts/../export",
        "/v1/districts/1045/../1001/export"}) {
    SCOPED_TRACE(path);
    EXPECT_FALSE(MatchHttp("GET", path).has_value());
  }
}

TEST(PolicyTest, WhoSeesPersonalData) {
  struct Case {
    Principal who;
    PersonalKind kind;
    std::string district;
    bool sees;
  };
  const Case cases[] = {
      {As(Role::kComplaintOfficer, "1045"), PersonalKind::kComplainant, "1045",
       true},
      {As(Role::kComplaintOfficer, "1045"), PersonalKind::kComplainant, "1001",
       false},
      {As(Role::kComplaintOfficer, "1045"), PersonalKind::kComplainant, "",
       false},
      {As(Role::kComplaintOfficer, "1045"), PersonalKind::kGiftGiver, "1045",
       false},
      {As(Role::kDistrictExecutive, "1045"), PersonalKind::kGiftGiver, "1045",
       true},
      {As(Role::kDistrictExecutive, "1045"), PersonalKind::kComplainant,
       "1045", false},
      {As(Role::kDistrictStaff, "1045"), PersonalKind::kGiftGiver, "1045",
       false},
      {As(Role::kCityMonitor), PersonalKind::kGiftGiver, "1045", false},
      {As(Role::kAuditor), PersonalKind::kComplainant, "1045", false},
      {As(Role::kAdministrator), PersonalKind::kComplainant, "1045", false},
      {Principal::Development(), PersonalKind::kGiftGiver, "1045", false},
      {Principal::Anonymous(), PersonalKind::kGiftGiver, "1045", false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(RoleName(c.who.role), "@", c.who.district, " on ",
                              c.district));
    EXPECT_EQ(MaySeePersonal(c.who, c.kind, c.district), c.sees);
  }
}

}  // namespace
}  // namespace prongsai::security

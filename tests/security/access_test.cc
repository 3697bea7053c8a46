// Every role against every operation, through real gRPC and HTTP calls on a
// TLS server with bearer tokens: what is allowed, what is denied and how,
// that a denial writes nothing and is logged without the token; bad tokens,
// mutual TLS, the rate limit, the serve refusals, and path traversal.
#include <grpcpp/grpcpp.h>
#include <httplib.h>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/security/certs.h"
#include "core/security/grpc_security.h"
#include "core/security/jwt.h"
#include "core/security/policy.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/oss.grpc.pb.h"
#include "prongsai/v1/projections.grpc.pb.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "services/server/server.h"
#include "tests/testing/testing.h"

namespace prongsai {
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

using security::Role;
using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::TempDir;

constexpr char kIssuer[] = "prongsai-access-test";

struct Who {
  std::string name;
  Role role = Role::kPublic;
  std::string district;
  bool anonymous = false;
};

const std::vector<Who>& Everyone() {
  static const auto* who = new std::vector<Who>{
      {"anonymous", Role::kPublic, "", true},
      {"public", Role::kPublic},
      {"staff_1045", Role::kDistrictStaff, "1045"},
      {"staff_1001", Role::kDistrictStaff, "1001"},
      {"executive_1045", Role::kDistrictExecutive, "1045"},
      {"officer_1045", Role::kComplaintOfficer, "1045"},
      {"city_monitor", Role::kCityMonitor},
      {"auditor", Role::kAuditor},
      {"oss_bridge", Role::kOssBridge},
      {"administrator", Role::kAdministrator},
  };
  return *who;
}

// The expectations, written out here rather than read from the policy
// table: the test must fail if the table changes by mistake.
const std::set<std::string> kAll = {
    "anonymous",    "public",       "staff_1045", "staff_1001",
    "executive_1045", "officer_1045", "city_monitor", "auditor",
    "oss_bridge",   "administrator"};
const std::set<std::string> kDistrict1045 = {"staff_1045", "executive_1045",
                                             "officer_1045"};

std::set<std::string> Plus(std::set<std::string> a,
                           std::initializer_list<std::string> b) {
  a.insert(b.begin(), b.end());
  return a;
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::seconds(20));
  return context;
}

struct Stubs {
  std::unique_ptr<v1::Ledger::Stub> ledger;
  std::unique_ptr<v1::Reports::Stub> reports;
  std::unique_ptr<v1::Audit::Stub> audit;
  std::unique_ptr<v1::Projections::Stub> projections;
};

class AccessTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    absl::StatusOr<std::vector<security::DevFile>> files =
        security::MakeDevCertificates({.dir = dir_->Sub("certs")});
    ASSERT_TRUE(files.ok()) << files.status();
    key_ = new security::JwtKey(
        *security::JwtKey::FromFile(dir_->Sub("certs/jwt.key")));
    log_ = new LogLines();
    server::ServerOptions options;
    options.data_dir = dir_->Sub("data");
    options.listen = "127.0.0.1:0";
    options.http_listen = "127.0.0.1:0";
    options.security = Secure();
    options.security.log = [](absl::string_view line) { log_->Add(line); };
    absl::StatusOr<std::unique_ptr<server::Server>> server =
        server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = server->release();
  }

  static void TearDownTestSuite() {
    server_->Shutdown();
    server_->Wait();
    delete server_;
    delete log_;
    delete key_;
    delete dir_;
  }

  static security::SecurityOptions Secure() {
    security::SecurityOptions security;
    security.insecure_dev = false;
    security.tls_cert = dir_->Sub("certs/server.pem");
    security.tls_key = dir_->Sub("certs/server.key");
    security.jwt_issuer = kIssuer;
    security.jwt_key = dir_->Sub("certs/jwt.pub");
    return security;
  }

  static std::string TokenOf(const Who& who) {
    if (who.anonymous) {
      return "";
    }
    security::JwtClaims claims;
    claims.subject = absl::StrCat("user-", who.name);
    claims.role = who.role;
    claims.district = who.district;
    claims.issuer = kIssuer;
    claims.issued_at = absl::Now();
    claims.expires = absl::Now() + absl::Hours(1);
    return *security::MintJwt(claims, *key_);
  }

  static std::shared_ptr<grpc::Channel> Channel(const std::string& token,
                                                int port = 0) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = security::Dial(
        absl::StrCat("127.0.0.1:", port == 0 ? server_->port() : port),
        {.tls_ca = dir_->Sub("certs/ca.pem"), .token = token});
    EXPECT_TRUE(channel.ok()) << channel.status();
    return *channel;
  }

  static Stubs StubsFor(const std::string& token) {
    std::shared_ptr<grpc::Channel> channel = Channel(token);
    return {v1::Ledger::NewStub(channel), v1::Reports::NewStub(channel),
            v1::Audit::NewStub(channel), v1::Projections::NewStub(channel)};
  }

  static httplib::Result Get(const std::string& path,
                             const std::string& token) {
    httplib::SSLClient client("127.0.0.1", server_->http_port());
    client.set_ca_cert_path(dir_->Sub("certs/ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(std::chrono::seconds(20));
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    }
    return client.Get(path.c_str(), headers);
  }

  static uint64_t HeadOf(const std::string& stream) {
    // The auditor may read every head.
    Stubs stubs = StubsFor(TokenOf({"auditor", Role::kAuditor, ""}));
    v1::GetHeadRequest request;
    request.set_stream(stream);
    v1::Head head;
    auto context = Context();
    EXPECT_TRUE(stubs.ledger->GetHead(context.get(), request, &head).ok());
    return head.sequence();
  }

  struct LogLines {
    void Add(absl::string_view line) {
      absl::MutexLock lock(&mu);
      lines.emplace_back(line);
    }
    std::vector<std::string> Lines() {
      absl::MutexLock lock(&mu);
      return lines;
    }
    absl::Mutex mu;
    std::vector<std::string> lines;
  };

  static TempDir* dir_;
  static security::JwtKey* key_;
  static LogLines* log_;
  static server::Server* server_;
};

TempDir* AccessTest::dir_ = nullptr;
security::JwtKey* AccessTest::key_ = nullptr;
AccessTest::LogLines* AccessTest::log_ = nullptr;
server::Server* AccessTest::server_ = nullptr;

v1::Event ServiceRequestEvent() {
  v1::Event event;
  event.set_event_id(testing::NewUuid());
  event.mutable_occurred_at()->set_seconds(1728972000);
  event.mutable_actor()->set_id("bma-oss");
  v1::ServiceRequestReceived* received =
      event.mutable_service_request_received();
  received->set_request_id(absl::StrCat("OSS-", event.event_id().substr(0, 8)));
  received->set_service_code("1045-001");
  received->set_service_name("ขออนุญาตก่อสร้างอาคาร");
  received->mutable_requested_at()->set_seconds(1728972000);
  received->mutable_expected_at()->set_seconds(1729972000);
  return event;
}

struct GrpcOp {
  std::string method;
  std::function<grpc::Status(Stubs&)> call;
  std::set<std::string> allowed;
};

std::vector<GrpcOp> GrpcOps() {
  auto append = [](v1::Event event) {
    return [event](Stubs& s) {
      v1::AppendRequest request;
      request.set_stream("1045");
      *request.add_events() = event;
      v1::AppendResponse response;
      auto context = Context();
      return s.ledger->Append(context.get(), request, &response);
    };
  };
  return {
      {"/prongsai.v1.Ledger/Append", append(MeetingEvent("access")),
       kDistrict1045},
      {"/prongsai.v1.Ledger/Append", append(ServiceRequestEvent()),
       Plus(kDistrict1045, {"oss_bridge"})},
      {"/prongsai.v1.Ledger/Read",
       [](Stubs& s) {
         v1::ReadRequest request;
         request.set_stream("1045");
         auto context = Context();
         auto reader = s.ledger->Read(context.get(), request);
         v1::Entry entry;
         while (reader->Read(&entry)) {
         }
         return reader->Finish();
       },
       Plus(kDistrict1045, {"auditor"})},
      {"/prongsai.v1.Ledger/Subscribe",
       [](Stubs& s) {
         v1::SubscribeRequest request;
         request.add_streams("1045");
         grpc::ClientContext context;
         context.set_deadline(std::chrono::system_clock::now() +
                              std::chrono::milliseconds(500));
         auto reader = s.ledger->Subscribe(&context, request);
         v1::Entry entry;
         while (reader->Read(&entry)) {
         }
         return reader->Finish();
       },
       Plus(kDistrict1045, {"auditor"})},
      {"/prongsai.v1.Ledger/GetHead",
       [](Stubs& s) {
         v1::GetHeadRequest request;
         request.set_stream("1045");
         v1::Head head;
         auto context = Context();
         return s.ledger->GetHead(context.get(), request, &head);
       },
       Plus(kDistrict1045, {"city_monitor", "auditor", "oss_bridge"})},
      {"/prongsai.v1.Reports/GetItaReport",
       [](Stubs& s) {
         v1::ItaReportRequest request;
         request.set_district("1045");
         request.set_fiscal_year(2568);
         request.set_round(v1::ROUND_H1);
         v1::ItaReport response;
         auto context = Context();
         return s.reports->GetItaReport(context.get(), request, &response);
       },
       kAll},
      {"/prongsai.v1.Reports/GetScorecard",
       [](Stubs& s) {
         v1::ScorecardRequest request;
         request.set_district("1045");
         request.set_fiscal_year(2568);
         v1::Scorecard response;
         auto context = Context();
         return s.reports->GetScorecard(context.get(), request, &response);
       },
       kAll},
      {"/prongsai.v1.Reports/GetGiftRegister",
       [](Stubs& s) {
         v1::GiftRegisterRequest request;
         request.set_district("1045");
         request.set_fiscal_year(2568);
         request.set_round(v1::ROUND_H1);
         v1::GiftRegister response;
         auto context = Context();
         return s.reports->GetGiftRegister(context.get(), request, &response);
       },
       {"executive_1045", "officer_1045", "city_monitor"}},
      {"/prongsai.v1.Reports/GetComplaintStats",
       [](Stubs& s) {
         v1::ComplaintStatsRequest request;
         request.set_district("1045");
         request.set_fiscal_year(2568);
         v1::ComplaintStats response;
         auto context = Context();
         return s.reports->GetComplaintStats(context.get(), request,
                                             &response);
       },
       {"executive_1045", "officer_1045", "city_monitor"}},
      {"/prongsai.v1.Reports/GetCityOverview",
       [](Stubs& s) {
         v1::CityOverviewRequest request;
         request.set_fiscal_year(2568);
         v1::CityOverview response;
         auto context = Context();
         return s.reports->GetCityOverview(context.get(), request, &response);
       },
       kAll},
      {"/prongsai.v1.Audit/GetCheckpoint",
       [](Stubs& s) {
         v1::GetCheckpointRequest request;
         request.set_stream("1045");
         v1::GetCheckpointResponse response;
         auto context = Context();
         return s.audit->GetCheckpoint(context.get(), request, &response);
       },
       kAll},
      {"/prongsai.v1.Audit/GetInclusionProof",
       [](Stubs& s) {
         v1::GetInclusionProofRequest request;
         request.set_stream("1045");
         request.set_sequence(1);
         v1::InclusionProof response;
         auto context = Context();
         return s.audit->GetInclusionProof(context.get(), request, &response);
       },
       {"auditor"}},
      {"/prongsai.v1.Audit/GetConsistencyProof",
       [](Stubs& s) {
         v1::GetConsistencyProofRequest request;
         request.set_stream("1045");
         request.set_from_size(1);
         v1::ConsistencyProof response;
         auto context = Context();
         return s.audit->GetConsistencyProof(context.get(), request,
                                             &response);
       },
       {"auditor"}},
      {"/prongsai.v1.Audit/ReadRecords",
       [](Stubs& s) {
         v1::ReadRecordsRequest request;
         request.set_stream("1045");
         auto context = Context();
         auto reader = s.audit->ReadRecords(context.get(), request);
         v1::RawRecord record;
         while (reader->Read(&record)) {
         }
         return reader->Finish();
       },
       {"auditor"}},
      {"/prongsai.v1.Audit/GetTrail",
       [](Stubs& s) {
         v1::GetTrailRequest request;
         request.set_actor_id("1045-ita-01");
         v1::Trail response;
         auto context = Context();
         return s.audit->GetTrail(context.get(), request, &response);
       },
       {"auditor"}},
      {"/prongsai.v1.Projections/GetStatus",
       [](Stubs& s) {
         v1::GetProjectionsStatusRequest request;
         v1::ProjectionsStatus response;
         auto context = Context();
         return s.projections->GetStatus(context.get(), request, &response);
       },
       {"administrator"}},
      {"/prongsai.v1.Projections/Rebuild",
       [](Stubs& s) {
         v1::RebuildRequest request;
         request.set_name("no-such-view");
         auto context = Context();
         auto reader = s.projections->Rebuild(context.get(), request);
         v1::RebuildProgress progress;
         while (reader->Read(&progress)) {
         }
         return reader->Finish();
       },
       {"administrator"}},
  };
}

bool Denied(grpc::StatusCode code) {
  return code == grpc::StatusCode::PERMISSION_DENIED ||
         code == grpc::StatusCode::UNAUTHENTICATED;
}

TEST_F(AccessTest, EveryRoleAgainstEveryGrpcMethod) {
  std::set<std::string> covered;
  for (const Who& who : Everyone()) {
    Stubs stubs = StubsFor(TokenOf(who));
    for (const GrpcOp& op : GrpcOps()) {
      SCOPED_TRACE(absl::StrCat(who.name, " calls ", op.method));
      covered.insert(op.method);
      const grpc::Status status = op.call(stubs);
      if (op.allowed.contains(who.name)) {
        EXPECT_FALSE(Denied(status.error_code()))
            << status.error_code() << ": " << status.error_message();
      } else {
        EXPECT_EQ(status.error_code(),
                  who.anonymous ? grpc::StatusCode::UNAUTHENTICATED
                                : grpc::StatusCode::PERMISSION_DENIED)
            << status.error_message();
        EXPECT_TRUE(absl::StrContains(status.error_message(), op.method) ||
                    absl::StrContains(status.error_message(), "oss_bridge"))
            << status.error_message();
      }
    }
  }
  // The table above covers every method of the services the server runs.
  for (const google::protobuf::ServiceDescriptor* service :
       std::vector<const google::protobuf::ServiceDescriptor*>{Service("Ledger"), Service("Reports"),
        Service("Audit"), Service("Projections")}) {
    for (int i = 0; i < service->method_count(); ++i) {
      EXPECT_TRUE(covered.contains(absl::StrCat("/", service->full_name(), "/",
                                                service->method(i)->name())))
          << service->method(i)->full_name();
    }
  }
}

struct HttpOp {
  std::string path;
  std::set<std::string> allowed;
};

TEST_F(AccessTest, EveryRoleAgainstEveryHttpEndpoint) {
  const std::set<std::string> gifts = {"executive_1045", "officer_1045",
                                       "city_monitor"};
  const std::vector<HttpOp> ops = {
      {"/v1/districts/1045/ita-report?fy=2568&round=H1", kAll},
      {"/v1/districts/1045/scorecard?fy=2568", kAll},
      {"/v1/districts/1045/gift-register?fy=2568&round=H1", gifts},
      {"/v1/districts/1045/complaints?fy=2568", gifts},
      {"/v1/city/gift-register?fy=2568&round=FULL_YEAR", {"city_monitor"}},
      {"/v1/city/complaints?fy=2568", {"city_monitor"}},
      {"/v1/city/overview?fy=2568", kAll},
      {"/healthz", kAll},
      {"/fonts/Laksaman.ttf", kAll},
      {"/", kAll},
      {"/districts/1045", kAll},
      {"/assets/app.js", kAll},
      {"/v1/about", kAll},
      {"/v1/districts/1045/meetings?fy=2568", kAll},
      {"/v1/districts/1045/services?fy=2568", kAll},
      {"/v1/districts/1045/audit", kAll},
      {"/v1/city/services?fy=2568", kAll},
      {"/v1/districts/1045/export", {"auditor"}},
      {"/open311/v2/services.json", kAll},
      {"/open311/v2/requests.json", kAll},
      {"/open311/v2/requests/OSS-1.json", kAll},
  };
  for (const Who& who : Everyone()) {
    const std::string token = TokenOf(who);
    for (const HttpOp& op : ops) {
      SCOPED_TRACE(absl::StrCat(who.name, " GET ", op.path));
      httplib::Result res = Get(op.path, token);
      ASSERT_TRUE(res) << httplib::to_string(res.error());
      if (op.allowed.contains(who.name)) {
        EXPECT_NE(res->status, 401) << res->body;
        EXPECT_NE(res->status, 403) << res->body;
      } else {
        EXPECT_EQ(res->status, who.anonymous ? 401 : 403) << res->body;
        EXPECT_TRUE(absl::StrContains(res->body, "\"code\":\"")) << res->body;
      }
    }
  }
  // Every HTTP rule of this listener but the live event stream is in the
  // list above (GET /metrics is the OSS bridge's: tests/oss).
  size_t http_rules = 0;
  for (const security::Rule& rule : security::Rules()) {
    http_rules += absl::StartsWith(rule.operation, "GET ") &&
                          rule.operation != "GET /metrics"
                      ? 1
                      : 0;
  }
  EXPECT_EQ(ops.size(), http_rules - 1);
}

TEST_F(AccessTest, ADeniedAppendWritesNothingAndIsLoggedWithoutTheToken) {
  const uint64_t before = HeadOf("1045");
  const std::string token = TokenOf({"staff_1001", Role::kDistrictStaff, "1001"});
  Stubs stubs = StubsFor(token);
  v1::AppendRequest request;
  request.set_stream("1045");
  *request.add_events() = MeetingEvent("denied");
  v1::AppendResponse response;
  auto context = Context();
  const grpc::Status status =
      stubs.ledger->Append(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(HeadOf("1045"), before);

  bool logged = false;
  for (const std::string& line : log_->Lines()) {
    EXPECT_FALSE(absl::StrContains(line, token.substr(token.rfind('.'))));
    logged = logged ||
             (absl::StrContains(line, "subject=user-staff_1001") &&
              absl::StrContains(line, "operation=/prongsai.v1.Ledger/Append") &&
              absl::StrContains(line, "districts=1045"));
  }
  EXPECT_TRUE(logged);
}

TEST_F(AccessTest, BadTokensAreUnauthenticatedWithAClearMessage) {
  security::JwtClaims claims;
  claims.subject = "somchai";
  claims.role = Role::kAuditor;
  claims.issuer = kIssuer;
  claims.expires = absl::Now() - absl::Hours(1);
  const std::string expired = *security::MintJwt(claims, *key_);
  claims.expires = absl::Now() + absl::Hours(1);
  claims.issuer = "another-issuer";
  const std::string stranger = *security::MintJwt(claims, *key_);
  claims.issuer = kIssuer;
  const std::string forged =
      *security::MintJwt(claims, *security::JwtKey::GenerateEd25519());
  const std::string hs256 = *security::MintJwt(
      claims, *security::JwtKey::FromBytes(std::string(40, 's')));
  struct Case {
    std::string token;
    std::string why;
  };
  const Case cases[] = {{expired, "expired"},
                        {stranger, "issuer"},
                        {forged, "does not verify"},
                        {hs256, "alg must be EdDSA"},
                        {"not-a-token", "compact JWS"}};
  // (An oversized token never reaches the guard over gRPC: the metadata
  // limit refuses it first. jwt_test covers the guard's own limit.)
  for (const Case& c : cases) {
    SCOPED_TRACE(c.why);
    Stubs stubs = StubsFor(c.token);
    v1::GetCheckpointRequest request;
    request.set_stream("1045");
    v1::GetCheckpointResponse response;
    auto context = Context();
    const grpc::Status status =
        stubs.audit->GetCheckpoint(context.get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
    EXPECT_TRUE(absl::StrContains(status.error_message(), c.why))
        << status.error_message();
    EXPECT_FALSE(absl::StrContains(status.error_message(), c.token));
  }
  // Over HTTP the same, with WWW-Authenticate.
  httplib::Result res = Get("/v1/city/overview?fy=2568", expired);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
}

TEST_F(AccessTest, TheReaderSeesPersonalDataByItsPrincipal) {
  // A gift report of 1045, filed by its staff.
  const std::string giver = "นายให้ ของขวัญ";
  v1::Event gift = MeetingEvent("gift");
  v1::GiftReportFiled* filed = gift.mutable_gift_report_filed();
  filed->set_report_id("G-access-1");
  filed->mutable_official()->set_subject_id("p-official");
  filed->mutable_official()->set_name("สมหญิง รักดี");
  filed->mutable_official()->set_position("นักจัดการงานทั่วไป");
  filed->mutable_giver()->set_subject_id("p-giver");
  filed->mutable_giver()->set_name(giver);
  filed->set_giver_category(v1::GIVER_CATEGORY_CITIZEN);
  filed->set_description("กระเช้าผลไม้");
  filed->set_estimated_value_satang(250000);
  filed->mutable_received_on()->set_year(2024);
  filed->mutable_received_on()->set_month(10);
  filed->mutable_received_on()->set_day(15);
  filed->set_disposition(v1::GIFT_DISPOSITION_RETURNED);
  Stubs staff = StubsFor(TokenOf({"staff_1045", Role::kDistrictStaff, "1045"}));
  v1::AppendRequest request;
  request.set_stream("1045");
  *request.add_events() = gift;
  v1::AppendResponse response;
  auto context = Context();
  const grpc::Status appended =
      staff.ledger->Append(context.get(), request, &response);
  ASSERT_TRUE(appended.ok()) << appended.error_message();

  auto gifts = [&](const std::string& token) {
    httplib::Result res = Get(
        absl::StrCat("/v1/districts/1045/gift-register?fy=2568&round=H1"
                     "&wait=10s&min_position=",
                     response.last_position()),
        token);
    EXPECT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    return res->body;
  };
  // The district executive sees the giver's name; the complaint officer of
  // the district and the city monitor see the register without it.
  EXPECT_TRUE(absl::StrContains(
      gifts(TokenOf({"executive_1045", Role::kDistrictExecutive, "1045"})),
      giver));
  for (const Who& who :
       {Who{"officer_1045", Role::kComplaintOfficer, "1045"},
        Who{"city_monitor", Role::kCityMonitor, ""}}) {
    SCOPED_TRACE(who.name);
    const std::string body = gifts(TokenOf(who));
    EXPECT_TRUE(absl::StrContains(body, "G-access-1") ||
                absl::StrContains(body, "กระเช้าผลไม้"))
        << body;
    EXPECT_FALSE(absl::StrContains(body, giver)) << body;
  }
}

TEST_F(AccessTest, FileEndpointsRefusePathTraversal) {
  const std::string paths[] = {
      "/assets/../../etc/passwd",
      "/assets/..%2f..%2fetc%2fpasswd",
      "/assets/%2e%2e/%2e%2e/etc/passwd",
      "/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
      "/fonts/..%2f..%2f..%2fetc%2fpasswd",
      "/fonts/%2e%2e/Laksaman.ttf",
      "/fonts//etc/passwd",
      "//etc/passwd",
      "/v1/districts/..%2f1045/export",
      "/v1/districts/1045/../1001/export",
      "/v1/districts/%2fetc%2fpasswd/export",
      "/assets/%2fetc%2fpasswd",
  };
  const std::string auditor = TokenOf({"auditor", Role::kAuditor, ""});
  for (const std::string& path : paths) {
    SCOPED_TRACE(path);
    for (const std::string& token : {std::string(), auditor}) {
      httplib::Result res = Get(path, token);
      ASSERT_TRUE(res);
      EXPECT_TRUE(res->status == 400 || res->status == 404)
          << res->status << " " << res->body;
      EXPECT_FALSE(absl::StrContains(res->body, "root:")) << res->body;
    }
  }
}

TEST_F(AccessTest, MutualTlsRequiresAClientCertificate) {
  server::ServerOptions options;
  options.data_dir = dir_->Sub("mtls");
  options.listen = "127.0.0.1:0";
  options.http_listen = "";
  options.roles = {"ingest"};
  options.security = Secure();
  options.security.tls_client_ca = dir_->Sub("certs/ca.pem");
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = absl::StrCat("127.0.0.1:", (*server)->port());
  const std::string token = TokenOf({"auditor", Role::kAuditor, ""});
  auto head = [&](const security::ClientSecurity& client) {
    absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
        security::Dial(address, client);
    EXPECT_TRUE(channel.ok()) << channel.status();
    v1::GetHeadRequest request;
    request.set_stream("1045");
    v1::Head response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    return v1::Ledger::NewStub(*channel)->GetHead(&context, request,
                                                  &response);
  };
  EXPECT_FALSE(head({.tls_ca = dir_->Sub("certs/ca.pem"), .token = token}).ok());
  const grpc::Status with_cert =
      head({.tls_ca = dir_->Sub("certs/ca.pem"),
            .tls_cert = dir_->Sub("certs/client.pem"),
            .tls_key = dir_->Sub("certs/client.key"),
            .token = token});
  EXPECT_TRUE(with_cert.ok()) << with_cert.error_message();
  (*server)->Shutdown();
}

TEST_F(AccessTest, TheRateLimitAnswersResourceExhaustedWithARetryHint) {
  server::ServerOptions options;
  options.data_dir = dir_->Sub("limited");
  options.listen = "127.0.0.1:0";
  options.http_listen = "127.0.0.1:0";
  options.security = Secure();
  options.security.rate_limit = 1;
  options.security.rate_burst = 3;
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = v1::Audit::NewStub(Channel(TokenOf({"auditor", Role::kAuditor, ""}),
                                         (*server)->port()));
  grpc::Status last;
  std::string retry;
  for (int i = 0; i < 10 && last.ok(); ++i) {
    v1::GetCheckpointRequest request;
    request.set_stream("city");
    v1::GetCheckpointResponse response;
    grpc::ClientContext context;
    last = stub->GetCheckpoint(&context, request, &response);
    if (!last.ok()) {
      auto it = context.GetServerTrailingMetadata().find("retry-after-ms");
      if (it != context.GetServerTrailingMetadata().end()) {
        retry = std::string(it->second.data(), it->second.size());
      }
    }
    // Allowed calls may fail for other reasons (no checkpoint yet).
    if (last.error_code() != grpc::StatusCode::RESOURCE_EXHAUSTED) {
      last = grpc::Status::OK;
    }
  }
  EXPECT_EQ(last.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_TRUE(absl::StrContains(last.error_message(), "retry in"))
      << last.error_message();
  EXPECT_FALSE(retry.empty());

  // HTTP: anonymous callers are limited per address, with Retry-After.
  httplib::SSLClient client("127.0.0.1", (*server)->http_port());
  client.set_ca_cert_path(dir_->Sub("certs/ca.pem").c_str());
  int status = 200;
  std::string retry_after;
  for (int i = 0; i < 10 && status != 429; ++i) {
    httplib::Result res = client.Get("/healthz");
    ASSERT_TRUE(res);
    status = res->status;
    retry_after = res->get_header_value("Retry-After");
  }
  EXPECT_EQ(status, 429);
  EXPECT_FALSE(retry_after.empty());
  (*server)->Shutdown();
}

TEST(ServeSecurityTest, RefusesToStartWithoutTlsAndTokensOrInsecureDev) {
  TempDir dir;
  server::ServerOptions options;
  options.data_dir = dir.Sub("data");
  options.listen = "127.0.0.1:0";
  options.http_listen = "";
  options.security.insecure_dev = false;
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  ASSERT_FALSE(server.ok());
  for (const char* flag :
       {"--tls-cert", "--tls-key", "--jwt-issuer", "--jwt-key", "--insecure-dev"}) {
    EXPECT_TRUE(absl::StrContains(server.status().message(), flag)) << flag;
  }
  // Insecure-dev is for loopback only.
  options.security.insecure_dev = true;
  options.listen = "0.0.0.0:0";
  server = server::Server::Start(options);
  ASSERT_FALSE(server.ok());
  EXPECT_TRUE(absl::StrContains(server.status().message(), "loopback"));
  options.listen = "[::1]:0";
  server = server::Server::Start(options);
  EXPECT_TRUE(server.ok()) << server.status();
}

}  // namespace
}  // namespace prongsai

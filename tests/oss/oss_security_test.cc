// The OSS bridge's own listeners behind the guard: prongsai.v1.OssBridge
// over TLS and mutual TLS, the webhook over HTTPS, each with the policy rule
// of its operation (core/security/policy.cc); and `prongsai oss-bridge`
// refusing to start without TLS and tokens unless given --insecure-dev.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/log/rocksdb_log.h"
#include "core/security/certs.h"
#include "core/security/grpc_security.h"
#include "core/security/guard.h"
#include "core/security/jwt.h"
#include "prongsai/v1/oss.grpc.pb.h"
#include "services/ingest/ingestor.h"
#include "services/oss_bridge/bridge.h"
#include "services/oss_bridge/dead_letter.h"
#include "services/oss_bridge/grpc_service.h"
#include "services/oss_bridge/webhook.h"
#include "tests/oss/oss_testing.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai::oss {
namespace {

using ::prongsai::testing::TempDir;
using security::Role;

constexpr char kIssuer[] = "bma-prongsai-test";

class OssSecurityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    certs_ = new TempDir();
    ASSERT_TRUE(security::MakeDevCertificates({.dir = certs_->path()}).ok());
    key_ = new security::JwtKey(*security::JwtKey::FromFile(Cert("jwt.key")));
  }
  static void TearDownTestSuite() {
    delete key_;
    delete certs_;
  }

  static std::string Cert(absl::string_view name) {
    return certs_->Sub(std::string(name));
  }

  static security::SecurityOptions Secure() {
    security::SecurityOptions security;
    security.insecure_dev = false;
    security.tls_cert = Cert("server.pem");
    security.tls_key = Cert("server.key");
    security.tls_client_ca = Cert("ca.pem");
    security.jwt_issuer = kIssuer;
    security.jwt_key = Cert("jwt.pub");
    security.log = [](absl::string_view) {};
    return security;
  }

  static std::string Token(Role role, const std::string& district = "") {
    security::JwtClaims claims;
    claims.subject = absl::StrCat("test-", security::RoleName(role));
    claims.role = role;
    claims.district = district;
    claims.issuer = kIssuer;
    claims.issued_at = absl::Now();
    claims.expires = absl::Now() + absl::Hours(1);
    return *security::MintJwt(claims, *key_);
  }

  void SetUp() override {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("log"), .sync = false});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    auto ingestor = ingest::Ingestor::Start(log_.get());
    ASSERT_TRUE(ingestor.ok()) << ingestor.status();
    ingestor_ = std::move(*ingestor);
    ledger_ = std::make_unique<testing::IngestorLedger>(ingestor_.get());
    dead_letters_ = std::make_unique<DeadLetterFile>(dir_.Sub("dead.jsonl"));
    bridge_ = std::make_unique<Bridge>(ledger_.get(), dead_letters_.get());

    auto guard = security::Guard::Create(Secure());
    ASSERT_TRUE(guard.ok()) << guard.status();
    guard_ = std::move(*guard);

    auto credentials = security::ServerCredentials(Secure());
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    service_ = std::make_unique<OssBridgeService>(bridge_.get(), guard_.get());
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", *credentials, &grpc_port_);
    builder.RegisterService(service_.get());
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);

    http_ = std::make_unique<httplib::SSLServer>(Cert("server.pem").c_str(),
                                                 Cert("server.key").c_str());
    ASSERT_TRUE(http_->is_valid());
    RegisterWebhook(*http_, bridge_.get(), guard_.get());
    http_port_ = http_->bind_to_any_port("127.0.0.1");
    ASSERT_GT(http_port_, 0);
    http_thread_ = std::thread([this] { http_->listen_after_bind(); });
    ASSERT_TRUE(
        ::prongsai::testing::WaitFor([&] { return http_->is_running(); }));
  }

  void TearDown() override {
    http_->stop();
    http_thread_.join();
    grpc_->Shutdown();
  }

  // A stub over TLS, with this client's certificate (mutual TLS) unless
  // `client_certificate` is false.
  std::unique_ptr<v1::OssBridge::Stub> Stub(const std::string& token,
                                            bool client_certificate = true) {
    security::ClientSecurity client{.tls_ca = Cert("ca.pem"), .token = token};
    if (client_certificate) {
      client.tls_cert = Cert("client.pem");
      client.tls_key = Cert("client.key");
    }
    auto channel =
        security::Dial(absl::StrCat("127.0.0.1:", grpc_port_), client);
    EXPECT_TRUE(channel.ok()) << channel.status();
    return v1::OssBridge::NewStub(*channel);
  }

  grpc::Status Import(v1::OssBridge::Stub& stub, const std::string& id,
                      v1::ImportRequestsResponse* response) {
    const OssRecord r =
        testing::Record(id, "open", absl::CivilSecond(2026, 1, 5, 9),
                        absl::CivilSecond(2026, 1, 5, 9));
    v1::ImportRequestsRequest request;
    v1::OssRequestRecord* m = request.add_records();
    m->set_service_request_id(r.service_request_id);
    m->set_status(r.status);
    m->set_service_code(r.service_code);
    m->set_agency_responsible(r.agency_responsible);
    m->set_requested_datetime(r.requested_datetime);
    m->set_updated_datetime(r.updated_datetime);
    m->set_channel(r.channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    return stub.ImportRequests(&context, request, response);
  }

  httplib::Result Post(const std::string& token) {
    httplib::SSLClient client("127.0.0.1", http_port_);
    client.set_ca_cert_path(Cert("ca.pem").c_str());
    client.enable_server_certificate_verification(true);
    client.set_read_timeout(std::chrono::seconds(20));
    httplib::Headers headers;
    if (!token.empty()) {
      headers.emplace("Authorization", absl::StrCat("Bearer ", token));
    }
    const std::string body =
        RecordToJson(testing::Record("W-1", "open",
                                     absl::CivilSecond(2026, 1, 5, 9),
                                     absl::CivilSecond(2026, 1, 5, 9)))
            .dump();
    return client.Post(std::string(kWebhookPath), headers, body,
                       "application/json");
  }

  static TempDir* certs_;
  static security::JwtKey* key_;
  TempDir dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<testing::IngestorLedger> ledger_;
  std::unique_ptr<DeadLetterFile> dead_letters_;
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<security::Guard> guard_;
  std::unique_ptr<OssBridgeService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  int grpc_port_ = 0;
  std::unique_ptr<httplib::SSLServer> http_;
  std::thread http_thread_;
  int http_port_ = 0;
};

TempDir* OssSecurityTest::certs_ = nullptr;
security::JwtKey* OssSecurityTest::key_ = nullptr;

TEST_F(OssSecurityTest, GrpcWithoutATokenIsUnauthenticated) {
  v1::ImportRequestsResponse response;
  const grpc::Status status = Import(*Stub(""), "G-1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  EXPECT_TRUE(absl::StrContains(status.error_message(), "oss_bridge"))
      << status.error_message();
  EXPECT_EQ(ledger_->appends.load(), 0);
}

TEST_F(OssSecurityTest, GrpcWithTheOssBridgeRoleLandsTheRecords) {
  v1::ImportRequestsResponse response;
  const grpc::Status status =
      Import(*Stub(Token(Role::kOssBridge)), "G-2", &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.accepted(), 1u);
  EXPECT_GE(response.events_appended(), 1u);
}

TEST_F(OssSecurityTest, GrpcWithAnotherRoleIsPermissionDeniedAndWritesNothing) {
  for (const auto& [role, district] :
       std::vector<std::pair<Role, std::string>>{{Role::kDistrictStaff, "1045"},
                                                 {Role::kCityMonitor, ""},
                                                 {Role::kAuditor, ""}}) {
    SCOPED_TRACE(security::RoleName(role));
    v1::ImportRequestsResponse response;
    const grpc::Status status =
        Import(*Stub(Token(role, district)), "G-3", &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << status.error_message();
  }
  EXPECT_EQ(ledger_->appends.load(), 0);
}

TEST_F(OssSecurityTest, GrpcNeedsAClientCertificate) {
  v1::ImportRequestsResponse response;
  const grpc::Status status =
      Import(*Stub(Token(Role::kOssBridge), /*client_certificate=*/false),
             "G-4", &response);
  EXPECT_FALSE(status.ok());
  EXPECT_EQ(ledger_->appends.load(), 0);
}

TEST_F(OssSecurityTest, WebhookRefusesAnUnauthenticatedPost) {
  httplib::Result res = Post("");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401) << res->body;
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(ledger_->appends.load(), 0);
}

TEST_F(OssSecurityTest, WebhookTakesTheOssBridgeRoleOnly) {
  httplib::Result denied = Post(Token(Role::kDistrictStaff, "1045"));
  ASSERT_TRUE(denied) << httplib::to_string(denied.error());
  EXPECT_EQ(denied->status, 403) << denied->body;
  EXPECT_EQ(ledger_->appends.load(), 0);

  httplib::Result landed = Post(Token(Role::kOssBridge));
  ASSERT_TRUE(landed) << httplib::to_string(landed.error());
  EXPECT_EQ(landed->status, 200) << landed->body;
  EXPECT_TRUE(absl::StrContains(landed->body, "\"accepted\":1"))
      << landed->body;
}

TEST_F(OssSecurityTest, MetricsNeedNoTokenAndOtherPathsAreNotFound) {
  httplib::SSLClient client("127.0.0.1", http_port_);
  client.set_ca_cert_path(Cert("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result metrics = client.Get("/metrics");
  ASSERT_TRUE(metrics) << httplib::to_string(metrics.error());
  EXPECT_EQ(metrics->status, 200);
  EXPECT_TRUE(absl::StrContains(metrics->body, "prongsai_oss_batches_total"));
  httplib::Result other = client.Get("/v1/city/overview");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 404);
}

// --- `prongsai oss-bridge` -------------------------------------------------

TEST_F(OssSecurityTest, TheCommandRefusesToStartWithoutTlsAndTokens) {
  const ::prongsai::testing::CommandResult plain =
      ::prongsai::testing::RunCommand(
          {::prongsai::testing::ProngsaiBinary(), "oss-bridge", "--listen",
           "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--dead-letter",
           dir_.Sub("cli-dead.jsonl")});
  EXPECT_EQ(plain.exit_code, 2) << plain.err;
  for (const char* flag : {"--listen-tls-cert", "--listen-tls-key",
                           "--jwt-issuer", "--jwt-key", "--insecure-dev"}) {
    EXPECT_TRUE(absl::StrContains(plain.err, flag)) << plain.err;
  }

  const ::prongsai::testing::CommandResult exposed =
      ::prongsai::testing::RunCommand(
          {::prongsai::testing::ProngsaiBinary(), "oss-bridge", "--listen",
           "0.0.0.0:0", "--grpc-listen", "127.0.0.1:0", "--insecure-dev",
           "--dead-letter", dir_.Sub("cli-dead.jsonl")});
  EXPECT_EQ(exposed.exit_code, 2) << exposed.err;
  EXPECT_TRUE(absl::StrContains(exposed.err, "loopback only")) << exposed.err;
}

TEST_F(OssSecurityTest, TheCommandServesTlsAndRefusesCallsWithoutAToken) {
  ::prongsai::testing::ChildProcess bridge;
  ASSERT_TRUE(bridge.Start(
      {::prongsai::testing::ProngsaiBinary(), "oss-bridge", "--listen",
       "127.0.0.1:0", "--grpc-listen", "127.0.0.1:0", "--listen-tls-cert",
       Cert("server.pem"), "--listen-tls-key", Cert("server.key"),
       "--listen-tls-client-ca", Cert("ca.pem"), "--jwt-issuer", kIssuer,
       "--jwt-key", Cert("jwt.pub"), "--dead-letter",
       dir_.Sub("cli-dead.jsonl")}));
  std::optional<std::string> line = bridge.ReadLine(absl::Seconds(30));
  ASSERT_TRUE(line.has_value());
  // "prongsai oss-bridge: webhook on https://127.0.0.1:P/oss/v1/requests,
  // gRPC (TLS) on port Q; ..."
  ASSERT_TRUE(absl::StrContains(*line, "https://127.0.0.1:")) << *line;
  const size_t http_at = line->find("https://127.0.0.1:") + 18;
  int http_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      line->substr(http_at, line->find('/', http_at) - http_at), &http_port))
      << *line;
  const size_t grpc_at = line->find("on port ") + 8;
  int grpc_port = 0;
  ASSERT_TRUE(absl::SimpleAtoi(
      line->substr(grpc_at, line->find(';', grpc_at) - grpc_at), &grpc_port))
      << *line;

  httplib::SSLClient client("127.0.0.1", http_port);
  client.set_ca_cert_path(Cert("ca.pem").c_str());
  client.enable_server_certificate_verification(true);
  httplib::Result res =
      client.Post(std::string(kWebhookPath), "{}", "application/json");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 401) << res->body;

  grpc_port_ = grpc_port;
  v1::ImportRequestsResponse response;
  const grpc::Status status = Import(*Stub(""), "C-1", &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED)
      << status.error_message();
  const grpc::Status denied =
      Import(*Stub(Token(Role::kCityMonitor)), "C-1", &response);
  EXPECT_EQ(denied.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << denied.error_message();

  bridge.Signal(SIGTERM);
  EXPECT_EQ(bridge.Wait(), 0);
}

}  // namespace
}  // namespace prongsai::oss

// The BMA OSS bridge against a real ledger: an in-process `prongsai serve`
// (ingest role) reached over the Ledger gRPC API, the webhook and the
// OssBridge gRPC service over the network, and the service_sla view built by
// the projection runtime from the stored log.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/log/rocksdb_log.h"
#include "projections/runtime/runner.h"
#include "projections/service_sla/service_sla_projection.h"
#include "projections/service_sla/sla_reader.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/oss.grpc.pb.h"
#include "services/oss_bridge/bridge.h"
#include "services/oss_bridge/grpc_service.h"
#include "services/oss_bridge/importer.h"
#include "services/oss_bridge/ledger_client.h"
#include "services/oss_bridge/open311.h"
#include "services/oss_bridge/webhook.h"
#include "services/server/server.h"
#include "tests/oss/oss_testing.h"
#include "tests/oss/synthetic_export.h"
#include "tests/testing/testing.h"

namespace prongsai::oss {
namespace {

using ::prongsai::testing::TempDir;
using ::prongsai::testing::WaitFor;
using testing::BangkokText;
using testing::MakeExport;
using testing::Record;
using testing::SyntheticExport;

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// An HTTP server on a free port, serving in its own thread.
class HttpServer {
 public:
  HttpServer() = default;
  ~HttpServer() { Stop(); }
  httplib::Server& server() { return server_; }
  bool Start() {
    port_ = server_.bind_to_any_port("127.0.0.1");
    if (port_ <= 0) {
      return false;
    }
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    return WaitFor([&] { return server_.is_running(); });
  }
  void Stop() {
    if (thread_.joinable()) {
      server_.stop();
      thread_.join();
    }
  }
  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    return client;
  }

 private:
  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
};

class OssLedgerTest : public ::testing::Test {
 protected:
  void StartServer() {
    server::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.http_listen = "";
    options.roles = {"ingest"};
    absl::StatusOr<std::unique_ptr<server::Server>> server =
        server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    address_ = absl::StrCat("127.0.0.1:", server_->port());
    ledger_ = NewGrpcLedgerClient(address_, {});
  }

  void StopServer() {
    server_->Shutdown();
    server_.reset();
  }

  // The position of the last record in the log.
  uint64_t LogPosition() {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::GetHeadRequest request;
    request.set_stream("city");
    v1::Head head;
    const grpc::Status status = stub->GetHead(&context, request, &head);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return head.log_position();
  }

  // The service_sla view as the projection runtime builds it from the
  // stored log (the server must be stopped: the log is opened here).
  void BuildViews() {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("data") + "/log"});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    std::vector<std::unique_ptr<projections::Projection>> all;
    all.push_back(std::make_unique<service_sla::ServiceSlaProjection>());
    auto runner = projections::ProjectionRunner::Start(
        log_.get(), {.path = dir_.Sub("views"), .background = false},
        std::move(all));
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner);
    ASSERT_TRUE(runner_->CatchUp().ok());
    auto snapshot = runner_->Snapshot();
    ASSERT_TRUE(snapshot.ok());
    snapshot_ = std::move(*snapshot);
  }

  const projections::ViewReader& view() const {
    return snapshot_->view(service_sla::kServiceSlaView);
  }

  service_sla::SlaFigures CityTotals() {
    service_sla::SlaQuery query;
    query.merge_services = true;
    query.merge_districts = true;
    auto series = service_sla::ReadServiceSla(view(), query);
    EXPECT_TRUE(series.ok()) << series.status();
    EXPECT_EQ(series->size(), 1u);
    return series->empty() ? service_sla::SlaFigures() : series->front().total;
  }

  std::optional<service_sla::ServiceRequestState> State(const std::string& id) {
    auto state = service_sla::FindServiceRequest(view(), "1045", id);
    EXPECT_TRUE(state.ok()) << state.status();
    return state.ok() ? *state : std::nullopt;
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::string address_;
  std::unique_ptr<LedgerClient> ledger_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<projections::ViewSnapshot> snapshot_;
};

// --- A city export: 100,000 records, 1% malformed -------------------------

class OssCityExportTest : public OssLedgerTest {
 protected:
  static void SetUpTestSuite() {
    files_ = new TempDir();
    export_ = new SyntheticExport(MakeExport(100'000, 100, 2568, "OSS"));
    WriteJsonLines(*export_, Path());
  }
  static void TearDownTestSuite() {
    delete export_;
    delete files_;
  }
  static std::string Path() { return files_->Sub("oss-2568-h1.jsonl"); }

  static TempDir* files_;
  static SyntheticExport* export_;
};

TempDir* OssCityExportTest::files_ = nullptr;
SyntheticExport* OssCityExportTest::export_ = nullptr;

TEST_F(OssCityExportTest, LandsEveryValidRecordOnceAndDeadLettersTheRest) {
  const SyntheticExport& e = *export_;
  ASSERT_EQ(e.valid, 99'000u);
  ASSERT_EQ(e.malformed, 1'000u);
  StartServer();
  const uint64_t before = LogPosition();

  DeadLetterFile dead_letters(dir_.Sub("dead.jsonl"));
  Bridge bridge(ledger_.get(), &dead_letters);
  ImportOptions options;
  options.state_path = dir_.Sub("state");
  options.batch_records = 1'000;
  absl::StatusOr<ImportSummary> first = ImportFile(Path(), bridge, options);
  ASSERT_TRUE(first.ok()) << first.status();
  const double seconds = absl::ToDoubleSeconds(first->elapsed);
  std::cout << "imported 100,000 records in " << seconds << " s ("
            << static_cast<int>(100'000 / seconds) << " records/s)\n";
  RecordProperty("import_records_per_second",
                 static_cast<int>(100'000 / seconds));
  EXPECT_TRUE(first->complete);
  EXPECT_EQ(first->totals.records, 100'000u);
  EXPECT_EQ(first->totals.accepted, 99'000u);
  EXPECT_EQ(first->totals.duplicates, 0u);
  EXPECT_EQ(first->totals.dead_lettered, 1'000u);
  // Every valid record of the export adds exactly one event.
  EXPECT_EQ(first->totals.events_appended, 99'000u);
  EXPECT_EQ(LogPosition() - before, 99'000u);

  // The dead letters: every malformed record, with its reason.
  const std::vector<std::string> dead = ReadLines(dir_.Sub("dead.jsonl"));
  ASSERT_EQ(dead.size(), 1'000u);
  std::map<std::string, uint64_t> by_kind;
  for (const std::string& line : dead) {
    const nlohmann::json entry = nlohmann::json::parse(line);
    const std::string reason = entry["reason"].get<std::string>();
    bool known = false;
    for (const testing::MalformedKind& kind : testing::MalformedKinds()) {
      if (absl::StrContains(reason, kind.reason_contains)) {
        ++by_kind[kind.name];
        known = true;
        break;
      }
    }
    EXPECT_TRUE(known) << reason;
    EXPECT_TRUE(absl::StartsWith(entry["source"].get<std::string>(), Path()));
  }
  EXPECT_EQ(by_kind, e.malformed_by_kind);

  // Importing the whole file again adds nothing.
  Bridge again(ledger_.get(), &dead_letters);
  options.from_start = true;
  absl::StatusOr<ImportSummary> second = ImportFile(Path(), again, options);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->totals.accepted, 0u);
  EXPECT_EQ(second->totals.duplicates, 99'000u);
  EXPECT_EQ(second->totals.dead_lettered, 1'000u);
  EXPECT_EQ(second->totals.events_appended, 0u);
  EXPECT_EQ(LogPosition() - before, 99'000u);
  StopServer();

  // The view counts what the export describes.
  const absl::Time build_started = absl::Now();
  BuildViews();
  std::cout << "built the service_sla view of " << e.valid << " events in "
            << absl::ToDoubleSeconds(absl::Now() - build_started) << " s\n";
  const service_sla::SlaFigures city = CityTotals();
  EXPECT_EQ(city.received, static_cast<int64_t>(e.requests));
  EXPECT_EQ(city.completed, static_cast<int64_t>(e.completed));
  EXPECT_EQ(city.on_time, static_cast<int64_t>(e.on_time));
  EXPECT_EQ(city.late, static_cast<int64_t>(e.late));
  EXPECT_EQ(city.backlog, static_cast<int64_t>(e.requests - e.completed));

  // Open311 over the whole city: at most 1000 answers, newest first.
  HttpServer http;
  RegisterOpen311Routes(http.server(), [&] { return runner_->Snapshot(); });
  ASSERT_TRUE(http.Start());
  httplib::Result res = http.Client().Get(
      "/open311/v2/requests.json?start_date=2024-10-01T00:00:00%2B07:00"
      "&end_date=2025-04-01T00:00:00%2B07:00");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  const nlohmann::json all = nlohmann::json::parse(res->body);
  ASSERT_EQ(all.size(), 1'000u);
  for (size_t i = 1; i < all.size(); ++i) {
    ASSERT_GE(all[i - 1]["requested_datetime"].get<std::string>(),
              all[i]["requested_datetime"].get<std::string>());
  }
}

// --- Resuming an import after the ledger went away ------------------------

TEST_F(OssLedgerTest, ResumesAnInterruptedCsvImportWithTheRightTotals) {
  const SyntheticExport e = MakeExport(20'000, 100, 7, "CSV");
  const std::string path = dir_.Sub("export.csv");
  WriteCsv(e, path);
  StartServer();
  const uint64_t before = LogPosition();

  DeadLetterFile dead_letters(dir_.Sub("dead.jsonl"));
  ImportOptions options;
  options.batch_records = 1'000;
  // The ledger stops after the fifth batch.
  options.on_batch = [&](const ImportProgress& p) {
    if (p.records == 5'000) {
      server_->Shutdown();
    }
  };
  {
    Bridge bridge(ledger_.get(), &dead_letters);
    absl::StatusOr<ImportSummary> cut = ImportFile(path, bridge, options);
    EXPECT_EQ(cut.status().code(), absl::StatusCode::kUnavailable)
        << cut.status();
  }
  server_.reset();
  // The first five batches landed, their dead letters with them.
  uint64_t malformed_in_five = 0;
  for (size_t i = 0; i < 5'000; ++i) {
    malformed_in_five += e.rows[i].valid ? 0 : 1;
  }
  EXPECT_EQ(ReadLines(dir_.Sub("dead.jsonl")).size(), malformed_in_five);

  StartServer();
  const uint64_t landed = LogPosition() - before;
  Bridge bridge(ledger_.get(), &dead_letters);
  options.on_batch = nullptr;
  absl::StatusOr<ImportSummary> rest = ImportFile(path, bridge, options);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_GT(rest->resumed_at, 0u);
  EXPECT_EQ(rest->records_this_run, 15'000u);
  EXPECT_EQ(rest->totals.records, 20'000u);
  EXPECT_EQ(rest->totals.accepted, e.valid);
  EXPECT_EQ(rest->totals.duplicates, 0u);
  EXPECT_EQ(rest->totals.dead_lettered, e.malformed);
  EXPECT_EQ(rest->totals.events_appended, e.valid);
  EXPECT_EQ(landed, 5'000u - malformed_in_five);
  EXPECT_EQ(LogPosition() - before, e.valid);
  EXPECT_EQ(ReadLines(dir_.Sub("dead.jsonl")).size(), e.malformed);
}

// --- The webhook under concurrent posts ------------------------------------

TEST_F(OssLedgerTest, WebhookUnderConcurrentPostsLosesNothing) {
  StartServer();
  const uint64_t before = LogPosition();
  DeadLetterFile dead_letters(dir_.Sub("dead.jsonl"));
  Bridge bridge(ledger_.get(), &dead_letters);
  HttpServer http;
  RegisterWebhook(http.server(), &bridge);
  ASSERT_TRUE(http.Start());

  // Four exports, each posted by two threads at once, in posts of 50.
  constexpr int kExports = 4;
  constexpr size_t kPost = 50;
  std::vector<SyntheticExport> exports;
  for (int k = 0; k < kExports; ++k) {
    exports.push_back(MakeExport(2'000, 50, 100 + k, absl::StrCat("W", k)));
  }
  struct Tally {
    uint64_t accepted = 0;
    uint64_t duplicates = 0;
    uint64_t dead = 0;
    uint64_t records = 0;
    int failures = 0;
  };
  std::vector<Tally> tallies(2 * kExports);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kExports; ++t) {
    threads.emplace_back([&, t] {
      const SyntheticExport& e = exports[t / 2];
      httplib::Client client = http.Client();
      for (size_t start = 0; start < e.rows.size(); start += kPost) {
        std::vector<std::string> parts;
        const size_t end = std::min(e.rows.size(), start + kPost);
        for (size_t i = start; i < end; ++i) {
          const testing::ExportRow& row = e.rows[i];
          parts.push_back(row.raw_json.empty() ? RecordToJson(row.record).dump()
                                               : "\"unreadable\"");
        }
        httplib::Result res =
            client.Post(std::string(kWebhookPath),
                        absl::StrCat("[", absl::StrJoin(parts, ","), "]"),
                        "application/json");
        if (!res || (res->status != 200 && res->status != 207)) {
          ++tallies[t].failures;
          continue;
        }
        const nlohmann::json body = nlohmann::json::parse(res->body);
        tallies[t].accepted += body["accepted"].get<uint64_t>();
        tallies[t].duplicates += body["duplicates"].get<uint64_t>();
        tallies[t].dead += body["dead_lettered"].size();
        tallies[t].records += end - start;
      }
    });
  }
  for (std::thread& thread : threads) {
    thread.join();
  }
  uint64_t valid = 0;
  uint64_t malformed = 0;
  for (const SyntheticExport& e : exports) {
    valid += e.valid;
    malformed += e.malformed;
  }
  uint64_t dead = 0;
  for (const Tally& tally : tallies) {
    EXPECT_EQ(tally.failures, 0);
    EXPECT_EQ(tally.accepted + tally.duplicates + tally.dead, tally.records);
    dead += tally.dead;
  }
  // Each valid record landed exactly once, whichever post carried it first.
  EXPECT_EQ(LogPosition() - before, valid);
  EXPECT_EQ(dead, 2 * malformed);
  EXPECT_EQ(ReadLines(dir_.Sub("dead.jsonl")).size(), 2 * malformed);
  http.Stop();
  StopServer();

  BuildViews();
  uint64_t requests = 0;
  uint64_t completed = 0;
  for (const SyntheticExport& e : exports) {
    requests += e.requests;
    completed += e.completed;
  }
  const service_sla::SlaFigures city = CityTotals();
  EXPECT_EQ(city.received, static_cast<int64_t>(requests));
  EXPECT_EQ(city.completed, static_cast<int64_t>(completed));
}

// --- Out-of-order updates over gRPC -----------------------------------------

class OssGrpcTest : public OssLedgerTest {
 protected:
  void StartBridge() {
    StartServer();
    dead_letters_ = std::make_unique<DeadLetterFile>(dir_.Sub("dead.jsonl"));
    bridge_ = std::make_unique<Bridge>(ledger_.get(), dead_letters_.get());
    service_ = std::make_unique<OssBridgeService>(bridge_.get());
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port);
    builder.RegisterService(service_.get());
    grpc_ = builder.BuildAndStart();
    ASSERT_NE(grpc_, nullptr);
    stub_ = v1::OssBridge::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  }
  void StopBridge() {
    grpc_->Shutdown();
    grpc_.reset();
    StopServer();
  }

  v1::ImportRequestsResponse Send(const std::vector<OssRecord>& records) {
    v1::ImportRequestsRequest request;
    for (const OssRecord& r : records) {
      v1::OssRequestRecord* m = request.add_records();
      m->set_service_request_id(r.service_request_id);
      m->set_status(r.status);
      m->set_status_notes(r.status_notes);
      m->set_service_code(r.service_code);
      m->set_agency_responsible(r.agency_responsible);
      m->set_requested_datetime(r.requested_datetime);
      m->set_updated_datetime(r.updated_datetime);
      m->set_channel(r.channel);
      m->set_completed_datetime(r.completed_datetime);
    }
    grpc::ClientContext context;
    v1::ImportRequestsResponse response;
    const grpc::Status status =
        stub_->ImportRequests(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  OssRecord Done(const std::string& id, absl::CivilSecond requested,
                 absl::CivilSecond completed) {
    OssRecord r = Record(id, "closed", requested, completed, "แล้วเสร็จ");
    r.completed_datetime = BangkokText(completed);
    return r;
  }

  // The stored events of request `id` on stream 1045, in order.
  std::vector<v1::Event> StoredEvents(const std::string& id) {
    auto stub = v1::Ledger::NewStub(
        grpc::CreateChannel(address_, grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    v1::ReadRequest request;
    request.set_stream("1045");
    auto reader = stub->Read(&context, request);
    std::vector<v1::Event> out;
    v1::Entry entry;
    while (reader->Read(&entry)) {
      const v1::Event& e = entry.record().event();
      const std::string request_id =
          e.has_service_request_received()
              ? e.service_request_received().request_id()
          : e.has_service_request_status_changed()
              ? e.service_request_status_changed().request_id()
              : e.service_request_completed().request_id();
      if (request_id == id) {
        out.push_back(e);
      }
    }
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  std::unique_ptr<DeadLetterFile> dead_letters_;
  std::unique_ptr<Bridge> bridge_;
  std::unique_ptr<OssBridgeService> service_;
  std::unique_ptr<grpc::Server> grpc_;
  std::unique_ptr<v1::OssBridge::Stub> stub_;
};

TEST_F(OssGrpcTest, OutOfOrderUpdatesKeepTheRightFinalStatus) {
  StartBridge();
  const absl::CivilSecond t0(2025, 2, 3, 9, 0, 0);
  auto at = [&](int hours) { return t0 + hours * 3600; };

  // A: updates at 3h, then the receipt, then an older update, then done.
  EXPECT_EQ(Send({Record("A", "open", t0, at(3), "รอลงนาม")}).accepted(), 1u);
  EXPECT_EQ(Send({Record("A", "open", t0, t0)}).duplicates(), 1u);
  EXPECT_EQ(Send({Record("A", "open", t0, at(1), "ตรวจเอกสาร")}).accepted(),
            1u);
  EXPECT_EQ(Send({Done("A", t0, at(5))}).accepted(), 1u);
  // B: closed at 4h (without a completion), then an older "open".
  EXPECT_EQ(Send({Record("B", "closed", t0, at(4), "ยกเลิกคำขอ")}).accepted(),
            1u);
  EXPECT_EQ(Send({Record("B", "open", t0, at(2), "ตรวจ")}).accepted(), 1u);
  // C: the completion first; an update older than it still follows (the
  // audit trail), one made days after it is not taken.
  EXPECT_EQ(Send({Done("C", t0, at(6))}).accepted(), 1u);
  v1::ImportRequestsResponse late =
      Send({Record("C", "open", t0, t0), Record("C", "open", t0, at(2), "x"),
            Record("C", "open", t0, at(72), "y")});
  EXPECT_EQ(late.duplicates(), 1u);
  EXPECT_EQ(late.accepted(), 1u);
  ASSERT_EQ(late.dead_lettered_size(), 1);
  EXPECT_EQ(late.dead_lettered(0).index(), 2u);
  EXPECT_TRUE(
      absl::StrContains(late.dead_lettered(0).reason(), "already completed"));

  // The audit trail keeps every update, in arrival order.
  const std::vector<v1::Event> a = StoredEvents("A");
  ASSERT_EQ(a.size(), 4u);
  EXPECT_TRUE(a[0].has_service_request_received());
  EXPECT_EQ(a[1].service_request_status_changed().status_notes(), "รอลงนาม");
  EXPECT_EQ(a[2].service_request_status_changed().status_notes(), "ตรวจเอกสาร");
  EXPECT_TRUE(a[3].has_service_request_completed());
  StopBridge();

  BuildViews();
  const auto state_a = State("A");
  ASSERT_TRUE(state_a.has_value());
  EXPECT_TRUE(state_a->closed);
  EXPECT_EQ(state_a->completed,
            absl::FromCivil(at(5), absl::FixedTimeZone(25200)));
  const auto state_b = State("B");
  ASSERT_TRUE(state_b.has_value());
  EXPECT_EQ(state_b->status, "closed");
  EXPECT_TRUE(state_b->closed);
  EXPECT_FALSE(state_b->completed.has_value());
  const auto state_c = State("C");
  ASSERT_TRUE(state_c.has_value());
  EXPECT_TRUE(state_c->closed);
}

// --- The Open311 read side ---------------------------------------------------

TEST_F(OssGrpcTest, Open311AnswersFromTheViewWithoutPersonalData) {
  StartBridge();
  const absl::CivilSecond t0(2025, 1, 6, 9, 0, 0);
  OssRecord permit =
      Record("P-1", "open", t0, t0 + 60, "ผู้ยื่น นายสมชาย ใจดี โทร 081-234-5678");
  OssRecord birth = Done("B-1", t0 + 120, t0 + 3600);
  birth.service_code = "REG-BIRTH";
  OssRecord other = Record("X-1", "open", t0 - 40 * 86400, t0 - 40 * 86400);
  other.agency_responsible = "1001";
  const v1::ImportRequestsResponse sent = Send({permit, birth, other});
  EXPECT_EQ(sent.accepted(), 3u);
  StopBridge();
  BuildViews();

  HttpServer http;
  RegisterOpen311Routes(http.server(), [&] { return runner_->Snapshot(); },
                        &ServiceCatalog::Shipped(), {.clock = [&] {
                          return absl::FromCivil(t0 + 86400,
                                                 absl::FixedTimeZone(25200));
                        }});
  ASSERT_TRUE(http.Start());
  httplib::Client client = http.Client();
  auto get = [&](const std::string& path) {
    httplib::Result res = client.Get(path);
    EXPECT_TRUE(res) << path;
    return res ? std::make_pair(res->status, nlohmann::json::parse(res->body))
               : std::make_pair(0, nlohmann::json());
  };

  auto [status, services] = get("/open311/v2/services.json");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(services.size(), ServiceCatalog::Shipped().services().size());
  EXPECT_EQ(services[0]["metadata"], false);

  struct Case {
    std::string query;
    std::vector<std::string> ids;
  };
  const std::vector<Case> cases = {
      // The default window: the 90 days up to now.
      {"", {"B-1", "P-1", "X-1"}},
      {"?agency_responsible=วังทองหลาง", {"B-1", "P-1"}},
      {"?agency_responsible=Wang%20Thonglang&status=closed", {"B-1"}},
      {"?status=open", {"P-1", "X-1"}},
      {"?service_code=BLD-PERMIT,REG-BIRTH&agency_responsible=1045",
       {"B-1", "P-1"}},
      {"?start_date=2025-01-01T00:00:00%2B07:00", {"B-1", "P-1"}},
      {"?end_date=2025-01-01T00:00:00Z", {"X-1"}},
      {"?service_request_id=X-1,P-1", {"X-1", "P-1"}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.query);
    auto [code, body] = get("/open311/v2/requests.json" + c.query);
    EXPECT_EQ(code, 200);
    std::vector<std::string> ids;
    for (const nlohmann::json& item : body) {
      ids.push_back(item["service_request_id"]);
    }
    EXPECT_EQ(ids, c.ids);
  }

  auto [one_status, one] = get("/open311/v2/requests/B-1.json");
  EXPECT_EQ(one_status, 200);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["status"], "closed");
  EXPECT_EQ(one[0]["service_name"], "แจ้งการเกิด");
  EXPECT_EQ(one[0]["agency_responsible"], "สำนักงานเขตวังทองหลาง");
  EXPECT_EQ(one[0]["requested_datetime"], "2025-01-06T09:02:00+07:00");
  EXPECT_EQ(one[0]["expected_datetime"], "2025-01-06T23:59:59+07:00");

  // Only these fields, and nothing of the notes.
  auto [all_status, all] = get("/open311/v2/requests.json");
  for (const nlohmann::json& item : all) {
    for (const auto& [key, value] : item.items()) {
      EXPECT_TRUE(key == "service_request_id" || key == "status" ||
                  key == "service_code" || key == "service_name" ||
                  key == "agency_responsible" || key == "requested_datetime" ||
                  key == "updated_datetime" || key == "expected_datetime")
          << key;
    }
  }
  EXPECT_EQ(all.dump().find("สมชาย"), std::string::npos);

  auto [en_status, en] = get("/open311/v2/requests/P-1.json?lang=en");
  EXPECT_EQ(en[0]["service_name"], "Building construction permit");
  EXPECT_EQ(en[0]["agency_responsible"], "Wang Thonglang District Office");

  for (const char* bad :
       {"/open311/v2/requests.json?status=pending",
        "/open311/v2/requests.json?start_date=yesterday",
        "/open311/v2/requests.json?agency_responsible=Atlantis",
        "/open311/v2/requests.json?start_date=2025-02-01T00:00:00Z"
        "&end_date=2025-01-01T00:00:00Z"}) {
    SCOPED_TRACE(bad);
    auto [code, body] = get(std::string(bad));
    EXPECT_EQ(code, 400);
    EXPECT_EQ(body[0]["code"], 400);
  }
  EXPECT_EQ(get("/open311/v2/requests/NOPE.json").first, 404);
}

}  // namespace
}  // namespace prongsai::oss

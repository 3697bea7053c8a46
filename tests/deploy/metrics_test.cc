// GET /metrics and `prongsai health`: what an operator's Prometheus and a
// container health check rely on.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <set>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/server/server.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::ProngsaiBinary;
using ::prongsai::testing::RunCommand;
using ::prongsai::testing::ServerProcess;
using ::prongsai::testing::TempDir;
using ::prongsai::testing::WaitFor;

// "name{labels}" -> value, from the text exposition format. Also checks
// that every sample belongs to a family declared with # TYPE before it.
std::map<std::string, double> ParseMetrics(const std::string& text) {
  std::map<std::string, double> out;
  std::set<std::string> typed;
  for (absl::string_view line : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
    if (absl::ConsumePrefix(&line, "# TYPE ")) {
      typed.insert(std::string(line.substr(0, line.find(' '))));
      continue;
    }
    if (line[0] == '#') {
      continue;
    }
    const size_t space = line.rfind(' ');
    EXPECT_NE(space, absl::string_view::npos) << line;
    const std::string series(line.substr(0, space));
    const std::string family = series.substr(0, series.find('{'));
    EXPECT_TRUE(typed.contains(family)) << "no # TYPE before " << line;
    double value = 0;
    EXPECT_TRUE(absl::SimpleAtod(line.substr(space + 1), &value)) << line;
    EXPECT_FALSE(out.contains(series)) << "duplicate series " << series;
    out[series] = value;
  }
  return out;
}

class MetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.http_listen = "";
    options.metrics_listen = "127.0.0.1:0";
    // Checkpoints only on demand: new records wait, and their age shows.
    options.checkpoint_interval = absl::ZeroDuration();
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    ASSERT_GT(server_->metrics_port(), 0);
    stub_ = v1::Ledger::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                            grpc::InsecureChannelCredentials()));
  }

  std::map<std::string, double> Scrape() {
    httplib::Client client("127.0.0.1", server_->metrics_port());
    httplib::Result result = client.Get("/metrics");
    EXPECT_TRUE(result) << "no answer from /metrics";
    if (!result) {
      return {};
    }
    EXPECT_EQ(result->status, 200);
    EXPECT_EQ(result->get_header_value("Content-Type"),
              "text/plain; version=0.0.4; charset=utf-8");
    return ParseMetrics(result->body);
  }

  grpc::Status Append(const v1::AppendRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    v1::AppendResponse response;
    return stub_->Append(&context, request, &response);
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

TEST_F(MetricsTest, CountersMoveWithAppendsAndRefusals) {
  std::map<std::string, double> before = Scrape();
  EXPECT_EQ(before["prongsai_build_info{version=\"0.1.0\",log=\"rocksdb\","
                   "roles=\"ingest,projector,query\"}"],
            1);
  EXPECT_GT(before["process_resident_memory_bytes"], 1 << 20);
  EXPECT_GT(before["process_start_time_seconds"], 1.7e9);
  // The reference data on the city stream.
  const double start_position = before["prongsai_log_last_position"];
  EXPECT_GT(start_position, 0);
  EXPECT_EQ(before["prongsai_stream_last_sequence{stream=\"city\"}"],
            start_position);

  v1::AppendRequest request;
  request.set_stream("1045");
  for (int i = 0; i < 5; ++i) {
    *request.add_events() = MeetingEvent(absl::StrCat("metrics-", i));
  }
  ASSERT_TRUE(Append(request).ok());
  // An empty append is refused as invalid; so is one naming no real stream.
  v1::AppendRequest empty;
  empty.set_stream("1045");
  EXPECT_EQ(Append(empty).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  v1::AppendRequest stale = request;
  for (v1::Event& event : *stale.mutable_events()) {
    event.set_event_id(testing::NewUuid());
  }
  stale.set_exact(1);
  EXPECT_EQ(Append(stale).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  std::map<std::string, double> after = Scrape();
  EXPECT_EQ(after["prongsai_log_last_position"], start_position + 5);
  EXPECT_EQ(after["prongsai_stream_last_sequence{stream=\"1045\"}"], 5);
  EXPECT_EQ(after["prongsai_ingest_appends_accepted_total"] -
                before["prongsai_ingest_appends_accepted_total"],
            1);
  EXPECT_EQ(after["prongsai_ingest_events_accepted_total"] -
                before["prongsai_ingest_events_accepted_total"],
            5);
  EXPECT_EQ(
      after["prongsai_ingest_appends_rejected_total{reason=\"invalid_argument\"}"],
      1);
  EXPECT_EQ(after["prongsai_ingest_appends_rejected_total{reason=\"failed_"
                  "precondition\"}"],
            1);
  EXPECT_EQ(after["prongsai_ingest_events_rejected_total{reason=\"failed_"
                  "precondition\"}"],
            5);
  EXPECT_GE(after["prongsai_ingest_records_written_total"], 5);
  EXPECT_EQ(after["prongsai_ingest_up"], 1);

  // The views catch up: the lag of every projection goes to 0 and its
  // position reaches the log's end.
  std::map<std::string, double> caught_up;
  ASSERT_TRUE(WaitFor([&] {
    caught_up = Scrape();
    const double lag = caught_up["prongsai_projection_lag_records{projection="
                                 "\"merkle\"}"];
    return caught_up.contains(
               "prongsai_projection_lag_records{projection=\"merkle\"}") &&
           lag == 0;
  }));
  int projections = 0;
  for (const auto& [series, value] : caught_up) {
    if (absl::StartsWith(series, "prongsai_projection_position{")) {
      ++projections;
      EXPECT_EQ(value, start_position + 5) << series;
    }
    if (absl::StartsWith(series, "prongsai_projection_failed{")) {
      EXPECT_EQ(value, 0) << series;
    }
  }
  EXPECT_GE(projections, 3);
  EXPECT_GT(caught_up["prongsai_projection_records_total"], 0);
  EXPECT_GT(caught_up["prongsai_projection_batches_total"], 0);

  // Nothing is signed yet: the five records wait, and their age shows.
  EXPECT_EQ(caught_up["prongsai_checkpoint_unsigned_records{stream=\"1045\"}"],
            5);
  EXPECT_GE(caught_up["prongsai_checkpoint_age_seconds{stream=\"1045\"}"], 0);
  EXPECT_EQ(caught_up["prongsai_checkpoint_refused_streams"], 0);
}

TEST_F(MetricsTest, CheckpointAgeIsZeroOnceSigned) {
  v1::AppendRequest request;
  request.set_stream("1001");
  *request.add_events() = MeetingEvent("signed");
  ASSERT_TRUE(Append(request).ok());
  // The export command asks the server to sign the current tree.
  const std::string out = dir_.Sub("1001.export");
  ASSERT_TRUE(WaitFor([&] {
    return RunCommand({ProngsaiBinary(), "export", "--server",
                       absl::StrCat("127.0.0.1:", server_->port()),
                       "--stream", "1001", "--out", out})
               .exit_code == 0;
  }));
  std::map<std::string, double> metrics = Scrape();
  EXPECT_EQ(metrics["prongsai_checkpoint_signed_size{stream=\"1001\"}"], 1);
  EXPECT_EQ(metrics["prongsai_checkpoint_unsigned_records{stream=\"1001\"}"],
            0);
  EXPECT_EQ(metrics["prongsai_checkpoint_age_seconds{stream=\"1001\"}"], 0);
}

// The binary: `serve --metrics-listen` on an ingest-only process, and
// `prongsai health` against it.
TEST(ServeMetricsTest, IngestOnlyProcessIsScrapedAndHealthy) {
  TempDir dir;
  ServerProcess server;
  ASSERT_TRUE(server.Start(dir.Sub("data"),
                           {"--roles", "ingest", "--http-listen", "",
                            "--metrics-listen", "127.0.0.1:0"}));
  int metrics_port = 0;
  const std::string kMarker = "serving metrics on port ";
  while (std::optional<std::string> line =
             server.process().ReadLine(absl::Seconds(30))) {
    if (size_t at = line->find(kMarker); at != std::string::npos) {
      std::string rest = line->substr(at + kMarker.size());
      ASSERT_TRUE(absl::SimpleAtoi(rest.substr(0, rest.find(' ')),
                                   &metrics_port));
      break;
    }
  }
  ASSERT_GT(metrics_port, 0);
  httplib::Client client("127.0.0.1", metrics_port);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result);
  std::map<std::string, double> metrics = ParseMetrics(result->body);
  EXPECT_EQ(metrics["prongsai_build_info{version=\"0.1.0\",log=\"rocksdb\","
                    "roles=\"ingest\"}"],
            1);
  EXPECT_TRUE(metrics.contains("prongsai_ingest_appends_accepted_total"));
  // No projector here: no view metrics, no checkpoint metrics.
  for (const auto& [series, value] : metrics) {
    EXPECT_FALSE(absl::StartsWith(series, "prongsai_projection_")) << series;
    EXPECT_FALSE(absl::StartsWith(series, "prongsai_checkpoint_")) << series;
  }

  testing::CommandResult healthy = RunCommand(
      {ProngsaiBinary(), "health", "--server", server.address()});
  EXPECT_EQ(healthy.exit_code, 0) << healthy.err;
  EXPECT_EQ(healthy.out, server.address() + ": SERVING\n");
  testing::CommandResult ledger =
      RunCommand({ProngsaiBinary(), "health", "--address", server.address(),
                  "--service", "prongsai.v1.Ledger"});
  EXPECT_EQ(ledger.exit_code, 0) << ledger.err;
  testing::CommandResult unknown =
      RunCommand({ProngsaiBinary(), "health", "--server", server.address(),
                  "--service", "no.such.Service"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.out.find("SERVICE_UNKNOWN"), std::string::npos)
      << unknown.out;

  server.process().Signal(SIGTERM);
  EXPECT_EQ(server.process().Wait(), 0);
  testing::CommandResult down =
      RunCommand({ProngsaiBinary(), "health", "--server", server.address(),
                  "--timeout", "2"});
  EXPECT_EQ(down.exit_code, 3);
  EXPECT_FALSE(down.err.empty());
}

}  // namespace
}  // namespace prongsai

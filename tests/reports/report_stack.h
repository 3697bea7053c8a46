// The query role assembled as `prongsai serve` assembles it, for tests: a
// RocksDB log in a temporary directory, the ingest (domain rules and all),
// the projection runner with the report views, and the Reports service on
// loopback gRPC and HTTP (port 0). The ingest stamps records with a clock the
// test sets, so that as_of by time is exact.
#pragma once

#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "core/log/rocksdb_log.h"
#include "projections/reports/report_projections.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "services/ingest/ingestor.h"
#include "services/query/query_services.h"
#include "tests/seed/seed_files.h"
#include "tests/testing/testing.h"

namespace prongsai::reports::testing {

// 2026-01-15 12:00 in Bangkok: after FY 2568 and in FY 2569.
inline constexpr int64_t kTestNowSeconds = 1768453200;

struct StackOptions {
  // Follow the log in the background; off: tests call CatchUp().
  bool background = false;
  bool http = true;
};

class ReportStack {
 public:
  explicit ReportStack(std::string dir) : dir_(std::move(dir)) {}
  ~ReportStack() { Close(); }

  absl::Status Open(StackOptions options = {}) {
    ASSIGN_OR_RETURN(
        log_, log::OpenRocksDbLog({.path = dir_ + "/log", .sync = false}));
    ingest::IngestOptions ingest_options;
    ingest_options.clock = [this] {
      return absl::FromUnixSeconds(ingest_seconds_.load());
    };
    ASSIGN_OR_RETURN(ingestor_,
                     ingest::Ingestor::Start(log_.get(), ingest_options));
    ASSIGN_OR_RETURN(runner_, projections::ProjectionRunner::Start(
                                  log_.get(),
                                  {.path = dir_ + "/views",
                                   .background = options.background},
                                  ReportProjections()));
    query::QueryServiceOptions query_options;
    query_options.queries.clock = [this] {
      return absl::FromUnixSeconds(query_seconds_.load());
    };
    query_options.http.listen = options.http ? "127.0.0.1:0" : "";
    services_ = std::make_unique<query::QueryServices>(
        log_.get(), runner_.get(), query_options);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &grpc_port_);
    services_->Register(builder);
    server_ = builder.BuildAndStart();
    if (server_ == nullptr || grpc_port_ == 0) {
      return absl::UnavailableError("could not start the gRPC server");
    }
    RETURN_IF_ERROR(services_->StartHttp());
    stub_ = v1::Reports::NewStub(
        grpc::CreateChannel(absl::StrCat("127.0.0.1:", grpc_port_),
                            grpc::InsecureChannelCredentials()));
    return absl::OkStatus();
  }

  void Close() {
    if (server_ != nullptr) {
      server_->Shutdown(std::chrono::system_clock::now());
      server_->Wait();
    }
    stub_.reset();
    if (services_ != nullptr) {
      services_->Stop();
    }
    server_.reset();
    services_.reset();
    runner_.reset();
    if (ingestor_ != nullptr) {
      ingestor_->Stop();
    }
    ingestor_.reset();
    log_.reset();
  }

  // Appends `events` to `stream` in one request (without catching up).
  absl::StatusOr<v1::AppendResponse> AppendOnly(
      const std::string& stream, const std::vector<v1::Event>& events) {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (const v1::Event& event : events) {
      *request.add_events() = event;
    }
    return ingestor_->Append(request);
  }

  // Appends and brings the views up to date.
  absl::StatusOr<v1::AppendResponse> Append(
      const std::string& stream, const std::vector<v1::Event>& events) {
    ASSIGN_OR_RETURN(v1::AppendResponse response, AppendOnly(stream, events));
    RETURN_IF_ERROR(runner_->CatchUp());
    return response;
  }

  // The city's reference data: districts and the shipped frameworks.
  absl::Status AppendCity() {
    return Append(std::string(domain::kCityStream),
                  domain::CityBootstrapEvents())
        .status();
  }

  // The seed report's 182 events on stream 1045.
  absl::StatusOr<v1::AppendResponse> AppendSeed() {
    ASSIGN_OR_RETURN(std::vector<v1::Event> events,
                     prongsai::testing::seed::ReadEventLines(
                         prongsai::testing::seed::SeedEventsPath()));
    return Append("1045", events);
  }

  void set_ingest_time(int64_t seconds) { ingest_seconds_ = seconds; }
  void set_query_time(int64_t seconds) { query_seconds_ = seconds; }

  log::EventLog* log() { return log_.get(); }
  projections::ProjectionRunner* runner() { return runner_.get(); }
  query::ReportQueries& queries() { return services_->queries(); }
  v1::Reports::Stub* stub() { return stub_.get(); }
  int http_port() const { return services_->http_port(); }
  std::string grpc_address() const {
    return absl::StrCat("127.0.0.1:", grpc_port_);
  }

 private:
  std::string dir_;
  std::atomic<int64_t> ingest_seconds_{kTestNowSeconds};
  std::atomic<int64_t> query_seconds_{kTestNowSeconds};
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<query::QueryServices> services_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Reports::Stub> stub_;
  int grpc_port_ = 0;
};

// Every row of a view, in key order.
inline std::vector<std::pair<std::string, std::string>> AllRows(
    const projections::ViewReader& view) {
  std::vector<std::pair<std::string, std::string>> rows;
  absl::Status status =
      view.Scan("", [&](absl::string_view key, absl::string_view value) {
        rows.emplace_back(std::string(key), std::string(value));
        return true;
      });
  EXPECT_TRUE(status.ok()) << status;
  return rows;
}

inline const std::vector<absl::string_view>& ReportViewNames() {
  static const std::vector<absl::string_view> kNames = {
      kProgressView, kGiftsView, kComplaintsView, kCityView, kJournalView};
  return kNames;
}

// An event with a fresh id, dated `seconds`, by a test actor.
inline v1::Event NewEvent(int64_t seconds) {
  v1::Event event;
  event.set_event_id(prongsai::testing::NewUuid());
  event.mutable_occurred_at()->set_seconds(seconds);
  event.mutable_actor()->set_id("1045-test");
  return event;
}

inline v1::Date MakeDate(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

// Seconds of a Bangkok civil time.
inline int64_t Bangkok(int year, int month, int day, int hour = 10) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(year, month, day, hour, 0, 0),
                      absl::FixedTimeZone(7 * 3600)));
}

}  // namespace prongsai::reports::testing

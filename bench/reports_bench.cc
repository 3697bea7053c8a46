// The report views and queries on a realistic city: the demo city of 50
// districts over several fiscal years (projections/reports/demo_city.h),
// appended through the real ingest. With it loaded:
//   - the full rebuild rate of every view, beside a raw scan of the same log
//     (entries only, and entries decoded),
//   - the city overview, the district ITA report as JSON, and an as_of ITA
//     report (replayed from the log): p50 and p99 latency.
//
//   - the full rebuild of every view the server keeps (the projections of
//     `prongsai serve`, from an empty views directory), beside the raw scan.
//
//   build/bench/reports_bench [--events=N] [--runs=R] [--queries=Q]
//                             [--dir=PATH] [--skip-per-view]
//                             [--rebuild-runs=R] [--rows]
//
// Medians over R runs. --dir keeps the generated city there (reused when it
// exists, so a second run skips the generation). --skip-per-view leaves out
// the rebuild of each report view on its own.
#include <rocksdb/db.h>
#include <sys/resource.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "core/log/kafka_log.h"
#include "core/log/rocksdb_log.h"
#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"
#include "projections/reports/demo_city.h"
#include "projections/reports/report_projections.h"
#include "projections/service_sla/service_sla_projection.h"
#include "prongsai/v1/record.pb.h"
#include "services/ingest/ingestor.h"
#include "services/query/render.h"
#include "services/query/report_queries.h"
#include "services/server/projections_service.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

struct Config {
  int64_t events = 1'000'000;
  int runs = 3;
  int queries = 300;
  std::string dir;
  bool per_view = true;
  // Runs of the rebuild of every view; 0: as --runs.
  int rebuild_runs = 0;
};

// A view that applies nothing: the runtime's own rate (reading, decoding
// and committing), the ceiling of every view's rebuild.
class NullProjection final : public projections::Projection {
 public:
  absl::string_view name() const override { return "null"; }
  bool Wants(const v1::Record&) const override { return false; }
  absl::Status Apply(const projections::AppliedRecord&,
                     projections::ViewWriter&) override {
    return absl::OkStatus();
  }
};

std::vector<std::unique_ptr<projections::Projection>> Views() {
  std::vector<std::unique_ptr<projections::Projection>> views =
      server::AllProjections();
  views.push_back(std::make_unique<NullProjection>());
  return views;
}

// CPU seconds of the whole process (the feeder, RocksDB's background work).
double CpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// CPU milliseconds of the calling thread: a query's latency on an idle
// machine, whatever else the machine runs.
double ThreadCpuMs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

struct Latency {
  double p50_ms = 0;
  double p99_ms = 0;
};

Latency Percentiles(std::vector<double> ms) {
  std::sort(ms.begin(), ms.end());
  if (ms.empty()) {
    return {};
  }
  auto at = [&](double q) {
    return ms[std::min(ms.size() - 1, static_cast<size_t>(q * ms.size()))];
  };
  return {at(0.50), at(0.99)};
}

void Die(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what,
                 std::string(status.message()).c_str());
    std::exit(1);
  }
}

absl::Status Load(log::EventLog* log, const Config& config) {
  ASSIGN_OR_RETURN(std::unique_ptr<ingest::Ingestor> ingestor,
                   ingest::Ingestor::Start(log));
  for (const v1::Event& event : domain::CityBootstrapEvents()) {
    v1::AppendRequest request;
    request.set_stream(std::string(domain::kCityStream));
    *request.add_events() = event;
    RETURN_IF_ERROR(ingestor->Append(request).status());
  }
  reports::DemoCityOptions options;
  options.events = config.events;
  const absl::Time start = absl::Now();
  v1::AppendRequest request;
  ASSIGN_OR_RETURN(
      reports::DemoCityStats stats,
      reports::GenerateDemoCity(options, [&](reports::DemoBatch& batch) {
        request.Clear();
        request.set_stream(batch.stream);
        for (v1::Event& e : batch.events) {
          *request.add_events() = std::move(e);
        }
        return ingestor->Append(request).status();
      }));
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf(
      "generated and ingested %lld events in %lld batches: %.1f s "
      "(%.0f events/s through the domain rules)\n",
      static_cast<long long>(stats.events),
      static_cast<long long>(stats.batches), seconds, stats.events / seconds);
  std::printf("mix:");
  for (const auto& [kind, count] : stats.by_kind) {
    std::printf(" %s=%lld", kind.c_str(), static_cast<long long>(count));
  }
  std::printf("\n");
  ingestor->Stop();
  return absl::OkStatus();
}

// The query latencies on the views as they are.
void Report(const std::string& what, const std::vector<double>& ms,
            const std::vector<double>& cpu, const std::string& row_key = "",
            const std::string& row_what = "") {
  const Latency wall = Percentiles(ms);
  const Latency thread = Percentiles(cpu);
  if (!row_key.empty()) {
    Row(row_key, row_what, wall.p99_ms, "ms")
        .Note(absl::StrFormat("p50 %.2f ms; CPU p99 %.2f ms; %zu queries",
                              wall.p50_ms, thread.p99_ms, ms.size()))
        .Emit();
  }
  std::printf(
      "  %-42s p50 %7.2f ms  p99 %7.2f ms   (CPU: p50 %7.2f  p99 "
      "%7.2f ms)\n",
      what.c_str(), wall.p50_ms, wall.p99_ms, thread.p50_ms, thread.p99_ms);
}

// With `rows`, the latencies are also result rows.
void RunQueries(log::EventLog* log, projections::ProjectionRunner* runner,
                const Config& config, const char* label, bool rows) {
  query::ReportQueries queries(log, runner);
  const uint64_t records = log->LastPosition();
  const int current = domain::FiscalYearOf(domain::BangkokDay(absl::Now()));
  const int fy = current - 1;  // the last complete fiscal year
  std::mt19937_64 rng(42);
  const std::vector<domain::District>& districts = domain::Districts();
  auto district = [&] { return districts[rng() % districts.size()].code; };
  const v1::Round rounds[] = {v1::ROUND_H1, v1::ROUND_H2, v1::ROUND_FULL_YEAR};

  std::printf("queries, %s:\n", label);
  absl::Time start;
  std::vector<double> ms;
  std::vector<double> cpu;
  double cpu_start = 0;
  for (int i = 0; i < config.queries; ++i) {
    v1::CityOverviewRequest request;
    request.set_fiscal_year(fy);
    start = absl::Now();
    cpu_start = ThreadCpuMs();
    auto answer = queries.CityOverview(request);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    cpu.push_back(ThreadCpuMs() - cpu_start);
    bench::Die(answer.status(), "city overview");
  }
  const std::string at = absl::StrFormat(" at %d events, p99", records);
  Report(absl::StrFormat("city overview (50 districts, FY %d)", fy), ms, cpu,
         rows ? "query.city.p99" : "", "city overview" + at);

  ms.clear();
  cpu.clear();
  size_t json_bytes = 0;
  for (int i = 0; i < config.queries; ++i) {
    v1::ItaReportRequest request;
    request.set_district(district());
    request.set_fiscal_year(fy);
    request.set_round(rounds[rng() % 3]);
    start = absl::Now();
    cpu_start = ThreadCpuMs();
    auto report = queries.ItaReport(request);
    bench::Die(report.status(), "ITA report");
    auto json = query::ToJson(*report);
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    cpu.push_back(ThreadCpuMs() - cpu_start);
    bench::Die(json.status(), "ITA report JSON");
    json_bytes += json->size();
  }
  Report(absl::StrFormat("district ITA report as JSON (%.0f KB)",
                         json_bytes / 1024.0 / config.queries),
         ms, cpu, rows ? "query.district.p99" : "",
         "district ITA report as JSON" + at);

  ms.clear();
  cpu.clear();
  const int as_of_queries = std::max(20, config.queries / 5);
  for (int i = 0; i < as_of_queries; ++i) {
    v1::ItaReportRequest request;
    request.set_district(district());
    request.set_fiscal_year(fy);
    request.set_round(rounds[rng() % 3]);
    request.mutable_read()->mutable_as_of()->set_position(
        records / 2 + rng() % (records / 2));
    start = absl::Now();
    cpu_start = ThreadCpuMs();
    auto report = queries.ItaReport(request);
    if (report.ok()) {
      auto json = query::ToJson(*report);
      bench::Die(json.status(), "as_of JSON");
    } else if (report.status().code() != absl::StatusCode::kNotFound) {
      bench::Die(report.status(), "as_of ITA report");
    }
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    cpu.push_back(ThreadCpuMs() - cpu_start);
  }
  Report("as_of ITA report (district replayed)", ms, cpu,
         rows ? "query.asof.p99" : "",
         "as-of ITA report (district replayed)" + at);

  ms.clear();
  cpu.clear();
  for (int i = 0; i < std::max(3, config.queries / 100); ++i) {
    v1::CityOverviewRequest request;
    request.set_fiscal_year(fy);
    request.mutable_read()->mutable_as_of()->set_position(
        records / 2 + rng() % (records / 2));
    start = absl::Now();
    cpu_start = ThreadCpuMs();
    bench::Die(queries.CityOverview(request).status(), "as_of overview");
    ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    cpu.push_back(ThreadCpuMs() - cpu_start);
  }
  Report("as_of city overview (city replayed)", ms, cpu);
}

}  // namespace
}  // namespace prongsai::bench

int main(int argc, char** argv) {
  using namespace prongsai;
  bench::EnableRowsIf(argc, argv);
  bench::Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* name) -> const char* {
      const std::string prefix = std::string("--") + name + "=";
      return arg.rfind(prefix, 0) == 0 ? argv[i] + prefix.size() : nullptr;
    };
    if (const char* v = value("events")) {
      absl::SimpleAtoi(v, &config.events);
    } else if (const char* v = value("runs")) {
      absl::SimpleAtoi(v, &config.runs);
    } else if (const char* v = value("queries")) {
      absl::SimpleAtoi(v, &config.queries);
    } else if (const char* v = value("dir")) {
      config.dir = v;
    } else if (const char* v = value("rebuild-runs")) {
      absl::SimpleAtoi(v, &config.rebuild_runs);
    } else if (arg == "--skip-per-view") {
      config.per_view = false;
    } else {
      std::fprintf(stderr,
                   "usage: reports_bench [--events=N] [--runs=R] "
                   "[--queries=Q] [--dir=PATH] [--skip-per-view] "
                   "[--rebuild-runs=R] [--rows]\n");
      return 2;
    }
  }
  bench::PrintMachine();
  std::unique_ptr<testing::TempDir> temp;
  if (config.dir.empty()) {
    temp = std::make_unique<testing::TempDir>();
    config.dir = temp->path();
  }
  std::filesystem::create_directories(config.dir);
  const bool reuse = std::filesystem::exists(config.dir + "/log");
  auto log = log::OpenRocksDbLog({.path = config.dir + "/log", .sync = false});
  bench::Die(log.status(), "opening the log");
  if (!reuse) {
    bench::Die(bench::Load(log->get(), config), "loading the city");
  }
  const uint64_t records = (*log)->LastPosition();
  std::printf("log: %llu records in %s\n",
              static_cast<unsigned long long>(records), config.dir.c_str());

  // Raw scans of the same log. Rates per wall second and per CPU second
  // (the machine may be shared).
  std::vector<double> raw_rates;
  std::vector<double> raw_cpu_rates;
  std::vector<double> decode_rates;
  std::vector<double> decode_cpu_rates;
  for (int run = 0; run < config.runs; ++run) {
    uint64_t n = 0;
    uint64_t bytes = 0;
    absl::Time start = absl::Now();
    double cpu = bench::CpuSeconds();
    bench::Die((*log)->Scan(1,
                            [&](const log::LogEntry& e) {
                              ++n;
                              bytes += e.record_bytes.size();
                              return true;
                            }),
               "scanning");
    raw_rates.push_back(n / absl::ToDoubleSeconds(absl::Now() - start));
    raw_cpu_rates.push_back(n / (bench::CpuSeconds() - cpu));
    v1::Record record;
    start = absl::Now();
    cpu = bench::CpuSeconds();
    bench::Die((*log)->Scan(1,
                            [&](const log::LogEntry& e) {
                              record.ParseFromArray(
                                  e.record_bytes.data(),
                                  static_cast<int>(e.record_bytes.size()));
                              return true;
                            }),
               "scanning");
    decode_rates.push_back(n / absl::ToDoubleSeconds(absl::Now() - start));
    decode_cpu_rates.push_back(n / (bench::CpuSeconds() - cpu));
    if (run == 0) {
      std::printf("mean record: %.0f bytes\n",
                  static_cast<double>(bytes) / std::max<uint64_t>(n, 1));
    }
  }
  std::printf("raw scan:              %10.0f records/s  %10.0f per CPU s\n",
              bench::Median(raw_rates), bench::Median(raw_cpu_rates));
  std::printf("raw scan + decode:     %10.0f records/s  %10.0f per CPU s\n",
              bench::Median(decode_rates), bench::Median(decode_cpu_rates));

  // Every view of `prongsai serve` (server::AllProjections) rebuilt at once
  // from an empty views directory, as the server does on a fresh data
  // directory or after its views were dropped.
  {
    std::vector<double> rates;
    std::vector<double> cpu_rates;
    size_t views = 0;
    const int runs =
        config.rebuild_runs > 0 ? config.rebuild_runs : config.runs;
    for (int run = 0; run < runs; ++run) {
      const std::string path = config.dir + "/views-all";
      std::filesystem::remove_all(path);
      std::vector<std::unique_ptr<projections::Projection>> all =
          server::AllProjections();
      views = all.size();
      const absl::Time start = absl::Now();
      const double cpu = bench::CpuSeconds();
      auto all_runner = projections::ProjectionRunner::Start(
          log->get(), {.path = path, .background = false}, std::move(all));
      bench::Die(all_runner.status(), "starting every view");
      bench::Die((*all_runner)->CatchUp(), "rebuilding every view");
      all_runner->reset();
      rates.push_back(records / absl::ToDoubleSeconds(absl::Now() - start));
      cpu_rates.push_back(records / (bench::CpuSeconds() - cpu));
      std::filesystem::remove_all(path);
    }
    std::printf(
        "rebuild of every view (%zu, as prongsai serve): %10.0f records/s  "
        "%10.0f per CPU s (%.2f of raw scan)\n",
        views, bench::Median(rates), bench::Median(cpu_rates),
        bench::Median(rates) / bench::Median(raw_rates));
    bench::Row("rebuild.all",
               absl::StrFormat("full rebuild of every view (%zu views of "
                               "prongsai serve, %d events)",
                               views, records),
               bench::Median(rates), "events/s")
        .Baseline(bench::Median(raw_rates), "raw scan of the same log")
        .Note(absl::StrFormat("%.0f per CPU s; scan + decode %.0f/s",
                              bench::Median(cpu_rates),
                              bench::Median(decode_rates)))
        .Emit();
  }

  // The start of an ingest that owns one shard of the streams, as each
  // ingest instance on Kafka does: it replays its own streams (and the city
  // stream) into its write model, so memory and restart shrink with the
  // number of instances.
  for (int shards : {1, 4, 16}) {
    ingest::IngestOptions options;
    int owned = 0;
    for (int code = 1001; code <= 1050; ++code) {
      owned += log::OwnerShard(std::to_string(code), shards) == 0;
    }
    if (shards > 1) {
      options.check_owner = [shards](absl::string_view stream) {
        return log::OwnerShard(stream, shards) == 0
                   ? absl::OkStatus()
                   : absl::FailedPreconditionError("another shard's");
      };
    }
    const absl::Time shard_start = absl::Now();
    auto shard = ingest::Ingestor::Start(log->get(), options);
    bench::Die(shard.status(), "starting an ingest of one shard");
    const double seconds = absl::ToDoubleSeconds(absl::Now() - shard_start);
    const double mib = (*shard)->recovered_model_bytes() / 1048576.0;
    std::printf(
        "ingest start, shard 0 of %2d (%2d districts): replayed %9llu "
        "records in %5.2f s, write model %7.1f MiB\n",
        shards, owned,
        static_cast<unsigned long long>((*shard)->recovered_records()),
        seconds, mib);
    bench::Row(absl::StrFormat("scale.shard.%d", shards),
               absl::StrFormat("ingest start owning shard 0 of %d (%d of 50 "
                               "districts), %d events: write model",
                               shards, owned, records),
               mib, "MiB")
        .Note(absl::StrFormat("replayed %d records in %.2f s",
                              (*shard)->recovered_records(), seconds))
        .Emit();
  }

  // The views: a first build (which also checks every record's chain), then
  // full rebuilds of each view.
  std::filesystem::remove_all(config.dir + "/views");
  auto runner = projections::ProjectionRunner::Start(
      log->get(), {.path = config.dir + "/views", .background = false},
      bench::Views());
  bench::Die(runner.status(), "starting the views");
  absl::Time start = absl::Now();
  bench::Die((*runner)->CatchUp(), "building the views");
  std::printf(
      "first build, every view + chain check: %.1f s (%.0f records/s)\n",
      absl::ToDoubleSeconds(absl::Now() - start),
      records / absl::ToDoubleSeconds(absl::Now() - start));
  bench::RunQueries(log->get(), runner->get(), config,
                    "views just built (RocksDB not yet compacted)", false);

  // A long-running server's views are compacted in the background; compact
  // them all now and ask again.
  runner->reset();
  bench::Die(bench::CompactStore(config.dir + "/views"), "compacting");
  runner = projections::ProjectionRunner::Start(
      log->get(), {.path = config.dir + "/views", .background = false},
      bench::Views());
  bench::Die(runner.status(), "reopening the views");
  bench::RunQueries(log->get(), runner->get(), config,
                    "views compacted (steady state)", true);

  // Full rebuilds of each view, after the queries (a rebuild leaves deleted
  // rows behind until RocksDB compacts them).
  if (!config.per_view) {
    return 0;
  }
  for (absl::string_view name :
       {reports::kProgressView, reports::kGiftsView, reports::kComplaintsView,
        reports::kCityView, reports::kJournalView,
        projections::kMerkleProjection, projections::kAuditTrailProjection,
        service_sla::kServiceSlaView, absl::string_view("null")}) {
    std::vector<double> rates;
    std::vector<double> cpu_rates;
    for (int run = 0; run < config.runs; ++run) {
      start = absl::Now();
      const double cpu = bench::CpuSeconds();
      bench::Die((*runner)->Rebuild(name), "rebuilding");
      rates.push_back(records / absl::ToDoubleSeconds(absl::Now() - start));
      cpu_rates.push_back(records / (bench::CpuSeconds() - cpu));
    }
    std::printf(
        "rebuild %-14s %10.0f records/s  %10.0f per CPU s (%.2f of "
        "scan + decode)\n",
        std::string(name).c_str(), bench::Median(rates),
        bench::Median(cpu_rates),
        bench::Median(cpu_rates) / bench::Median(decode_cpu_rates));
  }

  return 0;
}

// The peer: the event store most teams would build, on PostgreSQL, beside
// Prongsai with the same events in the same run.
//
// The benchmark starts its own PostgreSQL (Debian's postgresql-15) on
// loopback in a temporary directory: initdb and pg_ctl from --pg-bin, run as
// the `postgres` user when the benchmark runs as root (PostgreSQL refuses
// root). The schema is the usual one:
//
//   events(position bigserial primary key, stream text, version bigint,
//          event_id uuid unique, type text, data jsonb, recorded_at
//          timestamptz, prev_hash bytea, hash bytea,
//          unique (stream, version))       + an index on type
//
// The demo city of N events (projections/reports/demo_city.h) is generated
// once; each of its batches (up to 2,000 events of one district) is
//   - appended through Prongsai's ingest (ingest::Ingestor) on the embedded
//     RocksDB log, synced: validation, per-stream sequence and hash chain,
//     idempotency by event id;
//   - inserted into PostgreSQL in one transaction, one multi-row INSERT
//     through libpq, synchronous_commit on (durable). The client keeps each
//     stream's next version and previous hash in memory and hashes
//     SHA-256(prev_hash || data); the JSON encoding is done before the
//     clock starts.
// Only the time of the two appends is counted.
//
// Then the city overview: Prongsai's (ReportQueries::CityOverview on the
// report views, caught up first) and the SQL a team would write over the
// events table: per district, the measures of the fiscal year by their latest
// progress status, the latest score of each item (mean and count), the
// progress reports of each round, the rounds of gift reports submitted, and
// the complaints open for more than 60 days. It answers from the events
// table directly - the straightforward design, without a summary table kept
// by the same transaction (which would slow the ingest down further and
// duplicate the projection logic in SQL). It leaves out what Prongsai's
// overview adds: the split by ITA indicator, the alerts, and corrections and
// retractions of events; so it does less work than ours.
//
//   build/bench/pg_bench [--events=N] [--queries=Q] [--pg-bin=DIR] [--rows]
#include <arpa/inet.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "core/log/rocksdb_log.h"
#include "google/protobuf/util/json_util.h"
#include "projections/reports/demo_city.h"
#include "projections/reports/report_projections.h"
#include "services/ingest/ingestor.h"
#include "services/query/report_queries.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

struct Config {
  int64_t events = 1'000'000;
  int queries = 50;
  std::string pg_bin = "/usr/lib/postgresql/15/bin";
};

void Die(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "pg_bench: %s: %s\n", what,
                 std::string(status.message()).c_str());
    std::exit(1);
  }
}

double Percentile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  if (values.empty()) {
    return 0;
  }
  return values[std::min(values.size() - 1,
                         static_cast<size_t>(q * values.size()))];
}

struct ConnDeleter {
  void operator()(PGconn* conn) const { PQfinish(conn); }
};
struct ResultDeleter {
  void operator()(PGresult* result) const { PQclear(result); }
};
using Conn = std::unique_ptr<PGconn, ConnDeleter>;
using Result = std::unique_ptr<PGresult, ResultDeleter>;

class Postgres;
// The server to stop at exit (Die exits without unwinding).
Postgres* running_postgres = nullptr;

// A PostgreSQL cluster of its own in a temporary directory, on loopback.
class Postgres {
 public:
  explicit Postgres(std::string bin) : bin_(std::move(bin)) {
    // Directly under /tmp, so that the `postgres` user can reach it.
    char path[] = "/tmp/prongsai-pg-XXXXXX";
    if (mkdtemp(path) != nullptr) {
      dir_ = path;
    }
  }
  ~Postgres() {
    Stop();
    if (running_postgres == this) {
      running_postgres = nullptr;
    }
  }

  // Stops the server and removes its directory; also run at exit, so that
  // a benchmark that fails leaves no server behind.
  void Stop() {
    if (started_) {
      Run(absl::StrCat(as_, Quote(bin_ + "/pg_ctl"), " -D ",
                       Quote(dir_ + "/pg"),
                       " -m fast -w stop >/dev/null 2>&1"));
      started_ = false;
    }
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      dir_.clear();
    }
  }

  absl::Status Start(int port) {
    if (dir_.empty()) {
      return absl::InternalError("could not make a temporary directory");
    }
    if (geteuid() == 0) {
      // PostgreSQL refuses to run as root: the directory goes to `postgres`.
      if (Run(absl::StrCat("chown postgres: ", Quote(dir_))) != 0) {
        return absl::FailedPreconditionError(
            "running as root and there is no `postgres` user to run "
            "PostgreSQL as");
      }
      as_ = "runuser -u postgres -- ";
    }
    if (Run(absl::StrCat(as_, Quote(bin_ + "/initdb"), " -D ",
                         Quote(dir_ + "/pg"),
                         " -U bench -A trust -E UTF8 --locale=C.UTF-8 "
                         ">",
                         Quote(dir_ + "/initdb.log"), " 2>&1")) != 0) {
      return absl::InternalError(
          absl::StrCat("initdb failed; see ", dir_, "/initdb.log"));
    }
    // Durable as deployed: fsync and synchronous_commit stay on; enough
    // memory for the load.
    const std::string options = absl::StrCat(
        "-c listen_addresses=127.0.0.1 -c port=", port,
        " -c unix_socket_directories=", dir_,
        " -c shared_buffers=512MB -c max_wal_size=4GB -c wal_buffers=16MB "
        "-c checkpoint_timeout=30min");
    if (Run(absl::StrCat(as_, Quote(bin_ + "/pg_ctl"), " -D ",
                         Quote(dir_ + "/pg"), " -l ", Quote(dir_ + "/pg.log"),
                         " -w -o ", Quote(options), " start >/dev/null")) !=
        0) {
      return absl::InternalError(
          absl::StrCat("pg_ctl start failed; see ", dir_, "/pg.log"));
    }
    started_ = true;
    port_ = port;
    return absl::OkStatus();
  }

  absl::StatusOr<Conn> Connect() const {
    Conn conn(PQconnectdb(absl::StrCat("host=127.0.0.1 port=", port_,
                                       " user=bench dbname=postgres")
                              .c_str()));
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return absl::UnavailableError(PQerrorMessage(conn.get()));
    }
    return conn;
  }

 private:
  static std::string Quote(const std::string& s) {
    return absl::StrCat("'", s, "'");
  }
  static int Run(const std::string& command) {
    return std::system(command.c_str());
  }

  std::string bin_;
  std::string dir_;
  std::string as_;
  bool started_ = false;
  int port_ = 0;
};

absl::Status Exec(PGconn* conn, const std::string& sql) {
  Result result(PQexec(conn, sql.c_str()));
  const ExecStatusType status = PQresultStatus(result.get());
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    return absl::InternalError(
        absl::StrCat(PQerrorMessage(conn), " in: ", sql.substr(0, 200)));
  }
  return absl::OkStatus();
}

constexpr char kSchema[] = R"sql(
CREATE TABLE events (
  position    bigserial PRIMARY KEY,
  stream      text NOT NULL,
  version     bigint NOT NULL,
  event_id    uuid NOT NULL UNIQUE,
  type        text NOT NULL,
  data        jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  prev_hash   bytea NOT NULL,
  hash        bytea NOT NULL,
  UNIQUE (stream, version)
);
CREATE INDEX events_type ON events (type);
)sql";

// The city overview over the events table; $1 the fiscal year, $2 the day
// before which an open complaint is too old.
constexpr char kCityOverviewSql[] = R"sql(
WITH planned AS (
  SELECT stream, data->'measurePlanned'->>'measureId' AS measure_id
  FROM events
  WHERE type = 'measure_planned'
    AND (data->'measurePlanned'->>'fiscalYear')::int = $1
), progress AS (
  SELECT stream, data->'measureProgressReported' AS p, position
  FROM events
  WHERE type = 'measure_progress_reported'
), latest AS (
  SELECT DISTINCT ON (stream, p->>'measureId')
         stream, p->>'measureId' AS measure_id, p->>'status' AS status
  FROM progress
  ORDER BY stream, p->>'measureId', position DESC
), measures AS (
  SELECT m.stream,
         count(*) AS planned,
         count(*) FILTER (WHERE l.status = 'PROGRESS_STATUS_IN_PROGRESS')
           AS in_progress,
         count(*) FILTER (WHERE l.status = 'PROGRESS_STATUS_DONE') AS done,
         count(*) FILTER (WHERE l.status = 'PROGRESS_STATUS_DROPPED')
           AS dropped
  FROM planned m LEFT JOIN latest l USING (stream, measure_id)
  GROUP BY m.stream
), rounds AS (
  SELECT stream,
         count(*) FILTER (WHERE p->>'round' = 'ROUND_H1') AS h1,
         count(*) FILTER (WHERE p->>'round' = 'ROUND_H2') AS h2
  FROM progress
  WHERE (p->>'fiscalYear')::int = $1
  GROUP BY stream
), scores AS (
  SELECT DISTINCT ON (stream, data->'scoreRecorded'->>'itemCode')
         stream, (data->'scoreRecorded'->>'score')::float8 AS score
  FROM events
  WHERE type = 'score_recorded'
    AND (data->'scoreRecorded'->>'fiscalYear')::int = $1
  ORDER BY stream, data->'scoreRecorded'->>'itemCode', position DESC
), score_means AS (
  SELECT stream, avg(score) AS mean_score, count(*) AS items_scored
  FROM scores GROUP BY stream
), gifts AS (
  SELECT stream,
         string_agg(DISTINCT data->'giftReportsSubmitted'->>'round', ',')
           AS rounds_submitted
  FROM events
  WHERE type = 'gift_reports_submitted'
    AND (data->'giftReportsSubmitted'->>'fiscalYear')::int = $1
  GROUP BY stream
), complaints AS (
  SELECT r.stream, count(*) AS open_too_long
  FROM events r
  WHERE r.type = 'complaint_received'
    AND make_date((r.data->'complaintReceived'->'receivedOn'->>'year')::int,
                  (r.data->'complaintReceived'->'receivedOn'->>'month')::int,
                  (r.data->'complaintReceived'->'receivedOn'->>'day')::int)
        < $2::date
    AND NOT EXISTS (
      SELECT 1 FROM events c
      WHERE c.type = 'complaint_closed' AND c.stream = r.stream
        AND c.data->'complaintClosed'->>'complaintId' =
            r.data->'complaintReceived'->>'complaintId')
  GROUP BY r.stream
), districts AS (
  SELECT DISTINCT stream FROM events WHERE stream <> 'city'
)
SELECT d.stream, m.planned, m.in_progress, m.done, m.dropped,
       s.mean_score, s.items_scored, r.h1, r.h2, g.rounds_submitted,
       c.open_too_long
FROM districts d
LEFT JOIN measures m USING (stream)
LEFT JOIN score_means s USING (stream)
LEFT JOIN rounds r USING (stream)
LEFT JOIN gifts g USING (stream)
LEFT JOIN complaints c USING (stream)
ORDER BY d.stream
)sql";

std::string Hex(const unsigned char* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "\\x";
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 15]);
  }
  return out;
}

// Appends batches to the events table as an application would.
class PgAppender {
 public:
  explicit PgAppender(PGconn* conn) : conn_(conn) {}

  // The rows of one batch, encoded before the clock starts.
  struct Prepared {
    std::vector<std::string> values;  // 7 per event
  };

  Prepared Prepare(const std::string& stream,
                   const std::vector<v1::Event>& events) {
    Prepared out;
    StreamState& state = streams_[stream];
    google::protobuf::util::JsonPrintOptions options;
    for (const v1::Event& event : events) {
      std::string json;
      (void)google::protobuf::util::MessageToJsonString(event, &json, options);
      std::string hashed(reinterpret_cast<const char*>(state.prev),
                         sizeof(state.prev));
      hashed += json;
      unsigned char hash[32];
      unsigned int hash_size = 0;
      EVP_Digest(hashed.data(), hashed.size(), hash, &hash_size, EVP_sha256(),
                 nullptr);
      const v1::Event::PayloadCase kind = event.payload_case();
      const std::string type =
          kind == v1::Event::PAYLOAD_NOT_SET
              ? "none"
              : std::string(
                    v1::Event::descriptor()->FindFieldByNumber(kind)->name());
      out.values.push_back(stream);
      out.values.push_back(absl::StrCat(++state.version));
      out.values.push_back(event.event_id());
      out.values.push_back(type);
      out.values.push_back(std::move(json));
      out.values.push_back(Hex(state.prev, sizeof(state.prev)));
      out.values.push_back(Hex(hash, sizeof(hash)));
      std::copy(hash, hash + 32, state.prev);
    }
    return out;
  }

  absl::Status Insert(const Prepared& rows) {
    const size_t n = rows.values.size() / 7;
    std::string sql =
        "INSERT INTO events (stream, version, event_id, type, data, "
        "prev_hash, hash) VALUES ";
    for (size_t i = 0; i < n; ++i) {
      const size_t p = i * 7;
      absl::StrAppend(&sql, i == 0 ? "" : ",", "($", p + 1, ",$", p + 2, ",$",
                      p + 3, ",$", p + 4, ",$", p + 5, ",$", p + 6, ",$", p + 7,
                      ")");
    }
    std::vector<const char*> params;
    params.reserve(rows.values.size());
    for (const std::string& v : rows.values) {
      params.push_back(v.c_str());
    }
    Result result(PQexecParams(conn_, sql.c_str(),
                               static_cast<int>(params.size()), nullptr,
                               params.data(), nullptr, nullptr, 0));
    if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
      return absl::InternalError(PQerrorMessage(conn_));
    }
    return absl::OkStatus();
  }

 private:
  struct StreamState {
    int64_t version = 0;
    unsigned char prev[32] = {};
  };
  PGconn* conn_;
  absl::flat_hash_map<std::string, StreamState> streams_;
};

// A free TCP port on loopback.
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof(address);
  int port = 0;
  if (fd >= 0 &&
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) == 0) {
    port = ntohs(address.sin_port);
  }
  if (fd >= 0) {
    close(fd);
  }
  return port;
}

int Run(const Config& config) {
  PrintMachine();
  testing::TempDir dir;
  Postgres postgres(config.pg_bin);
  running_postgres = &postgres;
  std::atexit([] {
    if (running_postgres != nullptr) {
      running_postgres->Stop();
    }
  });
  Die(postgres.Start(FreePort()), "starting PostgreSQL");
  absl::StatusOr<Conn> conn = postgres.Connect();
  Die(conn.status(), "connecting to PostgreSQL");
  Die(Exec(conn->get(), kSchema), "creating the schema");

  auto log = log::OpenRocksDbLog({.path = dir.Sub("log"), .sync = true});
  Die(log.status(), "opening the log");
  auto ingestor = ingest::Ingestor::Start(log->get());
  Die(ingestor.status(), "starting the ingest");
  PgAppender pg(conn->get());

  absl::Duration ours = absl::ZeroDuration();
  absl::Duration theirs = absl::ZeroDuration();
  int64_t events = 0;
  auto append = [&](const std::string& stream,
                    std::vector<v1::Event>& batch) -> absl::Status {
    const PgAppender::Prepared rows = pg.Prepare(stream, batch);
    v1::AppendRequest request;
    request.set_stream(stream);
    for (v1::Event& e : batch) {
      *request.add_events() = std::move(e);
    }
    absl::Time start = absl::Now();
    RETURN_IF_ERROR((*ingestor)->Append(request).status());
    ours += absl::Now() - start;
    start = absl::Now();
    RETURN_IF_ERROR(pg.Insert(rows));
    theirs += absl::Now() - start;
    events += request.events_size();
    return absl::OkStatus();
  };
  std::vector<v1::Event> bootstrap = domain::CityBootstrapEvents();
  Die(append(std::string(domain::kCityStream), bootstrap), "bootstrap");
  reports::DemoCityOptions options;
  options.events = config.events;
  auto stats = reports::GenerateDemoCity(options, [&](reports::DemoBatch& b) {
    return append(b.stream, b.events);
  });
  Die(stats.status(), "appending the demo city");
  (*ingestor)->Stop();
  const double ours_rate = events / absl::ToDoubleSeconds(ours);
  const double theirs_rate = events / absl::ToDoubleSeconds(theirs);
  std::printf(
      "\n%lld events of the demo city, %lld batches (up to 2,000 events of "
      "one district each)\n",
      static_cast<long long>(events), static_cast<long long>(stats->batches));
  std::printf("%-62s %12s\n", "append, durable", "events/s");
  std::printf("%-62s %12.0f\n", "Prongsai ingest, embedded RocksDB log, synced",
              ours_rate);
  std::printf("%-62s %12.0f\n",
              "PostgreSQL events table, one INSERT per batch, libpq",
              theirs_rate);
  std::printf("ratio Prongsai / PostgreSQL: %.2f\n\n", ours_rate / theirs_rate);
  Row("peer.ingest",
      absl::StrFormat("ingest of the demo city (%d events), durable", events),
      ours_rate, "events/s")
      .Baseline(theirs_rate,
                "PostgreSQL events table, batched INSERT via libpq")
      .Emit();

  // The views, caught up (not timed), and the queries.
  auto runner = projections::ProjectionRunner::Start(
      log->get(), {.path = dir.Sub("views"), .background = false},
      reports::ReportProjections());
  Die(runner.status(), "starting the views");
  Die((*runner)->CatchUp(), "catching the views up");
  Die(Exec(conn->get(), "VACUUM ANALYZE events"), "analyzing");
  query::ReportQueries queries(log->get(), runner->get());
  const absl::CivilDay today = domain::BangkokDay(absl::Now());
  const int fy = domain::FiscalYearOf(today) - 1;
  const absl::CivilDay too_old = today - 60;
  const std::string fy_text = absl::StrCat(fy);
  const std::string day_text = absl::FormatCivilTime(too_old);
  std::vector<double> ours_ms;
  std::vector<double> theirs_ms;
  int rows = 0;
  for (int i = 0; i < config.queries; ++i) {
    v1::CityOverviewRequest request;
    request.set_fiscal_year(fy);
    absl::Time start = absl::Now();
    Die(queries.CityOverview(request).status(), "city overview");
    ours_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    const char* params[] = {fy_text.c_str(), day_text.c_str()};
    start = absl::Now();
    Result result(PQexecParams(conn->get(), kCityOverviewSql, 2, nullptr,
                               params, nullptr, nullptr, 0));
    theirs_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) {
      std::fprintf(stderr, "pg_bench: the SQL overview: %s\n",
                   PQerrorMessage(conn->get()));
      return 1;
    }
    rows = PQntuples(result.get());
  }
  std::printf("%-62s %9s %9s\n", ("city overview, FY " + fy_text + ":").c_str(),
              "p50 ms", "p99 ms");
  std::printf("%-62s %9.2f %9.2f\n", "Prongsai (report views)",
              Percentile(ours_ms, 0.5), Percentile(ours_ms, 0.99));
  std::printf(
      "%-62s %9.2f %9.2f\n",
      absl::StrFormat("PostgreSQL, SQL over the events table (%d rows)", rows)
          .c_str(),
      Percentile(theirs_ms, 0.5), Percentile(theirs_ms, 0.99));
  std::printf("ratio PostgreSQL / Prongsai (p50): %.1f\n",
              Percentile(theirs_ms, 0.5) / Percentile(ours_ms, 0.5));
  Row("peer.city", absl::StrFormat("city overview at %d events, p50", events),
      Percentile(ours_ms, 0.5), "ms")
      .Baseline(Percentile(theirs_ms, 0.5),
                "the same overview in SQL over the PostgreSQL events table")
      .Note(absl::StrFormat("p99 %.2f ms vs %.2f ms", Percentile(ours_ms, 0.99),
                            Percentile(theirs_ms, 0.99)))
      .Emit();
  return 0;
}

}  // namespace
}  // namespace prongsai::bench

int main(int argc, char** argv) {
  prongsai::bench::EnableRowsIf(argc, argv);
  prongsai::bench::Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    bool ok = false;
    if (arg.rfind("--events=", 0) == 0) {
      ok = absl::SimpleAtoi(arg.substr(9), &config.events) && config.events > 0;
    } else if (arg.rfind("--queries=", 0) == 0) {
      ok = absl::SimpleAtoi(arg.substr(10), &config.queries) &&
           config.queries > 0;
    } else if (arg.rfind("--pg-bin=", 0) == 0) {
      config.pg_bin = arg.substr(9);
      ok = !config.pg_bin.empty();
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: pg_bench [--events=N] [--queries=Q] [--pg-bin=DIR] "
                   "[--rows]\n");
      return 2;
    }
  }
  return prongsai::bench::Run(config);
}

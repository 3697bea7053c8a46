// How the log scales with the number of streams: 50 (Bangkok's districts),
// 500 and 8,300 (every ITA agency of the country). The domain knows only the
// 50 district codes and the city stream, so this is measured at the log
// level (core/log), below the domain rules: records of S streams named
// "a00001".., each stream with its dense sequence and hash chain.
//
//   rocksdb write    synced EventLog::Write calls, each of --group appends of
//                    --batch records of one stream, the streams in turn (an
//                    Append holds one stream; the ingest writes the appends
//                    that arrive together in one write). At least --batch
//                    records go to every stream, so the run grows to
//                    streams x batch records where --records is fewer
//   rebuild          a projection (one row per stream, read and written for
//                    every record) caught up from an empty views directory
//   kafka write      the same writes through the Kafka log (mock cluster,
//                    3 brokers, --partitions partitions), which keys records
//                    by stream
//
//   build/bench/scale_bench [--records=N] [--kafka-records=N] [--batch=B]
//                           [--group=G] [--streams=50,500,8300]
//                           [--partitions=P] [--runs=R] [--rows]
//
// Medians over R runs.
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/base/hash.h"
#include "core/log/kafka_dev.h"
#include "core/log/kafka_log.h"
#include "core/log/rocksdb_log.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/record.pb.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

struct Config {
  int64_t records = 1'000'000;
  int64_t kafka_records = 40'000;
  int batch = 10;
  int group = 100;
  std::vector<int> streams = {50, 500, 8300};
  int partitions = 16;
  int runs = 3;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

std::string StreamName(int s) { return absl::StrFormat("a%05d", s + 1); }

// The writes of at least `records` records over `streams` streams, enough
// for `batch` records in every stream: appends of `batch` records of one
// stream, the streams in turn, each chained; `group` appends per log write,
// as the ingest groups the appends that arrive together into one write.
std::vector<std::vector<log::PendingRecord>> MakeWrites(int64_t records,
                                                        int streams, int batch,
                                                        int group) {
  records = std::max<int64_t>(records, int64_t{streams} * batch);
  std::vector<uint64_t> sequence(streams, 0);
  std::vector<Hash> prev(streams, kZeroHash);
  std::vector<std::vector<log::PendingRecord>> writes;
  int64_t made = 0;
  for (int append = 0; made < records; ++append) {
    if (append % group == 0) {
      writes.emplace_back();
    }
    std::vector<log::PendingRecord>& write = writes.back();
    const int s = append % streams;
    for (int i = 0; i < batch && made < records; ++i, ++made) {
      v1::Record record;
      record.set_stream(StreamName(s));
      record.set_sequence(++sequence[s]);
      record.set_prev_hash(std::string(AsBytes(prev[s])));
      record.mutable_recorded_at()->set_seconds(1728972000 + made);
      v1::Event event = testing::MeetingEvent(
          absl::StrCat("m-", made), static_cast<int>(40 + made % 100));
      event.mutable_meeting_held()->set_title(
          absl::StrCat("ประชุมข้าราชการและลูกจ้างประจำเดือน ชี้แจงมาตรการ ITA ข้อ ",
                       made % 22, " ครั้งที่ ", made));
      *record.mutable_event() = std::move(event);
      log::PendingRecord pending;
      pending.stream = record.stream();
      pending.sequence = record.sequence();
      pending.event_id = record.event().event_id();
      pending.bytes = record.SerializeAsString();
      pending.hash = Sha256(pending.bytes);
      pending.fingerprint = pending.hash;
      prev[s] = pending.hash;
      write.push_back(std::move(pending));
    }
  }
  return writes;
}

int64_t Count(const std::vector<std::vector<log::PendingRecord>>& writes) {
  int64_t n = 0;
  for (const auto& write : writes) {
    n += static_cast<int64_t>(write.size());
  }
  return n;
}

// Records per stream: one row per stream, read and written for each record.
class StreamCount final : public projections::Projection {
 public:
  absl::string_view name() const override { return "stream_count"; }
  absl::Status Apply(const projections::AppliedRecord& record,
                     projections::ViewWriter& view) override {
    absl::StatusOr<int64_t> count = view.GetInt(record.record.stream());
    if (!count.ok()) {
      return count.status();
    }
    view.PutInt(record.record.stream(), *count + 1);
    return absl::OkStatus();
  }
};

void Die(const absl::Status& status, const char* what) {
  if (!status.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
    std::exit(1);
  }
}

// Records per second of the writes, in order, from one writer.
double Write(log::EventLog& log,
             const std::vector<std::vector<log::PendingRecord>>& writes,
             int64_t records) {
  const absl::Time start = absl::Now();
  for (const std::vector<log::PendingRecord>& write : writes) {
    Die(log.Write(write).status(), "writing");
  }
  return static_cast<double>(records) /
         absl::ToDoubleSeconds(absl::Now() - start);
}

double Rebuild(log::EventLog& log, const std::string& path, int64_t records) {
  std::vector<std::unique_ptr<projections::Projection>> views;
  views.push_back(std::make_unique<StreamCount>());
  const absl::Time start = absl::Now();
  auto runner = projections::ProjectionRunner::Start(
      &log, {.path = path, .background = false}, std::move(views));
  Die(runner.status(), "starting the view");
  Die((*runner)->CatchUp(), "catching up");
  return static_cast<double>(records) /
         absl::ToDoubleSeconds(absl::Now() - start);
}

}  // namespace
}  // namespace prongsai::bench

int main(int argc, char** argv) {
  using namespace prongsai;
  using namespace prongsai::bench;
  EnableRowsIf(argc, argv);
  Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::string {
      return arg.rfind(name + "=", 0) == 0 ? arg.substr(name.size() + 1) : "";
    };
    bool ok = false;
    if (auto v = value("--records"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.records) && config.records > 0;
    } else if (auto v = value("--kafka-records"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.kafka_records) &&
           config.kafka_records >= 0;
    } else if (auto v = value("--batch"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.batch) && config.batch > 0;
    } else if (auto v = value("--group"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.group) && config.group > 0;
    } else if (auto v = value("--partitions"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.partitions) && config.partitions > 0;
    } else if (auto v = value("--runs"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.runs) && config.runs > 0;
    } else if (auto v = value("--streams"); !v.empty()) {
      config.streams.clear();
      ok = true;
      for (absl::string_view s : absl::StrSplit(v, ',')) {
        int n = 0;
        ok = ok && absl::SimpleAtoi(s, &n) && n > 0;
        config.streams.push_back(n);
      }
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: scale_bench [--records=N] [--kafka-records=N] "
                   "[--batch=B] [--group=G] [--streams=50,500,8300] "
                   "[--partitions=P] "
                   "[--runs=R] [--rows]\n");
      return 2;
    }
  }
  PrintMachine();
  std::printf(
      "at least %lld records (RocksDB), %lld (Kafka, %d partitions); appends "
      "of %d records of one stream, %d appends per write; median of %d "
      "runs\n\n",
      static_cast<long long>(config.records),
      static_cast<long long>(config.kafka_records), config.partitions,
      config.batch, config.group, config.runs);
  std::printf("%8s %18s %18s %18s\n", "streams", "rocksdb write/s", "rebuild/s",
              "kafka write/s");
  std::unique_ptr<log::KafkaDevCluster> cluster;
  if (config.kafka_records > 0) {
    absl::StatusOr<std::unique_ptr<log::KafkaDevCluster>> started =
        log::KafkaDevCluster::Start(3);
    Die(started.status(), "starting the mock cluster");
    cluster = std::move(*started);
  }
  testing::TempDir dir;
  int topic = 0;
  for (int streams : config.streams) {
    const auto writes =
        MakeWrites(config.records, streams, config.batch, config.group);
    const auto kafka_writes =
        MakeWrites(config.kafka_records, streams, config.batch, config.group);
    const int64_t records = Count(writes);
    const int64_t kafka_records = Count(kafka_writes);
    std::vector<double> write_rates;
    std::vector<double> rebuild_rates;
    std::vector<double> kafka_rates;
    for (int run = 0; run < config.runs; ++run) {
      const std::string base = dir.Sub(absl::StrCat(streams, "-", run));
      {
        auto log = log::OpenRocksDbLog({.path = base + "-log"});
        Die(log.status(), "opening the log");
        write_rates.push_back(Write(**log, writes, records));
        rebuild_rates.push_back(Rebuild(**log, base + "-views", records));
      }
      if (cluster != nullptr) {
        const std::string name = absl::StrCat("scale.", topic++);
        Die(cluster->CreateTopic(name, config.partitions), "creating a topic");
        log::KafkaLogOptions options;
        options.brokers = cluster->bootstrap_servers();
        options.topic = name;
        options.replica_path = base + "-replica";
        options.properties = {{"log_level", "3"}};
        auto log = log::OpenKafkaLog(options);
        Die(log.status(), "opening the Kafka log");
        kafka_rates.push_back(Write(**log, kafka_writes, kafka_records));
      }
    }
    std::printf("%8d %18.0f %18.0f %18.0f\n", streams, Median(write_rates),
                Median(rebuild_rates), Median(kafka_rates));
    Row(absl::StrFormat("scale.write.s%d", streams),
        absl::StrFormat("log level, %d streams, %d records: synced RocksDB "
                        "log writes (%d appends of %d records each)",
                        streams, records, config.group, config.batch),
        Median(write_rates), "records/s")
        .Emit();
    Row(absl::StrFormat("scale.rebuild.s%d", streams),
        absl::StrFormat("log level, %d streams, %d records: rebuild of a "
                        "one-row-per-stream view",
                        streams, records),
        Median(rebuild_rates), "records/s")
        .Emit();
    if (cluster != nullptr) {
      Row(absl::StrFormat("scale.kafka.s%d", streams),
          absl::StrFormat("log level, %d streams, %d records: Kafka log "
                          "writes (mock, %d partitions; %d appends of %d "
                          "records each)",
                          streams, kafka_records, config.partitions,
                          config.group, config.batch),
          Median(kafka_rates), "records/s")
          .Emit();
    }
  }
  return 0;
}

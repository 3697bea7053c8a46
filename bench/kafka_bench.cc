// Ingest through Kafka beside the raw producer, against one mock cluster
// (3 brokers on loopback) and the same ~300-byte events:
//   raw     librdkafka producer, idempotent, acks=all, the log's batching and
//           compression; values are stored-record bytes of the same size
//   ingest  Ingestor::Append in batches of 1000 from T client threads, through
//           the Kafka log (one transaction per group, written through to the
//           local replica)
//   catch-up  a projector that starts on the topic the ingest wrote: a
//           read-only Kafka log fills a fresh replica from the topic, and the
//           projection runtime catches a view (one row per stream) up with
//           it; beside a raw librdkafka consumer (read_committed) reading the
//           same topic to its end
//
//   build/bench/kafka_bench [--events=N] [--threads=T] [--runs=R]
//                           [--partitions=P] [--rows]
//
// Prints events/s of each, the CPU per event, and the ratios (target >= 0.5);
// medians over R runs. Each run writes fresh topics sized below the mock's
// bound of 5 MiB per partition.
#include <librdkafka/rdkafka.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/base/hash.h"
#include "core/log/kafka_dev.h"
#include "core/log/kafka_log.h"
#include "core/log/rocksdb_log.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/record.pb.h"
#include "services/ingest/ingestor.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

constexpr int kBatch = 1000;
constexpr int kDistricts = 50;

struct Config {
  int events = 60'000;
  int threads = 4;
  int runs = 3;
  int partitions = 16;
};

struct Result {
  double events_per_second = 0;
  double cpu_us_per_event = 0;  // whole process, user + system
};

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) /
             1e6;
}

std::string District(int i) { return absl::StrCat(1001 + i % kDistricts); }

// A ~300-byte event, as a district records them.
v1::Event SampleEvent(int i) {
  v1::Event event = testing::MeetingEvent(absl::StrCat("m-", i), 40 + i % 100);
  event.mutable_meeting_held()->set_title(
      absl::StrCat("ประชุมข้าราชการและลูกจ้างประจำเดือน ชี้แจงมาตรการ ITA ข้อ ", i % 22,
                   " ครั้งที่ ", i));
  event.mutable_actor()->set_division("ฝ่ายปกครอง");
  return event;
}

// One append request per batch; batch b goes to district b % 50.
std::vector<v1::AppendRequest> MakeRequests(int events) {
  std::vector<v1::AppendRequest> requests;
  for (int start = 0; start < events; start += kBatch) {
    v1::AppendRequest& request = requests.emplace_back();
    request.set_stream(District(static_cast<int>(requests.size()) - 1));
    for (int i = start; i < std::min(events, start + kBatch); ++i) {
      *request.add_events() = SampleEvent(i);
    }
  }
  return requests;
}

// The bytes the log would store for the same events, for the raw producer.
std::vector<std::pair<std::string, std::string>> MakeRecords(
    const std::vector<v1::AppendRequest>& requests) {
  std::vector<std::pair<std::string, std::string>> records;
  for (const v1::AppendRequest& request : requests) {
    for (int i = 0; i < request.events_size(); ++i) {
      v1::Record record;
      record.set_stream(request.stream());
      record.set_sequence(static_cast<uint64_t>(records.size()) + 1);
      record.set_prev_hash(std::string(AsBytes(Sha256(request.stream()))));
      record.mutable_recorded_at()->set_seconds(1728972000);
      *record.mutable_event() = request.events(i);
      records.emplace_back(request.stream(), record.SerializeAsString());
    }
  }
  return records;
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};

absl::StatusOr<Result> MeasureRaw(
    const std::string& brokers, const std::string& topic,
    const std::vector<std::pair<std::string, std::string>>& records) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // The producer settings of the Kafka log, without the transaction.
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const char*>>{
           {"bootstrap.servers", brokers.c_str()},
           {"enable.idempotence", "true"},
           {"acks", "all"},
           {"compression.type", "lz4"},
           {"linger.ms", "5"},
           {"batch.num.messages", "10000"},
           {"batch.size", "1000000"},
           {"queue.buffering.max.messages", "500000"},
           {"partitioner", "murmur2_random"},
           {"log_level", "3"}}) {
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(errstr);
    }
  }
  std::atomic<int64_t> failed{0};
  rd_kafka_conf_set_opaque(conf, &failed);
  rd_kafka_conf_set_dr_msg_cb(
      conf, [](rd_kafka_t*, const rd_kafka_message_t* message, void* opaque) {
        if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          static_cast<std::atomic<int64_t>*>(opaque)->fetch_add(1);
        }
      });
  std::unique_ptr<rd_kafka_t, KafkaDeleter> producer(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
  if (producer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(errstr);
  }
  // Connect and learn the leaders before the clock starts, as the log does
  // when it opens.
  const rd_kafka_metadata_t* metadata = nullptr;
  if (rd_kafka_metadata(producer.get(), 1, nullptr, &metadata, 10'000) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_metadata_destroy(metadata);
  }

  const std::string hash_hex = HexEncode(Sha256("header"));
  const double cpu_begin = ProcessCpuSeconds();
  const absl::Time begin = absl::Now();
  for (const auto& [key, value] : records) {
    while (true) {
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          producer.get(), RD_KAFKA_V_TOPIC(topic.c_str()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(key.data(), key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
          // The headers the log sends, of the same sizes.
          RD_KAFKA_V_HEADER(log::kEventTypeHeader.data(), "meeting_held", 12),
          RD_KAFKA_V_HEADER(log::kSchemaVersionHeader.data(), "1", 1),
          RD_KAFKA_V_HEADER(
              log::kContentTypeHeader.data(), log::kRecordContentType.data(),
              static_cast<ssize_t>(log::kRecordContentType.size())),
          RD_KAFKA_V_HEADER(log::kHashHeader.data(), hash_hex.data(),
                            static_cast<ssize_t>(hash_hex.size())),
          RD_KAFKA_V_HEADER(log::kSequenceHeader.data(), "1", 1),
          RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
          return absl::InternalError(rd_kafka_err2str(err));
        }
        break;
      }
      rd_kafka_poll(producer.get(), 10);
    }
  }
  // Acknowledged means acknowledged by the brokers.
  if (rd_kafka_flush(producer.get(), 60'000) != RD_KAFKA_RESP_ERR_NO_ERROR ||
      failed.load() != 0) {
    return absl::InternalError("the raw producer lost messages");
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  const auto count = static_cast<double>(records.size());
  return Result{count / elapsed, cpu * 1e6 / count};
}

absl::StatusOr<Result> MeasureIngest(
    log::EventLog* log, int threads,
    const std::vector<v1::AppendRequest>& requests) {
  absl::StatusOr<std::unique_ptr<ingest::Ingestor>> ingestor =
      ingest::Ingestor::Start(log);
  if (!ingestor.ok()) {
    return ingestor.status();
  }
  int64_t events = 0;
  for (const v1::AppendRequest& request : requests) {
    events += request.events_size();
  }
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  const double cpu_begin = ProcessCpuSeconds();
  const absl::Time begin = absl::Now();
  std::vector<std::thread> clients;
  clients.reserve(threads);
  for (int t = 0; t < threads; ++t) {
    clients.emplace_back([&] {
      for (size_t i = next++; i < requests.size(); i = next++) {
        absl::StatusOr<v1::AppendResponse> response =
            (*ingestor)->Append(requests[i]);
        if (!response.ok()) {
          std::fprintf(stderr, "append failed: %s\n",
                       response.status().ToString().c_str());
          failed = true;
          return;
        }
      }
    });
  }
  for (std::thread& client : clients) {
    client.join();
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  if (failed) {
    return absl::InternalError("an append failed");
  }
  const auto count = static_cast<double>(events);
  return Result{count / elapsed, cpu * 1e6 / count};
}

// Records per stream: the runtime's own cost for every record, with one
// row write each.
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

// Reads `topic` from its start to its end, as the replica's consumer does.
absl::StatusOr<Result> MeasureRawConsumer(const std::string& brokers,
                                          const std::string& topic,
                                          int partitions, int64_t expected) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::string group = absl::StrCat("bench-raw-", topic);
  for (const auto& [name, value] :
       std::vector<std::pair<const char*, const char*>>{
           {"bootstrap.servers", brokers.c_str()},
           {"group.id", group.c_str()},
           {"enable.auto.commit", "false"},
           {"isolation.level", "read_committed"},
           {"enable.partition.eof", "true"},
           {"auto.offset.reset", "earliest"},
           {"fetch.wait.max.ms", "50"},
           {"log_level", "3"}}) {
    if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(errstr);
    }
  }
  std::unique_ptr<rd_kafka_t, KafkaDeleter> consumer(
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr)));
  if (consumer == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(errstr);
  }
  rd_kafka_poll_set_consumer(consumer.get());
  rd_kafka_topic_partition_list_t* assignment =
      rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), p)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  const double cpu_begin = ProcessCpuSeconds();
  const absl::Time begin = absl::Now();
  rd_kafka_assign(consumer.get(), assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  int64_t records = 0;
  int at_end = 0;
  const absl::Time deadline = begin + absl::Seconds(120);
  while (at_end < partitions && absl::Now() < deadline) {
    rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer.get(), 100);
    if (message == nullptr) {
      continue;
    }
    if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      ++at_end;
    } else if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      ++records;
    }
    rd_kafka_message_destroy(message);
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  rd_kafka_consumer_close(consumer.get());
  if (records != expected) {
    return absl::InternalError(absl::StrCat("the raw consumer read ", records,
                                            " records, not ", expected));
  }
  const auto count = static_cast<double>(records);
  return Result{count / elapsed, cpu * 1e6 / count};
}

// A projector starting on the topic: the replica filled from the topic,
// then the view caught up with it.
absl::StatusOr<Result> MeasureCatchUp(log::KafkaLogOptions options,
                                      const std::string& views_path,
                                      int64_t expected) {
  options.read_only = true;
  const double cpu_begin = ProcessCpuSeconds();
  const absl::Time begin = absl::Now();
  absl::StatusOr<std::unique_ptr<log::KafkaEventLog>> log =
      log::OpenKafkaLog(options);
  if (!log.ok()) {
    return log.status();
  }
  std::vector<std::unique_ptr<projections::Projection>> views;
  views.push_back(std::make_unique<StreamCount>());
  absl::StatusOr<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Start(
          log->get(), {.path = views_path, .background = false},
          std::move(views));
  if (!runner.ok()) {
    return runner.status();
  }
  if (absl::Status status = (*runner)->CatchUp(); !status.ok()) {
    return status;
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  const std::vector<projections::ProjectionStatus> status = (*runner)->Status();
  if (status.empty() || !status[0].error.empty() ||
      static_cast<int64_t>(status[0].position) != expected) {
    return absl::InternalError(absl::StrCat(
        "the view reached position ", status.empty() ? 0 : status[0].position,
        ", not ", expected));
  }
  const auto count = static_cast<double>(expected);
  return Result{count / elapsed, cpu * 1e6 / count};
}

Result Median(std::vector<Result> runs) {
  std::sort(runs.begin(), runs.end(), [](const Result& a, const Result& b) {
    return a.events_per_second < b.events_per_second;
  });
  return runs[runs.size() / 2];
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
    if (auto v = value("--events"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.events) && config.events > 0;
    } else if (auto v = value("--threads"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.threads) && config.threads > 0;
    } else if (auto v = value("--runs"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.runs) && config.runs > 0;
    } else if (auto v = value("--partitions"); !v.empty()) {
      ok = absl::SimpleAtoi(v, &config.partitions) && config.partitions > 0;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: kafka_bench [--events=N] [--threads=T] [--runs=R] "
                   "[--partitions=P] [--rows]\n");
      return 2;
    }
  }
  const std::vector<v1::AppendRequest> requests = MakeRequests(config.events);
  const auto records = MakeRecords(requests);
  size_t bytes = 0;
  for (const auto& record : records) {
    bytes += record.second.size();
  }
  // The mock keeps at most 5 MiB per partition; a run must stay below it.
  if (bytes / config.partitions > (4u << 20)) {
    std::fprintf(stderr,
                 "%zu bytes over %d partitions would overflow the mock "
                 "cluster's 5 MiB per partition; lower --events or raise "
                 "--partitions\n",
                 bytes, config.partitions);
    return 2;
  }

  PrintMachine();
  absl::StatusOr<std::unique_ptr<log::KafkaDevCluster>> cluster =
      log::KafkaDevCluster::Start(3);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  testing::TempDir dir;
  std::vector<Result> raw;
  std::vector<Result> ingest;
  std::vector<Result> embedded;
  std::vector<Result> raw_consumer;
  std::vector<Result> catch_up;
  for (int run = 0; run < config.runs; ++run) {
    const std::string raw_topic = absl::StrCat("bench.raw.", run);
    const std::string log_topic = absl::StrCat("bench.events.", run);
    for (const std::string& topic : {raw_topic, log_topic}) {
      if (absl::Status created =
              (*cluster)->CreateTopic(topic, config.partitions);
          !created.ok()) {
        std::fprintf(stderr, "%s\n", created.ToString().c_str());
        return 1;
      }
    }
    absl::StatusOr<Result> r =
        MeasureRaw((*cluster)->bootstrap_servers(), raw_topic, records);
    log::KafkaLogOptions options;
    options.brokers = (*cluster)->bootstrap_servers();
    options.topic = log_topic;
    options.replica_path = dir.Sub(absl::StrCat("replica-", run));
    options.properties = {{"log_level", "3"}};
    absl::StatusOr<std::unique_ptr<log::KafkaEventLog>> kafka_log =
        log::OpenKafkaLog(options);
    absl::StatusOr<Result> o =
        kafka_log.ok()
            ? MeasureIngest(kafka_log->get(), config.threads, requests)
            : absl::StatusOr<Result>(kafka_log.status());
    kafka_log = nullptr;
    // Everything the ingest wrote: the events of this run, after the
    // records of no other writer.
    const int64_t written = config.events;
    absl::StatusOr<Result> rc = MeasureRawConsumer(
        (*cluster)->bootstrap_servers(), log_topic, config.partitions, written);
    log::KafkaLogOptions reader = options;
    reader.replica_path = dir.Sub(absl::StrCat("projector-replica-", run));
    absl::StatusOr<Result> c =
        MeasureCatchUp(reader, dir.Sub(absl::StrCat("views-", run)), written);
    absl::StatusOr<std::unique_ptr<log::EventLog>> embedded_log =
        log::OpenRocksDbLog({.path = dir.Sub(absl::StrCat("embedded-", run))});
    absl::StatusOr<Result> e =
        embedded_log.ok()
            ? MeasureIngest(embedded_log->get(), config.threads, requests)
            : absl::StatusOr<Result>(embedded_log.status());
    for (const absl::StatusOr<Result>* result : {&r, &o, &e, &rc, &c}) {
      if (!result->ok()) {
        std::fprintf(stderr, "%s\n", result->status().ToString().c_str());
        return 1;
      }
    }
    raw.push_back(*r);
    ingest.push_back(*o);
    embedded.push_back(*e);
    raw_consumer.push_back(*rc);
    catch_up.push_back(*c);
  }
  const Result r = Median(raw);
  const Result o = Median(ingest);
  const Result e = Median(embedded);
  const Result rc = Median(raw_consumer);
  const Result c = Median(catch_up);
  std::printf(
      "mock cluster: 3 brokers, %d partitions; %d events of %zu bytes "
      "(event), %zu bytes (stored record); median of %d runs\n\n",
      config.partitions, config.events, SampleEvent(7).ByteSizeLong(),
      bytes / records.size(), config.runs);
  std::printf("%-58s %12s %10s\n", "what", "events/s", "cpu us/ev");
  std::printf("%-58s %12.0f %10.2f\n",
              "raw librdkafka producer (idempotent, acks=all)",
              r.events_per_second, r.cpu_us_per_event);
  std::printf("%-58s %12.0f %10.2f\n",
              absl::StrFormat("ingest via KafkaLog (Append x%d, %d clients)",
                              kBatch, config.threads)
                  .c_str(),
              o.events_per_second, o.cpu_us_per_event);
  std::printf("%-58s %12.0f %10.2f\n",
              "  for reference: the same ingest on the embedded RocksDB log",
              e.events_per_second, e.cpu_us_per_event);
  std::printf("%-58s %12.0f %10.2f\n",
              "raw librdkafka consumer (read_committed), same topic",
              rc.events_per_second, rc.cpu_us_per_event);
  std::printf("%-58s %12.0f %10.2f\n",
              "projector catch-up (replica from topic + runtime)",
              c.events_per_second, c.cpu_us_per_event);
  std::printf(
      "\nratio ingest via KafkaLog / raw producer: %.2f (target >= 0.5)\n",
      o.events_per_second / r.events_per_second);
  std::printf(
      "ratio projector catch-up / raw consumer:   %.2f (target >= 0.5)\n",
      c.events_per_second / rc.events_per_second);
  const std::string setup =
      absl::StrFormat("mock cluster, 3 brokers, %d partitions, %d events",
                      config.partitions, config.events);
  Row(absl::StrFormat("kafka.ingest.p%d", config.partitions),
      absl::StrFormat("ingest through Kafka (%s; Append x%d, %d clients)",
                      setup, kBatch, config.threads),
      o.events_per_second, "events/s")
      .Baseline(r.events_per_second,
                "raw librdkafka producer (idempotent, acks=all), same payloads")
      .Note(absl::StrFormat("%.1f us CPU/event (raw %.1f); embedded log, same "
                            "run: %.0f events/s",
                            o.cpu_us_per_event, r.cpu_us_per_event,
                            e.events_per_second))
      .Emit();
  Row(absl::StrFormat("kafka.catchup.p%d", config.partitions),
      absl::StrFormat("projector catch-up from the topic (%s)", setup),
      c.events_per_second, "records/s")
      .Baseline(rc.events_per_second,
                "raw librdkafka consumer (read_committed), same topic")
      .Emit();
  return 0;
}

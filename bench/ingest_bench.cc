// Ingest throughput and latency through gRPC, beside the raw limit of the
// machine: a synced RocksDB WriteBatch of the same bytes.
//
//   build/bench/ingest_bench [--seconds=S] [--threads=T] [--runs=R]
//                            [--roles=ingest,projector,query]
//                            [--batches=1,100,1000|none] [--no-raw] [--no-paced]
//                            [--rows]
//
// Prints events/s and latency percentiles per batch size, the raw baseline
// measured in the same run, and the ratio; medians over R runs.
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/base/bytes.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/server/server.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

struct Config {
  double seconds = 3;
  int threads = 4;
  int runs = 3;
  bool raw = true;  // also measure the raw baseline
  // The server's roles: all of them by default, as `prongsai serve` runs.
  std::vector<std::string> roles = {"ingest", "projector", "query"};
  std::vector<int> batches = {1, 100, 1000};
  bool paced = true;  // also measure single events paced at 2,000/s
};

struct Result {
  double events_per_second = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double cpu_us_per_event = 0;  // whole process, user + system
};

double ProcessCpuSeconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec +
         (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

// A ~300-byte event, as a district records them.
v1::Event SampleEvent(int i) {
  v1::Event event =
      testing::MeetingEvent("m-" + std::to_string(i), 40 + i % 100);
  event.mutable_meeting_held()->set_title(
      "ประชุมข้าราชการและลูกจ้างประจำเดือน ชี้แจงมาตรการ ITA ข้อ " +
      std::to_string(i % 22) + " ครั้งที่ " + std::to_string(i));
  event.mutable_actor()->set_division("ฝ่ายปกครอง");
  return event;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) {
    return 0;
  }
  std::sort(values.begin(), values.end());
  const size_t at = std::min(
      values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5));
  return values[at];
}

Result Median(std::vector<Result> runs) {
  std::sort(runs.begin(), runs.end(), [](const Result& a, const Result& b) {
    return a.events_per_second < b.events_per_second;
  });
  return runs[runs.size() / 2];
}

const std::vector<std::string> kStreams = {"1001", "1010", "1020",
                                           "1030", "1045", "1050"};

// Serialized Append requests, made before the clock starts so that the
// client's own encoding does not compete with the server for the two cores.
std::vector<std::string> PrepareRequests(int thread, int batch, int count) {
  std::vector<std::string> out;
  int counter = thread * 10'000'000;
  for (int r = 0; r < count; ++r) {
    v1::AppendRequest request;
    request.set_stream(kStreams[thread % kStreams.size()]);
    for (int i = 0; i < batch; ++i) {
      *request.add_events() = SampleEvent(counter++);
    }
    out.push_back(request.SerializeAsString());
  }
  return out;
}

// Sends one pre-serialized Append and waits for the answer.
grpc::Status SendAppend(grpc::GenericStub& stub, const std::string& bytes) {
  grpc::ClientContext context;
  grpc::Slice slice(bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  absl::Notification done;
  grpc::Status status;
  stub.UnaryCall(&context, "/prongsai.v1.Ledger/Append", {}, &request,
                 &response, [&](grpc::Status s) {
                   status = std::move(s);
                   done.Notify();
                 });
  done.WaitForNotification();
  return status;
}

std::shared_ptr<grpc::Channel> Channel(const std::string& address, int id) {
  grpc::ChannelArguments args;
  args.SetMaxSendMessageSize(64 << 20);
  // One connection per client thread, as separate clients would have.
  args.SetInt("bench_channel_id", id);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(),
                                   args);
}

std::unique_ptr<server::Server> StartServer(const Config& config,
                                            const testing::TempDir& dir) {
  server::ServerOptions options;
  options.roles = config.roles;
  options.data_dir = dir.Sub("data");
  options.listen = "127.0.0.1:0";
  options.max_request_bytes = 64 << 20;
  auto server = server::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*server);
}

// Closed loop: each thread appends batches back to back for `seconds`.
Result MeasureGrpc(const Config& config, int batch) {
  // Enough requests for a generous upper bound of throughput.
  const int per_thread = std::max(
      4, static_cast<int>(config.seconds * 150'000 / batch / config.threads));
  std::vector<std::vector<std::string>> requests;
  for (int t = 0; t < config.threads; ++t) {
    requests.push_back(PrepareRequests(t, batch, per_thread));
  }
  testing::TempDir dir;
  auto server = StartServer(config, dir);
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  std::atomic<int64_t> events{0};
  absl::Mutex mu;
  std::vector<double> latencies;
  const absl::Time end = absl::Now() + absl::Seconds(config.seconds);
  std::vector<std::thread> threads;
  const absl::Time begin = absl::Now();
  const double cpu_begin = ProcessCpuSeconds();
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      grpc::GenericStub stub(Channel(address, t));
      std::vector<double> local;
      for (const std::string& bytes : requests[t]) {
        if (absl::Now() >= end) {
          break;
        }
        const absl::Time start = absl::Now();
        if (grpc::Status status = SendAppend(stub, bytes); !status.ok()) {
          std::fprintf(stderr, "append failed: %s\n",
                       status.error_message().c_str());
          std::exit(1);
        }
        local.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        events += batch;
      }
      absl::MutexLock lock(&mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  return {events.load() / elapsed, Percentile(latencies, 0.5),
          Percentile(latencies, 0.99),
          cpu * 1e6 / std::max<int64_t>(1, events.load())};
}

// Open loop: single-event appends paced at `rate` per second in total.
Result MeasurePaced(const Config& config, int rate) {
  const int per_thread =
      static_cast<int>(config.seconds * rate / config.threads) + 1;
  std::vector<std::vector<std::string>> requests;
  for (int t = 0; t < config.threads; ++t) {
    requests.push_back(PrepareRequests(t, 1, per_thread));
  }
  testing::TempDir dir;
  auto server = StartServer(config, dir);
  const std::string address = "127.0.0.1:" + std::to_string(server->port());
  const absl::Duration interval = absl::Seconds(1.0 * config.threads / rate);
  absl::Mutex mu;
  std::vector<double> latencies;
  std::atomic<int64_t> events{0};
  std::vector<std::thread> threads;
  const absl::Time begin = absl::Now();
  const double cpu_begin = ProcessCpuSeconds();
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&, t] {
      grpc::GenericStub stub(Channel(address, t));
      std::vector<double> local;
      absl::Time next = begin + interval * t / config.threads;
      for (const std::string& bytes : requests[t]) {
        absl::SleepFor(next - absl::Now());
        const absl::Time start = absl::Now();
        if (!SendAppend(stub, bytes).ok()) {
          std::exit(1);
        }
        local.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        ++events;
        next += interval;
      }
      absl::MutexLock lock(&mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  return {events.load() / elapsed, Percentile(latencies, 0.5),
          Percentile(latencies, 0.99),
          cpu * 1e6 / std::max<int64_t>(1, events.load())};
}

// The raw limit: synced RocksDB WriteBatches of the same stored record bytes,
// one key per event, from the same number of threads.
Result MeasureRawRocksDb(const Config& config, int batch) {
  testing::TempDir dir;
  rocksdb::Options options;
  options.create_if_missing = true;
  options.IncreaseParallelism(2);
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir.Sub("raw"), &raw).ok()) {
    std::exit(1);
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  v1::Record record;
  record.set_stream("1045");
  record.set_sequence(123456);
  record.set_prev_hash(std::string(32, 'h'));
  record.mutable_recorded_at()->set_seconds(1767225600);
  *record.mutable_event() = SampleEvent(7);
  const std::string bytes = record.SerializeAsString();
  std::atomic<uint64_t> key_counter{0};
  std::atomic<int64_t> events{0};
  absl::Mutex mu;
  std::vector<double> latencies;
  const absl::Time end = absl::Now() + absl::Seconds(config.seconds);
  std::vector<std::thread> threads;
  const absl::Time begin = absl::Now();
  const double cpu_begin = ProcessCpuSeconds();
  for (int t = 0; t < config.threads; ++t) {
    threads.emplace_back([&] {
      rocksdb::WriteOptions sync;
      sync.sync = true;
      std::vector<double> local;
      std::string key;
      while (absl::Now() < end) {
        rocksdb::WriteBatch wb;
        for (int i = 0; i < batch; ++i) {
          key.clear();
          AppendBigEndian64(key_counter++, &key);
          wb.Put(key, bytes);
        }
        const absl::Time start = absl::Now();
        if (!db->Write(sync, &wb).ok()) {
          std::exit(1);
        }
        local.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
        events += batch;
      }
      absl::MutexLock lock(&mu);
      latencies.insert(latencies.end(), local.begin(), local.end());
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  const double elapsed = absl::ToDoubleSeconds(absl::Now() - begin);
  const double cpu = ProcessCpuSeconds() - cpu_begin;
  return {events.load() / elapsed, Percentile(latencies, 0.5),
          Percentile(latencies, 0.99),
          cpu * 1e6 / std::max<int64_t>(1, events.load())};
}

}  // namespace
}  // namespace prongsai::bench

int main(int argc, char** argv) {
  using namespace prongsai::bench;
  EnableRowsIf(argc, argv);
  Config config;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&](const std::string& name) -> std::string {
      return arg.rfind(name + "=", 0) == 0 ? arg.substr(name.size() + 1) : "";
    };
    if (auto v = value("--seconds"); !v.empty()) {
      absl::SimpleAtod(v, &config.seconds);
    } else if (auto v = value("--threads"); !v.empty()) {
      absl::SimpleAtoi(v, &config.threads);
    } else if (auto v = value("--runs"); !v.empty()) {
      absl::SimpleAtoi(v, &config.runs);
    } else if (auto v = value("--roles"); !v.empty()) {
      config.roles = absl::StrSplit(v, ',');
    } else if (auto v = value("--batches"); !v.empty()) {
      config.batches.clear();
      for (absl::string_view b :
           absl::StrSplit(v, ',', absl::SkipWhitespace())) {
        if (b == "none") {
          continue;  // only the paced row
        }
        int batch = 0;
        if (!absl::SimpleAtoi(b, &batch) || batch < 1) {
          std::fprintf(stderr, "--batches: \"%s\" is not a batch size\n",
                       std::string(b).c_str());
          return 2;
        }
        config.batches.push_back(batch);
      }
    } else if (arg == "--no-paced") {
      config.paced = false;
    } else if (arg == "--no-raw") {
      config.raw = false;
    } else {
      std::fprintf(stderr,
                   "usage: ingest_bench [--seconds=S] [--threads=T] [--runs=R] "
                   "[--roles=ingest,projector,query] [--batches=1,100,1000|none] "
                   "[--no-raw] [--no-paced] [--rows]\n");
      return 2;
    }
  }
  PrintMachine();
  std::printf(
      "event size: %zu bytes serialized; %d client threads; "
      "%.0f s per run; median of %d runs\n\n",
      SampleEvent(7).ByteSizeLong(), config.threads, config.seconds,
      config.runs);
  std::printf("%-34s %12s %8s %8s %9s %12s %9s %6s\n", "what", "events/s",
              "p50 ms", "p99 ms", "cpu us/ev", "raw events/s", "cpu us/ev",
              "ratio");
  for (int batch : config.batches) {
    std::vector<Result> ours, raw;
    for (int r = 0; r < config.runs; ++r) {
      ours.push_back(MeasureGrpc(config, batch));
      raw.push_back(config.raw ? MeasureRawRocksDb(config, batch)
                               : Result{1, 0, 0, 0});
    }
    const Result o = Median(ours), b = Median(raw);
    std::printf("%-34s %12.0f %8.2f %8.2f %9.2f %12.0f %9.2f %6.2f\n",
                absl::StrFormat("gRPC append, batch %d", batch).c_str(),
                o.events_per_second, o.p50_ms, o.p99_ms, o.cpu_us_per_event,
                b.events_per_second, b.cpu_us_per_event,
                o.events_per_second / b.events_per_second);
    Row(absl::StrFormat("ingest.batch%d", batch),
        absl::StrFormat("batched ingest, embedded, durable: gRPC append, "
                        "batch %d, %d clients",
                        batch, config.threads),
        o.events_per_second, "events/s")
        .Baseline(config.raw ? b.events_per_second : std::nan(""),
                  "synced RocksDB WriteBatch, same bytes")
        .Note(absl::StrFormat("p99 %.2f ms; %.1f us CPU/event (raw %.1f)",
                              o.p99_ms, o.cpu_us_per_event, b.cpu_us_per_event))
        .Emit();
  }
  if (!config.paced) {
    return 0;
  }
  std::vector<Result> paced;
  for (int r = 0; r < config.runs; ++r) {
    paced.push_back(MeasurePaced(config, 2000));
  }
  const Result p = Median(paced);
  std::printf("%-34s %12.0f %8.2f %8.2f %9.2f %12s %9s %6s\n",
              "single events paced at 2,000/s", p.events_per_second, p.p50_ms,
              p.p99_ms, p.cpu_us_per_event, "-", "-", "-");
  Row("ingest.paced.p99", "single-event ingest at 2,000/s: p99 latency",
      p.p99_ms, "ms")
      .Note(absl::StrFormat("p50 %.2f ms; %.0f events/s reached", p.p50_ms,
                            p.events_per_second))
      .Emit();
  return 0;
}

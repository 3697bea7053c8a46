// Audit benchmarks: how fast an export verifies beside raw OpenSSL SHA-256
// of the same bytes, and how long an inclusion proof takes in a stream of a
// million events.
//
//   build/bench/audit_bench [--records=N] [--runs=R] [--stream-events=N]
//                           [--proofs=N] [--skip-proofs] [--rows]
//
// Part 1 builds an export of N chained records in memory and times, in the
// same run: SHA-256 of the whole export in one call (the raw rate), SHA-256
// of each record once, the hashing a verifier cannot avoid (each record's
// chain hash and leaf hash, computed together, and the tree's node hashes),
// the parse of the export alone, VerifyExport with one thread and with one
// per core, and VerifyExportFile (what `prongsai verify` runs) on the export
// written to a file, which then sits in the page cache. Medians over R runs.
//
// Part 2 writes a stream of --stream-events records to a RocksDB log, builds
// its merkle view with the projection runner, compacts both (the steady
// state of a server that has been up a while), signs a checkpoint, and times
// inclusion proofs for random sequences through the Audit service in-process
// and over loopback gRPC: p50, p99 and max of the wall time, and of the CPU
// time of the calling thread (what a proof costs, apart from waiting for a
// core on a busy machine).
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "core/audit/checkpoint.h"
#include "core/audit/export.h"
#include "core/audit/merkle.h"
#include "core/audit/note.h"
#include "core/audit/verify.h"
#include "core/base/sha256x2.h"
#include "core/log/rocksdb_log.h"
#include "projections/audit/merkle_projection.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "prongsai/v1/record.pb.h"
#include "services/audit/audit_service.h"
#include "services/audit/checkpointer.h"
#include "tests/testing/testing.h"

namespace prongsai::bench {
namespace {

struct Config {
  uint64_t records = 200'000;
  int runs = 5;
  uint64_t stream_events = 1'000'000;
  int proofs = 20'000;
  bool proofs_part = true;
};

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

double Percentile(std::vector<double> values, double p) {
  std::sort(values.begin(), values.end());
  const size_t index =
      std::min(values.size() - 1, static_cast<size_t>(p * values.size()));
  return values[index];
}

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

template <typename F>
double Seconds(F&& f) {
  const absl::Time start = absl::Now();
  f();
  return absl::ToDoubleSeconds(absl::Now() - start);
}

// A record as the ingest stores it: a meeting of a few hundred bytes.
std::string RecordBytes(const std::string& stream, uint64_t sequence,
                        const Hash& prev) {
  v1::Record record;
  record.set_stream(stream);
  record.set_sequence(sequence);
  record.set_prev_hash(std::string(AsBytes(prev)));
  record.mutable_recorded_at()->set_seconds(1728972000 + sequence);
  v1::Event event = testing::MeetingEvent("m-" + std::to_string(sequence),
                                          40 + sequence % 100);
  event.mutable_meeting_held()->set_title(
      "ประชุมข้าราชการและลูกจ้างประจำเดือน ชี้แจงมาตรการ ITA ข้อ " +
      std::to_string(sequence % 22));
  *record.mutable_event() = std::move(event);
  return record.SerializeAsString();
}

// ---------------------------------------------------------------------------
// Part 1: verification rate

void VerificationRate(const Config& config) {
  std::printf("\n== verification of an export of %llu records ==\n",
              static_cast<unsigned long long>(config.records));
  audit::NoteSigner signer = *audit::NoteSigner::Generate("prongsai.bench");
  std::vector<std::string> records;
  records.reserve(config.records);
  audit::CompactTree tree;
  Hash prev = kZeroHash;
  size_t record_bytes = 0;
  for (uint64_t s = 1; s <= config.records; ++s) {
    records.push_back(RecordBytes("1045", s, prev));
    prev = Sha256(records.back());
    tree.Append(audit::LeafHash(records.back()));
    record_bytes += records.back().size();
  }
  audit::Checkpoint checkpoint;
  checkpoint.origin = audit::StreamOrigin("prongsai.bench", "1045");
  checkpoint.size = config.records;
  checkpoint.root = tree.Root();
  std::string data;
  {
    audit::ExportEncoder encoder(&data, "1045");
    (void)encoder.AddCheckpoint(
        *signer.Sign(audit::FormatCheckpoint(checkpoint)));
    Hash chain = kZeroHash;
    for (uint64_t s = 1; s <= config.records; ++s) {
      chain = Sha256(records[s - 1]);
      encoder.AddRecord(s * 2, s, AsBytes(chain), records[s - 1]);
    }
    encoder.Finish();
  }
  std::printf("export: %.1f MB, %zu bytes per record on average\n",
              data.size() / 1e6, record_bytes / records.size());

  testing::TempDir dir;
  const std::string path = dir.Sub("1045.export");
  {
    std::ofstream file(path, std::ios::binary);
    file.write(data.data(), static_cast<std::streamsize>(data.size()));
  }
  const audit::NoteVerifier key = signer.Verifier();
  std::vector<double> bulk, per_record, minimum, parse, verify_1, verify_n,
      file_n;
  volatile uint8_t sink = 0;
  for (int run = 0; run < config.runs; ++run) {
    bulk.push_back(Seconds([&] {
      unsigned char out[32];
      unsigned int len = 0;
      EVP_Digest(data.data(), data.size(), out, &len, EVP_sha256(), nullptr);
      sink = sink + out[0];
    }));
    per_record.push_back(Seconds([&] {
      for (const std::string& r : records) {
        sink = sink + audit::FastSha256(r)[0];
      }
    }));
    minimum.push_back(Seconds([&] {
      audit::CompactTree t;
      for (const std::string& r : records) {
        Hash chain;
        Hash leaf;
        ChainAndLeafHash(r, &chain, &leaf);
        sink = sink + chain[0];
        t.Append(leaf);
      }
      sink = sink + t.Root()[0];
    }));
    parse.push_back(Seconds([&] {
      absl::StatusOr<audit::ParsedExport> parsed = audit::ParseExport(data);
      sink = sink + parsed->records.size();
    }));
    verify_1.push_back(Seconds([&] {
      absl::StatusOr<audit::VerifyReport> report =
          audit::VerifyExport(data, {key}, {.threads = 1});
      if (!report.ok() || report->finding != audit::Finding::kOk) {
        std::fprintf(stderr, "verification failed\n");
        std::exit(1);
      }
    }));
    verify_n.push_back(Seconds([&] {
      absl::StatusOr<audit::VerifyReport> report =
          audit::VerifyExport(data, {key}, {.threads = 0});
      if (!report.ok() || report->finding != audit::Finding::kOk) {
        std::fprintf(stderr, "verification failed\n");
        std::exit(1);
      }
    }));
    file_n.push_back(Seconds([&] {
      absl::StatusOr<audit::VerifyReport> report =
          audit::VerifyExportFile(path, {key}, {.threads = 0});
      if (!report.ok() || report->finding != audit::Finding::kOk) {
        std::fprintf(stderr, "verification of the file failed\n");
        std::exit(1);
      }
    }));
  }
  const double mb = data.size() / 1e6;
  const double raw = mb / Median(bulk);
  std::printf("%-58s %10s %12s %8s\n", "what (medians of runs)", "MB/s",
              "records/s", "x raw");
  auto row = [&](const char* what, const std::vector<double>& seconds) {
    const double rate = mb / Median(seconds);
    std::printf("%-58s %10.0f %12.0f %8.2f\n", what, rate,
                config.records / Median(seconds), rate / raw);
  };
  row("raw: OpenSSL SHA-256 of the whole export, one call", bulk);
  row("raw: OpenSSL SHA-256 of each record once", per_record);
  row("floor: chain + leaf digests (interleaved) + tree, 1 thread", minimum);
  row("ParseExport alone", parse);
  row("VerifyExport, 1 thread", verify_1);
  row(absl::StrCat("VerifyExport, ", std::thread::hardware_concurrency(),
                   " threads (one per core)")
          .c_str(),
      verify_n);
  row("VerifyExportFile, one thread per core (prongsai verify)", file_n);
  Row("audit.verify",
      absl::StrFormat("offline verification of an export (prongsai verify, "
                      "%d records, %.0f MB)",
                      config.records, mb),
      mb / Median(file_n), "MB/s")
      .Baseline(raw, "OpenSSL SHA-256 of the same bytes")
      .Note(absl::StrFormat("VerifyExport 1 thread: %.0f MB/s; hashing floor "
                            "(chain + leaf + tree): %.0f MB/s",
                            mb / Median(verify_1), mb / Median(minimum)))
      .Emit();
  std::printf(
      "verify (1 thread) / floor of its own hashing: %.2f; the verifier must "
      "hash each record twice (chain and RFC 6962 leaf); %s\n",
      Median(minimum) / Median(verify_1),
      Sha256x2Accelerated()
          ? "the SHA extensions run the two digests side by side"
          : "without the SHA extensions they run one after the other");
}

// ---------------------------------------------------------------------------
// Part 2: inclusion-proof latency at a million events

void ProofLatency(const Config& config) {
  std::printf("\n== inclusion proofs in a stream of %llu events ==\n",
              static_cast<unsigned long long>(config.stream_events));
  testing::TempDir dir;
  auto log = log::OpenRocksDbLog({.path = dir.Sub("log"), .sync = false});
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  const double write_seconds = Seconds([&] {
    Hash prev = kZeroHash;
    std::vector<log::PendingRecord> batch;
    for (uint64_t s = 1; s <= config.stream_events; ++s) {
      log::PendingRecord record;
      record.stream = "1045";
      record.sequence = s;
      record.event_id = testing::NewUuid();
      record.bytes = RecordBytes("1045", s, prev);
      record.hash = Sha256(record.bytes);
      record.fingerprint = record.hash;
      prev = record.hash;
      batch.push_back(std::move(record));
      if (batch.size() == 10'000 || s == config.stream_events) {
        if (absl::StatusOr<uint64_t> w = (*log)->Write(batch); !w.ok()) {
          std::fprintf(stderr, "%s\n", w.status().ToString().c_str());
          std::exit(1);
        }
        batch.clear();
      }
    }
  });
  std::vector<std::unique_ptr<projections::Projection>> projections;
  projections.push_back(std::make_unique<projections::MerkleProjection>());
  auto runner = projections::ProjectionRunner::Start(
      log->get(), {.path = dir.Sub("views"), .background = false},
      std::move(projections));
  if (!runner.ok()) {
    std::fprintf(stderr, "%s\n", runner.status().ToString().c_str());
    std::exit(1);
  }
  const double view_seconds = Seconds([&] {
    if (absl::Status s = (*runner)->CatchUp(); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::exit(1);
    }
  });
  std::printf(
      "wrote the log in %.1f s; built the merkle view in %.1f s "
      "(%.0f records/s)\n",
      write_seconds, view_seconds, config.stream_events / view_seconds);
  // Proofs are timed in the steady state of a server that has been up a
  // while: the log and the view compacted, not the minutes after a bulk load
  // while their compactions still run.
  runner->reset();
  log->reset();
  for (const char* store : {"log", "views"}) {
    if (absl::Status s = CompactStore(dir.Sub(store)); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      std::exit(1);
    }
  }
  log = log::OpenRocksDbLog({.path = dir.Sub("log"), .sync = false});
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    std::exit(1);
  }
  runner = projections::ProjectionRunner::Start(
      log->get(), {.path = dir.Sub("views"), .background = false}, [] {
        std::vector<std::unique_ptr<projections::Projection>> views;
        views.push_back(std::make_unique<projections::MerkleProjection>());
        return views;
      }());
  if (!runner.ok()) {
    std::fprintf(stderr, "%s\n", runner.status().ToString().c_str());
    std::exit(1);
  }

  audit_service::SnapshotSource snapshots = [&] {
    return (*runner)->Snapshot();
  };
  auto checkpointer = audit_service::Checkpointer::Start(
      *audit::NoteSigner::Generate("prongsai.bench"), snapshots,
      {.path = dir.Sub("checkpoints"),
       .log_name = "prongsai.bench",
       .interval = absl::ZeroDuration(),
       .log_position = nullptr,
       .warn = nullptr});
  if (!checkpointer.ok() || !(*checkpointer)->CheckpointStream("1045").ok()) {
    std::fprintf(stderr, "could not sign a checkpoint\n");
    std::exit(1);
  }
  audit_service::AuditService service(log->get(), snapshots,
                                      checkpointer->get());
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                           &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto stub = v1::Audit::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));

  std::mt19937_64 rng(42);
  std::uniform_int_distribution<uint64_t> pick(1, config.stream_events);
  // The channel connects on its first call, and the first calls warm both
  // sides' allocators and caches: a client keeps its channel, so these are
  // not what a proof costs and stay out of the figures.
  for (int i = 0; i < 50; ++i) {
    v1::GetInclusionProofRequest request;
    request.set_stream("1045");
    request.set_sequence(pick(rng));
    v1::InclusionProof proof;
    grpc::ClientContext context;
    if (!stub->GetInclusionProof(&context, request, &proof).ok()) {
      std::fprintf(stderr, "proof over gRPC failed\n");
      std::exit(1);
    }
  }
  std::vector<double> in_process, in_process_cpu, over_grpc;
  for (int i = 0; i < config.proofs; ++i) {
    v1::GetInclusionProofRequest request;
    request.set_stream("1045");
    request.set_sequence(pick(rng));
    v1::InclusionProof proof;
    const double cpu_start = ThreadCpuSeconds();
    in_process.push_back(Seconds([&] {
      if (!service.Inclusion(request, &proof).ok()) {
        std::fprintf(stderr, "proof failed\n");
        std::exit(1);
      }
    }));
    in_process_cpu.push_back(ThreadCpuSeconds() - cpu_start);
    if (i % 4 == 0) {
      over_grpc.push_back(Seconds([&] {
        grpc::ClientContext context;
        if (!stub->GetInclusionProof(&context, request, &proof).ok()) {
          std::fprintf(stderr, "proof over gRPC failed\n");
          std::exit(1);
        }
      }));
    }
  }
  std::printf("%-46s %8s %9s %9s %9s\n",
              "inclusion proof (tree of the signed "
              "checkpoint)",
              "count", "p50 ms", "p99 ms", "max ms");
  auto row = [](const char* what, const std::vector<double>& s) {
    std::printf("%-46s %8zu %9.3f %9.3f %9.3f\n", what, s.size(),
                Percentile(s, 0.5) * 1e3, Percentile(s, 0.99) * 1e3,
                Percentile(s, 1.0) * 1e3);
  };
  row("in process (AuditService::Inclusion)", in_process);
  row("  the same, CPU time of the calling thread", in_process_cpu);
  row("over loopback gRPC", over_grpc);
  Row("audit.proof.p99",
      absl::StrFormat("inclusion proof in a stream of %d events, in process: "
                      "p99",
                      config.stream_events),
      Percentile(in_process, 0.99) * 1e3, "ms")
      .Note(absl::StrFormat("over loopback gRPC p99 %.3f ms",
                            Percentile(over_grpc, 0.99) * 1e3))
      .Emit();
  server->Shutdown();
}

}  // namespace
}  // namespace prongsai::bench

int main(int argc, char** argv) {
  prongsai::bench::EnableRowsIf(argc, argv);
  prongsai::bench::Config config;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const size_t eq = arg.find('=');
    const std::string name = arg.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : arg.substr(eq + 1);
    bool ok = true;
    if (name == "--records") {
      ok = absl::SimpleAtoi(value, &config.records) && config.records > 0;
    } else if (name == "--runs") {
      ok = absl::SimpleAtoi(value, &config.runs) && config.runs > 0;
    } else if (name == "--stream-events") {
      ok = absl::SimpleAtoi(value, &config.stream_events) &&
           config.stream_events > 0;
    } else if (name == "--proofs") {
      ok = absl::SimpleAtoi(value, &config.proofs) && config.proofs > 0;
    } else if (name == "--skip-proofs") {
      config.proofs_part = false;
    } else {
      ok = false;
    }
    if (!ok) {
      std::fprintf(stderr,
                   "usage: audit_bench [--records=N] [--runs=R] "
                   "[--stream-events=N] [--proofs=N] [--skip-proofs] "
                   "[--rows]\n");
      return 2;
    }
  }
  prongsai::bench::PrintMachine();
  prongsai::bench::VerificationRate(config);
  if (config.proofs_part) {
    prongsai::bench::ProofLatency(config);
  }
  return 0;
}

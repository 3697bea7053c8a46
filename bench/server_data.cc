// Makes a real `prongsai serve` data directory holding a generated city of N
// events, for the memory and restart measurements of bench/run: it starts
// server::Server in process on DIR with the demo loader (the seed report of
// district 1045 and the demo city, appended through the real ingest, synced),
// waits until every view has caught up with the log, and stops the server
// cleanly. A directory that holds a log already is only caught up.
//
//   build/bench/server_data --dir=DIR [--events=N] [--rows]
//
// Prints the time the load and the catch-up took.
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "bench/bench_common.h"
#include "prongsai/v1/projections.grpc.pb.h"
#include "services/server/server.h"

namespace prongsai::bench {
namespace {

struct Config {
  std::string dir;
  int64_t events = 10'000'000;
};

int Run(const Config& config) {
  server::ServerOptions options;
  options.data_dir = config.dir;
  options.listen = "127.0.0.1:0";
  options.http_listen = "";
  options.demo = true;
  options.demo_events = config.events;
  // One checkpoint at the end is enough; the default signs every minute.
  options.checkpoint_interval = absl::ZeroDuration();
  const bool existed = std::filesystem::exists(config.dir + "/log");
  const absl::Time start = absl::Now();
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "server_data: %s\n",
                 server.status().ToString().c_str());
    return 1;
  }
  const absl::Time loaded = absl::Now();
  std::printf("%s in %.1f s\n",
              existed ? "opened the existing data directory"
                      : absl::StrCat("loaded the demo city of ", config.events,
                                     " events through the ingest")
                            .c_str(),
              absl::ToDoubleSeconds(loaded - start));
  std::fflush(stdout);

  auto stub = v1::Projections::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", (*server)->port()),
                          grpc::InsecureChannelCredentials()));
  absl::Time last_print = loaded;
  while (true) {
    grpc::ClientContext context;
    v1::ProjectionsStatus status;
    grpc::Status call =
        stub->GetStatus(&context, v1::GetProjectionsStatusRequest(), &status);
    if (!call.ok()) {
      std::fprintf(stderr, "server_data: projections status: %s\n",
                   call.error_message().c_str());
      return 1;
    }
    uint64_t lag = 0;
    for (const v1::ProjectionState& p : status.projections()) {
      if (!p.error().empty()) {
        std::fprintf(stderr, "server_data: view %s stopped: %s\n",
                     p.name().c_str(), p.error().c_str());
        return 1;
      }
      lag = std::max<uint64_t>(lag, p.lag());
    }
    if (lag == 0 && !status.projections().empty()) {
      std::printf(
          "every view (%d) caught up with the log (%llu records) in %.1f s\n",
          status.projections_size(),
          static_cast<unsigned long long>(status.log_position()),
          absl::ToDoubleSeconds(absl::Now() - loaded));
      break;
    }
    if (absl::Now() - last_print > absl::Seconds(30)) {
      std::printf("  catching up: the slowest view is %llu records behind\n",
                  static_cast<unsigned long long>(lag));
      std::fflush(stdout);
      last_print = absl::Now();
    }
    absl::SleepFor(absl::Milliseconds(200));
  }
  (*server)->Shutdown();
  (*server)->Wait();
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
    if (arg.rfind("--dir=", 0) == 0) {
      config.dir = arg.substr(6);
      ok = !config.dir.empty();
    } else if (arg.rfind("--events=", 0) == 0) {
      ok = absl::SimpleAtoi(arg.substr(9), &config.events) && config.events > 0;
    }
    if (!ok) {
      std::fprintf(stderr, "usage: server_data --dir=DIR [--events=N]\n");
      return 2;
    }
  }
  if (config.dir.empty()) {
    std::fprintf(stderr, "usage: server_data --dir=DIR [--events=N]\n");
    return 2;
  }
  prongsai::bench::PrintMachine();
  return prongsai::bench::Run(config);
}

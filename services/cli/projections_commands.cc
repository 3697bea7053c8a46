#include "services/cli/projections_commands.h"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/log/rocksdb_log.h"
#include "prongsai/v1/projections.grpc.pb.h"
#include "projections/runtime/runner.h"
#include "services/server/projections_service.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// `status`: some view stopped on an error.
constexpr int kExitStopped = 3;

constexpr int kBarWidth = 30;
constexpr absl::Duration kBarInterval = absl::Milliseconds(100);

int Usage(absl::string_view why) {
  std::cerr << "error: " << why << "\n\n" << HelpText(kProjectionsCommand);
  return kExitUsage;
}

int Fail(absl::string_view message) {
  std::cerr << "error: " << message << "\n";
  return kExitError;
}

int Fail(const grpc::Status& status) {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE) {
    return Fail(absl::StrCat(
        "cannot reach the server: ", status.error_message(),
        ". Is `prongsai serve` running there? With the server stopped, use "
        "--data DIR"));
  }
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return Fail(
        "the server does not run the projector role (prongsai.v1.Projections "
        "is not served there)");
  }
  return Fail(status.error_message());
}

absl::Duration FromProto(const google::protobuf::Duration& d) {
  return absl::Seconds(d.seconds()) + absl::Nanoseconds(d.nanos());
}

// Prints the table; returns the exit code.
int PrintStatus(const v1::ProjectionsStatus& status) {
  size_t width = 10;
  for (const v1::ProjectionState& p : status.projections()) {
    width = std::max(width, p.name().size());
  }
  std::cout << absl::StrFormat("%-*s %7s %12s %10s  %s\n", width, "projection",
                               "version", "position", "lag", "state");
  bool stopped = false;
  for (const v1::ProjectionState& p : status.projections()) {
    std::string state = "running";
    if (!p.error().empty()) {
      state = absl::StrCat("stopped: ", p.error());
      stopped = true;
    }
    if (p.rebuilding()) {
      absl::StrAppend(&state, " (rebuilding)");
    }
    std::cout << absl::StrFormat("%-*s %7d %12d %10d  %s\n", width, p.name(),
                                 p.version(), p.position(), p.lag(), state);
  }
  std::cout << "log position: " << status.log_position() << "\n";
  return stopped ? kExitStopped : 0;
}

// The progress of a rebuild: a bar on stderr when it is a terminal, and the
// summary on stdout.
class RebuildReport {
 public:
  explicit RebuildReport(std::string name)
      : name_(std::move(name)), bar_(isatty(STDERR_FILENO) == 1) {}

  void Step(uint64_t position, uint64_t log_position, absl::Duration elapsed) {
    if (!bar_) {
      return;
    }
    const absl::Time now = absl::Now();
    if (now - last_drawn_ < kBarInterval) {
      return;
    }
    last_drawn_ = now;
    const double fraction =
        log_position == 0
            ? 1.0
            : std::min(1.0, static_cast<double>(position) /
                                static_cast<double>(log_position));
    const int filled = static_cast<int>(fraction * kBarWidth);
    std::cerr << absl::StrFormat(
                     "\r%s [%s%s] %3.0f%%  %s / %s records  %s records/s ",
                     name_, std::string(filled, '#'),
                     std::string(kBarWidth - filled, '.'), fraction * 100,
                     Thousands(position), Thousands(log_position),
                     Thousands(Rate(position, elapsed)))
              << std::flush;
    drawn_ = true;
  }

  void Done(uint64_t records, uint64_t position, absl::Duration elapsed) {
    if (drawn_) {
      std::cerr << "\n";
    }
    std::cout << absl::StrFormat(
        "rebuilt %s: %s records in %.2f s, %s records/s (log position %d)\n",
        name_, Thousands(records), absl::ToDoubleSeconds(elapsed),
        Thousands(Rate(records, elapsed)), position);
  }

  void Abandon() {
    if (drawn_) {
      std::cerr << "\n";
    }
  }

 private:
  static uint64_t Rate(uint64_t records, absl::Duration elapsed) {
    const double seconds = absl::ToDoubleSeconds(elapsed);
    return seconds <= 0 ? records
                        : static_cast<uint64_t>(
                              static_cast<double>(records) / seconds);
  }

  const std::string name_;
  const bool bar_;
  bool drawn_ = false;
  absl::Time last_drawn_ = absl::InfinitePast();
};

int StatusOnline(const Args& args) {
  auto stub = v1::Projections::NewStub(Dial(args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(10));
  v1::ProjectionsStatus status;
  if (grpc::Status s =
          stub->GetStatus(&context, v1::GetProjectionsStatusRequest(), &status);
      !s.ok()) {
    return Fail(s);
  }
  return PrintStatus(status);
}

int RebuildOnline(const Args& args, const std::string& name) {
  auto stub = v1::Projections::NewStub(Dial(args));
  grpc::ClientContext context;
  v1::RebuildRequest request;
  request.set_name(name);
  RebuildReport report(name);
  std::unique_ptr<grpc::ClientReader<v1::RebuildProgress>> reader =
      stub->Rebuild(&context, request);
  v1::RebuildProgress progress;
  bool done = false;
  while (reader->Read(&progress)) {
    if (progress.has_step()) {
      const v1::RebuildStep& step = progress.step();
      report.Step(step.position(), step.log_position(),
                  FromProto(step.elapsed()));
    } else if (progress.has_done()) {
      const v1::RebuildSummary& summary = progress.done();
      report.Done(summary.records(), summary.position(),
                  FromProto(summary.elapsed()));
      done = true;
    }
  }
  if (grpc::Status s = reader->Finish(); !s.ok()) {
    report.Abandon();
    return Fail(s);
  }
  return done ? 0 : Fail("the server ended the rebuild without a summary");
}

// The data directory of a stopped server: its log (embedded, or the local
// replica of a Kafka projector) and its view store.
absl::StatusOr<std::unique_ptr<log::EventLog>> OpenOfflineLog(
    const std::string& dir) {
  std::error_code error;
  for (const std::string& path : {dir + "/log", dir + "/kafka-replica/events"}) {
    if (!std::filesystem::is_directory(path, error)) {
      continue;
    }
    absl::StatusOr<std::unique_ptr<log::EventLog>> log =
        log::OpenRocksDbLog({.path = path});
    if (!log.ok() && log.status().message().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(absl::StrCat(
          dir, " is in use (", log.status().message(),
          "): a running `prongsai serve` holds it. Ask the server instead: "
          "leave out --data, and give --server HOST:PORT"));
    }
    return log;
  }
  return absl::NotFoundError(
      absl::StrCat(dir, " holds no Prongsai log (neither ", dir, "/log nor ",
                   dir, "/kafka-replica/events)"));
}

int RunOffline(const Args& args, const std::string& action,
               const std::string& name) {
  const std::string dir = args.get("data");
  absl::StatusOr<std::unique_ptr<log::EventLog>> log = OpenOfflineLog(dir);
  if (!log.ok()) {
    return Fail(log.status().message());
  }
  absl::StatusOr<std::unique_ptr<projections::ProjectionRunner>> runner =
      projections::ProjectionRunner::Start(
          log->get(), {.path = dir + "/views", .background = false},
          server::AllProjections());
  if (!runner.ok()) {
    return Fail(runner.status().message());
  }
  if (action == "status") {
    return PrintStatus(server::ToStatusMessage((*runner)->Status()));
  }
  RebuildReport report(name);
  const absl::Time start = absl::Now();
  uint64_t reached = 0;
  absl::Status status = (*runner)->Rebuild(
      name, [&](uint64_t position, uint64_t log_position) {
        reached = position;
        report.Step(position, log_position, absl::Now() - start);
      });
  if (!status.ok()) {
    report.Abandon();
    return Fail(status.message());
  }
  report.Done(reached, reached, absl::Now() - start);
  return 0;
}

}  // namespace

const CommandSpec kProjectionsCommand{
    "projections",
    "Show the views and where they stand, or rebuild one by replay.\n"
    "  status        each view's log position, its lag behind the log, and\n"
    "                the error it stopped on, if it did (exit code 3 when\n"
    "                a view stopped)\n"
    "  rebuild NAME  drop the view NAME and replay the log into it; the\n"
    "                other views keep following the log, and queries see\n"
    "                the old rows until the rebuilt ones replace them.\n"
    "                Shows a progress bar on stderr when it is a terminal,\n"
    "                then prints records, seconds and records/s.\n"
    "Asks a running `prongsai serve` (the projector role) by default; with\n"
    "--data, works on the data directory of a stopped server instead.",
    "prongsai projections status|rebuild NAME [--server HOST:PORT | --data "
    "DIR]",
    {{"server", "HOST:PORT", "127.0.0.1:50051",
      "address of a running `prongsai serve`"},
     {"data", "DIR", "",
      "data directory of a stopped server: open its views directly"}}};

int RunProjections(const Args& args) {
  const std::vector<std::string>& words = args.positional();
  if (words.empty()) {
    return Usage("say status or rebuild NAME");
  }
  const std::string& action = words[0];
  std::string name;
  if (action == "status") {
    if (words.size() != 1) {
      return Usage("status takes no name");
    }
  } else if (action == "rebuild") {
    if (words.size() != 2) {
      return Usage(
          "rebuild takes one projection name; `prongsai projections status` "
          "lists them");
    }
    name = words[1];
  } else {
    return Usage(absl::StrCat("unknown action '", action,
                              "'; use status or rebuild NAME"));
  }
  if (args.has("data")) {
    if (args.has("server")) {
      return Usage("give --server or --data, not both");
    }
    return RunOffline(args, action, name);
  }
  return action == "status" ? StatusOnline(args) : RebuildOnline(args, name);
}

}  // namespace prongsai::cli

// prongsai: the event-sourced ITA ledger of Bangkok's district offices.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "services/cli/args.h"
#include "services/cli/client_commands.h"
#include "services/server/server.h"

namespace prongsai::cli {
namespace {

const CommandSpec kServeCommand{
    "serve",
    "Run every role of Prongsai in one process on the embedded RocksDB log:\n"
    "the gRPC API (prongsai.v1.Ledger, grpc.health.v1, server reflection).\n"
    "SIGTERM or SIGINT shuts it down cleanly; the data survives restarts.",
    "prongsai serve [--listen HOST:PORT] [--data DIR]",
    {{"listen", "HOST:PORT", "127.0.0.1:50051",
      "gRPC address; port 0 picks a free one"},
     {"data", "DIR", "./prongsai-data", "data directory"},
     {"max-request-bytes", "N", "16777216", "largest request accepted"},
     {"max-events-per-append", "N", "10000", "most events in one Append"}}};

int RunServe(const Args& args) {
  server::ServerOptions options;
  options.listen = args.get("listen");
  options.data_dir = args.get("data");
  absl::StatusOr<uint64_t> max_bytes = args.GetUint("max-request-bytes");
  absl::StatusOr<uint64_t> max_events = args.GetUint("max-events-per-append");
  if (!max_bytes.ok() || !max_events.ok()) {
    std::cerr << "error: "
              << (max_bytes.ok() ? max_events.status() : max_bytes.status())
                     .message()
              << "\n";
    return 2;
  }
  options.max_request_bytes = static_cast<int>(*max_bytes);
  options.max_events_per_append = static_cast<int>(*max_events);

  // Block the shutdown signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "error: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "prongsai serving gRPC on port " << (*server)->port()
            << " (data in " << options.data_dir << ")" << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "prongsai: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down" << std::endl;
  (*server)->Shutdown();
  (*server)->Wait();
  std::cout << "prongsai: stopped" << std::endl;
  return 0;
}

struct Command {
  const CommandSpec* spec;
  int (*run)(const Args&);
};

const Command kCommands[] = {
    {&kServeCommand, RunServe},
    {&kAppendCommand, RunAppend},
    {&kReadCommand, RunRead},
    {&kHeadCommand, RunHead},
};

void PrintUsage(std::ostream& out) {
  out << "prongsai: the event-sourced ITA ledger of Bangkok's district "
         "offices\n\nUsage: prongsai <command> [flags]\n\nCommands:\n";
  for (const Command& command : kCommands) {
    std::string summary = command.spec->summary;
    summary = summary.substr(0, summary.find('\n'));
    out << "  " << command.spec->name
        << std::string(10 - command.spec->name.size(), ' ') << summary
        << "\n";
  }
  out << "\nRun 'prongsai <command> --help' for its flags.\n";
}

}  // namespace
}  // namespace prongsai::cli

int main(int argc, char** argv) {
  using namespace prongsai::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    PrintUsage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : kCommands) {
    if (command.spec->name != name) {
      continue;
    }
    absl::StatusOr<Args> args = Args::Parse(
        *command.spec, std::vector<std::string>(argv + 2, argv + argc));
    if (!args.ok()) {
      std::cerr << "error: " << args.status().message() << "\n";
      return 2;
    }
    if (args->help()) {
      std::cout << HelpText(*command.spec);
      return 0;
    }
    return command.run(*args);
  }
  std::cerr << "error: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return 2;
}

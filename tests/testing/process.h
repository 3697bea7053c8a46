// Running the real `prongsai` binary from a test: start it, read the port it
// bound from its first line of output, signal it, wait for it.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prongsai::testing {

// The prongsai binary under test (set by ctest through PRONGSAI_BIN).
inline std::string ProngsaiBinary() {
  const char* path = std::getenv("PRONGSAI_BIN");
  return path == nullptr ? "prongsai" : path;
}

inline std::string SourceDir() {
  const char* path = std::getenv("PRONGSAI_SOURCE_DIR");
  return path == nullptr ? "." : path;
}

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `args` to completion, capturing stdout and stderr; `input` is written
// to its stdin.
CommandResult RunCommand(const std::vector<std::string>& args,
                         const std::string& input = "");

// A child process whose stdout is read line by line.
class ChildProcess {
 public:
  ChildProcess() = default;
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool Start(const std::vector<std::string>& args);
  // The next line of stdout, waiting up to `timeout`.
  std::optional<std::string> ReadLine(absl::Duration timeout);
  void Signal(int signal);
  // Waits for exit; returns the exit code, or 128 + signal.
  int Wait();
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::string buffer_;
};

// `prongsai serve` on 127.0.0.1, a free port, and `data_dir`.
class ServerProcess {
 public:
  // Starts the server and waits until it reports its port; false on failure.
  bool Start(const std::string& data_dir,
             const std::vector<std::string>& extra_flags = {});
  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  ChildProcess& process() { return process_; }

 private:
  ChildProcess process_;
  int port_ = 0;
};

}  // namespace prongsai::testing

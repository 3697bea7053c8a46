#include "tests/testing/process.h"

#include <cstring>
#include <thread>

#include "absl/strings/match.h"

namespace prongsai::testing {
namespace {

std::vector<char*> Argv(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& arg : args) {
    argv.push_back(const_cast<char*>(arg.c_str()));
  }
  argv.push_back(nullptr);
  return argv;
}

std::string ReadAll(int fd) {
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = read(fd, buffer, sizeof(buffer))) > 0) {
    out.append(buffer, n);
  }
  return out;
}

}  // namespace

CommandResult RunCommand(const std::vector<std::string>& args,
                         const std::string& input) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0 || pipe(err_pipe) != 0) {
    return {};
  }
  std::vector<char*> argv = Argv(args);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1],
                   err_pipe[0], err_pipe[1]}) {
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  close(err_pipe[1]);
  std::thread writer([&] {
    size_t done = 0;
    while (done < input.size()) {
      ssize_t n = write(in_pipe[1], input.data() + done, input.size() - done);
      if (n <= 0) {
        break;
      }
      done += n;
    }
    close(in_pipe[1]);
  });
  CommandResult result;
  std::thread err_reader([&] { result.err = ReadAll(err_pipe[0]); });
  result.out = ReadAll(out_pipe[0]);
  err_reader.join();
  writer.join();
  close(out_pipe[0]);
  close(err_pipe[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status)
                                       : 128 + WTERMSIG(status);
  return result;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    Wait();
  }
  if (out_fd_ >= 0) {
    close(out_fd_);
  }
}

bool ChildProcess::Start(const std::vector<std::string>& args) {
  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    return false;
  }
  std::vector<char*> argv = Argv(args);
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out_pipe[1], 1);
    close(out_pipe[0]);
    close(out_pipe[1]);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(out_pipe[1]);
  out_fd_ = out_pipe[0];
  buffer_.clear();
  return pid_ > 0;
}

std::optional<std::string> ChildProcess::ReadLine(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return std::nullopt;
    }
    pollfd fd{out_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(absl::ToInt64Milliseconds(left)) + 1) <=
        0) {
      continue;
    }
    char chunk[1024];
    const ssize_t n = read(out_fd_, chunk, sizeof(chunk));
    if (n <= 0) {
      return std::nullopt;  // the child closed its output
    }
    buffer_.append(chunk, n);
  }
}

void ChildProcess::Signal(int signal) {
  if (pid_ > 0) {
    kill(pid_, signal);
  }
}

int ChildProcess::Wait() {
  if (pid_ <= 0) {
    return -1;
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  if (out_fd_ >= 0) {
    close(out_fd_);
    out_fd_ = -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

bool ServerProcess::Start(const std::string& data_dir,
                          const std::vector<std::string>& extra_flags) {
  std::vector<std::string> args = {ProngsaiBinary(), "serve", "--insecure-dev",
                                   "--listen", "127.0.0.1:0", "--data",
                                   data_dir};
  args.insert(args.end(), extra_flags.begin(), extra_flags.end());
  if (!process_.Start(args)) {
    return false;
  }
  // "prongsai serving gRPC on port N (data in DIR)"
  const std::string kMarker = "serving gRPC on port ";
  while (std::optional<std::string> line = process_.ReadLine(absl::Seconds(30))) {
    const size_t at = line->find(kMarker);
    if (at == std::string::npos) {
      continue;
    }
    std::string rest = line->substr(at + kMarker.size());
    rest = rest.substr(0, rest.find(' '));
    return absl::SimpleAtoi(rest, &port_) && port_ > 0;
  }
  return false;
}

}  // namespace prongsai::testing

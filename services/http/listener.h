// Runs the accept loop of a bound cpp-httplib server on its own thread.
//
// cpp-httplib's stop() does nothing until the accept loop has marked the
// server running, so a stop that comes right after the start is lost and the
// loop accepts forever. Stop() waits for the loop to run first, so it works
// at any moment after Start().
//
// Example:
//   httplib::Server server;
//   server.bind_to_any_port("127.0.0.1");
//   http::Listener listener;
//   listener.Start(server);
//   ...
//   listener.Stop();  // also on destruction
#pragma once

#include <httplib.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace prongsai::http {

class Listener {
 public:
  Listener() = default;
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;
  ~Listener() { Stop(); }

  // `server` must be bound, and outlive the listener.
  void Start(httplib::Server& server) {
    server_ = &server;
    thread_ = std::thread([this] {
      server_->listen_after_bind();
      returned_ = true;
    });
  }

  // Stops accepting and waits for the loop to end. Does nothing when not
  // started.
  void Stop() {
    if (!thread_.joinable()) {
      return;
    }
    while (!server_->is_running() && !returned_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    server_->stop();
    thread_.join();
  }

 private:
  httplib::Server* server_ = nullptr;
  std::thread thread_;
  std::atomic<bool> returned_{false};
};

}  // namespace prongsai::http

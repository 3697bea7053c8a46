// A signal that threads wait on for some state to change.
//
// The side that changes the state calls Notify() after each change; a waiter
// looks at the state again after each one, and at least every `slice` in
// case it also changes where nothing notifies. It is a plain condition
// variable: abseil's timed Await can miss its deadline.
//
// Example:
//   ChangeSignal applied(absl::Milliseconds(50));
//   // feeder, after each batch:
//   applied.Notify();
//   // reader:
//   bool reached = applied.Wait([&] { return Position() >= want; }, deadline);
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "absl/time/time.h"

namespace prongsai {

class ChangeSignal {
 public:
  explicit ChangeSignal(absl::Duration slice) : slice_(slice) {}

  // Wakes every waiter to look again.
  void Notify();

  // Returns true as soon as `done()` does, false once `deadline` passes.
  // `done` is called without the signal's lock held.
  bool Wait(const std::function<bool()>& done, absl::Time deadline);

  // Sleeps for up to `timeout`, less if a thread is or starts waiting in
  // Wait: for a worker that would rather gather more work first, unless
  // someone waits for what it has.
  void PauseUnlessAwaited(absl::Duration timeout);

 private:
  const absl::Duration slice_;
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t changes_ = 0;  // guarded by mu_
  int waiters_ = 0;       // guarded by mu_
};

}  // namespace prongsai

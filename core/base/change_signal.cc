#include "core/base/change_signal.h"

#include <algorithm>

#include "absl/time/clock.h"

namespace prongsai {

void ChangeSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++changes_;
  }
  changed_.notify_all();
}

bool ChangeSignal::Wait(const std::function<bool()>& done,
                        absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++waiters_;
  }
  changed_.notify_all();  // a paused worker goes on at once
  bool reached = false;
  while (true) {
    uint64_t seen = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen = changes_;
    }
    if (done()) {
      reached = true;
      break;
    }
    const absl::Time now = absl::Now();
    if (now >= deadline) {
      break;
    }
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait_until(lock,
                        absl::ToChronoTime(std::min(deadline, now + slice_)),
                        [&] { return changes_ != seen; });
  }
  std::lock_guard<std::mutex> lock(mu_);
  --waiters_;
  return reached;
}

void ChangeSignal::PauseUnlessAwaited(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                    [&] { return waiters_ > 0; });
}

}  // namespace prongsai

#include "core/base/change_signal.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/time/clock.h"

namespace prongsai {
namespace {

TEST(ChangeSignalTest, AWaiterSeesAChangeAsSoonAsItIsNotified) {
  // A slice far longer than the test: only Notify can end the wait early.
  ChangeSignal signal(absl::Seconds(60));
  std::atomic<int> value{0};
  std::thread changer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    value = 1;
    signal.Notify();
  });
  const absl::Time start = absl::Now();
  EXPECT_TRUE(signal.Wait([&] { return value == 1; },
                          absl::Now() + absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  changer.join();
}

TEST(ChangeSignalTest, AChangeNobodyNotifiesIsSeenWithinASlice) {
  ChangeSignal signal(absl::Milliseconds(10));
  std::atomic<int> value{0};
  std::thread changer([&] {
    absl::SleepFor(absl::Milliseconds(20));
    value = 1;
  });
  EXPECT_TRUE(signal.Wait([&] { return value == 1; },
                          absl::Now() + absl::Seconds(30)));
  changer.join();
}

TEST(ChangeSignalTest, AWaitEndsFalseAtItsDeadline) {
  ChangeSignal signal(absl::Seconds(60));
  const absl::Time deadline = absl::Now() + absl::Milliseconds(30);
  EXPECT_FALSE(signal.Wait([] { return false; }, deadline));
  EXPECT_GE(absl::Now(), deadline);
}

TEST(ChangeSignalTest, APauseEndsWhenSomeoneWaits) {
  ChangeSignal signal(absl::Milliseconds(5));
  std::atomic<bool> paused{false};
  std::thread worker([&] {
    signal.PauseUnlessAwaited(absl::Seconds(60));
    paused = true;
  });
  absl::SleepFor(absl::Milliseconds(20));
  EXPECT_TRUE(signal.Wait([&] { return paused.load(); },
                          absl::Now() + absl::Seconds(30)));
  worker.join();
}

}  // namespace
}  // namespace prongsai

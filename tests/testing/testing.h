// Helpers shared by the tests: temporary directories, waiting on a condition
// with a deadline, and well-formed events.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::testing {

// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "prongsai-test-XXXXXX")
            .string();
    path_ = mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Polls `condition` until it holds or `timeout` passes; returns whether it
// held. For waiting on another thread or process, never a fixed sleep.
template <typename Condition>
bool WaitFor(Condition condition, absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) {
      return false;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// A random version-4 UUID.
inline std::string NewUuid() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  const uint64_t a = rng();
  const uint64_t b = rng();
  return absl::StrFormat("%08x-%04x-4%03x-%04x-%012x", a >> 32,
                         (a >> 16) & 0xffff, a & 0xfff,
                         0x8000 | ((b >> 48) & 0x3fff), b & 0xffffffffffffULL);
}

// A valid meeting event with a fresh event id and a fresh meeting id that
// starts with `label`, for tests of the log and the API.
inline v1::Event MeetingEvent(const std::string& label, int attendees = 40) {
  v1::Event event;
  event.set_event_id(NewUuid());
  event.mutable_occurred_at()->set_seconds(1728972000);  // 2024-10-15 06:00Z
  event.mutable_actor()->set_id("1045-ita-01");
  v1::MeetingHeld* meeting = event.mutable_meeting_held();
  meeting->set_meeting_id(label + "-" + event.event_id().substr(0, 8));
  meeting->set_kind(v1::MEETING_KIND_MONTHLY_STAFF);
  meeting->set_title("ประชุมข้าราชการและลูกจ้างประจำเดือน ตุลาคม 2567");
  meeting->mutable_date()->set_year(2024);
  meeting->mutable_date()->set_month(10);
  meeting->mutable_date()->set_day(15);
  meeting->set_attendees(attendees);
  return event;
}

}  // namespace prongsai::testing

#include "projections/runtime/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "core/base/status.h"
#include "core/log/rocksdb_log.h"
#include "services/ingest/ingestor.h"
#include "tests/testing/testing.h"

namespace prongsai::projections {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::TempDir;

// Counts meetings and attendees per stream, and remembers the order it saw
// records in, so double or missing application shows.
class MeetingTally final : public Projection {
 public:
  // Called before each Apply; an error fails the record.
  using Hook = std::function<absl::Status(uint64_t position)>;

  explicit MeetingTally(int version = 1, int fail_at_position = 0,
                        std::string name = "meetings", Hook hook = nullptr)
      : version_(version),
        fail_at_position_(fail_at_position),
        name_(std::move(name)),
        hook_(std::move(hook)) {}

  absl::string_view name() const override { return name_; }
  int version() const override { return version_; }
  bool Wants(const v1::Record& record) const override {
    return record.event().has_meeting_held();
  }
  absl::Status Apply(const AppliedRecord& r, ViewWriter& view) override {
    if (fail_at_position_ != 0 &&
        r.position == static_cast<uint64_t>(fail_at_position_)) {
      return absl::InternalError("simulated crash");
    }
    if (hook_) {
      RETURN_IF_ERROR(hook_(r.position));
    }
    const std::string& stream = r.record.stream();
    ASSIGN_OR_RETURN(int64_t count, view.GetInt("count/" + stream));
    view.PutInt("count/" + stream, count + 1);
    ASSIGN_OR_RETURN(int64_t attendees, view.GetInt("attendees/" + stream));
    view.PutInt("attendees/" + stream,
                attendees + r.record.event().meeting_held().attendees());
    ASSIGN_OR_RETURN(int64_t last, view.GetInt("last/" + stream));
    if (static_cast<int64_t>(r.record.sequence()) != last + 1) {
      return absl::InternalError(absl::StrCat("sequence ", r.record.sequence(),
                                              " applied after ", last));
    }
    view.PutInt("last/" + stream, static_cast<int64_t>(r.record.sequence()));
    return absl::OkStatus();
  }

 private:
  int version_;
  int fail_at_position_;
  std::string name_;
  Hook hook_;
};

// Keeps the last three sequences of each stream as rows, deleting older ones,
// and checks on every record that a scan of its stream's rows sees exactly
// those, whether committed by an earlier batch or staged in this one.
class LastThree final : public Projection {
 public:
  absl::string_view name() const override { return "last-three"; }
  absl::Status Apply(const AppliedRecord& r, ViewWriter& view) override {
    const std::string prefix = absl::StrCat("seq/", r.record.stream(), "/");
    const uint64_t seq = r.record.sequence();
    auto row = [&](uint64_t s) {
      return absl::StrCat(prefix, absl::Dec(s, absl::kZeroPad8));
    };
    view.Put(row(seq), std::to_string(seq));
    if (seq > 3) {
      view.Delete(row(seq - 3));
    }
    // Overwritten in the same batch: the scan shows the last value.
    view.Put(row(seq), absl::StrCat(seq, "!"));
    std::vector<std::string> seen;
    RETURN_IF_ERROR(
        view.Scan(prefix, [&](absl::string_view key, absl::string_view value) {
          seen.push_back(absl::StrCat(key, "=", value));
          return true;
        }));
    std::vector<std::string> want;
    for (uint64_t s = seq > 2 ? seq - 2 : 1; s <= seq; ++s) {
      want.push_back(absl::StrCat(row(s), "=", s, "!"));
    }
    if (seen != want) {
      return absl::InternalError(
          absl::StrCat("scan saw ", absl::StrJoin(seen, " "), "; expected ",
                       absl::StrJoin(want, " ")));
    }
    return absl::OkStatus();
  }
};

class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("log")});
    ASSERT_TRUE(log.ok());
    log_ = std::move(*log);
    auto ingestor = ingest::Ingestor::Start(log_.get());
    ASSERT_TRUE(ingestor.ok());
    ingestor_ = std::move(*ingestor);
  }

  // Appends `n` meetings of 10 attendees each to `stream`.
  void AppendMeetings(const std::string& stream, int n) {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (int i = 0; i < n; ++i) {
      *request.add_events() = MeetingEvent("m", 10);
    }
    ASSERT_TRUE(ingestor_->Append(request).ok());
  }

  std::unique_ptr<ProjectionRunner> Start(
      std::unique_ptr<Projection> projection, bool background = false,
      int batch = 7) {
    std::vector<std::unique_ptr<Projection>> all;
    all.push_back(std::move(projection));
    return StartAll(std::move(all), background, batch);
  }

  std::unique_ptr<ProjectionRunner> StartAll(
      std::vector<std::unique_ptr<Projection>> all, bool background = false,
      int batch = 7) {
    auto runner = ProjectionRunner::Start(log_.get(),
                                          {.path = dir_.Sub("views"),
                                           .max_batch_records = batch,
                                           .background = background},
                                          std::move(all));
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? std::move(*runner) : nullptr;
  }

  int64_t Row(ProjectionRunner& runner, const std::string& key,
              const std::string& view = "meetings") {
    auto snapshot = runner.Snapshot();
    EXPECT_TRUE(snapshot.ok());
    auto value = (*snapshot)->view(view).GetInt(key);
    EXPECT_TRUE(value.ok());
    return *value;
  }

  static ProjectionStatus StatusOf(ProjectionRunner& runner,
                                   absl::string_view name) {
    for (const ProjectionStatus& status : runner.Status()) {
      if (status.name == name) {
        return status;
      }
    }
    ADD_FAILURE() << "no status for " << name;
    return {};
  }

  TempDir dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
};

TEST_F(RunnerTest, AppliesEveryRecordOnceInOrder) {
  AppendMeetings("1045", 20);
  AppendMeetings("1001", 5);
  auto runner = Start(std::make_unique<MeetingTally>());
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Row(*runner, "count/1045"), 20);
  EXPECT_EQ(Row(*runner, "attendees/1045"), 200);
  EXPECT_EQ(Row(*runner, "count/1001"), 5);
  auto status = runner->Status();
  ASSERT_EQ(status.size(), 1u);
  EXPECT_EQ(status[0].position, log_->LastPosition());
  EXPECT_TRUE(status[0].error.empty()) << status[0].error;
}

TEST_F(RunnerTest, AProjectionReadsItsOwnStagedWritesAndDeletes) {
  // Interleaved streams whose row prefixes sort next to each other.
  for (int round = 0; round < 4; ++round) {
    AppendMeetings("1045", 5);
    AppendMeetings("1004", 3);
  }
  auto runner = Start(std::make_unique<LastThree>(), /*background=*/false,
                      /*batch=*/7);
  ASSERT_TRUE(runner->CatchUp().ok());
  const ProjectionStatus status = StatusOf(*runner, "last-three");
  EXPECT_TRUE(status.error.empty()) << status.error;
  EXPECT_EQ(status.position, log_->LastPosition());
}

TEST_F(RunnerTest, ResumesWhereTheLastCommittedBatchEnded) {
  AppendMeetings("1045", 30);
  const int fail_at = static_cast<int>(log_->LastPosition()) - 10;
  {
    // Fails mid-way: the failing batch commits nothing.
    auto runner = Start(std::make_unique<MeetingTally>(1, fail_at));
    ASSERT_TRUE(runner->CatchUp().ok());
    auto status = runner->Status();
    EXPECT_NE(status[0].error.find("simulated crash"), std::string::npos);
    EXPECT_LT(status[0].position, static_cast<uint64_t>(fail_at));
    EXPECT_LT(Row(*runner, "count/1045"), 30);
  }
  // A restarted runner resumes from the committed position: no record twice,
  // none skipped (MeetingTally checks the sequence order itself).
  auto runner = Start(std::make_unique<MeetingTally>());
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_TRUE(runner->Status()[0].error.empty()) << runner->Status()[0].error;
  EXPECT_EQ(Row(*runner, "count/1045"), 30);
  EXPECT_EQ(Row(*runner, "attendees/1045"), 300);
}

TEST_F(RunnerTest, FollowsTheLogInTheBackgroundAndWaitsForAPosition) {
  auto runner = Start(std::make_unique<MeetingTally>(), /*background=*/true);
  AppendMeetings("1045", 3);
  ASSERT_TRUE(runner->WaitForPosition(log_->LastPosition(),
                                      absl::Now() + absl::Seconds(10)));
  EXPECT_EQ(Row(*runner, "count/1045"), 3);
  EXPECT_FALSE(runner->WaitForPosition(log_->LastPosition() + 1,
                                       absl::Now() + absl::Milliseconds(50)));
}

TEST_F(RunnerTest, RebuildEqualsIncremental) {
  AppendMeetings("1045", 12);
  auto runner = Start(std::make_unique<MeetingTally>(), false, 5);
  ASSERT_TRUE(runner->CatchUp().ok());
  AppendMeetings("1045", 9);
  ASSERT_TRUE(runner->CatchUp().ok());
  const int64_t incremental = Row(*runner, "attendees/1045");
  uint64_t last_progress = 0;
  ASSERT_TRUE(
      runner
          ->Rebuild("meetings", [&](uint64_t reached,
                                    uint64_t) { last_progress = reached; })
          .ok());
  EXPECT_EQ(last_progress, log_->LastPosition());
  EXPECT_EQ(Row(*runner, "attendees/1045"), incremental);
  EXPECT_EQ(Row(*runner, "count/1045"), 21);
  EXPECT_EQ(runner->Rebuild("nope").code(), absl::StatusCode::kNotFound);
}

TEST_F(RunnerTest, AVersionChangeRebuildsTheView) {
  AppendMeetings("1045", 4);
  {
    auto runner = Start(std::make_unique<MeetingTally>(1));
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  auto runner = Start(std::make_unique<MeetingTally>(2));
  EXPECT_EQ(runner->Status()[0].position, 0u);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Row(*runner, "count/1045"), 4);
}

TEST_F(RunnerTest, ARecordThatBreaksItsChainIsNeverApplied) {
  AppendMeetings("1045", 2);
  // A forged record written around the ingest: right sequence, wrong
  // prev_hash.
  v1::Record forged;
  forged.set_stream("1045");
  forged.set_sequence(3);
  forged.set_prev_hash(std::string(32, 'x'));
  *forged.mutable_event() = MeetingEvent("forged", 1000);
  log::PendingRecord pending;
  pending.stream = "1045";
  pending.sequence = 3;
  pending.event_id = forged.event().event_id();
  pending.bytes = forged.SerializeAsString();
  pending.hash = Sha256(pending.bytes);
  auto position = log_->Write({pending});
  ASSERT_TRUE(position.ok());

  auto runner = Start(std::make_unique<MeetingTally>());
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Row(*runner, "count/1045"), 2);
  EXPECT_EQ(Row(*runner, "attendees/1045"), 20);
  auto rejected = runner->Rejected();
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_EQ(rejected[0].position, *position);
  EXPECT_EQ(rejected[0].stream, "1045");
  EXPECT_NE(rejected[0].reason.find("prev_hash"), std::string::npos);

  // A rebuild replays below the frontier and still skips it; the refusal is
  // remembered across restarts.
  ASSERT_TRUE(runner->Rebuild("meetings").ok());
  EXPECT_EQ(Row(*runner, "attendees/1045"), 20);
  runner.reset();
  runner = Start(std::make_unique<MeetingTally>());
  EXPECT_EQ(runner->Rejected().size(), 1u);
}

TEST_F(RunnerTest, ASnapshotIsStableWhileTheViewMoves) {
  AppendMeetings("1045", 2);
  auto runner = Start(std::make_unique<MeetingTally>());
  ASSERT_TRUE(runner->CatchUp().ok());
  auto snapshot = runner->Snapshot();
  ASSERT_TRUE(snapshot.ok());
  const uint64_t position = (*snapshot)->position("meetings");
  AppendMeetings("1045", 2);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(*(*snapshot)->view("meetings").GetInt("count/1045"), 2);
  EXPECT_EQ((*snapshot)->position("meetings"), position);
  EXPECT_EQ(Row(*runner, "count/1045"), 4);
}

// Holds the Apply calls of a view inside a rebuild until released, so a
// test can look at the runner while the rebuild is under way.
class RebuildGate {
 public:
  MeetingTally::Hook Hook() {
    return [this](uint64_t) {
      if (holding_.load()) {
        if (!entered_.HasBeenNotified()) {
          entered_.Notify();
        }
        release_.WaitForNotification();
      }
      return absl::OkStatus();
    };
  }
  void Hold() { holding_ = true; }
  bool WaitUntilHeld() {
    return entered_.WaitForNotificationWithTimeout(absl::Seconds(10));
  }
  void Release() { release_.Notify(); }

 private:
  std::atomic<bool> holding_{false};
  absl::Notification entered_;
  absl::Notification release_;
};

TEST_F(RunnerTest, WhileAViewRebuildsTheOthersFollowAndItsOldRowsAnswer) {
  AppendMeetings("1045", 10);
  RebuildGate gate;
  std::vector<std::unique_ptr<Projection>> all;
  all.push_back(std::make_unique<MeetingTally>());
  all.push_back(std::make_unique<MeetingTally>(1, 0, "gated", gate.Hook()));
  auto runner = StartAll(std::move(all), /*background=*/true, 4);
  ASSERT_TRUE(runner->WaitForPosition(log_->LastPosition(),
                                      absl::Now() + absl::Seconds(10)));
  const uint64_t before = log_->LastPosition();

  gate.Hold();
  absl::Status rebuilt = absl::UnknownError("not run");
  std::vector<uint64_t> progress;
  std::thread rebuild([&] {
    rebuilt = runner->Rebuild("gated", [&](uint64_t reached, uint64_t) {
      progress.push_back(reached);
    });
  });
  ASSERT_TRUE(gate.WaitUntilHeld());

  // The other view follows the log; the one being rebuilt answers from its
  // previous rows at their position, and a second rebuild is refused.
  AppendMeetings("1045", 5);
  EXPECT_TRUE(::prongsai::testing::WaitFor([&] {
    return StatusOf(*runner, "meetings").position == log_->LastPosition();
  }));
  EXPECT_EQ(Row(*runner, "count/1045"), 15);
  const ProjectionStatus during = StatusOf(*runner, "gated");
  EXPECT_TRUE(during.rebuilding);
  EXPECT_EQ(during.position, before);
  EXPECT_EQ(Row(*runner, "count/1045", "gated"), 10);
  EXPECT_EQ(runner->Rebuild("gated").code(),
            absl::StatusCode::kFailedPrecondition);
  // Waiting for a position waits for the rebuilt view too.
  EXPECT_FALSE(runner->WaitForPosition(log_->LastPosition(),
                                       absl::Now() + absl::Milliseconds(50)));

  gate.Release();
  rebuild.join();
  ASSERT_TRUE(rebuilt.ok()) << rebuilt;
  ASSERT_FALSE(progress.empty());
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_GE(progress.back(), before);
  ASSERT_TRUE(runner->WaitForPosition(log_->LastPosition(),
                                      absl::Now() + absl::Seconds(10)));
  EXPECT_FALSE(StatusOf(*runner, "gated").rebuilding);
  EXPECT_EQ(Row(*runner, "count/1045", "gated"), 15);
  EXPECT_EQ(Row(*runner, "attendees/1045", "gated"),
            Row(*runner, "attendees/1045"));
}

TEST_F(RunnerTest, ARebuiltViewSurvivesARestartAndASecondRebuild) {
  AppendMeetings("1045", 9);
  for (int round = 0; round < 2; ++round) {
    SCOPED_TRACE(round);
    auto runner = Start(std::make_unique<MeetingTally>(), false, 4);
    ASSERT_TRUE(runner->CatchUp().ok());
    ASSERT_TRUE(runner->Rebuild("meetings").ok());
    EXPECT_EQ(Row(*runner, "count/1045"), 9 + round * 2);
    AppendMeetings("1045", 2);
    ASSERT_TRUE(runner->CatchUp().ok());
  }
  // The second rebuild swapped back to the first row space: a restart reads
  // the live rows, nothing is applied twice and nothing is rebuilt.
  auto runner = Start(std::make_unique<MeetingTally>(), false, 4);
  EXPECT_EQ(runner->Status()[0].position, log_->LastPosition());
  EXPECT_EQ(Row(*runner, "count/1045"), 13);
  ASSERT_TRUE(runner->CatchUp().ok());
  EXPECT_EQ(Row(*runner, "count/1045"), 13);
  EXPECT_EQ(Row(*runner, "attendees/1045"), 130);
}

TEST_F(RunnerTest, AFailedRebuildKeepsThePreviousRows) {
  AppendMeetings("1045", 6);
  std::atomic<bool> fail{false};
  auto runner = Start(std::make_unique<MeetingTally>(
                          1, 0, "meetings",
                          [&](uint64_t) {
                            return fail.load()
                                       ? absl::InternalError("bad release")
                                       : absl::OkStatus();
                          }),
                      false, 4);
  ASSERT_TRUE(runner->CatchUp().ok());
  fail = true;
  absl::Status status = runner->Rebuild("meetings");
  EXPECT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_NE(status.message().find("bad release"), std::string::npos);
  EXPECT_EQ(Row(*runner, "count/1045"), 6);
  EXPECT_TRUE(runner->Status()[0].error.empty());
  EXPECT_FALSE(runner->Status()[0].rebuilding);
  fail = false;
  ASSERT_TRUE(runner->Rebuild("meetings").ok());
  EXPECT_EQ(Row(*runner, "count/1045"), 6);
}

TEST_F(RunnerTest, ARebuildRestartsAStoppedView) {
  AppendMeetings("1045", 8);
  std::atomic<int> failures{1};
  const uint64_t fail_at = 5;
  auto runner = Start(std::make_unique<MeetingTally>(
                          1, 0, "meetings",
                          [&](uint64_t position) {
                            return position == fail_at && failures-- > 0
                                       ? absl::InternalError("a passing fault")
                                       : absl::OkStatus();
                          }),
                      false, 3);
  ASSERT_TRUE(runner->CatchUp().ok());
  ASSERT_FALSE(runner->Status()[0].error.empty());
  ASSERT_TRUE(runner->Rebuild("meetings").ok());
  EXPECT_TRUE(runner->Status()[0].error.empty());
  EXPECT_EQ(runner->Status()[0].position, log_->LastPosition());
  EXPECT_EQ(Row(*runner, "count/1045"), 8);
}

TEST_F(RunnerTest, RebuildNamesTheProjectionsWhenTheNameIsUnknown) {
  auto runner = Start(std::make_unique<MeetingTally>());
  absl::Status status = runner->Rebuild("meeting");
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(status.message().find("the projections are: meetings"),
            std::string::npos)
      << status;
}

TEST_F(RunnerTest, ACancelledRebuildKeepsThePreviousRows) {
  AppendMeetings("1045", 6);
  auto runner = Start(std::make_unique<MeetingTally>(), false, 2);
  ASSERT_TRUE(runner->CatchUp().ok());
  int batches = 0;
  absl::Status status = runner->Rebuild(
      "meetings", [&](uint64_t, uint64_t) { ++batches; },
      [&] { return batches >= 1; });
  EXPECT_EQ(status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(Row(*runner, "count/1045"), 6);
  EXPECT_EQ(runner->Status()[0].position, log_->LastPosition());
}

}  // namespace
}  // namespace prongsai::projections

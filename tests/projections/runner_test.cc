#include "projections/runtime/runner.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
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
  explicit MeetingTally(int version = 1, int fail_at_position = 0)
      : version_(version), fail_at_position_(fail_at_position) {}

  absl::string_view name() const override { return "meetings"; }
  int version() const override { return version_; }
  bool Wants(const v1::Record& record) const override {
    return record.event().has_meeting_held();
  }
  absl::Status Apply(const AppliedRecord& r, ViewWriter& view) override {
    if (fail_at_position_ != 0 &&
        r.position == static_cast<uint64_t>(fail_at_position_)) {
      return absl::InternalError("simulated crash");
    }
    const std::string& stream = r.record.stream();
    ASSIGN_OR_RETURN(int64_t count, view.GetInt("count/" + stream));
    view.PutInt("count/" + stream, count + 1);
    ASSIGN_OR_RETURN(int64_t attendees, view.GetInt("attendees/" + stream));
    view.PutInt("attendees/" + stream,
                attendees + r.record.event().meeting_held().attendees());
    ASSIGN_OR_RETURN(int64_t last, view.GetInt("last/" + stream));
    if (static_cast<int64_t>(r.record.sequence()) != last + 1) {
      return absl::InternalError(absl::StrCat(
          "sequence ", r.record.sequence(), " applied after ", last));
    }
    view.PutInt("last/" + stream, static_cast<int64_t>(r.record.sequence()));
    return absl::OkStatus();
  }

 private:
  int version_;
  int fail_at_position_;
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
    auto runner = ProjectionRunner::Start(
        log_.get(),
        {.path = dir_.Sub("views"), .max_batch_records = batch,
         .background = background},
        std::move(all));
    EXPECT_TRUE(runner.ok()) << runner.status();
    return runner.ok() ? std::move(*runner) : nullptr;
  }

  int64_t Row(ProjectionRunner& runner, const std::string& key) {
    auto snapshot = runner.Snapshot();
    EXPECT_TRUE(snapshot.ok());
    auto value = (*snapshot)->view("meetings").GetInt(key);
    EXPECT_TRUE(value.ok());
    return *value;
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
  ASSERT_TRUE(runner
                  ->Rebuild("meetings",
                            [&](uint64_t reached, uint64_t) {
                              last_progress = reached;
                            })
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

}  // namespace
}  // namespace prongsai::projections

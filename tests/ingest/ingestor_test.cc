#include "services/ingest/ingestor.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/notification.h"
#include "core/log/rocksdb_log.h"
#include "tests/testing/testing.h"

namespace prongsai::ingest {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::TempDir;

v1::AppendRequest Request(const std::string& stream,
                          std::vector<v1::Event> events) {
  v1::AppendRequest request;
  request.set_stream(stream);
  for (auto& event : events) {
    *request.add_events() = std::move(event);
  }
  return request;
}

// Reads a stream back and checks what every reader relies on: dense
// sequences from 1, each prev_hash the hash of the record before, each hash
// the SHA-256 of the stored bytes. Returns the event ids in order.
std::vector<std::string> VerifyChain(log::EventLog& log,
                                     const std::string& stream) {
  std::vector<std::string> ids;
  Hash prev = kZeroHash;
  uint64_t expected = 1;
  EXPECT_TRUE(
      log.ReadStream(stream, 1,
                     [&](const log::LogEntry& entry) {
                       v1::Record record;
                       EXPECT_TRUE(record.ParseFromArray(
                           entry.record_bytes.data(),
                           static_cast<int>(entry.record_bytes.size())));
                       EXPECT_EQ(record.sequence(), expected);
                       EXPECT_EQ(entry.sequence, expected);
                       EXPECT_EQ(record.prev_hash(), AsBytes(prev));
                       EXPECT_EQ(AsBytes(Sha256(entry.record_bytes)),
                                 entry.hash);
                       HashFromBytes(entry.hash, &prev);
                       ++expected;
                       ids.push_back(record.event().event_id());
                       return true;
                     })
          .ok());
  return ids;
}

class IngestorTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    ingestor_.reset();
    log_.reset();
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("log")});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    IngestOptions options;
    options.clock = [] { return absl::FromUnixSeconds(1767225600); };
    options.max_events_per_append = 100;
    options.state_path = state_path_;
    auto ingestor = Ingestor::Start(log_.get(), options);
    ASSERT_TRUE(ingestor.ok()) << ingestor.status();
    ingestor_ = std::move(*ingestor);
  }

  TempDir dir_;
  std::string state_path_;  // empty: no saved state
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<Ingestor> ingestor_;
};

// The same, with the state saved on a clean stop.
class IngestorStateTest : public IngestorTest {
 protected:
  void SetUp() override {
    state_path_ = dir_.Sub("ingest.state");
    Open();
  }

  // An event that reuses the meeting id of `earlier`: refused only if the
  // write model knows that meeting.
  static v1::Event SameMeeting(const v1::Event& earlier) {
    v1::Event event = MeetingEvent("again");
    event.mutable_meeting_held()->set_meeting_id(
        earlier.meeting_held().meeting_id());
    return event;
  }

  std::string ReadState() {
    std::ifstream in(state_path_, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
  }
  void WriteState(const std::string& bytes) {
    std::ofstream(state_path_, std::ios::binary | std::ios::trunc) << bytes;
  }
};

TEST_F(IngestorStateTest, ARestartLoadsTheStateInsteadOfReplaying) {
  const v1::Event a = MeetingEvent("a");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {a, MeetingEvent("b")})).ok());
  ASSERT_TRUE(ingestor_->Append(Request("1001", {MeetingEvent("c")})).ok());
  Open();
  EXPECT_EQ(ingestor_->recovered_records(), 0u);
  EXPECT_EQ(ingestor_->recovered_from_position(), log_->LastPosition());
  // The domain state came back: the meeting id is taken.
  auto again = ingestor_->Append(Request("1045", {SameMeeting(a)}));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kInvalidArgument)
      << again.status();
  auto next = ingestor_->Append(Request("1045", {MeetingEvent("d")}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequences(0), 3u);
  EXPECT_EQ(VerifyChain(*log_, "1045").size(), 3u);
  EXPECT_EQ(VerifyChain(*log_, "1001").size(), 1u);
}

TEST_F(IngestorStateTest, AfterACrashOnlyTheRecordsPastTheStateReplay) {
  const v1::Event a = MeetingEvent("a");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {a})).ok());
  Open();
  const std::string saved = ReadState();
  const v1::Event later = MeetingEvent("later");
  ASSERT_TRUE(
      ingestor_->Append(Request("1045", {later, MeetingEvent("x")})).ok());
  // As after a crash: the state saved before the last two records.
  ingestor_.reset();
  WriteState(saved);
  Open();
  EXPECT_EQ(ingestor_->recovered_from_position(), 1u);
  EXPECT_EQ(ingestor_->recovered_records(), 2u);
  for (const v1::Event* taken : {&a, &later}) {
    EXPECT_EQ(ingestor_->Append(Request("1045", {SameMeeting(*taken)}))
                  .status()
                  .code(),
              absl::StatusCode::kInvalidArgument);
  }
  auto next = ingestor_->Append(Request("1045", {MeetingEvent("y")}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequences(0), 4u);
}

TEST_F(IngestorStateTest, AStateThatDoesNotMatchTheLogIsIgnored) {
  const v1::Event a = MeetingEvent("a");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {a, MeetingEvent("b")})).ok());
  Open();
  const std::string saved = ReadState();
  ASSERT_FALSE(saved.empty());

  // One byte changed anywhere: the checksum fails.
  std::string damaged = saved;
  damaged[damaged.size() / 2] ^= 0x01;
  // A state of another log: its head of 1045 is not this log's record.
  const std::string other_state = dir_.Sub("other.state");
  {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("other-log")});
    ASSERT_TRUE(log.ok());
    IngestOptions options;
    options.state_path = other_state;
    auto ingestor = Ingestor::Start(log->get(), options);
    ASSERT_TRUE(ingestor.ok());
    ASSERT_TRUE(
        (*ingestor)
            ->Append(Request("1045", {MeetingEvent("o1"), MeetingEvent("o2")}))
            .ok());
  }
  std::ifstream in(other_state, std::ios::binary);
  const std::string foreign{std::istreambuf_iterator<char>(in), {}};

  for (const std::string& bad : {damaged, foreign, std::string("junk")}) {
    ingestor_.reset();  // its clean stop saves a good state
    WriteState(bad);
    Open();
    EXPECT_EQ(ingestor_->recovered_from_position(), 0u);
    EXPECT_EQ(ingestor_->recovered_records(), 2u);
    EXPECT_EQ(
        ingestor_->Append(Request("1045", {SameMeeting(a)})).status().code(),
        absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(IngestorTest, AppendsABatchWithDenseSequencesAndAChain) {
  auto result = ingestor_->Append(Request(
      "1045", {MeetingEvent("m1"), MeetingEvent("m2"), MeetingEvent("m3")}));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(std::vector<uint64_t>(result->sequences().begin(),
                                  result->sequences().end()),
            (std::vector<uint64_t>{1, 2, 3}));
  EXPECT_EQ(result->head_sequence(), 3u);
  EXPECT_EQ(result->first_position(), 1u);
  EXPECT_EQ(result->last_position(), 3u);
  EXPECT_FALSE(result->duplicate());
  EXPECT_EQ(VerifyChain(*log_, "1045").size(), 3u);

  auto head = log_->LoadHead("1045");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(AsBytes(head->hash), result->head_hash());
}

TEST_F(IngestorTest, StoresTheEventExactlyAsProposedWithServerFields) {
  v1::Event event = MeetingEvent("m1");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {event})).ok());
  ASSERT_TRUE(
      log_->ReadStream("1045", 1,
                       [&](const log::LogEntry& entry) {
                         v1::Record record;
                         EXPECT_TRUE(record.ParseFromArray(
                             entry.record_bytes.data(),
                             static_cast<int>(entry.record_bytes.size())));
                         EXPECT_EQ(record.event().SerializeAsString(),
                                   event.SerializeAsString());
                         EXPECT_EQ(record.stream(), "1045");
                         EXPECT_EQ(record.recorded_at().seconds(), 1767225600);
                         // The stored bytes are protobuf's own encoding.
                         EXPECT_EQ(record.SerializeAsString(),
                                   entry.record_bytes);
                         return true;
                       })
          .ok());
}

TEST_F(IngestorTest, StreamsHaveIndependentSequences) {
  ASSERT_TRUE(ingestor_->Append(Request("1045", {MeetingEvent("a")})).ok());
  auto other = ingestor_->Append(Request("1001", {MeetingEvent("b")}));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->sequences(0), 1u);
  EXPECT_EQ(other->first_position(), 2u);
}

TEST_F(IngestorTest, ResendingTheSameBatchReturnsTheOriginalAndWritesNothing) {
  v1::AppendRequest request =
      Request("1045", {MeetingEvent("m1"), MeetingEvent("m2")});
  auto first = ingestor_->Append(request);
  ASSERT_TRUE(first.ok());
  ASSERT_TRUE(ingestor_->Append(Request("1045", {MeetingEvent("m3")})).ok());

  auto again = ingestor_->Append(request);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate());
  EXPECT_EQ(again->sequences(0), 1u);
  EXPECT_EQ(again->sequences(1), 2u);
  EXPECT_EQ(again->first_position(), 1u);
  EXPECT_EQ(again->last_position(), 2u);
  EXPECT_EQ(log_->LastPosition(), 3u);

  // Also after a restart: the index is in the log.
  Open();
  auto after_restart = ingestor_->Append(request);
  ASSERT_TRUE(after_restart.ok());
  EXPECT_TRUE(after_restart->duplicate());
  EXPECT_EQ(log_->LastPosition(), 3u);
}

TEST_F(IngestorTest, APartlyDuplicateBatchIsRejectedWhole) {
  v1::Event old_event = MeetingEvent("m1");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {old_event})).ok());
  auto result =
      ingestor_->Append(Request("1045", {MeetingEvent("m2"), old_event}));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(result.status().message().find(old_event.event_id()),
            absl::string_view::npos);
  EXPECT_EQ(log_->LastPosition(), 1u);
}

TEST_F(IngestorTest, ReusingAnEventIdForOtherContentIsRefused) {
  v1::Event event = MeetingEvent("m1");
  ASSERT_TRUE(ingestor_->Append(Request("1045", {event})).ok());
  event.mutable_meeting_held()->set_attendees(99);
  auto result = ingestor_->Append(Request("1045", {event}));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kAlreadyExists);
  // The same id on another stream is refused too.
  auto elsewhere = ingestor_->Append(Request("1001", {MeetingEvent("x")}));
  ASSERT_TRUE(elsewhere.ok());
  v1::Event moved = MeetingEvent("m1");
  moved.set_event_id(event.event_id());
  EXPECT_EQ(ingestor_->Append(Request("1001", {moved})).status().code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(IngestorTest, DuplicateIdsInsideOneBatchAreInvalid) {
  v1::Event event = MeetingEvent("m1");
  auto result = ingestor_->Append(Request("1045", {event, event}));
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("events[1].event_id"),
            absl::string_view::npos);
  EXPECT_EQ(log_->LastPosition(), 0u);
}

TEST_F(IngestorTest, ExpectedVersionIsEnforced) {
  struct Case {
    std::string name;
    std::function<void(v1::AppendRequest&)> expect;
    bool ok;
  };
  // The stream holds 2 events when each case runs.
  const std::vector<Case> cases = {
      {"any", [](v1::AppendRequest&) {}, true},
      {"exact current", [](v1::AppendRequest& r) { r.set_exact(2); }, true},
      {"exact stale", [](v1::AppendRequest& r) { r.set_exact(1); }, false},
      {"exact ahead", [](v1::AppendRequest& r) { r.set_exact(7); }, false},
      {"no stream on existing",
       [](v1::AppendRequest& r) { r.mutable_no_stream(); }, false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    TempDir dir;
    auto log = log::OpenRocksDbLog({.path = dir.Sub("log")});
    ASSERT_TRUE(log.ok());
    auto ingestor = Ingestor::Start(log->get());
    ASSERT_TRUE(ingestor.ok());
    ASSERT_TRUE(
        (*ingestor)
            ->Append(Request("1045", {MeetingEvent("a"), MeetingEvent("b")}))
            .ok());
    v1::AppendRequest request = Request("1045", {MeetingEvent("c")});
    c.expect(request);
    auto result = (*ingestor)->Append(request);
    EXPECT_EQ(result.ok(), c.ok) << result.status();
    if (!c.ok) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
      EXPECT_NE(result.status().message().find("version 2"),
                absl::string_view::npos)
          << result.status();
      EXPECT_EQ((*log)->LastPosition(), 2u);
    }
  }
}

TEST_F(IngestorTest, NoStreamSucceedsOnlyOnce) {
  v1::AppendRequest request = Request("1045", {MeetingEvent("a")});
  request.mutable_no_stream();
  ASSERT_TRUE(ingestor_->Append(request).ok());
  v1::AppendRequest second = Request("1045", {MeetingEvent("b")});
  second.mutable_no_stream();
  EXPECT_EQ(ingestor_->Append(second).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(IngestorTest, BadRequestsWriteNothing) {
  struct Case {
    std::string name;
    v1::AppendRequest request;
    absl::StatusCode code;
    std::string mentions;
  };
  v1::Event no_payload = MeetingEvent("a");
  no_payload.clear_meeting_held();
  v1::Event bad_id = MeetingEvent("a");
  bad_id.set_event_id("not-a-uuid");
  std::vector<v1::Event> too_many;
  for (int i = 0; i < 101; ++i) {
    too_many.push_back(MeetingEvent("m" + std::to_string(i)));
  }
  const std::vector<Case> cases = {
      {"unknown stream", Request("9999", {MeetingEvent("a")}),
       absl::StatusCode::kInvalidArgument, "stream"},
      {"empty stream", Request("", {MeetingEvent("a")}),
       absl::StatusCode::kInvalidArgument, "stream"},
      {"no events", Request("1045", {}), absl::StatusCode::kInvalidArgument,
       "events"},
      {"missing payload", Request("1045", {MeetingEvent("ok"), no_payload}),
       absl::StatusCode::kInvalidArgument, "events[1].payload"},
      {"bad event id", Request("1045", {bad_id}),
       absl::StatusCode::kInvalidArgument, "events[0].event_id"},
      {"too many events", Request("1045", too_many),
       absl::StatusCode::kResourceExhausted, "maximum is 100"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    auto result = ingestor_->Append(c.request);
    EXPECT_EQ(result.status().code(), c.code) << result.status();
    EXPECT_NE(result.status().message().find(c.mentions),
              absl::string_view::npos)
        << result.status();
  }
  EXPECT_EQ(log_->LastPosition(), 0u);
}

TEST_F(IngestorTest, ConcurrentAppendersToOneStreamMakeNoGapDuplicateOrFork) {
  constexpr int kThreads = 8;
  constexpr int kAppendsPerThread = 40;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  absl::Mutex mu;
  absl::flat_hash_set<std::string> acknowledged;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kAppendsPerThread; ++i) {
        std::vector<v1::Event> events;
        for (int k = 0; k <= (i % 3); ++k) {
          events.push_back(MeetingEvent("t" + std::to_string(t)));
        }
        v1::AppendRequest request = Request("1045", events);
        auto result = ingestor_->Append(request);
        if (!result.ok()) {
          ++failures;
          continue;
        }
        absl::MutexLock lock(&mu);
        for (const v1::Event& e : request.events()) {
          acknowledged.insert(e.event_id());
        }
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  EXPECT_EQ(failures.load(), 0);
  std::vector<std::string> ids = VerifyChain(*log_, "1045");
  EXPECT_EQ(ids.size(), acknowledged.size());
  absl::flat_hash_set<std::string> stored(ids.begin(), ids.end());
  EXPECT_EQ(stored.size(), ids.size()) << "an event was stored twice";
  EXPECT_EQ(stored, acknowledged);
}

// An append that finds the ingest idle is staged and written on its caller's
// thread; a big one still goes through the writer's threads. Both are
// durable before they are answered.
TEST_F(IngestorTest, ALoneSmallAppendIsWrittenOnItsCallersThread) {
  auto answered_on = [&](v1::AppendRequest request) {
    std::thread::id thread;
    absl::Notification done;
    ingestor_->AppendAsync(&request,
                           [&](absl::StatusOr<v1::AppendResponse> result) {
                             EXPECT_TRUE(result.ok()) << result.status();
                             thread = std::this_thread::get_id();
                             done.Notify();
                           });
    done.WaitForNotification();
    return thread;
  };
  EXPECT_EQ(answered_on(Request("1045", {MeetingEvent("a")})),
            std::this_thread::get_id());
  std::vector<v1::Event> many;
  for (int i = 0; i < 40; ++i) {
    many.push_back(MeetingEvent("b"));
  }
  EXPECT_NE(answered_on(Request("1045", many)), std::this_thread::get_id());
  EXPECT_EQ(answered_on(Request("1045", {MeetingEvent("c")})),
            std::this_thread::get_id());
  EXPECT_EQ(VerifyChain(*log_, "1045").size(), 42u);
  auto head = ingestor_->Head("1045");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 42u);
}

// An ingest that owns some streams (one shard on Kafka) replays only those
// into its write model, answers heads of the others from the log, and
// refuses appends to them.
TEST_F(IngestorTest, AnIngestOfOneShardReplaysOnlyItsOwnStreams) {
  ASSERT_TRUE(ingestor_
                  ->Append(Request("1045", {MeetingEvent("a"), MeetingEvent("b"),
                                            MeetingEvent("c")}))
                  .ok());
  auto other = ingestor_->Append(
      Request("1001", {MeetingEvent("d"), MeetingEvent("e")}));
  ASSERT_TRUE(other.ok());
  ingestor_.reset();

  IngestOptions options;
  options.clock = [] { return absl::FromUnixSeconds(1767225600); };
  options.check_owner = [](absl::string_view stream) {
    return stream == "1045" ? absl::OkStatus()
                            : absl::FailedPreconditionError(absl::StrCat(
                                  "stream ", stream, " is not owned here"));
  };
  auto shard = Ingestor::Start(log_.get(), options);
  ASSERT_TRUE(shard.ok()) << shard.status();
  EXPECT_EQ((*shard)->recovered_records(), 3u);

  auto head = (*shard)->Head("1001");
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(head->sequence, 2u);
  EXPECT_EQ(AsBytes(head->hash), other->head_hash());
  EXPECT_EQ((*shard)->Append(Request("1001", {MeetingEvent("f")}))
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  auto next = (*shard)->Append(Request("1045", {MeetingEvent("g")}));
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->sequences(0), 4u);
  EXPECT_EQ(VerifyChain(*log_, "1045").size(), 4u);

  options.state_path = dir_.Sub("ingest.state");
  EXPECT_EQ(Ingestor::Start(log_.get(), options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(IngestorTest, HeadsAreRecoveredFromTheLogOnRestart) {
  auto first = ingestor_->Append(
      Request("1045", {MeetingEvent("a"), MeetingEvent("b")}));
  ASSERT_TRUE(first.ok());
  Open();
  auto head = ingestor_->Head("1045");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 2u);
  EXPECT_EQ(AsBytes(head->hash), first->head_hash());
  auto next = ingestor_->Append(Request("1045", {MeetingEvent("c")}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->sequences(0), 3u);
  EXPECT_EQ(VerifyChain(*log_, "1045").size(), 3u);
}

TEST_F(IngestorTest, StoppedIngestRefusesWithUnavailable) {
  ingestor_->Stop();
  EXPECT_EQ(
      ingestor_->Append(Request("1045", {MeetingEvent("a")})).status().code(),
      absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace prongsai::ingest

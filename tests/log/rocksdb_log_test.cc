#include "core/log/rocksdb_log.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <thread>

#include "core/base/bytes.h"
#include "prongsai/v1/record.pb.h"
#include "tests/testing/testing.h"

namespace prongsai::log {
namespace {

using ::prongsai::testing::TempDir;

// A record of event "<stream>-<sequence>", told apart by `tag` (kept in its
// prev_hash, which the log does not read).
PendingRecord Record(const std::string& stream, uint64_t sequence,
                     const std::string& tag) {
  PendingRecord record;
  record.stream = stream;
  record.sequence = sequence;
  record.event_id = stream + "-" + std::to_string(sequence);
  v1::Record stored;
  stored.set_stream(stream);
  stored.set_sequence(sequence);
  stored.set_prev_hash(tag);
  stored.mutable_event()->set_event_id(record.event_id);
  record.bytes = stored.SerializeAsString();
  record.hash = Sha256(record.bytes);
  record.fingerprint = Sha256("event:" + tag);
  return record;
}

std::string TagOf(absl::string_view record_bytes) {
  v1::Record record;
  EXPECT_TRUE(record.ParseFromArray(record_bytes.data(),
                                    static_cast<int>(record_bytes.size())));
  return record.prev_hash();
}

std::vector<std::string> ReadAll(EventLog& log, const std::string& stream,
                                 uint64_t from = 1) {
  std::vector<std::string> out;
  EXPECT_TRUE(log.ReadStream(stream, from,
                             [&](const LogEntry& entry) {
                               out.push_back(TagOf(entry.record_bytes));
                               return true;
                             })
                  .ok());
  return out;
}

class RocksDbLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> Open(size_t ids_per_index_file = 1 << 18) {
    auto log = OpenRocksDbLog(
        {.path = dir_.Sub("log"), .ids_per_index_file = ids_per_index_file});
    EXPECT_TRUE(log.ok()) << log.status();
    return std::move(*log);
  }
  TempDir dir_;
};

TEST_F(RocksDbLogTest, WritesGiveConsecutivePositionsAcrossStreams) {
  auto log = Open();
  EXPECT_EQ(log->LastPosition(), 0u);
  auto first = log->Write({Record("1045", 1, "a"), Record("1001", 1, "b")});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(*first, 1u);
  auto second = log->Write({Record("1045", 2, "c")});
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(*second, 3u);
  EXPECT_EQ(log->LastPosition(), 3u);

  std::vector<std::pair<uint64_t, std::string>> scanned;
  ASSERT_TRUE(log->Scan(1,
                        [&](const LogEntry& e) {
                          scanned.emplace_back(e.position,
                                               std::string(e.stream));
                          return true;
                        })
                  .ok());
  EXPECT_EQ(scanned, (std::vector<std::pair<uint64_t, std::string>>{
                         {1, "1045"}, {2, "1001"}, {3, "1045"}}));
  EXPECT_EQ(ReadAll(*log, "1045"), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(ReadAll(*log, "1001"), (std::vector<std::string>{"b"}));
}

TEST_F(RocksDbLogTest, StreamNamesThatArePrefixesStayApart) {
  auto log = Open();
  ASSERT_TRUE(
      log->Write({Record("city", 1, "x"), Record("cityX", 1, "y")}).ok());
  EXPECT_EQ(ReadAll(*log, "city"), (std::vector<std::string>{"x"}));
  auto head = log->LoadHead("city");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 1u);
  EXPECT_EQ(head->position, 1u);
}

TEST_F(RocksDbLogTest, RecoversPositionHeadsAndIndexAfterReopen) {
  {
    auto log = Open();
    ASSERT_TRUE(
        log->Write({Record("1045", 1, "a"), Record("1045", 2, "b")}).ok());
  }
  auto log = Open();
  EXPECT_EQ(log->LastPosition(), 2u);
  auto head = log->LoadHead("1045");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 2u);
  EXPECT_EQ(head->hash, Record("1045", 2, "b").hash);
  auto missing = log->LoadHead("1001");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->sequence, 0u);

  auto ref = log->FindEvent("1045-2");
  ASSERT_TRUE(ref.ok());
  ASSERT_TRUE(ref->has_value());
  EXPECT_EQ((*ref)->stream, "1045");
  EXPECT_EQ((*ref)->sequence, 2u);
  EXPECT_EQ((*ref)->position, 2u);
  EXPECT_EQ((*ref)->fingerprint, Sha256("event:b"));
  auto none = log->FindEvent("nope");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

// A log written before the event-id index had its own column family: every
// key in the default family, the index under 'e' + event id. Opening it moves
// the index, and the ids are found again.
TEST_F(RocksDbLogTest, OpensALogOfTheSingleFamilyLayout) {
  const int kEvents = 25'000;  // more than one move batch
  {
    rocksdb::Options options;
    options.create_if_missing = true;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.Sub("log"), &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    rocksdb::WriteBatch batch;
    for (int i = 1; i <= kEvents; ++i) {
      const PendingRecord r = Record("1045", i, "bytes-" + std::to_string(i));
      std::string key(1, 'p');
      AppendBigEndian64(i, &key);
      std::string value(reinterpret_cast<const char*>(r.hash.data()), 32);
      AppendBigEndian64(r.sequence, &value);
      value.push_back(static_cast<char>(r.stream.size()));
      value += r.stream + r.bytes;
      batch.Put(key, value);
      key = "s" + r.stream + std::string(1, '\0');
      AppendBigEndian64(r.sequence, &key);
      value.clear();
      AppendBigEndian64(i, &value);
      batch.Put(key, value);
      value.clear();
      AppendBigEndian64(i, &value);
      AppendBigEndian64(r.sequence, &value);
      value.append(reinterpret_cast<const char*>(r.fingerprint.data()), 32);
      value += r.stream;
      batch.Put("e" + r.event_id, value);
    }
    ASSERT_TRUE(db->Write(rocksdb::WriteOptions(), &batch).ok());
  }
  for (int open = 0; open < 2; ++open) {
    auto log = Open();
    EXPECT_EQ(log->LastPosition(), static_cast<uint64_t>(kEvents + open));
    for (int i : {1, 10'000, 10'001, kEvents}) {
      auto found = log->FindEvent("1045-" + std::to_string(i));
      ASSERT_TRUE(found.ok()) << found.status();
      ASSERT_TRUE(found->has_value()) << i;
      EXPECT_EQ((*found)->sequence, static_cast<uint64_t>(i));
      EXPECT_EQ((*found)->position, static_cast<uint64_t>(i));
      EXPECT_EQ((*found)->fingerprint,
                Sha256("event:bytes-" + std::to_string(i)));
    }
    auto absent = log->FindEvent("1045-0");
    ASSERT_TRUE(absent.ok());
    EXPECT_FALSE(absent->has_value());
    auto head = log->LoadHead("1045");
    ASSERT_TRUE(head.ok());
    EXPECT_EQ(head->sequence, static_cast<uint64_t>(kEvents + open));
    // New records are indexed the current way, beside the old ids.
    if (open == 0) {
      ASSERT_TRUE(log->Write({Record("1045", kEvents + 1, "new")}).ok());
    }
    auto added = log->FindEvent("1045-" + std::to_string(kEvents + 1));
    ASSERT_TRUE(added.ok()) << added.status();
    ASSERT_TRUE(added->has_value());
    EXPECT_EQ((*added)->position, static_cast<uint64_t>(kEvents + 1));
  }
}

// The stream index holds one entry per run of a stream's records in a write;
// reads start anywhere inside a run.
TEST_F(RocksDbLogTest, ReadsFromInsideRunsOfManyStreams) {
  auto log = Open();
  std::vector<PendingRecord> batch;
  uint64_t seq_a = 0, seq_b = 0;
  for (int run = 0; run < 4; ++run) {
    for (int i = 0; i < 5; ++i) {
      ++seq_a;
      batch.push_back(Record("1045", seq_a, "a" + std::to_string(seq_a)));
    }
    for (int i = 0; i < 3; ++i) {
      ++seq_b;
      batch.push_back(Record("1001", seq_b, "b" + std::to_string(seq_b)));
    }
  }
  ASSERT_TRUE(log->Write(batch).ok());
  ASSERT_TRUE(log->Write({Record("1045", 21, "a21")}).ok());
  for (uint64_t from : {1, 3, 5, 6, 19, 20, 21, 22}) {
    std::vector<std::string> expected;
    for (uint64_t s = from; s <= 21; ++s) {
      expected.push_back("a" + std::to_string(s));
    }
    EXPECT_EQ(ReadAll(*log, "1045", from), expected) << from;
  }
  EXPECT_EQ(ReadAll(*log, "1001", 12), (std::vector<std::string>{"b12"}));
  auto head = log->LoadHead("1001");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 12u);
  EXPECT_EQ(head->position, 32u);
  head = log->LoadHead("1045");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence, 21u);
  EXPECT_EQ(head->position, 33u);
  EXPECT_EQ(head->hash, Record("1045", 21, "a21").hash);
}

// Ids are found while held in memory, while their batch is written to the
// index, and from the index, also after a reopen.
TEST_F(RocksDbLogTest, FindsEveryIdAcrossIndexFiles) {
  constexpr int kWrites = 40, kPerWrite = 25;
  auto check = [](EventLog& log) {
    std::vector<std::string> ids;
    for (int s = 1; s <= kWrites * kPerWrite; ++s) {
      ids.push_back("1045-" + std::to_string(s));
    }
    ids.push_back("1045-0");
    std::vector<absl::string_view> views(ids.begin(), ids.end());
    auto found = log.FindEvents(views);
    ASSERT_TRUE(found.ok()) << found.status();
    for (int s = 1; s <= kWrites * kPerWrite; ++s) {
      const std::optional<EventRef>& ref = (*found)[s - 1];
      ASSERT_TRUE(ref.has_value()) << s;
      EXPECT_EQ(ref->sequence, static_cast<uint64_t>(s));
      EXPECT_EQ(ref->position, static_cast<uint64_t>(s));
      EXPECT_EQ(ref->stream, "1045");
      EXPECT_EQ(ref->fingerprint, Sha256("event:t" + std::to_string(s)));
    }
    EXPECT_FALSE(found->back().has_value());
  };
  {
    auto log = Open(/*ids_per_index_file=*/60);
    uint64_t sequence = 0;
    for (int w = 0; w < kWrites; ++w) {
      std::vector<PendingRecord> batch;
      for (int i = 0; i < kPerWrite; ++i) {
        ++sequence;
        batch.push_back(
            Record("1045", sequence, "t" + std::to_string(sequence)));
      }
      ASSERT_TRUE(log->Write(batch).ok());
    }
    check(*log);
  }
  auto log = Open(60);
  check(*log);
}

// A process that dies without closing the log leaves ids that never reached
// the index; the next open reads them back from the records.
TEST_F(RocksDbLogTest, IdsOfRecordsPastTheIndexSurviveACrash) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto log =
        OpenRocksDbLog({.path = dir_.Sub("log"), .ids_per_index_file = 1000});
    if (!log.ok()) {
      _exit(2);
    }
    for (uint64_t s = 1; s <= 2500; s += 100) {
      std::vector<PendingRecord> batch;
      for (uint64_t i = s; i < s + 100; ++i) {
        batch.push_back(Record("1045", i, "t" + std::to_string(i)));
      }
      if (!(*log)->Write(batch).ok()) {
        _exit(3);
      }
    }
    _exit(0);  // no destructor: the held ids are lost with the process
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  auto log = Open(1000);
  EXPECT_EQ(log->LastPosition(), 2500u);
  for (int s : {1, 999, 1000, 1001, 2001, 2500}) {
    auto ref = log->FindEvent("1045-" + std::to_string(s));
    ASSERT_TRUE(ref.ok()) << ref.status();
    ASSERT_TRUE(ref->has_value()) << s;
    EXPECT_EQ((*ref)->sequence, static_cast<uint64_t>(s));
    EXPECT_EQ((*ref)->fingerprint, Sha256("event:t" + std::to_string(s)));
  }
}

// The index is keyed by a 64-bit hash of the id: an entry that leads to a
// record of another id is a collision, and the new id is refused by name.
TEST_F(RocksDbLogTest, AnIdWhoseHashMeetsAnotherIsRefused) {
  {
    auto log = Open();
    ASSERT_TRUE(log->Write({Record("1045", 1, "a")}).ok());
  }
  {
    rocksdb::DBOptions options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {
        {rocksdb::kDefaultColumnFamilyName, {}}, {"event_index", {}}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(options, dir_.Sub("log"), families, &handles, &raw)
            .ok());
    std::string key, value;
    AppendBigEndian64(StableHash64("1001-7"), &key);
    AppendBigEndian64(1, &value);
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[1], key, value).ok());
    for (auto* handle : handles) {
      raw->DestroyColumnFamilyHandle(handle);
    }
    delete raw;
  }
  auto log = Open();
  auto ref = log->FindEvent("1001-7");
  EXPECT_EQ(ref.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(ref.status().message().find("1045-1"), std::string::npos)
      << ref.status();
  auto own = log->FindEvent("1045-1");
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->has_value());
}

TEST_F(RocksDbLogTest, ABatchWithABadRecordWritesNothing) {
  auto log = Open();
  auto result = log->Write(
      {Record("1045", 1, "a"), Record(std::string(300, 's'), 1, "b")});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(log->LastPosition(), 0u);
  EXPECT_TRUE(ReadAll(*log, "1045").empty());
}

TEST_F(RocksDbLogTest, ScanFromAPositionAndStopEarly) {
  auto log = Open();
  for (uint64_t i = 1; i <= 10; ++i) {
    ASSERT_TRUE(log->Write({Record("1045", i, std::to_string(i))}).ok());
  }
  std::vector<uint64_t> seen;
  ASSERT_TRUE(log->Scan(4,
                        [&](const LogEntry& e) {
                          seen.push_back(e.position);
                          return seen.size() < 3;
                        })
                  .ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{4, 5, 6}));
}

TEST_F(RocksDbLogTest, WaitForPositionWakesOnWrite) {
  auto log = Open();
  EXPECT_EQ(log->WaitForPosition(1, absl::Now() + absl::Milliseconds(20)), 0u);
  std::thread writer(
      [&] { ASSERT_TRUE(log->Write({Record("1045", 1, "a")}).ok()); });
  EXPECT_EQ(log->WaitForPosition(1, absl::Now() + absl::Seconds(10)), 1u);
  writer.join();
}

}  // namespace
}  // namespace prongsai::log

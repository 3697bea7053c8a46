#include "core/log/rocksdb_log.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <thread>

#include "core/base/bytes.h"
#include "tests/testing/testing.h"

namespace prongsai::log {
namespace {

using ::prongsai::testing::TempDir;

PendingRecord Record(const std::string& stream, uint64_t sequence,
                     const std::string& bytes) {
  PendingRecord record;
  record.stream = stream;
  record.sequence = sequence;
  record.event_id = stream + "-" + std::to_string(sequence);
  record.bytes = bytes;
  record.hash = Sha256(bytes);
  record.fingerprint = Sha256("event:" + bytes);
  return record;
}

std::vector<std::string> ReadAll(EventLog& log, const std::string& stream) {
  std::vector<std::string> out;
  EXPECT_TRUE(log.ReadStream(stream, 1,
                             [&](const LogEntry& entry) {
                               out.emplace_back(entry.record_bytes);
                               return true;
                             })
                  .ok());
  return out;
}

class RocksDbLogTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> Open() {
    auto log = OpenRocksDbLog({.path = dir_.Sub("log")});
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
  EXPECT_EQ(head->hash, Sha256("b"));
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
    EXPECT_EQ(log->LastPosition(), static_cast<uint64_t>(kEvents));
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
    EXPECT_EQ(head->sequence, static_cast<uint64_t>(kEvents));
  }
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

// Tampering with stored data at the byte level, behind the server's back,
// and what `prongsai verify` says about the export made afterwards: each
// kind of change is caught at the record where it was made.
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <fstream>
#include <functional>

#include "core/audit/export.h"
#include "core/audit/verify.h"
#include "core/base/bytes.h"
#include "services/cli/audit_commands.h"
#include "tests/audit/stack.h"

namespace prongsai::audit {
namespace {

constexpr int kRecords = 300;

// The key layout of the embedded log (core/log/rocksdb_log.cc):
//   'p' pos(8)  -> hash(32) seq(8) len(1) stream [fingerprint(32)] record
//   's' stream '\0' first_seq(8) -> pos(8) count(8), or pos(8) for one
// The tampering works on an index of one entry per record (SplitRuns).
std::string PositionKey(uint64_t position) {
  std::string key(1, 'p');
  AppendBigEndian64(position, &key);
  return key;
}

std::string StreamKey(absl::string_view stream, uint64_t sequence) {
  std::string key(1, 's');
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  AppendBigEndian64(sequence, &key);
  return key;
}

// The log's RocksDB database, opened directly.
class RawLog {
 public:
  // Opens every column family; the tampering touches the default one, which
  // holds the records and the stream index.
  explicit RawLog(const std::string& path) {
    std::vector<std::string> names;
    rocksdb::Status status =
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
    EXPECT_TRUE(status.ok()) << status.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) {
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    rocksdb::DB* raw = nullptr;
    status = rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors,
                               &families_, &raw);
    EXPECT_TRUE(status.ok()) << status.ToString();
    db_.reset(raw);
    SplitRuns();
  }
  ~RawLog() {
    for (rocksdb::ColumnFamilyHandle* family : families_) {
      db_->DestroyColumnFamilyHandle(family);
    }
  }

  std::string Get(const std::string& key) {
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), key, &value);
    EXPECT_TRUE(status.ok()) << status.ToString();
    return value;
  }
  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
  }
  void Delete(const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), key).ok());
  }

  // Rewrites each run of the stream index as one entry per record.
  void SplitRuns() {
    rocksdb::WriteBatch batch;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    for (it->Seek("s"); it->Valid() && it->key()[0] == 's'; it->Next()) {
      if (it->value().size() != 16) {
        continue;
      }
      const std::string key = it->key().ToString();
      const uint64_t first = ReadBigEndian64(key.data() + key.size() - 8);
      const uint64_t position = ReadBigEndian64(it->value().data());
      const uint64_t count = ReadBigEndian64(it->value().data() + 8);
      batch.Delete(key);
      for (uint64_t i = 0; i < count; ++i) {
        std::string one = key.substr(0, key.size() - 8);
        AppendBigEndian64(first + i, &one);
        std::string value;
        AppendBigEndian64(position + i, &value);
        batch.Put(one, value);
      }
    }
    ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &batch).ok());
  }

  uint64_t PositionOf(uint64_t sequence) {
    return ReadBigEndian64(Get(StreamKey("1045", sequence)).data());
  }
  std::string Entry(uint64_t sequence) {
    return Get(PositionKey(PositionOf(sequence)));
  }
  uint64_t LastPosition() {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(PositionKey(UINT64_MAX));
    return ReadBigEndian64(it->key().data() + 1);
  }

 private:
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
};

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<testing::AuditStack>(dir_.path());
    ASSERT_TRUE(stack_->Open().ok());
    // Two streams interleaved, so positions differ from sequences.
    for (int round = 0; round < 3; ++round) {
      const std::string tag = "r" + std::to_string(round);
      ASSERT_TRUE(
          testing::AppendHistory(*stack_, "1045", kRecords / 3, tag).ok());
      ASSERT_TRUE(testing::AppendHistory(*stack_, "1046", 17, tag).ok());
    }
    Refresh();
  }

  void Refresh() {
    ASSERT_TRUE(stack_->checkpointer()->CheckpointStream("1045").ok());
  }

  // Runs `tamper` on the log's RocksDB files with the server down.
  void TamperWithLog(const std::function<void(RawLog&)>& tamper) {
    stack_->Close();
    {
      RawLog raw(dir_.Sub("log"));
      tamper(raw);
    }
    ASSERT_TRUE(stack_->Open().ok());
  }

  // `prongsai export` through the Audit API, then the verifier.
  VerifyReport ExportAndVerify(int earlier = 0, int* exit_code = nullptr) {
    const std::string out = dir_.Sub("1045.export");
    EXPECT_EQ(testing::RunCli(cli::RunExport, cli::kExportCommand,
                              {"--stream", "1045", "--out", out, "--server",
                               stack_->address(), "--refresh=false",
                               "--earlier", std::to_string(earlier)}),
              0);
    return Verify(out, exit_code);
  }

  VerifyReport Verify(const std::string& path, int* exit_code = nullptr) {
    if (exit_code != nullptr) {
      *exit_code = testing::RunCli(cli::RunVerify, cli::kVerifyCommand,
                                   {path, "--key", stack_->verifier_key()});
    }
    absl::StatusOr<VerifyReport> report =
        VerifyExportFile(path, {stack_->verifier()});
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{};
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<testing::AuditStack> stack_;
};

TEST_F(TamperTest, AnHonestHistoryWithCorrectionsVerifies) {
  // More history, checkpointed along the way.
  for (int round = 0; round < 4; ++round) {
    ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 450,
                                       "long" + std::to_string(round))
                    .ok());
    Refresh();
  }
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(/*earlier=*/10, &exit_code);
  EXPECT_EQ(report.finding, Finding::kOk) << FormatReport(report);
  EXPECT_EQ(report.size, static_cast<uint64_t>(kRecords + 4 * 450));
  EXPECT_EQ(exit_code, 0);
}

TEST_F(TamperTest, OneByteOfAPayloadChangedInRocksDb) {
  uint64_t position = 0;
  TamperWithLog([&](RawLog& raw) {
    position = raw.PositionOf(150);
    std::string value = raw.Entry(150);
    // Inside the meeting title, far from the header.
    const size_t at = value.find("\xe0\xb8\x9b\xe0\xb8\xa3\xe0\xb8\xb0");
    ASSERT_NE(at, std::string::npos);
    value[at + 2] ^= 0x01;
    raw.Put(PositionKey(position), value);
  });
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(0, &exit_code);
  EXPECT_EQ(report.finding, Finding::kModified) << FormatReport(report);
  EXPECT_EQ(report.sequence, 150u);
  EXPECT_EQ(report.position, position);
  EXPECT_EQ(exit_code, ExitCode(Finding::kModified));
}

TEST_F(TamperTest, ARecordDeleted) {
  TamperWithLog([&](RawLog& raw) {
    const uint64_t position = raw.PositionOf(150);
    raw.Delete(StreamKey("1045", 150));
    raw.Delete(PositionKey(position));
  });
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(0, &exit_code);
  EXPECT_EQ(report.finding, Finding::kMissing) << FormatReport(report);
  EXPECT_EQ(report.sequence, 150u);
  EXPECT_EQ(exit_code, ExitCode(Finding::kMissing));
}

TEST_F(TamperTest, TwoRecordsSwapped) {
  TamperWithLog([&](RawLog& raw) {
    const std::string a = raw.Get(StreamKey("1045", 150));
    const std::string b = raw.Get(StreamKey("1045", 151));
    raw.Put(StreamKey("1045", 150), b);
    raw.Put(StreamKey("1045", 151), a);
  });
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(0, &exit_code);
  EXPECT_EQ(report.finding, Finding::kReordered) << FormatReport(report);
  EXPECT_EQ(report.sequence, 150u);
  EXPECT_EQ(exit_code, ExitCode(Finding::kReordered));
}

TEST_F(TamperTest, AForgedRecordInserted) {
  uint64_t forged_position = 0;
  TamperWithLog([&](RawLog& raw) {
    // A record that chains correctly after sequence 149, slipped in as 150;
    // the real records from 150 on move one place down the index.
    const std::string previous = raw.Entry(149);
    v1::Record record;
    record.set_stream("1045");
    record.set_sequence(150);
    record.set_prev_hash(previous.substr(0, kHashSize));
    *record.mutable_event() = testing::Meeting("forged", 999);
    const std::string bytes = record.SerializeAsString();
    const Hash hash = Sha256(bytes);
    std::string value(AsBytes(hash));
    AppendBigEndian64(150, &value);
    value.push_back(4);
    value += "1045" + bytes;
    forged_position = raw.LastPosition() + 1;
    raw.Put(PositionKey(forged_position), value);
    for (uint64_t s = kRecords; s >= 150; --s) {
      raw.Put(StreamKey("1045", s + 1), raw.Get(StreamKey("1045", s)));
    }
    std::string pos;
    AppendBigEndian64(forged_position, &pos);
    raw.Put(StreamKey("1045", 150), pos);
  });
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(0, &exit_code);
  EXPECT_EQ(report.finding, Finding::kInserted) << FormatReport(report);
  EXPECT_EQ(report.sequence, 150u);
  EXPECT_EQ(report.position, forged_position);
  EXPECT_EQ(exit_code, ExitCode(Finding::kInserted));
}

TEST_F(TamperTest, TheTailCut) {
  TamperWithLog([&](RawLog& raw) {
    for (uint64_t s = kRecords - 4; s <= kRecords; ++s) {
      const uint64_t position = raw.PositionOf(s);
      raw.Delete(StreamKey("1045", s));
      raw.Delete(PositionKey(position));
    }
  });
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(0, &exit_code);
  EXPECT_EQ(report.finding, Finding::kTruncated) << FormatReport(report);
  EXPECT_EQ(report.sequence, static_cast<uint64_t>(kRecords - 4));
  EXPECT_EQ(exit_code, ExitCode(Finding::kTruncated));
}

TEST_F(TamperTest, ACheckpointReSignedWithAnotherKey) {
  const std::string honest = dir_.Sub("honest.export");
  ASSERT_EQ(testing::RunCli(cli::RunExport, cli::kExportCommand,
                            {"--stream", "1045", "--out", honest, "--server",
                             stack_->address()}),
            0);
  std::ifstream in(honest, std::ios::binary);
  const std::string data((std::istreambuf_iterator<char>(in)), {});
  absl::StatusOr<ParsedExport> parsed = ParseExport(data);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->checkpoints.size(), 1u);

  // The same checkpoint text under a key of the same name.
  const std::string text(parsed->checkpoints[0].substr(
      0, parsed->checkpoints[0].find("\n\n") + 1));
  const NoteSigner other =
      *NoteSigner::Generate(std::string(testing::kLogName));
  std::string forged;
  ExportEncoder encoder(&forged, parsed->stream);
  ASSERT_TRUE(encoder.AddCheckpoint(*other.Sign(text)).ok());
  for (const ExportRecord& r : parsed->records) {
    encoder.AddRecord(r.position, r.sequence, r.hash, r.bytes);
  }
  encoder.Finish();
  const std::string path = dir_.Sub("resigned.export");
  std::ofstream(path, std::ios::binary) << forged;

  int exit_code = -1;
  VerifyReport report = Verify(path, &exit_code);
  EXPECT_EQ(report.finding, Finding::kBadSignature) << FormatReport(report);
  EXPECT_EQ(exit_code, ExitCode(Finding::kBadSignature));
  EXPECT_EQ(Verify(honest).finding, Finding::kOk);
}

TEST_F(TamperTest, AReSignedCheckpointInTheStoreStopsTheServer) {
  stack_->Close();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("checkpoints"), &raw)
            .ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key(1, 'c');
    key += "1045";
    key.push_back('\0');
    AppendBigEndian64(kRecords, &key);
    std::string note;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &note).ok());
    const NoteSigner other =
        *NoteSigner::Generate(std::string(testing::kLogName));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key,
                        *other.Sign(note.substr(0, note.find("\n\n") + 1)))
                    .ok());
  }
  absl::Status reopened = stack_->Open();
  EXPECT_EQ(reopened.code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(reopened.message().find("does not verify"), std::string::npos)
      << reopened;
}

TEST_F(TamperTest, TwoCheckpointsThatFork) {
  // A checkpoint of size 100 over another history, signed with the server's
  // own key and stored beside the honest ones: what a server that showed
  // two histories to two auditors would hold.
  std::vector<std::string> records;
  ASSERT_TRUE(stack_->log()
                  ->ReadStream("1045", 1,
                               [&](const log::LogEntry& e) {
                                 records.emplace_back(e.record_bytes);
                                 return records.size() < 100;
                               })
                  .ok());
  records[40][records[40].size() - 5] ^= 0x01;
  CompactTree tree;
  for (const std::string& r : records) {
    tree.Append(LeafHash(r));
  }
  Checkpoint fork;
  fork.origin = "prongsai.test/1045";
  fork.size = 100;
  fork.root = tree.Root();
  const std::string note = *ReadSignerKeyFile(dir_.Sub("checkpoint.key"))
                                ->Sign(FormatCheckpoint(fork));
  stack_->Close();
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::Options(), dir_.Sub("checkpoints"), &raw)
            .ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    std::string key(1, 'c');
    key += "1045";
    key.push_back('\0');
    AppendBigEndian64(100, &key);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), key, note).ok());
  }
  ASSERT_TRUE(stack_->Open().ok());
  int exit_code = -1;
  VerifyReport report = ExportAndVerify(/*earlier=*/5, &exit_code);
  EXPECT_EQ(report.finding, Finding::kFork) << FormatReport(report);
  EXPECT_EQ(exit_code, ExitCode(Finding::kFork));
  // Without the earlier checkpoint the records still verify: a fork shows
  // only when both heads are compared.
  EXPECT_EQ(ExportAndVerify(0).finding, Finding::kOk);
}

}  // namespace
}  // namespace prongsai::audit

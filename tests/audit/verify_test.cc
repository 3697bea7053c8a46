#include "core/audit/verify.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "absl/strings/str_cat.h"
#include "core/audit/export.h"
#include "tests/audit/history.h"

namespace prongsai::audit {
namespace {

using testing::EncodeExport;
using testing::MakeHistory;
using testing::SignedCheckpoint;
using testing::StoredRecord;

constexpr int kRecords = 40;

class VerifyTest : public ::testing::Test {
 public:
  VerifyTest()
      : signer_(*NoteSigner::Generate("prongsai.test")),
        records_(MakeHistory("1045", kRecords)) {}

  VerifyReport Verify(const std::string& data, int threads = 1) {
    absl::StatusOr<VerifyReport> report =
        VerifyExport(data, {signer_.Verifier()}, {.threads = threads});
    EXPECT_TRUE(report.ok()) << report.status();
    return report.ok() ? *report : VerifyReport{};
  }

  std::string Latest() {
    return SignedCheckpoint(signer_, "1045", records_, records_.size());
  }

  // A record that chains after `previous` but says something else.
  StoredRecord Forged(uint64_t sequence, const Hash& previous) {
    v1::Record record;
    record.set_stream("1045");
    record.set_sequence(sequence);
    record.set_prev_hash(std::string(AsBytes(previous)));
    *record.mutable_event() = prongsai::testing::MeetingEvent("forged", 999);
    StoredRecord stored;
    stored.position = 10'000;
    stored.sequence = sequence;
    stored.bytes = record.SerializeAsString();
    stored.hash = Sha256(stored.bytes);
    return stored;
  }

  NoteSigner signer_;
  std::vector<StoredRecord> records_;
};

TEST_F(VerifyTest, HonestExportVerifies) {
  const std::string data = EncodeExport(
      "1045", {SignedCheckpoint(signer_, "1045", records_, 10), Latest()},
      records_);
  for (int threads : {1, 4}) {
    SCOPED_TRACE(threads);
    VerifyReport report = Verify(data, threads);
    EXPECT_EQ(report.finding, Finding::kOk) << FormatReport(report);
    EXPECT_EQ(report.size, static_cast<uint64_t>(kRecords));
    EXPECT_EQ(report.root, testing::RootOf(records_, kRecords));
    EXPECT_EQ(FormatReport(report),
              absl::StrCat("OK 1045 size 40 root ",
                           Base64Encode(AsBytes(report.root))));
    EXPECT_EQ(ExitCode(report.finding), 0);
  }
}

struct TamperCase {
  std::string name;
  // Changes the records and returns the checkpoint notes of the export.
  std::function<std::vector<std::string>(VerifyTest*,
                                         std::vector<StoredRecord>&)>
      tamper;
  Finding finding;
  uint64_t sequence;
};

TEST_F(VerifyTest, FindsEachKindOfTamperingAtItsPlace) {
  const std::string latest = Latest();
  std::vector<TamperCase> cases = {
      {"one byte of a payload",
       [&](VerifyTest*, std::vector<StoredRecord>& r) {
         r[6].bytes[r[6].bytes.size() - 3] ^= 0x01;
         return std::vector<std::string>{latest};
       },
       Finding::kModified, 7},
      {"payload and stored hash rewritten",
       [&](VerifyTest*, std::vector<StoredRecord>& r) {
         r[6].bytes[r[6].bytes.size() - 3] ^= 0x01;
         r[6].hash = Sha256(r[6].bytes);
         return std::vector<std::string>{latest};
       },
       Finding::kModified, 7},
      {"a record deleted",
       [&](VerifyTest*, std::vector<StoredRecord>& r) {
         r.erase(r.begin() + 6);
         return std::vector<std::string>{latest};
       },
       Finding::kMissing, 7},
      {"two records swapped",
       [&](VerifyTest*, std::vector<StoredRecord>& r) {
         std::swap(r[6], r[7]);
         return std::vector<std::string>{latest};
       },
       Finding::kReordered, 7},
      {"a forged record inserted before its sequence",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         r.insert(r.begin() + 6, t->Forged(7, r[5].hash));
         return std::vector<std::string>{latest};
       },
       Finding::kInserted, 7},
      {"a forged record inserted after its sequence",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         r.insert(r.begin() + 7, t->Forged(7, r[5].hash));
         return std::vector<std::string>{latest};
       },
       Finding::kInserted, 7},
      {"a record appended past the checkpoint",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         r.push_back(t->Forged(kRecords + 1, r.back().hash));
         return std::vector<std::string>{latest};
       },
       Finding::kInserted, kRecords + 1},
      {"the tail cut",
       [&](VerifyTest*, std::vector<StoredRecord>& r) {
         r.resize(kRecords - 3);
         return std::vector<std::string>{latest};
       },
       Finding::kTruncated, kRecords - 2},
      {"the chain rewritten from sequence 12 on",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         Hash prev = r[10].hash;
         for (size_t i = 11; i < r.size(); ++i) {
           r[i] = t->Forged(i + 1, prev);
           prev = r[i].hash;
         }
         return std::vector<std::string>{
             SignedCheckpoint(t->signer_, "1045", t->records_, 10), latest};
       },
       Finding::kModified, 11},
      {"re-signed with another key",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         NoteSigner other = *NoteSigner::Generate("prongsai.test");
         return std::vector<std::string>{
             SignedCheckpoint(other, "1045", r, r.size())};
       },
       Finding::kBadSignature, 0},
      {"a signed checkpoint of another stream",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         return std::vector<std::string>{
             SignedCheckpoint(t->signer_, "1046", r, r.size())};
       },
       Finding::kBadSignature, 0},
      {"two checkpoints of one size",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         Checkpoint fork;
         fork.origin = StreamOrigin("prongsai.test", "1045");
         fork.size = kRecords;
         fork.root = LeafHash("another history");
         return std::vector<std::string>{
             *t->signer_.Sign(FormatCheckpoint(fork)), latest};
       },
       Finding::kFork, 0},
      {"an earlier checkpoint from another history",
       [&](VerifyTest* t, std::vector<StoredRecord>& r) {
         std::vector<StoredRecord> other = MakeHistory("1045", 10, "fork");
         return std::vector<std::string>{
             SignedCheckpoint(t->signer_, "1045", other, 10), latest};
       },
       Finding::kFork, 0},
  };
  for (const TamperCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<StoredRecord> records = records_;
    std::vector<std::string> notes = c.tamper(this, records);
    VerifyReport report = Verify(EncodeExport("1045", notes, records));
    EXPECT_EQ(report.finding, c.finding) << FormatReport(report);
    EXPECT_EQ(report.sequence, c.sequence) << FormatReport(report);
    EXPECT_NE(ExitCode(report.finding), 0);
  }
}

TEST_F(VerifyTest, ReportsTheLogPositionOfTheBadRecord) {
  std::vector<StoredRecord> records = records_;
  records[19].bytes[5] ^= 0x40;
  VerifyReport report = Verify(EncodeExport("1045", {Latest()}, records));
  EXPECT_EQ(report.finding, Finding::kModified);
  EXPECT_EQ(report.sequence, 20u);
  EXPECT_EQ(report.position, records[19].position);
  EXPECT_EQ(FormatReport(report).substr(0, 48),
            "modified at sequence 20 (log position 60) in str");
}

TEST_F(VerifyTest, AFileCutShortIsTruncated) {
  const std::string data = EncodeExport("1045", {Latest()}, records_);
  for (size_t cut : {data.size() - 1, data.size() - 9, data.size() / 2}) {
    SCOPED_TRACE(cut);
    VerifyReport report = Verify(data.substr(0, cut));
    EXPECT_EQ(report.finding, Finding::kTruncated) << FormatReport(report);
  }
}

TEST_F(VerifyTest, NotAnExportIsMalformed) {
  VerifyReport report = Verify("hello\n");
  EXPECT_EQ(report.finding, Finding::kMalformed);
  EXPECT_EQ(ExitCode(report.finding), 17);
  EXPECT_FALSE(
      VerifyExport(EncodeExport("1045", {Latest()}, records_), {}).ok());
}

TEST_F(VerifyTest, ExitCodesAreDistinct) {
  std::set<int> codes;
  for (Finding f :
       {Finding::kOk, Finding::kModified, Finding::kMissing, Finding::kInserted,
        Finding::kReordered, Finding::kTruncated, Finding::kBadSignature,
        Finding::kFork, Finding::kMalformed}) {
    EXPECT_TRUE(codes.insert(ExitCode(f)).second) << FindingName(f);
  }
}

TEST(VerifyParallelTest, ThreadsAndBlocksGiveTheSameAnswers) {
  // Several aligned blocks of 4096 records, checkpoints on a block boundary,
  // inside a block and at the end.
  const NoteSigner signer = *NoteSigner::Generate("prongsai.test");
  const std::vector<StoredRecord> records = MakeHistory("1045", 9000);
  std::vector<std::string> notes;
  for (size_t size : {4096u, 5000u, 9000u}) {
    notes.push_back(SignedCheckpoint(signer, "1045", records, size));
  }
  struct Case {
    std::string name;
    size_t modify;  // index of the record to change; npos: none
    Finding finding;
    uint64_t sequence;
  } cases[] = {
      {"honest", std::string::npos, Finding::kOk, 0},
      {"in the first block", 100, Finding::kModified, 101},
      {"in the block with a checkpoint inside", 4500, Finding::kModified, 4501},
      {"in the last, partial block", 8999, Finding::kModified, 9000},
  };
  for (const Case& c : cases) {
    std::vector<StoredRecord> copy = records;
    if (c.modify != std::string::npos) {
      copy[c.modify].bytes[10] ^= 0x01;
    }
    const std::string data = EncodeExport("1045", notes, copy);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(c.name + ", threads " + std::to_string(threads));
      absl::StatusOr<VerifyReport> report =
          VerifyExport(data, {signer.Verifier()}, {.threads = threads});
      ASSERT_TRUE(report.ok());
      EXPECT_EQ(report->finding, c.finding) << FormatReport(*report);
      EXPECT_EQ(report->sequence, c.sequence);
      if (c.finding == Finding::kOk) {
        EXPECT_EQ(report->root, testing::RootOf(records, 9000));
      }
    }
  }
  // A forged record for the last sequence of a whole block, standing before
  // the one the chain continues from, which opens the next block: the block
  // looks in place on its own, and only the record after it tells.
  std::vector<StoredRecord> inserted = records;
  StoredRecord forged = records[4095];
  forged.bytes.back() ^= 0x01;  // in the event, past the chain fields
  forged.hash = Sha256(forged.bytes);
  forged.position = 77'777;
  inserted.insert(inserted.begin() + 4095, forged);
  const std::string with_forged = EncodeExport("1045", notes, inserted);
  for (int threads : {1, 2}) {
    SCOPED_TRACE(
        absl::StrCat("forged before a block's end, threads ", threads));
    absl::StatusOr<VerifyReport> report =
        VerifyExport(with_forged, {signer.Verifier()}, {.threads = threads});
    ASSERT_TRUE(report.ok());
    EXPECT_EQ(report->finding, Finding::kInserted) << FormatReport(*report);
    EXPECT_EQ(report->sequence, 4096u);
    EXPECT_EQ(report->position, 77'777u);
  }
  // A checkpoint inside a block that the records do not match is found.
  std::vector<std::string> forked = notes;
  forked[1] =
      SignedCheckpoint(signer, "1045", MakeHistory("1045", 5000, "x"), 5000);
  absl::StatusOr<VerifyReport> fork = VerifyExport(
      EncodeExport("1045", forked, records), {signer.Verifier()}, {});
  ASSERT_TRUE(fork.ok());
  EXPECT_EQ(fork->finding, Finding::kFork) << FormatReport(*fork);
}

TEST(VerifyParallelTest, HashingWhileParsingStopsWhereTheFileDoes) {
  // Records are hashed while the rest of the file is parsed: a file that
  // ends early, or turns out malformed or unsigned after thousands of
  // records, gives the same answer with any number of threads.
  const NoteSigner signer = *NoteSigner::Generate("prongsai.test");
  const NoteSigner stranger = *NoteSigner::Generate("prongsai.test");
  const std::vector<StoredRecord> records = MakeHistory("1045", 13000);
  const std::vector<std::string> notes = {
      SignedCheckpoint(signer, "1045", records, 13000)};
  const std::string whole = EncodeExport("1045", notes, records);
  absl::StatusOr<ParsedExport> parsed = ParseExport(whole);
  ASSERT_TRUE(parsed.ok());
  const size_t frame = parsed->records[9999].offset;
  // Cut inside the 10,000th record's frame.
  const std::string cut = whole.substr(0, frame + 20);
  // An unknown frame before it.
  std::string bad_frame = whole;
  bad_frame.insert(frame, 1, '\x7f');
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE(absl::StrCat("threads ", threads));
    absl::StatusOr<VerifyReport> truncated =
        VerifyExport(cut, {signer.Verifier()}, {.threads = threads});
    ASSERT_TRUE(truncated.ok());
    EXPECT_EQ(truncated->finding, Finding::kTruncated)
        << FormatReport(*truncated);
    EXPECT_EQ(truncated->sequence, 10000u);

    absl::StatusOr<VerifyReport> malformed =
        VerifyExport(bad_frame, {signer.Verifier()}, {.threads = threads});
    ASSERT_TRUE(malformed.ok());
    EXPECT_EQ(malformed->finding, Finding::kMalformed)
        << FormatReport(*malformed);

    absl::StatusOr<VerifyReport> unsigned_for_key =
        VerifyExport(whole, {stranger.Verifier()}, {.threads = threads});
    ASSERT_TRUE(unsigned_for_key.ok());
    EXPECT_EQ(unsigned_for_key->finding, Finding::kBadSignature)
        << FormatReport(*unsigned_for_key);

    absl::StatusOr<VerifyReport> honest =
        VerifyExport(whole, {signer.Verifier()}, {.threads = threads});
    ASSERT_TRUE(honest.ok());
    EXPECT_EQ(honest->finding, Finding::kOk) << FormatReport(*honest);
    EXPECT_EQ(honest->size, 13000u);
  }
}

TEST(RecordHeaderTest, ReadsTheChainFieldsWithoutDecodingTheEvent) {
  std::vector<StoredRecord> records = MakeHistory("1045", 3);
  RecordHeader header;
  ASSERT_TRUE(ReadRecordHeader(records[2].bytes, &header));
  EXPECT_EQ(header.stream, "1045");
  EXPECT_EQ(header.sequence, 3u);
  EXPECT_EQ(header.prev_hash, AsBytes(records[1].hash));
  EXPECT_FALSE(
      ReadRecordHeader("\x0a\x05"
                       "ab",
                       &header));
}

}  // namespace
}  // namespace prongsai::audit

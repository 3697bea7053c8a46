// The topic as other tools see it: kcat reads the headers and protoc decodes
// the value with the published .proto; a record forged into the topic with
// kcat is reported and never applied.
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "core/log/kafka_log.h"
#include "tests/kafka/kafka_testing.h"
#include "tests/testing/process.h"

namespace prongsai::testing {
namespace {

constexpr char kKcat[] = "/usr/bin/kcat";
constexpr char kProtoc[] = "/usr/bin/protoc";

// The published .proto files: from PRONGSAI_SOURCE_DIR when ctest sets it,
// else from the source tree this test was built from.
std::string ProtoDir() {
  return std::getenv("PRONGSAI_SOURCE_DIR") != nullptr
             ? SourceDir() + "/proto"
             : std::string(PRONGSAI_TEST_SOURCE_DIR) + "/proto";
}

class KafkaToolsTest : public KafkaTest {
 protected:
  // kcat's view of the whole topic, one line per message in `format`.
  std::vector<std::string> Kcat(const std::string& format) {
    CommandResult result =
        RunCommand({kKcat, "-C", "-b", cluster_->bootstrap_servers(), "-t",
                    topic_, "-e", "-q", "-f", format});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return absl::StrSplit(result.out, '\n', absl::SkipEmpty());
  }

  // The partition and next offset of `stream`'s messages, from kcat.
  std::pair<int, int64_t> PartitionOf(const std::string& stream) {
    int partition = -1;
    int64_t next = 0;
    for (const std::string& line : Kcat("%k %p %o\n")) {
      std::vector<std::string> parts = absl::StrSplit(line, ' ');
      int64_t offset = 0;
      if (parts.size() == 3 && parts[0] == stream &&
          absl::SimpleAtoi(parts[1], &partition) &&
          absl::SimpleAtoi(parts[2], &offset)) {
        next = std::max(next, offset + 1);
      }
    }
    return {partition, next};
  }

  // Produces `value` with key `key` into `partition`, as any client with
  // write access to the topic could.
  void Forge(const std::string& key, int partition, const std::string& value) {
    const std::string file = dir_.Sub(absl::StrCat("forged-", forged_++));
    std::ofstream(file, std::ios::binary) << value;
    CommandResult result =
        RunCommand({kKcat, "-P", "-b", cluster_->bootstrap_servers(), "-t",
                    topic_, "-p", absl::StrCat(partition), "-k", key, file});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }

  int forged_ = 0;
};

TEST_F(KafkaToolsTest, KcatReadsHeadersAndProtocDecodesTheValue) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  v1::AppendRequest request = MeetingsRequest("1045", 2, "kcat");
  request.mutable_events(0)->mutable_meeting_held()->set_meeting_id(
      "meeting-2567-10");
  ASSERT_TRUE(Append(*ingestor, request).ok());
  absl::StatusOr<log::StreamHead> head = log->LoadHead("1045");
  ASSERT_TRUE(head.ok());

  const std::vector<std::string> lines = Kcat("%k|%h\n");
  ASSERT_EQ(lines.size(), 2u);
  for (size_t i = 0; i < lines.size(); ++i) {
    SCOPED_TRACE(lines[i]);
    EXPECT_TRUE(absl::StartsWith(lines[i], "1045|"));
    EXPECT_TRUE(
        absl::StrContains(lines[i], "prongsai-event-type=meeting_held"));
    EXPECT_TRUE(absl::StrContains(lines[i], "prongsai-schema-version=1"));
    EXPECT_TRUE(absl::StrContains(
        lines[i],
        "content-type=application/x-protobuf; messageType=prongsai.v1.Record"));
    EXPECT_TRUE(
        absl::StrContains(lines[i], absl::StrCat("prongsai-sequence=", i + 1)));
  }
  EXPECT_TRUE(absl::StrContains(
      lines[1], absl::StrCat("prongsai-hash=", HexEncode(head->hash))));

  // The first record's value, exactly as stored, through protoc.
  const std::pair<int, int64_t> end = PartitionOf("1045");
  const int partition = end.first;
  const int64_t next = end.second;
  ASSERT_GE(partition, 0);
  CommandResult value =
      RunCommand({kKcat, "-C", "-b", cluster_->bootstrap_servers(), "-t",
                  topic_, "-p", absl::StrCat(partition), "-o",
                  absl::StrCat(next - 2), "-c", "1", "-e", "-q", "-f", "%s"});
  ASSERT_EQ(value.exit_code, 0) << value.err;
  absl::StatusOr<std::optional<log::EventRef>> stored =
      log->FindEvent(request.events(0).event_id());
  ASSERT_TRUE(stored.ok() && stored->has_value());
  std::string stored_bytes;
  ASSERT_TRUE(log->ReadStream("1045", 1,
                              [&](const log::LogEntry& entry) {
                                stored_bytes = std::string(entry.record_bytes);
                                return false;
                              })
                  .ok());
  EXPECT_EQ(value.out, stored_bytes);  // the value is the hashed bytes

  CommandResult decoded =
      RunCommand({kProtoc, "--decode=prongsai.v1.Record", "-I", ProtoDir(),
                  "prongsai/v1/record.proto"},
                 value.out);
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  EXPECT_TRUE(absl::StrContains(decoded.out, "stream: \"1045\""))
      << decoded.out;
  EXPECT_TRUE(absl::StrContains(decoded.out, "sequence: 1")) << decoded.out;
  EXPECT_TRUE(absl::StrContains(decoded.out, "meeting_held {")) << decoded.out;
  EXPECT_TRUE(absl::StrContains(decoded.out, "meeting_id: \"meeting-2567-10\""))
      << decoded.out;
  EXPECT_TRUE(absl::StrContains(
      decoded.out,
      absl::StrCat("event_id: \"", request.events(0).event_id(), "\"")))
      << decoded.out;
}

TEST_F(KafkaToolsTest, ForgedRecordsAreReportedAndNeverApplied) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 3, "real")).ok());
  const log::StreamHead head = *log->LoadHead("1045");
  const std::pair<int, int64_t> end = PartitionOf("1045");
  const int partition = end.first;
  const int64_t next = end.second;
  ASSERT_GE(partition, 0);

  struct Case {
    const char* name;
    std::string value;
    const char* reason;  // what the report must say
  };
  const std::vector<Case> cases = {
      {"prev_hash does not continue the chain",
       MakeRecord("1045", 4, kZeroHash, MeetingEvent("forged-fork")).bytes,
       "forks the chain"},
      {"a stored sequence with other bytes",
       MakeRecord("1045", 2, kZeroHash, MeetingEvent("forged-dup")).bytes,
       "already stored with different bytes"},
      {"a gap", MakeRecord("1045", 9, head.hash, MeetingEvent("gap")).bytes,
       "records are missing"},
      {"bytes that are not a record", std::string("\xff\xff\xff garbage"),
       "not a well-formed prongsai.v1.Record"},
  };
  for (const Case& c : cases) {
    Forge("1045", partition, c.value);
  }
  ASSERT_TRUE(log->CatchUp(absl::Seconds(10)).ok());

  const std::vector<log::RejectedRecord> rejected = log->Rejected();
  ASSERT_EQ(rejected.size(), cases.size());
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE(cases[i].name);
    EXPECT_EQ(rejected[i].topic, topic_);
    EXPECT_EQ(rejected[i].partition, partition);
    EXPECT_EQ(rejected[i].offset, next + static_cast<int64_t>(i));
    EXPECT_EQ(rejected[i].key, "1045");
    EXPECT_TRUE(absl::StrContains(rejected[i].reason, cases[i].reason))
        << rejected[i].reason;
  }
  // Reported where an operator sees it, with the position.
  const std::vector<std::string> warnings = Warnings();
  EXPECT_TRUE(std::any_of(warnings.begin(), warnings.end(), [&](auto& w) {
    return absl::StrContains(
        w, absl::StrCat("[", partition, "] at offset ", next));
  }));

  // Nothing of it was applied: the head is the real one and the chain is
  // whole, and the real writer continues it.
  EXPECT_EQ(log->LoadHead("1045")->hash, head.hash);
  absl::StatusOr<v1::AppendResponse> more =
      Append(*ingestor, MeetingsRequest("1045", 2, "more"));
  ASSERT_TRUE(more.ok()) << more.status();
  EXPECT_EQ(more->sequences(0), 4u);
  ExpectAcknowledgedOnce(VerifyLog(*log));

  // A reader rebuilding from the topic alone refuses the same records.
  log::KafkaLogOptions options = Options("reader");
  options.read_only = true;
  std::unique_ptr<log::KafkaEventLog> reader = Open(options);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->Rejected().size(), cases.size());
  const LogContents contents = VerifyLog(*reader);
  EXPECT_EQ(contents.heads.at("1045"), 5u);
  ExpectAcknowledgedOnce(contents);
}

}  // namespace
}  // namespace prongsai::testing

// The seed report through the real `prongsai` binary: `serve` on a fresh data
// directory, `append` of the seed file, `read` of the stream, as a district
// office would do it.
#include <gtest/gtest.h>
#include <signal.h>

#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/hash.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "prongsai/v1/record.pb.h"
#include "tests/seed/seed_files.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::CommandResult;
using ::prongsai::testing::ServerProcess;
using ::prongsai::testing::TempDir;

constexpr char kStream[] = "1045";
const absl::Duration kTimeout = absl::Seconds(30);

// One line of `prongsai read`.
struct ReadEntry {
  uint64_t position = 0;
  std::string hash_hex;
  v1::Record record;
};

class SeedLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::vector<v1::Event>> events =
        testing::seed::ReadEventLines(testing::seed::SeedEventsPath());
    ASSERT_TRUE(events.ok()) << events.status();
    ASSERT_FALSE(events->empty());
    seed_ = std::move(*events);
    ASSERT_TRUE(server_.Start(dir_.Sub("data")));
  }

  void TearDown() override {
    server_.process().Signal(SIGTERM);
    EXPECT_EQ(server_.process().Wait(), 0)
        << "the server did not shut down cleanly";
  }

  CommandResult Cli(std::vector<std::string> args) {
    args.insert(args.begin(), testing::ProngsaiBinary());
    args.push_back("--server");
    args.push_back(server_.address());
    return testing::RunCommand(args);
  }

  CommandResult AppendSeed() {
    return Cli({"append", "--stream", kStream, "--file",
                testing::seed::SeedEventsPath()});
  }

  // Reads the whole stream back; fails the test on a malformed line.
  std::vector<ReadEntry> ReadStream() {
    CommandResult read = Cli({"read", "--stream", kStream});
    EXPECT_EQ(read.exit_code, 0) << read.err;
    std::vector<ReadEntry> entries;
    for (absl::string_view line :
         absl::StrSplit(read.out, '\n', absl::SkipEmpty())) {
      SCOPED_TRACE(absl::StrCat("read line ", entries.size() + 1));
      nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
      EXPECT_FALSE(parsed.is_discarded()) << line;
      if (parsed.is_discarded()) {
        return {};
      }
      ReadEntry entry;
      entry.position = parsed.at("position").get<uint64_t>();
      entry.hash_hex = parsed.at("hash").get<std::string>();
      const auto status = google::protobuf::util::JsonStringToMessage(
          parsed.at("record").dump(), &entry.record);
      EXPECT_TRUE(status.ok()) << status.message().as_string();
      entries.push_back(std::move(entry));
    }
    return entries;
  }

  // What `prongsai append` prints when the stream ends at `head_hash_hex`.
  std::string AppendOutput(size_t appended, size_t already,
                           const std::string& head_hash_hex) {
    return absl::StrCat("appended ", appended, " events to stream ", kStream,
                        " (", already, " already present); head ", seed_.size(),
                        " ", head_hash_hex, "\n");
  }

  TempDir dir_;
  ServerProcess server_;
  std::vector<v1::Event> seed_;
};

TEST_F(SeedLedgerTest, StoresTheSeedReportAsOneChainedStream) {
  CommandResult append = AppendSeed();
  ASSERT_EQ(append.exit_code, 0) << append.err;

  std::vector<ReadEntry> entries = ReadStream();
  ASSERT_EQ(entries.size(), seed_.size());
  EXPECT_EQ(append.out, AppendOutput(seed_.size(), 0, entries.back().hash_hex));

  std::set<std::string> file_ids;
  for (const v1::Event& event : seed_) {
    file_ids.insert(event.event_id());
  }
  ASSERT_EQ(file_ids.size(), seed_.size()) << "event ids repeat in the file";

  std::multiset<std::string> stored_ids;
  std::string previous_hash_hex = HexEncode(AsBytes(kZeroHash));
  for (size_t i = 0; i < entries.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("sequence ", i + 1));
    const v1::Record& record = entries[i].record;
    EXPECT_EQ(record.stream(), kStream);
    EXPECT_EQ(record.sequence(), i + 1);
    EXPECT_EQ(HexEncode(record.prev_hash()), previous_hash_hex);
    EXPECT_EQ(entries[i].hash_hex.size(), 2 * kHashSize);
    EXPECT_NE(entries[i].hash_hex, previous_hash_hex);
    previous_hash_hex = entries[i].hash_hex;
    stored_ids.insert(record.event().event_id());
    // One batch keeps the file's order.
    std::string difference;
    google::protobuf::util::MessageDifferencer differencer;
    differencer.ReportDifferencesToString(&difference);
    EXPECT_TRUE(differencer.Compare(seed_[i], record.event())) << difference;
  }
  for (const std::string& id : file_ids) {
    EXPECT_EQ(stored_ids.count(id), 1u) << id;
  }
}

TEST_F(SeedLedgerTest, AppendingTheSeedAgainAppendsNothing) {
  CommandResult first = AppendSeed();
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const std::vector<ReadEntry> before = ReadStream();
  ASSERT_EQ(before.size(), seed_.size());

  CommandResult second = AppendSeed();
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(second.out, AppendOutput(0, seed_.size(), before.back().hash_hex));

  const std::vector<ReadEntry> after = ReadStream();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("sequence ", i + 1));
    EXPECT_EQ(after[i].position, before[i].position);
    EXPECT_EQ(after[i].hash_hex, before[i].hash_hex);
  }
}

}  // namespace
}  // namespace prongsai

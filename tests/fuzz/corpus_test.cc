// Replays the checked-in fuzz corpus and every regression input through the
// fuzz target's logic in the normal build.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "google/protobuf/text_format.h"
#include "gtest/gtest.h"
#include "prongsai/v1/ledger.pb.h"
#include "tests/fuzz/append_fuzz.h"
#include "tests/fuzz/corpus_files.h"

namespace prongsai::fuzz {
namespace {

namespace fs = std::filesystem;

TEST(FuzzCorpusTest, CorpusInputsKeepTheInvariantsAndMeanWhatTheirNamesSay) {
  const std::vector<fs::path> files =
      FilesIn(fs::path(PRONGSAI_FUZZ_DIR) / "corpus");
  ASSERT_GE(files.size(), 8u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.filename().string());
    v1::AppendRequest request;
    ASSERT_TRUE(google::protobuf::TextFormat::ParseFromString(ReadFile(path),
                                                              &request));
    const absl::StatusOr<AppendOutcome> outcome =
        RunAppendInput(request.SerializeAsString());
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_TRUE(outcome->decoded);
    const std::string name = path.filename().string();
    if (absl::StartsWith(name, "ok_")) {
      EXPECT_TRUE(outcome->admitted.ok()) << outcome->admitted;
    } else {
      EXPECT_EQ(outcome->admitted.code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(FuzzCorpusTest, RegressionInputsKeepTheInvariants) {
  for (const fs::path& path :
       FilesIn(fs::path(PRONGSAI_FUZZ_DIR) / "regressions")) {
    SCOPED_TRACE(path.filename().string());
    const absl::StatusOr<AppendOutcome> outcome =
        RunAppendInput(ReadFile(path));
    EXPECT_TRUE(outcome.ok()) << outcome.status();
  }
}

TEST(FuzzCorpusTest, BytesThatAreNoRequestAreHarmless) {
  const std::string inputs[] = {"", std::string(1, '\0'), "\xff\xff\xff\xff",
                                "\x12\x80\x80\x80\x80\x10",
                                "\x0a\x04"
                                "city"};
  for (const std::string& input : inputs) {
    const absl::StatusOr<AppendOutcome> outcome = RunAppendInput(input);
    EXPECT_TRUE(outcome.ok()) << outcome.status();
  }
}

}  // namespace
}  // namespace prongsai::fuzz

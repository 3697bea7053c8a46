// Replays the token and HTTP request corpora through the fuzz targets'
// logic in the normal build; ok_* inputs must be accepted, bad_* refused.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/fuzz/corpus_files.h"
#include "tests/fuzz/security_fuzz.h"

namespace prongsai::fuzz {
namespace {

namespace fs = std::filesystem;

TEST(SecurityFuzzCorpusTest, TokensKeepTheInvariantsAndMeanWhatTheirNamesSay) {
  const std::vector<fs::path> files =
      FilesIn(fs::path(PRONGSAI_FUZZ_DIR) / "corpus_token");
  ASSERT_GE(files.size(), 10u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.filename().string());
    const absl::StatusOr<TokenOutcome> outcome = RunTokenInput(ReadFile(path));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    if (absl::StartsWith(path.filename().string(), "ok_")) {
      EXPECT_TRUE(outcome->verified.ok()) << outcome->verified;
    } else {
      EXPECT_EQ(outcome->verified.code(), absl::StatusCode::kUnauthenticated);
    }
  }
}

TEST(SecurityFuzzCorpusTest, HttpRequestsKeepTheInvariants) {
  const std::vector<fs::path> files =
      FilesIn(fs::path(PRONGSAI_FUZZ_DIR) / "corpus_http");
  ASSERT_GE(files.size(), 6u);
  for (const fs::path& path : files) {
    SCOPED_TRACE(path.filename().string());
    const absl::StatusOr<HttpOutcome> outcome = RunHttpInput(ReadFile(path));
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    const std::string name = path.filename().string();
    if (absl::StartsWith(name, "ok_get_")) {
      EXPECT_TRUE(outcome->matched);
    } else if (absl::StartsWith(name, "ok_webhook_")) {
      EXPECT_TRUE(outcome->json);
      EXPECT_GE(outcome->records, 1);
      EXPECT_EQ(outcome->refused_records, 0);
    } else if (absl::StartsWith(name, "bad_webhook_")) {
      // The webhook's route exists; its body is what is refused.
      EXPECT_TRUE(!outcome->json || outcome->refused_records > 0);
    } else {
      EXPECT_FALSE(outcome->matched);
    }
  }
}

TEST(SecurityFuzzCorpusTest, OddBytesAreHarmless) {
  const std::string inputs[] = {"",
                                std::string(1, '\0'),
                                "..",
                                "a.b.c",
                                "\xff\xfe.\xff.\xff",
                                std::string(20000, '.'),
                                "GET \n\n[[[[[[[[[[",
                                "GET /assets/%2e%2e\n\n{\"a\":",
                                "POST /\n\n[1,\"x\",{},[]]"};
  for (const std::string& input : inputs) {
    EXPECT_TRUE(RunTokenInput(input).ok());
    EXPECT_TRUE(RunHttpInput(input).ok());
  }
}

}  // namespace
}  // namespace prongsai::fuzz

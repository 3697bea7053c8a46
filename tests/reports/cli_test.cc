// `prongsai report` against a running Reports service: the ITA report saved
// in every format (the format follows -o's extension), the other reports as
// JSON, and usage and server errors with their exit codes.
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "services/cli/report_commands.h"
#include "tests/reports/report_stack.h"

namespace prongsai::reports {
namespace {

using testing::ReportStack;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

class ReportCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<ReportStack>(dir_.path());
    ASSERT_TRUE(stack_->Open({.background = false, .http = false}).ok());
    ASSERT_TRUE(stack_->AppendCity().ok());
    ASSERT_TRUE(stack_->AppendSeed().ok());
  }

  int Run(std::vector<std::string> argv) {
    argv.push_back("--server");
    argv.push_back(stack_->grpc_address());
    absl::StatusOr<cli::Args> args =
        cli::Args::Parse(cli::kReportCommand, argv);
    EXPECT_TRUE(args.ok()) << args.status();
    return args.ok() ? cli::RunReport(*args) : -1;
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<ReportStack> stack_;
};

TEST_F(ReportCommandTest, SavesTheItaReportInEveryFormat) {
  struct Case {
    std::string file;
    std::vector<std::string> extra;
    std::string starts_with;
  };
  const Case cases[] = {
      {"report.html", {}, "<!DOCTYPE html>"},
      {"report.csv", {}, "\xEF\xBB\xBF"},
      {"report.xlsx", {}, std::string("PK\x03\x04", 4)},
      {"report.json", {}, "{"},
      {"report.out", {"--format", "html"}, "<!DOCTYPE html>"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir_.Sub(c.file);
    std::vector<std::string> argv = {"ita",  "--district", "1045",
                                     "--fy", "2568",       "--round",
                                     "H1",   "-o",         path};
    argv.insert(argv.end(), c.extra.begin(), c.extra.end());
    EXPECT_EQ(Run(argv), 0);
    const std::string bytes = ReadFile(path);
    EXPECT_EQ(bytes.substr(0, c.starts_with.size()), c.starts_with);
  }
  // The HTML saved to disk finds the machine's Thai font directly.
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_.Sub("report.html")),
                                "file:///usr/share/fonts/truetype/tlwg/"));
  EXPECT_TRUE(
      absl::StrContains(ReadFile(dir_.Sub("report.html")), "วังทองหลาง"));
}

TEST_F(ReportCommandTest, TheOtherReportsComeAsJson) {
  const std::vector<std::vector<std::string>> cases = {
      {"scorecard", "--district", "1045", "--fy", "2568"},
      {"gifts", "--district", "1045", "--fy", "2568", "--round", "H1"},
      {"gifts", "--fy", "2568", "--round", "FULL_YEAR"},
      {"complaints", "--fy", "2568"},
      {"city", "--fy", "2568"},
      {"ita", "--district", "1045", "--fy", "2568", "--round", "H1", "--as-of",
       "100"},
  };
  for (std::vector<std::string> argv : cases) {
    SCOPED_TRACE(argv[0]);
    const std::string path = dir_.Sub(argv[0] + ".json");
    argv.push_back("--output");
    argv.push_back(path);
    EXPECT_EQ(Run(argv), 0);
    nlohmann::json parsed =
        nlohmann::json::parse(ReadFile(path), nullptr, false);
    ASSERT_TRUE(parsed.is_object());
    EXPECT_TRUE(parsed.contains("reflects"));
  }
}

TEST_F(ReportCommandTest, MistakesGetUsageOrServerErrors) {
  struct Case {
    std::vector<std::string> argv;
    int exit_code;
  };
  const Case cases[] = {
      {{"nonsense", "--fy", "2568"}, 2},
      {{}, 2},
      {{"ita", "--district", "1045", "--fy", "2568"}, 2},  // no round
      {{"ita", "--district", "1045", "--fy", "2568", "--round", "H3"}, 2},
      {{"ita", "--district", "1045", "--fy", "2568", "--round", "H1",
        "--format", "pdf"},
       2},
      {{"ita", "--district", "1045", "--fy", "2568", "--round", "H1",
        "--format", "xlsx"},
       2},  // binary to a terminal
      {{"city", "--fy", "2568", "--format", "html"}, 2},
      {{"ita", "--district", "9999", "--fy", "2568", "--round", "H1"}, 1},
      {{"ita", "--district", "1045", "--fy", "2560", "--round", "H1"}, 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.argv.empty() ? "(nothing)" : c.argv[0]);
    EXPECT_EQ(Run(c.argv), c.exit_code);
  }
}

}  // namespace
}  // namespace prongsai::reports

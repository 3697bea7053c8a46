// `prongsai projections status|rebuild` through the real binary: against a
// running `prongsai serve` (prongsai.v1.Projections), and with --data on the
// data directory of a stopped one.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::CommandResult;
using ::prongsai::testing::ServerProcess;
using ::prongsai::testing::TempDir;

const std::vector<std::string> kViews = {
    "ita_progress", "gifts",  "complaints",  "city_overview",
    "report_journal", "merkle", "audit_trail", "service_sla"};

CommandResult Prongsai(std::vector<std::string> args) {
  args.insert(args.begin(), testing::ProngsaiBinary());
  return testing::RunCommand(args);
}

// The rows of `projections status`: name -> {position, lag, state}.
struct Row {
  uint64_t position = 0;
  uint64_t lag = 0;
  std::string state;
};

std::map<std::string, Row> ParseStatus(const std::string& out) {
  std::map<std::string, Row> rows;
  for (absl::string_view line : absl::StrSplit(out, '\n', absl::SkipEmpty())) {
    std::vector<absl::string_view> words =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    Row row;
    if (words.size() < 5 || !absl::SimpleAtoi(words[2], &row.position) ||
        !absl::SimpleAtoi(words[3], &row.lag)) {
      continue;  // the header and the log position
    }
    row.state = std::string(words[4]);
    rows[std::string(words[0])] = row;
  }
  return rows;
}

uint64_t LogPosition(const std::string& status_out) {
  for (absl::string_view line :
       absl::StrSplit(status_out, '\n', absl::SkipEmpty())) {
    uint64_t position = 0;
    if (absl::ConsumePrefix(&line, "log position: ") &&
        absl::SimpleAtoi(line, &position)) {
      return position;
    }
  }
  return 0;
}

class ProjectionsCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    StartServer();
    CommandResult append =
        Online({"append", "--stream", "1045", "--file",
                testing::SourceDir() +
                    "/core/domain/data/seed_1045_2568_h1.jsonl"});
    ASSERT_EQ(append.exit_code, 0) << append.err;
  }

  void TearDown() override { StopServer(); }

  void StartServer() {
    server_ = std::make_unique<ServerProcess>();
    ASSERT_TRUE(server_->Start(dir_.Sub("data"), {"--http-listen="}));
  }

  void StopServer() {
    if (server_ != nullptr) {
      server_->process().Signal(SIGTERM);
      EXPECT_EQ(server_->process().Wait(), 0);
      server_ = nullptr;
    }
  }

  CommandResult Online(std::vector<std::string> args) {
    args.push_back("--server");
    args.push_back(server_->address());
    return Prongsai(std::move(args));
  }

  // Waits until every view has consumed the whole log; returns the last
  // `projections status` output.
  std::string WaitCaughtUp() {
    CommandResult status;
    EXPECT_TRUE(testing::WaitFor([&] {
      status = Online({"projections", "status"});
      if (status.exit_code != 0) {
        return false;
      }
      const uint64_t end = LogPosition(status.out);
      std::map<std::string, Row> rows = ParseStatus(status.out);
      if (end == 0 || rows.size() != kViews.size()) {
        return false;
      }
      for (const auto& [name, row] : rows) {
        if (row.position != end || row.lag != 0) {
          return false;
        }
      }
      return true;
    }, absl::Seconds(30))) << status.out << status.err;
    return status.out;
  }

  // The seed district's ITA report, as the progress view answers it.
  std::string ItaReport() {
    CommandResult report =
        Online({"report", "ita", "--district", "1045", "--fy", "2568",
                "--round", "H1", "--format", "csv"});
    EXPECT_EQ(report.exit_code, 0) << report.err;
    return report.out;
  }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ProjectionsCliTest, StatusShowsEveryViewWithItsPositionAndLag) {
  const std::string out = WaitCaughtUp();
  const uint64_t end = LogPosition(out);
  EXPECT_GT(end, 100u);  // the reference data and the seed report
  std::map<std::string, Row> rows = ParseStatus(out);
  for (const std::string& view : kViews) {
    SCOPED_TRACE(view);
    ASSERT_TRUE(rows.count(view)) << out;
    EXPECT_EQ(rows[view].position, end);
    EXPECT_EQ(rows[view].lag, 0u);
    EXPECT_EQ(rows[view].state, "running");
  }
  EXPECT_TRUE(absl::StrContains(out, "position")) << out;
  EXPECT_TRUE(absl::StrContains(out, "lag")) << out;
}

TEST_F(ProjectionsCliTest, RebuildReplaysAViewThatThenAnswersTheSame) {
  const uint64_t end = LogPosition(WaitCaughtUp());
  const std::string before = ItaReport();
  ASSERT_FALSE(before.empty());

  CommandResult rebuild = Online({"projections", "rebuild", "ita_progress"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.err;
  // "rebuilt ita_progress: N records in S s, R records/s (log position P)"
  EXPECT_TRUE(absl::StartsWith(rebuild.out, "rebuilt ita_progress: "))
      << rebuild.out;
  EXPECT_TRUE(absl::StrContains(rebuild.out, " records in ")) << rebuild.out;
  EXPECT_TRUE(absl::StrContains(rebuild.out, " records/s")) << rebuild.out;
  EXPECT_TRUE(absl::StrContains(rebuild.out, absl::StrCat("(log position ",
                                                          end, ")")))
      << rebuild.out;
  // Not a terminal: no progress bar.
  EXPECT_EQ(rebuild.err, "");

  EXPECT_EQ(ItaReport(), before);
  std::map<std::string, Row> rows = ParseStatus(WaitCaughtUp());
  EXPECT_EQ(rows["ita_progress"].position, end);

  // The views keep following the log after a rebuild.
  const std::string file = dir_.Sub("meetings.jsonl");
  {
    std::ofstream out(file);
    for (int i = 0; i < 3; ++i) {
      std::string line;
      ASSERT_TRUE(google::protobuf::util::MessageToJsonString(
                      testing::MeetingEvent("after-rebuild"), &line)
                      .ok());
      out << line << "\n";
    }
  }
  CommandResult append =
      Online({"append", "--stream", "1001", "--file", file});
  ASSERT_EQ(append.exit_code, 0) << append.err;
  EXPECT_GT(LogPosition(WaitCaughtUp()), end);
  EXPECT_EQ(ItaReport(), before);
}

TEST_F(ProjectionsCliTest, AnUnknownViewIsRefusedWithTheNames) {
  CommandResult rebuild = Online({"projections", "rebuild", "progress"});
  EXPECT_EQ(rebuild.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(rebuild.err, "no projection named \"progress\""))
      << rebuild.err;
  for (const std::string& view : kViews) {
    EXPECT_TRUE(absl::StrContains(rebuild.err, view)) << rebuild.err;
  }
  CommandResult usage = Online({"projections", "rebuild"});
  EXPECT_EQ(usage.exit_code, 2);
  CommandResult unknown = Online({"projections", "drop"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST_F(ProjectionsCliTest, WithDataItWorksOnAStoppedServersDirectory) {
  const uint64_t end = LogPosition(WaitCaughtUp());
  const std::string data = dir_.Sub("data");
  // While the server runs, its data directory is locked.
  CommandResult locked = Prongsai({"projections", "status", "--data", data});
  EXPECT_EQ(locked.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(locked.err, "--server")) << locked.err;

  StopServer();
  CommandResult status = Prongsai({"projections", "status", "--data", data});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_EQ(LogPosition(status.out), end);
  EXPECT_EQ(ParseStatus(status.out)["merkle"].position, end);

  CommandResult rebuild =
      Prongsai({"projections", "rebuild", "merkle", "--data", data});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.err;
  EXPECT_TRUE(absl::StartsWith(rebuild.out, "rebuilt merkle: "))
      << rebuild.out;
  EXPECT_TRUE(absl::StrContains(rebuild.out, " records/s")) << rebuild.out;
  EXPECT_TRUE(absl::StrContains(rebuild.out, absl::StrCat("(log position ",
                                                          end, ")")))
      << rebuild.out;

  // The restarted server answers from the rebuilt view.
  StartServer();
  std::map<std::string, Row> rows = ParseStatus(WaitCaughtUp());
  EXPECT_EQ(rows["merkle"].position, end);
}

}  // namespace
}  // namespace prongsai

// The seed example (the Wang Thonglang report of FY 2568 H1 as events) passes
// the domain rules as one batch on district 1045's stream.
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/domain/domain_events.h"

namespace prongsai::domain {
namespace {

using testing::NewRules;

const char kSeedPath[] =
    PRONGSAI_SOURCE_DIR "/core/domain/data/seed_1045_2568_h1.jsonl";

std::vector<v1::Event> ReadSeed() {
  std::ifstream in(kSeedPath);
  std::vector<v1::Event> events;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) {
      continue;
    }
    v1::Event event;
    const auto status =
        google::protobuf::util::JsonStringToMessage(line, &event);
    EXPECT_TRUE(status.ok())
        << kSeedPath << ":" << number << ": " << status.message().as_string();
    events.push_back(std::move(event));
  }
  return events;
}

TEST(SeedRulesTest, SeedIsAdmittedWholeOnDistrict1045) {
  if (!std::ifstream(kSeedPath).good()) {
    GTEST_SKIP() << "no seed file at " << kSeedPath;
  }
  const std::vector<v1::Event> events = ReadSeed();
  ASSERT_FALSE(events.empty());
  // A clock after the report's round (H1 of FY 2568 ends 31 March 2025).
  const absl::Time now = absl::FromUnixSeconds(1749963600);
  auto rules = NewRules(&now);
  const absl::Status status = testing::AdmitVector(*rules, "1045", events);
  EXPECT_TRUE(status.ok()) << status;

  // Admitted once, the same events are duplicates.
  if (status.ok()) {
    EXPECT_EQ(testing::AdmitVector(*rules, "1045", {events.front()}).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// The write model saved and loaded answers every later event as the original
// does; damaged bytes are refused and change nothing.
TEST(SeedRulesTest, TheSavedStateDecidesAsTheOriginal) {
  if (!std::ifstream(kSeedPath).good()) {
    GTEST_SKIP() << "no seed file at " << kSeedPath;
  }
  const std::vector<v1::Event> events = ReadSeed();
  const absl::Time now = absl::FromUnixSeconds(1749963600);
  auto original = NewRules(&now);
  ASSERT_TRUE(testing::AdmitVector(*original, "1045", events).ok());
  const std::string saved = original->SaveState();

  auto loaded = NewRules(&now);
  ASSERT_TRUE(loaded->LoadState(saved).ok());
  EXPECT_EQ(loaded->SaveState().size(), saved.size());
  EXPECT_EQ(loaded->MemoryUsage() > 0, original->MemoryUsage() > 0);
  for (size_t i = 0; i < events.size(); ++i) {
    // Each event again (a duplicate), and with a new event id (its domain
    // ids are taken): the same verdict, word for word.
    v1::Event renamed = events[i];
    renamed.set_event_id(absl::StrCat("00000000-0000-4000-8000-",
                                      absl::StrFormat("%012d", i)));
    for (const v1::Event& event : {events[i], renamed}) {
      EXPECT_EQ(testing::AdmitVector(*loaded, "1045", {event}),
                testing::AdmitVector(*original, "1045", {event}))
          << "event " << i;
    }
  }

  auto fresh = NewRules(&now);
  const std::string before = fresh->SaveState();
  for (const std::string& bad :
       {saved.substr(0, saved.size() / 2), std::string("junk"),
        saved + "x"}) {
    EXPECT_EQ(fresh->LoadState(bad).code(),
              absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(fresh->SaveState(), before);
  }
}

TEST(SeedRulesTest, SeedIsRefusedOnTheCityStream) {
  if (!std::ifstream(kSeedPath).good()) {
    GTEST_SKIP() << "no seed file at " << kSeedPath;
  }
  const std::vector<v1::Event> events = ReadSeed();
  ASSERT_FALSE(events.empty());
  auto rules = NewRules();
  const absl::Status status = testing::AdmitVector(*rules, "city", events);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(), "events[0]."))
      << status.message();
}

}  // namespace
}  // namespace prongsai::domain

#include "tests/seed/seed_files.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace prongsai::testing::seed {

std::string SourceDir() {
  const char* dir = std::getenv("PRONGSAI_SOURCE_DIR");
  return dir == nullptr ? PRONGSAI_SEED_SOURCE_DIR : dir;
}

std::string SeedEventsPath() {
  return SourceDir() + "/core/domain/data/seed_1045_2568_h1.jsonl";
}

std::string SeedTablePath() {
  return SourceDir() + "/tests/seed/seed_table.json";
}

absl::StatusOr<std::vector<v1::Event>> ReadEventLines(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::vector<v1::Event> events;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) {
      continue;
    }
    v1::Event event;
    if (auto status = google::protobuf::util::JsonStringToMessage(line, &event);
        !status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path, ":", number,
          ": not a prongsai.v1.Event: ", status.message().as_string()));
    }
    events.push_back(std::move(event));
  }
  return events;
}

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  nlohmann::json parsed = nlohmann::json::parse(in, nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": malformed JSON"));
  }
  return parsed;
}

}  // namespace prongsai::testing::seed

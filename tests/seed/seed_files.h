// The seed files as the tests read them: the Wang Thonglang report of FY 2568
// H1 as events (core/domain/data/seed_1045_2568_h1.jsonl) and the table
// fixture made from the report's text (tests/seed/seed_table.json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::testing::seed {

// $PRONGSAI_SOURCE_DIR, which prongsai_test sets; the source tree the test
// was built from when it is unset.
std::string SourceDir();
std::string SeedEventsPath();
std::string SeedTablePath();

// Parses a file of prongsai.v1.Event JSON Lines (proto3 JSON mapping), blank
// lines skipped. INVALID_ARGUMENT names the file and line of a bad event.
absl::StatusOr<std::vector<v1::Event>> ReadEventLines(const std::string& path);

// Parses a JSON file.
absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path);

}  // namespace prongsai::testing::seed

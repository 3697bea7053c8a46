// A synthetic BMA OSS export for the tests: requests of every district and
// service through their lives (received, updated, completed on time or late),
// sorted by update time as an export is, with a share of malformed records
// of known kinds mixed in. What it should produce is counted as it is made,
// independently of the code under test.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "services/oss_bridge/record.h"

namespace prongsai::oss::testing {

// The kinds of malformed records, and the words their reasons contain.
struct MalformedKind {
  std::string name;
  std::string reason_contains;
};
const std::vector<MalformedKind>& MalformedKinds();

struct ExportRow {
  // A valid record, or for a malformed one its raw JSON line and CSV row.
  bool valid = true;
  OssRecord record;
  std::string raw_json;
  std::string raw_csv;
  int malformed_kind = -1;
};

struct SyntheticExport {
  std::vector<ExportRow> rows;
  uint64_t valid = 0;
  uint64_t malformed = 0;
  std::map<std::string, uint64_t> malformed_by_kind;
  // What the valid records describe.
  uint64_t requests = 0;
  uint64_t completed = 0;
  uint64_t on_time = 0;
  uint64_t late = 0;
  uint64_t status_updates = 0;
};

// `total` rows, one in `malformed_every` malformed (0 = none), requests
// made from October 2024 to March 2025.
SyntheticExport MakeExport(uint64_t total, uint64_t malformed_every,
                           uint32_t seed, const std::string& id_prefix);

void WriteJsonLines(const SyntheticExport& e, const std::string& path);
void WriteCsv(const SyntheticExport& e, const std::string& path);

}  // namespace prongsai::oss::testing

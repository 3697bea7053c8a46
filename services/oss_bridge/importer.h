// The batch import of BMA OSS exports: JSON Lines (one record object per
// line) or CSV (a header row naming the record fields, then one record per
// row), landed through the bridge in batches.
//
// The import is resumable. After every batch that fully landed it writes a
// small state file (by default FILE.oss-import-state) with the byte offset
// reached, the line number and the running counts; a later run starts from
// there, and checks that the bytes before the offset are still those it
// read. Re-running from the start (from_start) is safe as well: landing is
// idempotent, so it adds no event twice.
//
// Example:
//   ASSIGN_OR_RETURN(ImportSummary summary,
//                    ImportFile("oss-2568.csv", bridge, {}));
//   std::cout << summary.accepted << " accepted\n";
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/oss_bridge/bridge.h"

namespace prongsai::oss {

enum class ExportFormat {
  kAuto,  // by extension (.csv; .jsonl, .ndjson, .json), else by content
  kJsonLines,
  kCsv,
};

// Parses "auto", "jsonl" or "csv".
absl::StatusOr<ExportFormat> ParseExportFormat(absl::string_view text);

// Counts over the whole file, including earlier runs that this one resumes.
struct ImportProgress {
  uint64_t offset = 0;  // bytes fully landed
  uint64_t size = 0;    // file size
  uint64_t line = 0;    // last line fully landed
  uint64_t records = 0;
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t dead_lettered = 0;
  uint64_t events_appended = 0;
  // Records read by this run.
  uint64_t records_this_run = 0;
};

struct ImportSummary {
  ImportProgress totals;
  // Where this run started (0 from the start) and what it read.
  uint64_t resumed_at = 0;
  uint64_t records_this_run = 0;
  absl::Duration elapsed;
  // False when the run stopped early (max_records).
  bool complete = false;
};

struct ImportOptions {
  // "" = FILE.oss-import-state.
  std::string state_path;
  // Ignore a saved position and read the whole file.
  bool from_start = false;
  ExportFormat format = ExportFormat::kAuto;
  // Records per batch (each batch lands before the next is read).
  int batch_records = 1'000;
  // Stop after the batch that reaches this many records in this run;
  // 0 = read to the end.
  uint64_t max_records = 0;
  // Called after each landed batch.
  std::function<void(const ImportProgress&)> on_batch;
};

// The default state file of `path`.
std::string DefaultStatePath(const std::string& path);

// Imports `path` through `bridge`. Errors: NOT_FOUND / INVALID_ARGUMENT for
// an unreadable file or a CSV without the needed header;
// FAILED_PRECONDITION when the saved state does not match the file;
// UNAVAILABLE when the ledger went away (the state keeps the position of the
// last batch that landed, so a re-run resumes there).
absl::StatusOr<ImportSummary> ImportFile(const std::string& path,
                                         Bridge& bridge,
                                         const ImportOptions& options);

}  // namespace prongsai::oss

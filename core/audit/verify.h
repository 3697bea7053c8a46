// The offline verifier of an export file.
//
// Trusting only the verifier key(s), it checks that the checkpoints are
// signed, that no two of them fork, that the records form the stream's hash
// chain (dense sequences, each hash the SHA-256 of its bytes, each prev_hash
// the hash before), and that the RFC 6962 tree of the records has the root
// every checkpoint signs. The first problem found is reported with its class,
// the sequence and log position where it is, and what is wrong.
//
// Example:
//   ASSIGN_OR_RETURN(NoteVerifier key, NoteVerifier::Parse(vkey));
//   ASSIGN_OR_RETURN(VerifyReport report,
//                    VerifyExportFile("1045.export", {key}));
//   std::cout << FormatReport(report) << "\n";
//   return ExitCode(report.finding);
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/audit/checkpoint.h"
#include "core/audit/note.h"
#include "core/base/hash.h"

namespace prongsai::audit {

enum class Finding {
  kOk,
  kModified,      // a record's bytes, hash or fields differ from the signed
  kMissing,       // a sequence is absent
  kInserted,      // a record that does not belong: a second one for a sequence
  kReordered,     // records out of sequence order
  kTruncated,     // fewer records than the checkpoint signs, or the file is cut
  kBadSignature,  // a checkpoint without a valid signature of a given key
  kFork,          // two signed checkpoints that no one history satisfies
  kMalformed,     // not an export file
};

// "OK", "modified", "missing", ...
absl::string_view FindingName(Finding finding);

// Process exit codes of `prongsai verify`, one per finding:
//   0 OK, 10 modified, 11 missing, 12 inserted, 13 reordered, 14 truncated,
//   15 bad signature, 16 fork, 17 malformed.
int ExitCode(Finding finding);

struct VerifyReport {
  Finding finding = Finding::kOk;
  std::string stream;
  // The latest checkpoint's tree size and root (when OK).
  uint64_t size = 0;
  Hash root{};
  uint64_t records = 0;  // record frames in the file
  // Where the first problem is: the stream sequence and the log position
  // (0 when it has none, e.g. a bad signature).
  uint64_t sequence = 0;
  uint64_t position = 0;
  std::string detail;
};

// "OK <stream> size <n> root <base64>", or
// "<FINDING> at sequence <s> (position <p>): <detail>".
std::string FormatReport(const VerifyReport& report);

struct VerifyOptions {
  // Threads that hash records; 0 = one per core.
  int threads = 0;
};

// Verifies an export held in memory. An error status only for a problem of
// the verifier itself; every problem of the export is a Finding.
absl::StatusOr<VerifyReport> VerifyExport(absl::string_view data,
                                          absl::Span<const NoteVerifier> keys,
                                          const VerifyOptions& options = {});

// Reads `path` and verifies it. NOT_FOUND / UNAVAILABLE when it cannot be
// read.
absl::StatusOr<VerifyReport> VerifyExportFile(
    const std::string& path, absl::Span<const NoteVerifier> keys,
    const VerifyOptions& options = {});

// The top-level fields of a stored prongsai.v1.Record that the chain covers,
// read straight from the wire format without decoding the event.
struct RecordHeader {
  absl::string_view stream;
  uint64_t sequence = 0;
  absl::string_view prev_hash;
};
bool ReadRecordHeader(absl::string_view bytes, RecordHeader* out);

}  // namespace prongsai::audit

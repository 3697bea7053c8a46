// The export file: one stream's raw stored records and its signed
// checkpoints, for `prongsai verify` to check offline, trusting only the
// verifier key.
//
// Layout; integers are unsigned big-endian:
//   "prongsai-export 1\n"                        magic
//   'S' len(4) stream name                       once
//   'C' len(4) signed checkpoint note            one or more, oldest first
//   'R' position(8) sequence(8) hash(32)
//       len(4) record                            one per record, as read
//   'E' count(8)                                 end: the number of 'R' frames
// A record frame carries the stored bytes exactly as the log holds them; the
// position, sequence and hash are the log's own bookkeeping, which the
// verifier checks against the bytes.
//
// Example:
//   ASSIGN_OR_RETURN(auto writer, ExportWriter::Create("1045.export", "1045"));
//   RETURN_IF_ERROR(writer->AddCheckpoint(note));
//   RETURN_IF_ERROR(writer->AddRecord(position, sequence, hash, bytes));
//   RETURN_IF_ERROR(writer->Finish());
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::audit {

inline constexpr absl::string_view kExportMagic = "prongsai-export 1\n";

// Appends export frames to a string.
class ExportEncoder {
 public:
  // Writes the magic and the stream frame.
  ExportEncoder(std::string* out, absl::string_view stream);

  // Checkpoints come before the first record.
  absl::Status AddCheckpoint(absl::string_view note);
  void AddRecord(uint64_t position, uint64_t sequence, absl::string_view hash,
                 absl::string_view bytes);
  // Writes the end frame.
  void Finish();

  uint64_t records() const { return records_; }

 private:
  std::string* out_;
  uint64_t records_ = 0;
};

// Writes an export to `<path>.partial`, renamed to `path` by Finish, so a
// file at `path` is always whole.
class ExportWriter {
 public:
  static absl::StatusOr<std::unique_ptr<ExportWriter>> Create(
      const std::string& path, absl::string_view stream);
  ~ExportWriter();

  absl::Status AddCheckpoint(absl::string_view note);
  absl::Status AddRecord(uint64_t position, uint64_t sequence,
                         absl::string_view hash, absl::string_view bytes);
  absl::Status Finish();

  uint64_t records() const { return encoder_.records(); }

 private:
  ExportWriter(std::string path, std::FILE* file, absl::string_view stream);
  absl::Status Flush();

  std::string path_;
  std::FILE* file_;
  std::string buffer_;
  ExportEncoder encoder_;
  bool finished_ = false;
};

struct ExportRecord {
  uint64_t position = 0;
  uint64_t sequence = 0;
  absl::string_view hash;   // as stored; 32 bytes
  absl::string_view bytes;  // the stored record
  uint64_t offset = 0;      // of its frame in the file
};

struct ParsedExport {
  std::string stream;
  std::vector<absl::string_view> checkpoints;  // signed notes, as written
  std::vector<ExportRecord> records;
  // False when the file stops before its end frame (cut short) or the end
  // frame's count differs; `damage` says where.
  bool complete = false;
  std::string damage;
};

// Parses an export held in `data`; the result points into `data`.
// INVALID_ARGUMENT when `data` is not an export or its frames are out of
// order; a file cut short parses up to the last whole frame.
absl::StatusOr<ParsedExport> ParseExport(absl::string_view data);

// The most records an export of `size` bytes can hold.
size_t MaxExportRecords(size_t size);

// ParseExport into `out`, which the caller owns, so that it can work on the
// first records while the rest are parsed: `out->records` is reserved for
// MaxExportRecords and never moves while it fills, and every
// kParseProgressEvery records `progress` is called with how many are final
// (`out->stream` is final by then). On an error `out` holds what was parsed
// before it.
inline constexpr size_t kParseProgressEvery = 1024;
absl::Status ParseExportInto(
    absl::string_view data, ParsedExport* out,
    const std::function<void(size_t parsed)>& progress);

}  // namespace prongsai::audit

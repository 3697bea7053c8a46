// Checkpoints: the signed heads of the streams' Merkle trees.
//
// A stream checkpoint is a C2SP tlog-checkpoint note body:
//   <origin>\n            e.g. "prongsai.bangkok.go.th/ledger/1045"
//   <tree size>\n         decimal, no leading zeros
//   <base64 root hash>\n
//   [<extension line>\n ...]
// The origin names the log and the stream: "<log name>/<stream>".
//
// The city checkpoint lists every stream's latest checkpoint in one note:
//   <log name>\n
//   <stream origin> <tree size> <base64 root hash>\n   (one per stream, sorted)
//
// Example:
//   Checkpoint checkpoint;
//   checkpoint.origin = StreamOrigin("prongsai", "1045");
//   checkpoint.size = 3;
//   checkpoint.root = root;
//   ASSIGN_OR_RETURN(std::string note,
//                    signer.Sign(FormatCheckpoint(checkpoint)));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/base/hash.h"

namespace prongsai::audit {

inline constexpr absl::string_view kDefaultLogName = "prongsai";

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash root{};
  std::vector<std::string> extensions;
};

// "<log name>/<stream>".
std::string StreamOrigin(absl::string_view log_name, absl::string_view stream);

// The note text of `checkpoint`.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Parses a tlog-checkpoint note text; INVALID_ARGUMENT naming the bad line.
absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text);

struct CityCheckpoint {
  std::string log_name;
  // One per stream, sorted by origin; extensions unused.
  std::vector<Checkpoint> streams;
};

std::string FormatCityCheckpoint(const CityCheckpoint& city);
absl::StatusOr<CityCheckpoint> ParseCityCheckpoint(absl::string_view text);

}  // namespace prongsai::audit

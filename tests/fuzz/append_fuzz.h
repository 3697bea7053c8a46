// The fuzz target's logic, shared by the libFuzzer binary (clang) and the
// corpus test (the normal build): decode bytes as a prongsai.v1.AppendRequest
// and run it through the domain rules, checking the invariants the ingest
// relies on.
//
// Example:
//   absl::StatusOr<AppendOutcome> outcome = RunAppendInput(bytes);
//   if (!outcome.ok()) abort();  // an invariant is broken
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::fuzz {

struct AppendOutcome {
  // False when the bytes are not an AppendRequest.
  bool decoded = false;
  // What CheckStream and Admit said.
  absl::Status admitted;
};

// Decodes `bytes` and admits the request against rules that hold the city
// bootstrap, on a fixed clock (15 June 2025). Returns an error only when an
// invariant breaks:
//   - a refusal is INVALID_ARGUMENT whose message starts with "stream: " or
//     "events[i]." for an i in the batch, is valid UTF-8 and short;
//   - a refused batch changes nothing (admitting it again gives the same
//     answer);
//   - an admitted batch, replayed into fresh rules, leaves them answering as
//     the rules that admitted it;
//   - Replay of any decoded event, checked or not, is safe.
absl::StatusOr<AppendOutcome> RunAppendInput(absl::string_view bytes);

}  // namespace prongsai::fuzz

// Whole files: reading one at once, and writing files that hold secrets.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai {

// Creates `path` readable by its owner only (mode 0600), writes `bytes` and
// syncs them. Never overwrites: ALREADY_EXISTS when the file is there. On any
// other failure the partial file is removed and the error names the path.
absl::Status WriteNewPrivateFile(const std::string& path,
                                 absl::string_view bytes);

// The whole of `path`, read with as few system calls as its size allows
// (a stream read of a file of hundreds of megabytes costs seconds).
// NOT_FOUND when it does not exist; UNAVAILABLE, naming the path, when it
// cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

}  // namespace prongsai

// Files that hold secrets.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace prongsai {

// Creates `path` readable by its owner only (mode 0600), writes `bytes` and
// syncs them. Never overwrites: ALREADY_EXISTS when the file is there. On any
// other failure the partial file is removed and the error names the path.
absl::Status WriteNewPrivateFile(const std::string& path,
                                 absl::string_view bytes);

}  // namespace prongsai

// Explains why bytes do not parse as a protobuf message: the byte offset of
// malformed wire data, or the field path of a string that is not UTF-8
// ("events[2].meeting_held.title"). Used to answer a request that failed to
// decode with an error the caller can act on.
#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace prongsai::ingest {

// Returns INVALID_ARGUMENT describing the first problem found in `bytes` as a
// `type` message, or OK when none is found.
absl::Status ExplainParseFailure(const google::protobuf::Descriptor& type,
                                 absl::string_view bytes);

}  // namespace prongsai::ingest

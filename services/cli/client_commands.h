// The client commands of `prongsai`: append, read, head. Each returns the
// process exit code and writes errors to stderr.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "prongsai/v1/events.pb.h"
#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kAppendCommand;
extern const CommandSpec kReadCommand;
extern const CommandSpec kHeadCommand;

int RunAppend(const Args& args);
int RunRead(const Args& args);
int RunHead(const Args& args);

// Parses JSON Lines of prongsai.v1.Event (proto3 JSON mapping). Blank lines
// are skipped. An event without event_id gets one derived from the stream and
// the line, so appending the same file twice appends it once. On the first bad
// line, returns INVALID_ARGUMENT naming `source`, the line and the column.
absl::StatusOr<std::vector<v1::Event>> ParseEventLines(
    std::istream& in, const std::string& source, const std::string& stream);

}  // namespace prongsai::cli

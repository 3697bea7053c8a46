// `prongsai report`: the views of prongsai.v1.Reports from a running server.
// Returns the process exit code and writes errors to stderr.
//
//   prongsai report ita --district 1045 --fy 2568 --round H1 --format html
//       -o report.html [--as-of 2025-03-31] [--server HOST:PORT]
//   prongsai report scorecard --district 1045 --fy 2568
//   prongsai report gifts [--district 1045] --fy 2568 --round H1
//   prongsai report complaints [--district 1045] --fy 2568
//   prongsai report city --fy 2568
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kReportCommand;

int RunReport(const Args& args);

}  // namespace prongsai::cli

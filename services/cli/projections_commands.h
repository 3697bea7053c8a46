// `prongsai projections`: the state of the views (status) and the rebuild of
// one view by replay (rebuild NAME), against a running server
// (prongsai.v1.Projections) or, with --data, a stopped one's data directory.
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kProjectionsCommand;

int RunProjections(const Args& args);

}  // namespace prongsai::cli

// `prongsai erase`: erasure of a data subject under the PDPA, through a
// running server's prongsai.v1.Privacy service.
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kEraseCommand;

int RunErase(const Args& args);

}  // namespace prongsai::cli

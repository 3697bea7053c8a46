// `prongsai certs dev` (a local CA and certificates for development) and
// `prongsai token` (bearer tokens for development and tests).
#pragma once

#include <ostream>

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kCertsCommand;
int RunCerts(const Args& args);

extern const CommandSpec kTokenCommand;
int RunToken(const Args& args);

// The loud banner a server command prints at start with --insecure-dev.
void WarnInsecureDev(std::ostream& out);

}  // namespace prongsai::cli

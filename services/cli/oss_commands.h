// The BMA OSS commands of `prongsai`: the bridge role (webhook and gRPC) and
// the batch import of exports. Each returns the process exit code and writes
// errors to stderr.
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

// prongsai oss-bridge [--listen HOST:PORT] [--grpc-listen HOST:PORT]
//                     [--server LEDGER] [--dead-letter FILE]
extern const CommandSpec kOssBridgeCommand;
// prongsai import oss FILE [--server LEDGER] [--state FILE]
//                          [--dead-letter FILE] ...
extern const CommandSpec kImportCommand;

int RunOssBridge(const Args& args);
int RunImport(const Args& args);

}  // namespace prongsai::cli

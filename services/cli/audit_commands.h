// The audit commands of `prongsai`: export, verify, prove and keygen. Each
// returns the process exit code and writes errors to stderr.
//
//   prongsai export --stream 1045 --out 1045.export   (prongsai.v1.Audit)
//   prongsai verify 1045.export --key 'prongsai+1a2b3c4d+AX...'   (offline)
//   prongsai prove inclusion --event ID --checkpoint trusted.note --key ...
//   prongsai keygen --name prongsai.bangkok.go.th/ledger --out checkpoint.key
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kExportCommand;
extern const CommandSpec kVerifyCommand;
extern const CommandSpec kProveCommand;
extern const CommandSpec kKeygenCommand;

int RunExport(const Args& args);
int RunVerify(const Args& args);
int RunProve(const Args& args);
int RunKeygen(const Args& args);

}  // namespace prongsai::cli

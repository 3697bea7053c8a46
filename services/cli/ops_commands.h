// The operator commands of `prongsai`: health (a grpc.health.v1 check, for
// container health checks) and migrate (the embedded log copied to Kafka,
// with the proof that nothing changed). Each returns the process exit code.
#pragma once

#include "services/cli/args.h"

namespace prongsai::cli {

extern const CommandSpec kHealthCommand;
extern const CommandSpec kMigrateCommand;

int RunHealth(const Args& args);
int RunMigrate(const Args& args);

}  // namespace prongsai::cli

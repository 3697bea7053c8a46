// The embedded event log on RocksDB: one machine, durable, no broker.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "core/log/event_log.h"

namespace prongsai::log {

struct RocksDbLogOptions {
  std::string path;
  // Sync the write-ahead log before a write is acknowledged. Only tests that
  // measure something else turn this off.
  bool sync = true;
};

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbLog(
    const RocksDbLogOptions& options);

}  // namespace prongsai::log

// The embedded event log on RocksDB: one machine, durable, no broker.
#pragma once

#include <cstddef>
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
  // Event ids held in memory before they are sorted into one file of the
  // event index (core/log/rocksdb_log.cc); at most twice this many are held.
  size_t ids_per_index_file = size_t{1} << 18;
};

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbLog(
    const RocksDbLogOptions& options);

}  // namespace prongsai::log

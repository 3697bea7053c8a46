// The event log: the durable, ordered store of stored records.
//
// The log stores what the ingest hands it: records that already carry their
// stream, sequence, prev_hash and hash. It never re-encodes them. Every record
// also gets a global position, dense across all streams, which orders
// Subscribe and the projections.
//
// Two implementations: the embedded RocksDB log (rocksdb_log.h) and Apache
// Kafka. Callers see only this interface.
//
// Example:
//   ASSIGN_OR_RETURN(auto log, OpenRocksDbLog({.path = "/var/lib/prongsai"}));
//   RETURN_IF_ERROR(log->ReadStream("1045", 1, [](const LogEntry& e) {
//     std::cout << e.sequence << "\n";
//     return true;  // keep going
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/base/hash.h"

namespace prongsai::log {

// A sequenced and hashed record, ready to store.
struct PendingRecord {
  std::string stream;
  uint64_t sequence = 0;
  std::string event_id;
  // SHA-256 of the proposed Event's bytes: tells a retry from a conflicting
  // reuse of the same event id.
  Hash fingerprint{};
  // The serialized prongsai.v1.Record, exactly as stored and hashed.
  std::string bytes;
  Hash hash{};
};

// A stored record as read back. The views are valid during the visitor call.
struct LogEntry {
  uint64_t position = 0;
  absl::string_view stream;
  uint64_t sequence = 0;
  absl::string_view hash;
  absl::string_view record_bytes;
};

// Return false to stop reading.
using EntryVisitor = std::function<bool(const LogEntry&)>;

// Where an event id was stored.
struct EventRef {
  std::string stream;
  uint64_t sequence = 0;
  uint64_t position = 0;
  Hash fingerprint{};
};

struct StreamHead {
  uint64_t sequence = 0;  // 0: the stream has no records
  Hash hash = kZeroHash;
  uint64_t position = 0;
};

class EventLog {
 public:
  virtual ~EventLog() = default;

  // Stores `records` atomically (all or none) and durably, in order, and gives
  // them consecutive positions. Returns the position of the first one. The
  // caller (the single writer of each stream) guarantees dense sequences and
  // a valid chain.
  virtual absl::StatusOr<uint64_t> Write(
      absl::Span<const PendingRecord> records) = 0;

  // Where `event_id` was stored, if it was.
  virtual absl::StatusOr<std::optional<EventRef>> FindEvent(
      absl::string_view event_id) = 0;

  // FindEvent of each id, in one look-up where the log can batch them.
  virtual absl::StatusOr<std::vector<std::optional<EventRef>>> FindEvents(
      absl::Span<const absl::string_view> event_ids) {
    std::vector<std::optional<EventRef>> out;
    out.reserve(event_ids.size());
    for (absl::string_view id : event_ids) {
      absl::StatusOr<std::optional<EventRef>> ref = FindEvent(id);
      if (!ref.ok()) {
        return ref.status();
      }
      out.push_back(*std::move(ref));
    }
    return out;
  }

  // The last record of `stream`, recovered from the stored records.
  virtual absl::StatusOr<StreamHead> LoadHead(absl::string_view stream) = 0;

  // Visits the records of `stream` with sequence >= `from_sequence`, in order.
  virtual absl::Status ReadStream(absl::string_view stream,
                                  uint64_t from_sequence,
                                  const EntryVisitor& visit) = 0;

  // Visits every record with position >= `from_position`, in log order.
  virtual absl::Status Scan(uint64_t from_position,
                            const EntryVisitor& visit) = 0;

  // Position of the last stored record; 0 when the log is empty.
  virtual uint64_t LastPosition() const = 0;

  // Waits until LastPosition() >= `position` or `deadline` passes; returns
  // LastPosition().
  virtual uint64_t WaitForPosition(uint64_t position, absl::Time deadline) = 0;
};

}  // namespace prongsai::log

// The event log on Apache Kafka: the production log.
//
// Writes go to one topic (key = stream, value = the exact stored record
// bytes, headers for routing; see kafka_record.h) through a transactional,
// idempotent producer with acks=all. One Write is one Kafka transaction, and
// it returns only after the commit succeeded. An instance owns one shard of
// the streams (OwnerShard) and writes with transactional.id
// "<prefix>-shard-<n>", so on a real cluster a second instance that claims the
// same shard fences the first.
//
// Reads are served by a local replica, an embedded RocksDB log that a
// background consumer fills from the topic and that a replica writer fills
// with this instance's writes right after each commit, while the next write
// goes to the brokers (FindEvent sees a committed write at once; the other
// reads wait for the writes queued before them). The consumer applies a record only if it continues its
// stream's chain in the replica (next sequence, matching prev_hash); anything
// else is never applied and is reported with its partition and offset
// (Rejected). Positions are those of the replica: dense, but local to the
// instance (each instance orders the streams it does not write by arrival).
//
// On open the instance reads the topic to its end before it accepts writes,
// so every stream's head comes from the log itself.
//
// Failures: a transaction the brokers abort for a passing reason is sent again
// within write_timeout; an outage longer than that fails the Write with
// UNAVAILABLE (if the commit was sent but not answered, the outcome is settled
// by the next Write or by Recover). A fenced producer or a fatal client error
// stops writing for good (UNAVAILABLE on every later Write). A Write never
// reports a success the brokers did not confirm.
//
// Example:
//   ASSIGN_OR_RETURN(auto log, OpenKafkaLog({.brokers = "127.0.0.1:9092",
//                                            .replica_path = "/var/lib/p"}));
//   ASSIGN_OR_RETURN(auto ingestor, ingest::Ingestor::Start(log.get()));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/log/event_log.h"
#include "core/log/kafka_record.h"

namespace prongsai::log {

struct KafkaLogOptions {
  // Bootstrap servers, "host:port,host:port".
  std::string brokers;
  std::string topic = std::string(kDefaultEventsTopic);
  // Directory of the local replica; created if missing. An empty directory
  // is rebuilt from the topic.
  std::string replica_path;
  // The ownership shard this instance writes, of `shard_count`.
  int shard = 0;
  int shard_count = 1;
  std::string transactional_id_prefix = "prongsai-ingest";
  // A reader (verify, projections) has no producer: it never fences a writer
  // and its Write fails with FAILED_PRECONDITION.
  bool read_only = false;
  // Longest a Write waits for the brokers before it gives up with
  // UNAVAILABLE.
  absl::Duration write_timeout = absl::Seconds(10);
  // Longest the open waits to read the topic to its end.
  absl::Duration recovery_timeout = absl::Seconds(60);
  // Further librdkafka properties for both the producer and the consumer
  // (security.protocol, sasl.*, ...); they override the defaults.
  std::vector<std::pair<std::string, std::string>> properties;
  // Receives warnings: rejected records, client errors. Defaults to stderr.
  std::function<void(absl::string_view)> warn;
};

// A topic record that the replica refused to apply.
struct RejectedRecord {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = 0;
  std::string key;
  // From the record itself; 0 when it does not decode.
  uint64_t sequence = 0;
  std::string reason;
};

class KafkaEventLog : public EventLog {
 public:
  // Records of the topic that the replica never applied, oldest first.
  virtual std::vector<RejectedRecord> Rejected() const = 0;

  // OK when this instance may write `stream`; FAILED_PRECONDITION naming the
  // owner shard otherwise.
  virtual absl::Status CheckOwnership(absl::string_view stream) const = 0;

  // OK while writes can succeed; UNAVAILABLE saying why not (fenced, a fatal
  // client error, an earlier write whose outcome is still unknown).
  virtual absl::Status WriterStatus() const = 0;

  // Settles an earlier write that timed out (finishes its commit or abort)
  // and then waits until the replica holds everything the topic held at the
  // call. Call it before recovering an ingest after a failed write.
  virtual absl::Status Recover(absl::Duration timeout) = 0;

  // Waits until the replica has consumed the topic up to its end at the call.
  virtual absl::Status CatchUp(absl::Duration timeout) = 0;

  virtual const std::string& transactional_id() const = 0;
};

// The ownership shard of `stream` among `shard_count` (FNV-1a of the stream
// name). Stable: changing it would move streams between writers.
int OwnerShard(absl::string_view stream, int shard_count);

// "<prefix>-shard-<shard>".
std::string TransactionalId(absl::string_view prefix, int shard);

// Connects, recovers the replica from the topic and, unless read_only, takes
// the writer role of the shard.
absl::StatusOr<std::unique_ptr<KafkaEventLog>> OpenKafkaLog(
    const KafkaLogOptions& options);

}  // namespace prongsai::log

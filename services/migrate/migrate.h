// Moving a ledger from the embedded RocksDB log to Apache Kafka.
//
// MigrateToKafka copies every stored record of the embedded log at
// <data>/log to the events topic, in log order, with the exact stored bytes
// (so every hash stays what it was), through a transactional producer of its
// own (transactional id "prongsai-migrate-shard-0"). It resumes: what the
// topic already holds of a stream is skipped, after checking by hash that it
// is the same history (the hash chain makes one hash check per stream
// enough); a topic that holds a different or a longer history of a stream is
// refused and nothing is written.
//
// Then it proves that nothing changed: a fresh reader rebuilds the streams
// from the topic alone, and each stream's size and RFC 6962 Merkle root over
// the source and over that copy must be equal; every latest signed
// checkpoint in <data>/checkpoints must verify (signature, with the given
// verifier keys) and match the copy's root at its tree size.
//
// The embedded log must not be in use (stop `prongsai serve` first): it is
// opened for writing, which RocksDB allows to one process only.
//
// Example:
//   ASSIGN_OR_RETURN(MigrateReport report, MigrateToKafka({
//       .data_dir = "/var/lib/prongsai", .brokers = "kafka-0:9092"}));
//   std::cout << FormatReport(report);
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/audit/note.h"
#include "core/base/hash.h"
#include "core/log/kafka_record.h"

namespace prongsai::migrate {

struct MigrateOptions {
  // The embedded deployment's data directory (its log is <data_dir>/log).
  std::string data_dir;
  std::string brokers;
  std::string topic = std::string(log::kDefaultEventsTopic);
  // Further librdkafka properties (security.protocol, sasl.*, ...).
  std::vector<std::pair<std::string, std::string>> kafka_properties;
  // Verifier keys for the signed checkpoints. Empty: the stored checkpoints
  // are not checked (the report says so).
  std::vector<audit::NoteVerifier> verifiers;
  // Scratch space for the two local replicas; emptied on every run.
  // Default: <data_dir>/migrate.
  std::string work_dir;
  // Most records per Kafka transaction.
  int batch_records = 2'000;
  // Longest one write, or reading the topic to its end, may take.
  absl::Duration timeout = absl::Seconds(60);
  // Progress lines ("copied 12000 of 60000 records"); may be empty.
  std::function<void(absl::string_view)> progress;
};

struct StreamProof {
  std::string stream;
  uint64_t size = 0;  // records, in the source and in the copy
  Hash root{};        // RFC 6962 root, equal over both
  uint64_t copied = 0;  // records this run wrote
  // The stream's latest signed checkpoint, if the data directory holds one.
  uint64_t checkpoint_size = 0;
  bool checkpoint_verified = false;
};

struct MigrateReport {
  uint64_t source_records = 0;
  // Records the topic held already (an earlier, interrupted or finished run).
  uint64_t already_present = 0;
  uint64_t copied = 0;
  // One per stream, in stream order.
  std::vector<StreamProof> streams;
  // Signed checkpoints found, and how many verified against the copy.
  int checkpoints = 0;
  int checkpoints_verified = 0;
  // Set when there were checkpoints but no verifier key to check them with.
  bool checkpoints_unchecked = false;
};

// Copies and proves. Errors: FAILED_PRECONDITION when the topic holds a
// different or longer history of a stream (nothing is written); DATA_LOSS
// when the proof fails (a root, a size or a checkpoint differs, or the fresh
// reader refused a topic record); UNAVAILABLE when the brokers do not answer.
absl::StatusOr<MigrateReport> MigrateToKafka(const MigrateOptions& options);

// "stream 1045 size 312 root <base64> checkpoint 300 verified" lines and a
// summary.
std::string FormatReport(const MigrateReport& report);

}  // namespace prongsai::migrate

#include "services/migrate/migrate.h"

#include <rocksdb/db.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/audit/checkpoint.h"
#include "core/audit/merkle.h"
#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/log/event_log.h"
#include "core/log/kafka_log.h"
#include "core/log/rocksdb_log.h"
#include "core/log/rocksdb_status.h"

namespace prongsai::migrate {
namespace {

// Its own transactional id: the migration never fences an ingest.
constexpr char kTransactionalPrefix[] = "prongsai-migrate";
// Keys of the checkpoint store (services/audit/checkpointer.h):
//   'c' stream '\0' size(8, big-endian) -> the signed note
constexpr char kCheckpointPrefix = 'c';
// A Kafka transaction stays well below the brokers' request limits.
constexpr size_t kMaxBatchBytes = 4 << 20;

struct Tree {
  audit::CompactTree tree;
  Hash last_hash = kZeroHash;
};

struct Head {
  uint64_t sequence = 0;
  Hash hash = kZeroHash;
};

struct LatestCheckpoint {
  std::string note;
  uint64_t size = 0;
};

void Progress(const MigrateOptions& options, absl::string_view line) {
  if (options.progress) {
    options.progress(line);
  }
}

// Each stream's latest signed checkpoint in the store at `path`; empty when
// there is no store.
absl::StatusOr<std::map<std::string, LatestCheckpoint>> LatestCheckpoints(
    const std::string& path) {
  std::map<std::string, LatestCheckpoint> out;
  std::error_code error;
  if (!std::filesystem::exists(path + "/CURRENT", error)) {
    return out;
  }
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::OpenForReadOnly(rocksdb::Options(), path, &raw),
      absl::StrCat("opening the checkpoint store at ", path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}));
  const std::string prefix(1, kCheckpointPrefix);
  it->Seek(prefix);
  // Jump from stream to stream: 'c' stream '\1' sorts after every key of the
  // stream and before the next stream's.
  while (it->Valid() && it->key().starts_with(prefix)) {
    const std::string key = it->key().ToString();
    const size_t end = key.find('\0');
    if (end == std::string::npos || key.size() != end + 1 + 8) {
      return absl::DataLossError(
          absl::StrCat("checkpoint store ", path, ": a malformed key"));
    }
    const std::string stream = key.substr(1, end - 1);
    it->SeekForPrev(absl::StrCat(prefix, stream, absl::string_view("\0", 1),
                                 std::string(8, '\xff')));
    if (!it->Valid()) {
      break;
    }
    const std::string latest_key = it->key().ToString();
    out[stream] = {it->value().ToString(),
                   ReadBigEndian64(latest_key.data() + latest_key.size() - 8)};
    it->Seek(absl::StrCat(prefix, stream, absl::string_view("\1", 1)));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading checkpoints"));
  return out;
}

log::KafkaLogOptions KafkaOptions(const MigrateOptions& options,
                                  const std::string& replica, bool read_only) {
  log::KafkaLogOptions kafka;
  kafka.brokers = options.brokers;
  kafka.topic = options.topic;
  kafka.replica_path = replica;
  kafka.transactional_id_prefix = kTransactionalPrefix;
  kafka.read_only = read_only;
  kafka.write_timeout = options.timeout;
  kafka.recovery_timeout = options.timeout;
  kafka.properties = options.kafka_properties;
  if (options.progress) {
    kafka.warn = [&options](absl::string_view message) {
      options.progress(absl::StrCat("kafka: ", message));
    };
  }
  return kafka;
}

absl::Status FreshDirectory(const std::string& path) {
  std::error_code error;
  std::filesystem::remove_all(path, error);
  if (!error) {
    std::filesystem::create_directories(path, error);
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("preparing ", path, ": ", error.message()));
  }
  return absl::OkStatus();
}

// Every stream's head as `log` holds it.
absl::StatusOr<std::map<std::string, Head>> ReadHeads(log::EventLog& log) {
  std::map<std::string, Head> heads;
  RETURN_IF_ERROR(log.Scan(1, [&](const log::LogEntry& entry) {
    Head& head = heads[std::string(entry.stream)];
    head.sequence = entry.sequence;
    HashFromBytes(entry.hash, &head.hash);
    return true;
  }));
  return heads;
}

// Copies the source records that `topic_heads` lacks, in log order.
absl::StatusOr<uint64_t> Copy(const MigrateOptions& options,
                              log::EventLog& source, log::EventLog& writer,
                              const std::map<std::string, Head>& topic_heads,
                              uint64_t to_copy) {
  std::vector<log::PendingRecord> batch;
  size_t batch_bytes = 0;
  uint64_t copied = 0;
  absl::Status failure;
  auto flush = [&]() -> absl::Status {
    if (batch.empty()) {
      return absl::OkStatus();
    }
    absl::StatusOr<uint64_t> written = writer.Write(batch);
    if (!written.ok()) {
      return Annotate(written.status(),
                      absl::StrCat("writing records to ", options.topic,
                                   " (run the migration again to resume)"));
    }
    copied += batch.size();
    batch.clear();
    batch_bytes = 0;
    Progress(options,
             absl::StrCat("copied ", copied, " of ", to_copy, " records"));
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(source.Scan(1, [&](const log::LogEntry& entry) {
    auto held = topic_heads.find(std::string(entry.stream));
    if (held != topic_heads.end() && entry.sequence <= held->second.sequence) {
      return true;  // the topic has it (checked by hash before)
    }
    absl::StatusOr<log::RecordFields> fields =
        log::ScanRecord(entry.record_bytes);
    if (!fields.ok()) {
      failure = Annotate(fields.status(),
                         absl::StrCat("the record at position ", entry.position,
                                      " of the embedded log"));
      return false;
    }
    log::PendingRecord record;
    record.stream = std::string(entry.stream);
    record.sequence = entry.sequence;
    record.event_id = std::string(fields->event_id);
    record.fingerprint = Sha256(fields->event_bytes);
    record.bytes = std::string(entry.record_bytes);
    if (!HashFromBytes(entry.hash, &record.hash)) {
      failure = absl::DataLossError(absl::StrCat(
          "the record at position ", entry.position, " has no valid hash"));
      return false;
    }
    batch_bytes += record.bytes.size();
    batch.push_back(std::move(record));
    if (batch.size() >= static_cast<size_t>(options.batch_records) ||
        batch_bytes >= kMaxBatchBytes) {
      failure = flush();
      return failure.ok();
    }
    return true;
  }));
  RETURN_IF_ERROR(failure);
  RETURN_IF_ERROR(flush());
  return copied;
}

}  // namespace

absl::StatusOr<MigrateReport> MigrateToKafka(const MigrateOptions& options) {
  if (options.data_dir.empty() || options.brokers.empty()) {
    return absl::InvalidArgumentError("--data and --brokers are required");
  }
  if (options.batch_records < 1) {
    return absl::InvalidArgumentError("batch_records must be at least 1");
  }
  const std::string work = options.work_dir.empty()
                               ? options.data_dir + "/migrate"
                               : options.work_dir;
  const std::string log_path = options.data_dir + "/log";
  std::error_code error;
  if (!std::filesystem::exists(log_path + "/CURRENT", error)) {
    return absl::NotFoundError(absl::StrCat(
        "no embedded log at ", log_path, ": is --data the data directory?"));
  }
  absl::StatusOr<std::unique_ptr<log::EventLog>> opened =
      log::OpenRocksDbLog({.path = log_path});
  if (!opened.ok()) {
    return Annotate(opened.status(),
                    "opening the embedded log (stop `prongsai serve` first)");
  }
  std::unique_ptr<log::EventLog> source = std::move(*opened);
  ASSIGN_OR_RETURN(auto checkpoints,
                   LatestCheckpoints(options.data_dir + "/checkpoints"));

  MigrateReport report;
  // The source: each stream's tree, and the hash at the sequence the topic
  // already holds up to.
  RETURN_IF_ERROR(FreshDirectory(work + "/writer"));
  ASSIGN_OR_RETURN(std::unique_ptr<log::KafkaEventLog> writer,
                   log::OpenKafkaLog(KafkaOptions(
                       options, work + "/writer", /*read_only=*/false)));
  using Heads = std::map<std::string, Head>;
  ASSIGN_OR_RETURN(const Heads topic_heads, ReadHeads(*writer));
  std::map<std::string, Tree> source_trees;
  absl::flat_hash_map<std::string, Hash> source_hash_at_topic_head;
  RETURN_IF_ERROR(source->Scan(1, [&](const log::LogEntry& entry) {
    Tree& tree = source_trees[std::string(entry.stream)];
    tree.tree.Append(audit::LeafHash(entry.record_bytes));
    HashFromBytes(entry.hash, &tree.last_hash);
    auto held = topic_heads.find(std::string(entry.stream));
    if (held != topic_heads.end() &&
        held->second.sequence == entry.sequence) {
      source_hash_at_topic_head[std::string(entry.stream)] = tree.last_hash;
    }
    ++report.source_records;
    return true;
  }));
  for (const auto& [stream, head] : topic_heads) {
    auto tree = source_trees.find(stream);
    const uint64_t source_size =
        tree == source_trees.end() ? 0 : tree->second.tree.size();
    if (head.sequence > source_size) {
      return absl::FailedPreconditionError(absl::StrCat(
          "topic ", options.topic, " holds ", head.sequence,
          " records of stream ", stream, " but the embedded log only ",
          source_size, ": it is not a copy of this log; nothing was written"));
    }
    auto hash = source_hash_at_topic_head.find(stream);
    if (hash == source_hash_at_topic_head.end() ||
        hash->second != head.hash) {
      return absl::FailedPreconditionError(absl::StrCat(
          "topic ", options.topic, " holds a different history of stream ",
          stream, ": its record ", head.sequence,
          " has another hash than the embedded log's; nothing was written"));
    }
    report.already_present += head.sequence;
  }
  Progress(options,
           absl::StrCat("the embedded log holds ", report.source_records,
                        " records in ", source_trees.size(), " streams; ",
                        report.already_present, " are already in ",
                        options.topic));

  ASSIGN_OR_RETURN(
      report.copied,
      Copy(options, *source, *writer, topic_heads,
           report.source_records - report.already_present));
  absl::flat_hash_map<std::string, uint64_t> copied_per_stream;
  for (const auto& [stream, tree] : source_trees) {
    auto held = topic_heads.find(stream);
    copied_per_stream[stream] =
        tree.tree.size() -
        (held == topic_heads.end() ? 0 : held->second.sequence);
  }
  writer.reset();

  // The proof: a reader that knows nothing but the topic.
  Progress(options, "reading the topic back with a fresh replica");
  RETURN_IF_ERROR(FreshDirectory(work + "/reader"));
  ASSIGN_OR_RETURN(std::unique_ptr<log::KafkaEventLog> reader,
                   log::OpenKafkaLog(KafkaOptions(options, work + "/reader",
                                                  /*read_only=*/true)));
  std::map<std::string, Tree> copy_trees;
  // The copy's root at each stream's latest checkpoint size.
  absl::flat_hash_map<std::string, Hash> copy_root_at_checkpoint;
  RETURN_IF_ERROR(reader->Scan(1, [&](const log::LogEntry& entry) {
    const std::string stream(entry.stream);
    Tree& tree = copy_trees[stream];
    tree.tree.Append(audit::LeafHash(entry.record_bytes));
    auto checkpoint = checkpoints.find(stream);
    if (checkpoint != checkpoints.end() &&
        checkpoint->second.size == tree.tree.size()) {
      copy_root_at_checkpoint[stream] = tree.tree.Root();
    }
    return true;
  }));
  const std::vector<log::RejectedRecord> rejected = reader->Rejected();
  if (!rejected.empty()) {
    const log::RejectedRecord& first = rejected.front();
    return absl::DataLossError(absl::StrCat(
        "reading ", options.topic, " back, ", rejected.size(),
        " records do not continue their stream's chain; the first: stream ",
        first.key, " at partition ", first.partition, " offset ", first.offset,
        ": ", first.reason));
  }

  for (const auto& [stream, tree] : source_trees) {
    auto copy = copy_trees.find(stream);
    const uint64_t copy_size =
        copy == copy_trees.end() ? 0 : copy->second.tree.size();
    if (copy_size != tree.tree.size()) {
      return absl::DataLossError(absl::StrCat(
          "stream ", stream, ": the embedded log holds ", tree.tree.size(),
          " records, the topic ", copy_size));
    }
    const Hash root = tree.tree.Root();
    if (copy->second.tree.Root() != root) {
      return absl::DataLossError(absl::StrCat(
          "stream ", stream, ": the Merkle root of the topic's copy differs "
          "from the embedded log's"));
    }
    StreamProof proof;
    proof.stream = stream;
    proof.size = tree.tree.size();
    proof.root = root;
    proof.copied = copied_per_stream[stream];
    report.streams.push_back(std::move(proof));
  }
  for (const auto& [stream, unused] : copy_trees) {
    if (!source_trees.contains(stream)) {
      return absl::DataLossError(absl::StrCat(
          "the topic holds stream ", stream, ", which the embedded log lacks"));
    }
  }

  for (StreamProof& proof : report.streams) {
    auto checkpoint = checkpoints.find(proof.stream);
    if (checkpoint == checkpoints.end()) {
      continue;
    }
    ++report.checkpoints;
    proof.checkpoint_size = checkpoint->second.size;
    if (options.verifiers.empty()) {
      report.checkpoints_unchecked = true;
      continue;
    }
    absl::StatusOr<audit::Note> note =
        audit::OpenNote(checkpoint->second.note, options.verifiers);
    if (!note.ok()) {
      return absl::DataLossError(absl::StrCat(
          "stream ", proof.stream, ": its latest signed checkpoint does not "
          "verify with the given keys: ", note.status().message()));
    }
    ASSIGN_OR_RETURN(audit::Checkpoint parsed,
                     audit::ParseCheckpoint(note->text));
    if (!absl::EndsWith(parsed.origin, absl::StrCat("/", proof.stream)) ||
        parsed.size != checkpoint->second.size) {
      return absl::DataLossError(absl::StrCat(
          "stream ", proof.stream, ": the stored checkpoint names ",
          parsed.origin, " size ", parsed.size));
    }
    auto root = copy_root_at_checkpoint.find(proof.stream);
    if (parsed.size > proof.size || root == copy_root_at_checkpoint.end() ||
        root->second != parsed.root) {
      return absl::DataLossError(absl::StrCat(
          "stream ", proof.stream, ": the topic's copy does not match its "
          "signed checkpoint of size ", parsed.size));
    }
    proof.checkpoint_verified = true;
    ++report.checkpoints_verified;
  }
  return report;
}

std::string FormatReport(const MigrateReport& report) {
  std::string out;
  for (const StreamProof& proof : report.streams) {
    absl::StrAppend(&out, "stream ", proof.stream, " size ", proof.size,
                    " root ", audit::Base64Encode(AsBytes(proof.root)),
                    " copied ", proof.copied);
    if (proof.checkpoint_size > 0) {
      absl::StrAppend(&out, " checkpoint ", proof.checkpoint_size,
                      proof.checkpoint_verified ? " verified" : " unchecked");
    }
    out += "\n";
  }
  absl::StrAppend(&out, "OK ", report.streams.size(), " streams, ",
                  report.source_records, " records: ", report.copied,
                  " copied, ", report.already_present,
                  " already in the topic; every stream's size and Merkle root "
                  "are equal in the embedded log and in Kafka");
  if (report.checkpoints > 0) {
    if (report.checkpoints_unchecked) {
      absl::StrAppend(&out, "; ", report.checkpoints,
                      " signed checkpoints NOT checked (no verifier key)");
    } else {
      absl::StrAppend(&out, "; ", report.checkpoints_verified, " of ",
                      report.checkpoints,
                      " latest signed checkpoints verify against the copy");
    }
  }
  out += "\n";
  return out;
}

}  // namespace prongsai::migrate

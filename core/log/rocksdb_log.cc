#include "core/log/rocksdb_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/log/kafka_record.h"
#include "core/log/rocksdb_status.h"

namespace prongsai::log {
namespace {

// Key layout. The default column family holds the records and the stream
// index, with a one-byte prefix per kind:
//   'p' pos(8)  -> hash(32) seq(8) len(1) stream [fingerprint(32)] record
//       `len` holds the stream name's length in bits 0-6; bit 7 is set when
//       the event's fingerprint follows the name (every record written
//       since the event index is derived from the records).
//   's' stream '\0' first_seq(8) -> pos(8) count(8)
//       A run: `count` records of the stream, sequences from first_seq, at
//       consecutive positions from pos (one per append, not per event). A
//       value of pos(8) alone is a run of one, as older logs wrote them.
// The "event_index" column family finds a record by its event id:
//   hash64(event_id)(8)   -> pos(8)
//   kIndexedThroughKey    -> pos(8): the ids of every record up to pos are in
//                            this family
// It is derived from the records: the ids of later records are held in
// memory and, a few hundred thousand at a time, sorted and ingested as one
// table file that also carries the new kIndexedThroughKey. Opening the log
// reads back the ids of the records past it. The synced write of an append
// so carries only its records and one stream run. Two ids whose hashes
// meet are told apart by the record itself (ResolveEvent).
// Logs written before the index was derived keep their ids in the
// "event_ids" column family, read but no longer written:
//   hash64(event_id)(8) event_id -> pos(8) seq(8) fingerprint(32) stream
// Integers are big-endian so keys sort numerically.
constexpr char kPositionPrefix = 'p';
constexpr char kStreamPrefix = 's';
// The event-id index of logs written before it had its own column family.
constexpr char kLegacyEventPrefix = 'e';
constexpr char kLegacyIdsFamily[] = "event_ids";
constexpr char kIndexFamily[] = "event_index";
// Sorts after every 8-byte hash key.
constexpr char kIndexedThroughKey[] = "\xff\xff\xff\xff\xff\xff\xff\xff\xff";
constexpr size_t kEntryHeader = kHashSize + 8 + 1;
constexpr unsigned char kHasFingerprint = 0x80;
constexpr size_t kMaxStreamName = 0x7f;
constexpr size_t kBlockCacheBytes = size_t{64} << 20;

std::string PositionKey(uint64_t position) {
  std::string key(1, kPositionPrefix);
  AppendBigEndian64(position, &key);
  return key;
}

std::string StreamPrefix(absl::string_view stream) {
  std::string key(1, kStreamPrefix);
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  return key;
}

std::string StreamKey(absl::string_view stream, uint64_t sequence) {
  std::string key = StreamPrefix(stream);
  AppendBigEndian64(sequence, &key);
  return key;
}

std::string IndexKey(uint64_t id_hash) {
  std::string key;
  AppendBigEndian64(id_hash, &key);
  return key;
}

std::string LegacyEventKey(absl::string_view event_id) {
  std::string key = IndexKey(StableHash64(event_id));
  key.append(event_id.data(), event_id.size());
  return key;
}

// A stream run as stored.
struct Run {
  uint64_t first_sequence = 0;
  uint64_t position = 0;
  uint64_t count = 0;
};

absl::StatusOr<Run> DecodeRun(absl::string_view stream,
                              const rocksdb::Slice& key,
                              const rocksdb::Slice& value) {
  Run run;
  const size_t prefix = stream.size() + 2;
  if (key.size() != prefix + 8 || (value.size() != 8 && value.size() != 16)) {
    return absl::DataLossError(
        absl::StrCat("the index of stream ", stream, " has a malformed entry"));
  }
  run.first_sequence = ReadBigEndian64(key.data() + prefix);
  run.position = ReadBigEndian64(value.data());
  run.count = value.size() == 16 ? ReadBigEndian64(value.data() + 8) : 1;
  if (run.count == 0) {
    return absl::DataLossError(
        absl::StrCat("the index of stream ", stream, " has an empty run"));
  }
  return run;
}

// A stored entry: the record and, when it was written with one, the
// fingerprint of its event.
struct StoredEntry {
  LogEntry entry;
  absl::string_view fingerprint;  // empty: none stored
};

absl::StatusOr<StoredEntry> DecodeStored(uint64_t position,
                                         absl::string_view value) {
  auto truncated = [&] {
    return absl::DataLossError(
        absl::StrCat("log entry at position ", position, " is truncated"));
  };
  if (value.size() < kEntryHeader) {
    return truncated();
  }
  StoredEntry stored;
  LogEntry& entry = stored.entry;
  entry.position = position;
  entry.hash = value.substr(0, kHashSize);
  entry.sequence = ReadBigEndian64(value.data() + kHashSize);
  const unsigned char len = static_cast<unsigned char>(value[kHashSize + 8]);
  const size_t stream_len = len & kMaxStreamName;
  const size_t fingerprint_len = (len & kHasFingerprint) ? kHashSize : 0;
  if (value.size() < kEntryHeader + stream_len + fingerprint_len) {
    return truncated();
  }
  entry.stream = value.substr(kEntryHeader, stream_len);
  stored.fingerprint = value.substr(kEntryHeader + stream_len, fingerprint_len);
  entry.record_bytes =
      value.substr(kEntryHeader + stream_len + fingerprint_len);
  return stored;
}

absl::StatusOr<LogEntry> DecodeEntry(uint64_t position,
                                     absl::string_view value) {
  ASSIGN_OR_RETURN(StoredEntry stored, DecodeStored(position, value));
  return stored.entry;
}

// The answer to a look-up of `event_id` in the event_ids family.
absl::StatusOr<std::optional<EventRef>> FoundLegacyEvent(
    absl::string_view event_id, const rocksdb::Status& status,
    const rocksdb::Slice& value) {
  if (status.IsNotFound()) {
    return std::nullopt;
  }
  RETURN_IF_ERROR(FromRocks(status, "looking up an event id"));
  if (value.size() < 16 + kHashSize) {
    return absl::DataLossError(
        absl::StrCat("event index entry for ", event_id, " is truncated"));
  }
  EventRef ref;
  ref.position = ReadBigEndian64(value.data());
  ref.sequence = ReadBigEndian64(value.data() + 8);
  std::memcpy(ref.fingerprint.data(), value.data() + 16, kHashSize);
  ref.stream.assign(value.data() + 16 + kHashSize,
                    value.size() - 16 - kHashSize);
  return ref;
}

absl::string_view View(const rocksdb::Slice& slice) {
  return absl::string_view(slice.data(), slice.size());
}

class RocksDbLog final : public EventLog {
 public:
  // `families`: the default family, event_index, then event_ids if the log
  // has one.
  RocksDbLog(std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> families,
             rocksdb::Options index_options, std::string staging,
             const RocksDbLogOptions& options, uint64_t last)
      : db_(std::move(db)),
        families_(std::move(families)),
        index_(families_[1]),
        legacy_ids_(families_.size() > 2 ? families_[2] : nullptr),
        index_options_(std::move(index_options)),
        staging_(std::move(staging)),
        index_batch_(std::max<size_t>(1, options.ids_per_index_file)),
        last_position_(last),
        waited_position_(last) {
    write_options_.sync = options.sync;
  }

  ~RocksDbLog() override {
    if (indexer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(index_mu_);
        closing_ = true;
      }
      index_cv_.notify_all();
      indexer_.join();  // after it indexed every id held in memory
    }
    for (rocksdb::ColumnFamilyHandle* family : families_) {
      db_->DestroyColumnFamilyHandle(family);
    }
  }

  // Holds in memory the ids of the records past the index, then starts the
  // indexer.
  absl::Status Start() {
    uint64_t through = 0;
    {
      std::string value;
      rocksdb::Status status =
          db_->Get(rocksdb::ReadOptions(), index_, kIndexedThroughKey, &value);
      if (status.ok() && value.size() == 8) {
        through = ReadBigEndian64(value.data());
      } else if (!status.IsNotFound()) {
        RETURN_IF_ERROR(FromRocks(status, "reading the event index"));
      } else if (legacy_ids_ != nullptr) {
        // A log from before the derived index: every id it holds is in
        // event_ids. The index starts after them.
        through = LastPosition();
        RETURN_IF_ERROR(WriteIndex({}, through));
      }
    }
    std::lock_guard<std::mutex> lock(index_mu_);
    RETURN_IF_ERROR(Scan(through + 1, [&](const LogEntry& entry) {
      HoldRecoveredId(entry);
      return true;
    }));
    active_through_ = LastPosition();
    indexer_ = std::thread([this] { IndexLoop(); });
    return absl::OkStatus();
  }

  absl::StatusOr<uint64_t> Write(
      absl::Span<const PendingRecord> records) override {
    if (records.empty()) {
      return absl::InvalidArgumentError("nothing to write");
    }
    // One writer at a time: positions are handed out in write order.
    absl::MutexLock write_lock(&write_mu_);
    const uint64_t first = LastPosition() + 1;
    for (const PendingRecord& record : records) {
      if (record.stream.empty() || record.stream.size() > kMaxStreamName) {
        return absl::InvalidArgumentError(
            absl::StrCat("stream name must be 1..", kMaxStreamName, " bytes"));
      }
    }
    // Sized up front: the batch of a large group is megabytes, and growing
    // it by doubling would copy it over and over.
    size_t bytes = 64;
    for (const PendingRecord& record : records) {
      bytes +=
          record.bytes.size() + 2 * record.stream.size() + 2 * kHashSize + 64;
    }
    rocksdb::WriteBatch batch(bytes);
    std::string value;
    uint64_t position = first;
    for (const PendingRecord& record : records) {
      // The entry's header, then the record bytes as they are (no copy).
      value.clear();
      value.append(reinterpret_cast<const char*>(record.hash.data()),
                   kHashSize);
      AppendBigEndian64(record.sequence, &value);
      value.push_back(
          static_cast<char>(record.stream.size() | kHasFingerprint));
      value.append(record.stream);
      value.append(reinterpret_cast<const char*>(record.fingerprint.data()),
                   kHashSize);
      const std::string key = PositionKey(position++);
      const rocksdb::Slice key_slice(key);
      const rocksdb::Slice parts[2] = {value, record.bytes};
      RETURN_IF_ERROR(FromRocks(batch.Put(rocksdb::SliceParts(&key_slice, 1),
                                          rocksdb::SliceParts(parts, 2)),
                                "staging a record"));
    }
    // One stream-index entry per run of a stream's records.
    for (size_t i = 0; i < records.size();) {
      size_t end = i + 1;
      while (end < records.size() && records[end].stream == records[i].stream &&
             records[end].sequence == records[end - 1].sequence + 1) {
        ++end;
      }
      value.clear();
      AppendBigEndian64(first + i, &value);
      AppendBigEndian64(end - i, &value);
      RETURN_IF_ERROR(FromRocks(
          batch.Put(StreamKey(records[i].stream, records[i].sequence), value),
          "staging the stream index"));
      i = end;
    }
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch),
                              "writing to the event log"));
    bool full = false;
    {
      std::lock_guard<std::mutex> lock(index_mu_);
      for (size_t i = 0; i < records.size(); ++i) {
        HoldId(records[i].event_id, first + i);
      }
      active_through_ = position - 1;
      full = active_.size() >= index_batch_;
    }
    if (full) {
      index_cv_.notify_all();
    }
    {
      absl::MutexLock lock(&mu_);
      last_position_ = position - 1;
    }
    {
      std::lock_guard<std::mutex> lock(wait_mu_);
      waited_position_ = position - 1;
    }
    grown_.notify_all();
    return first;
  }

  absl::StatusOr<std::optional<EventRef>> FindEvent(
      absl::string_view event_id) override {
    ASSIGN_OR_RETURN(std::vector<std::optional<EventRef>> found,
                     FindEvents({event_id}));
    return std::move(found[0]);
  }

  absl::StatusOr<std::vector<std::optional<EventRef>>> FindEvents(
      absl::Span<const absl::string_view> event_ids) override {
    const size_t n = event_ids.size();
    std::vector<std::optional<EventRef>> out(n);
    std::vector<std::optional<uint64_t>> positions(n);
    std::vector<uint64_t> hashes(n);
    for (size_t i = 0; i < n; ++i) {
      hashes[i] = StableHash64(event_ids[i]);
    }
    // Ids not yet in the index, then the index, then event_ids.
    {
      std::lock_guard<std::mutex> lock(index_mu_);
      for (size_t i = 0; i < n; ++i) {
        if (!event_ids[i].empty()) {
          positions[i] = HeldPosition(hashes[i]);
        }
      }
    }
    std::vector<size_t> rest;
    for (size_t i = 0; i < n; ++i) {
      if (!positions[i].has_value() && !event_ids[i].empty()) {
        rest.push_back(i);
      }
    }
    if (!rest.empty()) {
      std::vector<std::string> keys(rest.size());
      std::vector<rocksdb::Slice> slices(rest.size());
      for (size_t j = 0; j < rest.size(); ++j) {
        keys[j] = IndexKey(hashes[rest[j]]);
        slices[j] = keys[j];
      }
      std::vector<rocksdb::PinnableSlice> values(rest.size());
      std::vector<rocksdb::Status> statuses(rest.size());
      db_->MultiGet(rocksdb::ReadOptions(), index_, rest.size(), slices.data(),
                    values.data(), statuses.data());
      std::vector<size_t> legacy;
      for (size_t j = 0; j < rest.size(); ++j) {
        if (statuses[j].IsNotFound()) {
          legacy.push_back(rest[j]);
          continue;
        }
        RETURN_IF_ERROR(FromRocks(statuses[j], "looking up event ids"));
        if (values[j].size() != 8) {
          return absl::DataLossError(absl::StrCat(
              "event index entry for ", event_ids[rest[j]], " is malformed"));
        }
        positions[rest[j]] = ReadBigEndian64(values[j].data());
      }
      if (legacy_ids_ != nullptr && !legacy.empty()) {
        RETURN_IF_ERROR(FindLegacyEvents(event_ids, legacy, out));
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (positions[i].has_value()) {
        ASSIGN_OR_RETURN(out[i], ResolveEvent(event_ids[i], *positions[i]));
      }
    }
    return out;
  }

  absl::StatusOr<StreamHead> LoadHead(absl::string_view stream) override {
    const std::string prefix = StreamPrefix(stream);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(StreamKey(stream, UINT64_MAX));
    RETURN_IF_ERROR(FromRocks(it->status(), "finding a stream head"));
    StreamHead head;
    if (!it->Valid() || !it->key().starts_with(prefix)) {
      return head;
    }
    ASSIGN_OR_RETURN(Run run, DecodeRun(stream, it->key(), it->value()));
    const uint64_t position = run.position + run.count - 1;
    std::string value;
    RETURN_IF_ERROR(FromRocks(
        db_->Get(rocksdb::ReadOptions(), PositionKey(position), &value),
        absl::StrCat("reading the head of stream ", stream)));
    ASSIGN_OR_RETURN(LogEntry entry, DecodeEntry(position, value));
    head.sequence = entry.sequence;
    head.position = position;
    HashFromBytes(entry.hash, &head.hash);
    return head;
  }

  absl::Status ReadStream(absl::string_view stream, uint64_t from_sequence,
                          const EntryVisitor& visit) override {
    const std::string prefix = StreamPrefix(stream);
    const std::string from = StreamKey(stream, from_sequence);
    std::unique_ptr<rocksdb::Iterator> runs(
        db_->NewIterator(rocksdb::ReadOptions()));
    // The run that holds `from_sequence`, else the first one after it.
    runs->SeekForPrev(from);
    if (!runs->Valid() || !runs->key().starts_with(prefix)) {
      runs->Seek(from);
    }
    std::unique_ptr<rocksdb::Iterator> records = NewRecordIterator();
    for (; runs->Valid() && runs->key().starts_with(prefix); runs->Next()) {
      ASSIGN_OR_RETURN(Run run, DecodeRun(stream, runs->key(), runs->value()));
      const uint64_t skip = from_sequence > run.first_sequence
                                ? from_sequence - run.first_sequence
                                : 0;
      if (skip >= run.count) {
        continue;
      }
      records->Seek(PositionKey(run.position + skip));
      for (uint64_t k = skip; k < run.count; ++k, records->Next()) {
        const uint64_t position = run.position + k;
        if (!records->Valid() || records->key().size() != 9 ||
            ReadBigEndian64(records->key().data() + 1) != position) {
          RETURN_IF_ERROR(FromRocks(records->status(),
                                    absl::StrCat("reading stream ", stream)));
          return absl::DataLossError(absl::StrCat(
              "stream ", stream, ": sequence ", run.first_sequence + k,
              " is indexed at position ", position, ", which holds no record"));
        }
        ASSIGN_OR_RETURN(LogEntry entry,
                         DecodeEntry(position, View(records->value())));
        if (!visit(entry)) {
          return absl::OkStatus();
        }
      }
    }
    return FromRocks(runs->status(), absl::StrCat("reading stream ", stream));
  }

  absl::Status Scan(uint64_t from_position,
                    const EntryVisitor& visit) override {
    std::unique_ptr<rocksdb::Iterator> it = NewRecordIterator();
    for (it->Seek(PositionKey(from_position)); it->Valid(); it->Next()) {
      const uint64_t position = ReadBigEndian64(it->key().data() + 1);
      ASSIGN_OR_RETURN(LogEntry entry,
                       DecodeEntry(position, View(it->value())));
      if (!visit(entry)) {
        return absl::OkStatus();
      }
    }
    return FromRocks(it->status(), "scanning the log");
  }

  uint64_t LastPosition() const override {
    absl::MutexLock lock(&mu_);
    return last_position_;
  }

  uint64_t WaitForPosition(uint64_t position, absl::Time deadline) override {
    // A plain condition variable: its timed wait always returns at the
    // deadline, which the followers rely on to notice that they must stop.
    std::unique_lock<std::mutex> lock(wait_mu_);
    grown_.wait_until(lock, absl::ToChronoTime(deadline),
                      [&] { return waited_position_ >= position; });
    return waited_position_;
  }

 private:
  using HeldIds = absl::flat_hash_map<uint64_t, uint64_t>;

  // An iterator over the records ('p' keys) only.
  std::unique_ptr<rocksdb::Iterator> NewRecordIterator() {
    static const std::string kEnd(1, kPositionPrefix + 1);
    static const rocksdb::Slice kEndSlice(kEnd);
    rocksdb::ReadOptions options;
    options.iterate_upper_bound = &kEndSlice;
    return std::unique_ptr<rocksdb::Iterator>(db_->NewIterator(options));
  }

  void HoldId(absl::string_view event_id, uint64_t position)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_) {
    if (!event_id.empty()) {
      active_[StableHash64(event_id)] = position;
    }
  }

  // Holds the id of a record past the index, read back at open. A record
  // written without a fingerprint has its id in event_ids already; one that
  // does not scan cannot be found by its id (the chain's verification
  // reports it).
  void HoldRecoveredId(const LogEntry& entry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_) {
    absl::StatusOr<RecordFields> fields = ScanRecord(entry.record_bytes);
    if (!fields.ok()) {
      std::fprintf(stderr,
                   "event log: the record at position %llu is not indexed "
                   "by its event id: %s\n",
                   static_cast<unsigned long long>(entry.position),
                   std::string(fields.status().message()).c_str());
      return;
    }
    HoldId(fields->event_id, entry.position);
  }

  std::optional<uint64_t> HeldPosition(uint64_t id_hash)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_) {
    if (auto it = active_.find(id_hash); it != active_.end()) {
      return it->second;
    }
    if (auto it = sealed_.find(id_hash); it != sealed_.end()) {
      return it->second;
    }
    return std::nullopt;
  }

  // The event stored at `position` under the hash of `event_id`, or, when
  // it has another id whose hash meets this one, a refusal of `event_id`.
  absl::StatusOr<EventRef> ResolveEvent(absl::string_view event_id,
                                        uint64_t position) {
    std::string value;
    RETURN_IF_ERROR(FromRocks(
        db_->Get(rocksdb::ReadOptions(), PositionKey(position), &value),
        absl::StrCat("reading the record of event ", event_id)));
    ASSIGN_OR_RETURN(StoredEntry stored, DecodeStored(position, value));
    ASSIGN_OR_RETURN(RecordFields fields,
                     ScanRecord(stored.entry.record_bytes));
    if (fields.event_id != event_id) {
      return absl::AlreadyExistsError(absl::StrCat(
          "event_id \"", event_id, "\" meets the index key of event \"",
          fields.event_id, "\" (stream ", stored.entry.stream, ", sequence ",
          stored.entry.sequence, "); choose a new event id"));
    }
    if (stored.fingerprint.size() != kHashSize) {
      return absl::DataLossError(absl::StrCat(
          "the record at position ", position, " has no event fingerprint"));
    }
    EventRef ref;
    ref.stream = std::string(stored.entry.stream);
    ref.sequence = stored.entry.sequence;
    ref.position = position;
    std::memcpy(ref.fingerprint.data(), stored.fingerprint.data(), kHashSize);
    return ref;
  }

  absl::Status FindLegacyEvents(absl::Span<const absl::string_view> event_ids,
                                const std::vector<size_t>& at,
                                std::vector<std::optional<EventRef>>& out) {
    const size_t n = at.size();
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t j = 0; j < n; ++j) {
      keys[j] = LegacyEventKey(event_ids[at[j]]);
      slices[j] = keys[j];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), legacy_ids_, n, slices.data(),
                  values.data(), statuses.data());
    for (size_t j = 0; j < n; ++j) {
      ASSIGN_OR_RETURN(out[at[j]], FoundLegacyEvent(event_ids[at[j]],
                                                    statuses[j], values[j]));
    }
    return absl::OkStatus();
  }

  // Writes `ids` (hash -> position) and the new kIndexedThroughKey as one
  // table file, and ingests it: the index gains both or neither.
  absl::Status WriteIndex(const HeldIds& ids, uint64_t through) {
    std::vector<std::pair<uint64_t, uint64_t>> sorted(ids.begin(), ids.end());
    std::sort(sorted.begin(), sorted.end());
    const std::string path =
        absl::StrCat(staging_, "/", through, "-", sorted.size(), ".sst");
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), index_options_,
                                  index_);
    RETURN_IF_ERROR(FromRocks(writer.Open(path), "staging the event index"));
    std::string key, value;
    for (const auto& [id_hash, position] : sorted) {
      key.clear();
      value.clear();
      AppendBigEndian64(id_hash, &key);
      AppendBigEndian64(position, &value);
      RETURN_IF_ERROR(FromRocks(writer.Put(key, value), "staging the index"));
    }
    value.clear();
    AppendBigEndian64(through, &value);
    RETURN_IF_ERROR(
        FromRocks(writer.Put(kIndexedThroughKey, value), "staging the index"));
    RETURN_IF_ERROR(FromRocks(writer.Finish(), "staging the event index"));
    rocksdb::IngestExternalFileOptions ingest;
    ingest.move_files = true;
    return FromRocks(db_->IngestExternalFile(index_, {path}, ingest),
                     "adding to the event index");
  }

  // Writes the held ids to the index whenever enough are held, and all of
  // them when the log closes.
  void IndexLoop() {
    std::unique_lock<std::mutex> lock(index_mu_);
    while (true) {
      index_cv_.wait(
          lock, [&] { return closing_ || active_.size() >= index_batch_; });
      if (sealed_.empty()) {
        if (active_.empty()) {
          return;  // closing, and nothing is left
        }
        sealed_.swap(active_);
        sealed_through_ = active_through_;
      }
      // sealed_ changes only on this thread: it is read here unlocked, and
      // by look-ups under the lock.
      lock.unlock();
      const absl::Status written = WriteIndex(sealed_, sealed_through_);
      lock.lock();
      if (written.ok()) {
        HeldIds done;
        done.swap(sealed_);
        continue;
      }
      // The ids stay held (and found) in memory; the next try comes with
      // the next batch, or at close.
      std::fprintf(stderr, "event log: %s\n",
                   std::string(written.message()).c_str());
      if (closing_) {
        return;  // the next open reads them back from the records
      }
      index_cv_.wait_for(lock, std::chrono::seconds(1),
                         [&] { return closing_; });
    }
  }

  std::unique_ptr<rocksdb::DB> db_;
  const std::vector<rocksdb::ColumnFamilyHandle*> families_;
  rocksdb::ColumnFamilyHandle* const index_;
  rocksdb::ColumnFamilyHandle* const legacy_ids_;  // null: none
  const rocksdb::Options index_options_;
  // Where index files are written before they are ingested.
  const std::string staging_;
  const size_t index_batch_;
  rocksdb::WriteOptions write_options_;
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_);
  // The last position again, for WaitForPosition.
  std::mutex wait_mu_;
  std::condition_variable grown_;
  uint64_t waited_position_;

  // Ids of records past the index (hash -> position): those written since
  // the last batch, and the batch being written to the index.
  std::mutex index_mu_;
  std::condition_variable index_cv_;
  HeldIds active_ ABSL_GUARDED_BY(index_mu_);
  uint64_t active_through_ ABSL_GUARDED_BY(index_mu_) = 0;
  HeldIds sealed_;
  uint64_t sealed_through_ = 0;
  bool closing_ ABSL_GUARDED_BY(index_mu_) = false;
  std::thread indexer_;
};

// Logs written before the event-id index had its own column family keep it in
// the default family under 'e'. Moves it, in batches that each move some ids
// whole, so an interrupted move resumes on the next open.
absl::Status MoveLegacyEventIds(rocksdb::DB* db,
                                rocksdb::ColumnFamilyHandle* ids) {
  const std::string begin(1, kLegacyEventPrefix);
  const std::string end(1, kLegacyEventPrefix + 1);
  while (true) {
    rocksdb::WriteBatch batch;
    int moved = 0;
    {
      rocksdb::ReadOptions options;
      rocksdb::Slice upper(end);
      options.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(options));
      for (it->Seek(begin); it->Valid() && moved < 10'000; it->Next()) {
        const rocksdb::Slice key = it->key();
        const absl::string_view event_id(key.data() + 1, key.size() - 1);
        RETURN_IF_ERROR(
            FromRocks(batch.Put(ids, LegacyEventKey(event_id), it->value()),
                      "moving an id"));
        RETURN_IF_ERROR(FromRocks(batch.Delete(key), "moving an id"));
        ++moved;
      }
      RETURN_IF_ERROR(FromRocks(it->status(), "reading the event-id index"));
    }
    if (moved == 0) {
      return absl::OkStatus();
    }
    rocksdb::WriteOptions sync;
    sync.sync = true;
    RETURN_IF_ERROR(FromRocks(db->Write(sync, &batch),
                              "moving the event-id index to its own family"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbLog(
    const RocksDbLogOptions& options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.IncreaseParallelism(2);

  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks live in a bounded cache instead of beside each
  // open table, where they would grow with the log (about 60 MB at 10 M
  // events). They are partitioned: a look-up loads one small partition,
  // where a large table's whole filter (megabytes, for millions of event
  // ids) would be more than a cache shard holds, be evicted at once and be
  // read from the file again by the next look-up. The partitions' own
  // indexes stay pinned, and so does all of level 0, which every look-up of
  // a new event id consults.
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
  table.partition_filters = true;
  table.pin_top_level_index_and_filter = true;
  // This build's CRC32C is the portable one; XXH3 checks a table block for
  // a fraction of its cost. (Older tables keep the checksum they name.)
  table.checksum = rocksdb::kXXH3;
  rocksdb::ColumnFamilyOptions records;
  records.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Event ids are looked up on every append and most are new: the tables'
  // bloom filters answer "absent" without reading a block.
  rocksdb::ColumnFamilyOptions index = records;

  // Which layout the log on disk has: none yet; the single family with ids
  // under 'e' (moved to event_ids first); event_ids; or event_index.
  std::vector<std::string> existing;
  const bool exists =
      rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing).ok();
  auto has = [&](absl::string_view name) {
    return std::find(existing.begin(), existing.end(), name) != existing.end();
  };
  const bool legacy = exists && (has(kLegacyIdsFamily) || !has(kIndexFamily));

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, records}, {kIndexFamily, index}};
  if (legacy) {
    descriptors.emplace_back(kLegacyIdsFamily, records);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options.path, descriptors, &families, &raw),
      absl::StrCat("opening the event log at ", options.path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  auto close_families = [&] {
    for (rocksdb::ColumnFamilyHandle* family : families) {
      db->DestroyColumnFamilyHandle(family);
    }
  };
  if (legacy && !has(kLegacyIdsFamily)) {
    if (absl::Status moved = MoveLegacyEventIds(db.get(), families[2]);
        !moved.ok()) {
      close_families();
      return moved;
    }
  }

  // Index files left by a write that stopped before their ingestion.
  const std::string staging = options.path + "/index-staging";
  std::error_code error;
  std::filesystem::remove_all(staging, error);
  if (!std::filesystem::create_directories(staging, error) && error) {
    close_families();
    return absl::InternalError(
        absl::StrCat("creating ", staging, ": ", error.message()));
  }

  // The last position is recovered from the stored records themselves.
  uint64_t last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(PositionKey(UINT64_MAX));
    if (rocksdb::Status status = it->status(); !status.ok()) {
      it.reset();
      close_families();
      return FromRocks(status, "recovering the log position");
    }
    if (it->Valid() && it->key().size() == 9 &&
        it->key()[0] == kPositionPrefix) {
      last = ReadBigEndian64(it->key().data() + 1);
    }
  }
  auto log = std::make_unique<RocksDbLog>(std::move(db), std::move(families),
                                          rocksdb::Options(db_options, index),
                                          staging, options, last);
  RETURN_IF_ERROR(log->Start());
  return log;
}

}  // namespace prongsai::log

#include "core/log/rocksdb_log.h"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <tuple>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/log/rocksdb_status.h"

namespace prongsai::log {
namespace {

// Key layout. The default column family holds the records and the stream
// index, with a one-byte prefix per kind:
//   'p' pos(8)                 -> hash(32) seq(8) stream_len(1) stream record
//   's' stream '\0' seq(8)     -> pos(8)
// The "event_ids" column family holds the idempotency index:
//   hash64(event_id)(8) event_id -> pos(8) seq(8) fingerprint(32) stream
// Event ids are random, so their index lives in a hashed memtable, where an
// insert does not search a skip list of every id written since the last
// flush; the hash prefix spreads ids whose text shares a prefix (time-ordered
// UUIDs). Integers are big-endian so keys sort numerically. All keys of one
// Write land in one WriteBatch, so a batch is stored whole or not at all.
constexpr char kPositionPrefix = 'p';
constexpr char kStreamPrefix = 's';
// The event-id index of logs written before it had its own column family.
constexpr char kLegacyEventPrefix = 'e';
constexpr char kEventIdsFamily[] = "event_ids";
constexpr size_t kEntryHeader = kHashSize + 8 + 1;
constexpr size_t kMaxStreamName = 255;
constexpr size_t kBlockCacheBytes = size_t{64} << 20;

std::string PositionKey(uint64_t position) {
  std::string key(1, kPositionPrefix);
  AppendBigEndian64(position, &key);
  return key;
}

std::string StreamKey(absl::string_view stream, uint64_t sequence) {
  std::string key(1, kStreamPrefix);
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  AppendBigEndian64(sequence, &key);
  return key;
}

std::string EventKey(absl::string_view event_id) {
  std::string key;
  key.reserve(8 + event_id.size());
  AppendBigEndian64(StableHash64(event_id), &key);
  key.append(event_id.data(), event_id.size());
  return key;
}

// The answer to a look-up of `event_id` in the event-id index.
absl::StatusOr<std::optional<EventRef>> FoundEvent(
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

absl::StatusOr<LogEntry> DecodeEntry(uint64_t position,
                                     absl::string_view value) {
  if (value.size() < kEntryHeader) {
    return absl::DataLossError(
        absl::StrCat("log entry at position ", position, " is truncated"));
  }
  LogEntry entry;
  entry.position = position;
  entry.hash = value.substr(0, kHashSize);
  entry.sequence = ReadBigEndian64(value.data() + kHashSize);
  const size_t stream_len = static_cast<unsigned char>(value[kHashSize + 8]);
  if (value.size() < kEntryHeader + stream_len) {
    return absl::DataLossError(
        absl::StrCat("log entry at position ", position, " is truncated"));
  }
  entry.stream = value.substr(kEntryHeader, stream_len);
  entry.record_bytes = value.substr(kEntryHeader + stream_len);
  return entry;
}

class RocksDbLog final : public EventLog {
 public:
  RocksDbLog(std::unique_ptr<rocksdb::DB> db,
             std::vector<rocksdb::ColumnFamilyHandle*> families, bool sync,
             uint64_t last)
      : db_(std::move(db)),
        families_(std::move(families)),
        ids_(families_[1]),
        last_position_(last),
        waited_position_(last) {
    write_options_.sync = sync;
  }

  ~RocksDbLog() override {
    for (rocksdb::ColumnFamilyHandle* family : families_) {
      db_->DestroyColumnFamilyHandle(family);
    }
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
    // Keys go into the batch grouped by kind and in key order within each
    // kind: the memtable then inserts each next key beside the previous one
    // instead of searching its skip list from the top.
    // Sized up front: the batch of a large group is megabytes, and growing
    // it by doubling would copy it over and over.
    size_t bytes = 64;
    for (const PendingRecord& record : records) {
      bytes += record.bytes.size() + 3 * record.stream.size() +
               record.event_id.size() + 3 * kHashSize + 96;
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
      value.push_back(static_cast<char>(record.stream.size()));
      value.append(record.stream);
      const std::string key = PositionKey(position++);
      const rocksdb::Slice key_slice(key);
      const rocksdb::Slice parts[2] = {value, record.bytes};
      RETURN_IF_ERROR(FromRocks(batch.Put(rocksdb::SliceParts(&key_slice, 1),
                                          rocksdb::SliceParts(parts, 2)),
                                "staging a record"));
    }
    std::vector<size_t> order(records.size());
    for (size_t i = 0; i < order.size(); ++i) {
      order[i] = i;
    }
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return std::tie(records[a].stream, records[a].sequence) <
             std::tie(records[b].stream, records[b].sequence);
    });
    for (size_t i : order) {
      value.clear();
      AppendBigEndian64(first + i, &value);
      batch.Put(StreamKey(records[i].stream, records[i].sequence), value);
    }
    // Event ids go in as they come: their memtable is hashed, not ordered.
    for (size_t i = 0; i < records.size(); ++i) {
      const PendingRecord& record = records[i];
      value.clear();
      AppendBigEndian64(first + i, &value);
      AppendBigEndian64(record.sequence, &value);
      value.append(reinterpret_cast<const char*>(record.fingerprint.data()),
                   kHashSize);
      value.append(record.stream);
      batch.Put(ids_, EventKey(record.event_id), value);
    }
    RETURN_IF_ERROR(FromRocks(db_->Write(write_options_, &batch),
                              "writing to the event log"));
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
    rocksdb::PinnableSlice value;
    return FoundEvent(
        event_id,
        db_->Get(rocksdb::ReadOptions(), ids_, EventKey(event_id), &value),
        value);
  }

  absl::StatusOr<std::vector<std::optional<EventRef>>> FindEvents(
      absl::Span<const absl::string_view> event_ids) override {
    const size_t n = event_ids.size();
    std::vector<std::string> keys(n);
    std::vector<rocksdb::Slice> slices(n);
    for (size_t i = 0; i < n; ++i) {
      keys[i] = EventKey(event_ids[i]);
      slices[i] = keys[i];
    }
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    db_->MultiGet(rocksdb::ReadOptions(), ids_, n, slices.data(), values.data(),
                  statuses.data());
    std::vector<std::optional<EventRef>> out(n);
    for (size_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(out[i],
                       FoundEvent(event_ids[i], statuses[i], values[i]));
    }
    return out;
  }
  absl::StatusOr<StreamHead> LoadHead(absl::string_view stream) override {
    const std::string prefix =
        StreamKey(stream, 0).substr(0, stream.size() + 2);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->SeekForPrev(StreamKey(stream, UINT64_MAX));
    RETURN_IF_ERROR(FromRocks(it->status(), "finding a stream head"));
    StreamHead head;
    if (!it->Valid() || !it->key().starts_with(prefix)) {
      return head;
    }
    const uint64_t position = ReadBigEndian64(it->value().data());
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
    const std::string prefix =
        StreamKey(stream, 0).substr(0, stream.size() + 2);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    std::string value;
    for (it->Seek(StreamKey(stream, from_sequence));
         it->Valid() && it->key().starts_with(prefix); it->Next()) {
      const uint64_t position = ReadBigEndian64(it->value().data());
      RETURN_IF_ERROR(FromRocks(
          db_->Get(rocksdb::ReadOptions(), PositionKey(position), &value),
          absl::StrCat("reading stream ", stream)));
      ASSIGN_OR_RETURN(LogEntry entry, DecodeEntry(position, value));
      if (!visit(entry)) {
        return absl::OkStatus();
      }
    }
    return FromRocks(it->status(), absl::StrCat("reading stream ", stream));
  }

  absl::Status Scan(uint64_t from_position,
                    const EntryVisitor& visit) override {
    rocksdb::ReadOptions options;
    const std::string upper = std::string(1, kPositionPrefix + 1);
    rocksdb::Slice upper_slice(upper);
    options.iterate_upper_bound = &upper_slice;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    for (it->Seek(PositionKey(from_position)); it->Valid(); it->Next()) {
      const uint64_t position = ReadBigEndian64(it->key().data() + 1);
      ASSIGN_OR_RETURN(
          LogEntry entry,
          DecodeEntry(position, absl::string_view(it->value().data(),
                                                  it->value().size())));
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
  std::unique_ptr<rocksdb::DB> db_;
  // The default column family, then event_ids.
  const std::vector<rocksdb::ColumnFamilyHandle*> families_;
  rocksdb::ColumnFamilyHandle* const ids_;
  rocksdb::WriteOptions write_options_;
  absl::Mutex write_mu_;
  mutable absl::Mutex mu_;
  uint64_t last_position_ ABSL_GUARDED_BY(mu_);
  // The last position again, for WaitForPosition.
  std::mutex wait_mu_;
  std::condition_variable grown_;
  uint64_t waited_position_;
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
        RETURN_IF_ERROR(FromRocks(
            batch.Put(ids, EventKey(event_id), it->value()), "moving an id"));
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
  // One writer at a time (Write holds write_mu_); the hashed memtable below
  // takes no concurrent inserts.
  db_options.allow_concurrent_memtable_write = false;

  rocksdb::ColumnFamilyOptions records;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks live in a bounded cache instead of beside each
  // open table: held there, they grow with the log (about 60 MB at 10 M
  // events). Those of level 0, which every look-up of a new event id
  // consults, stay pinned.
  table.block_cache = rocksdb::NewLRUCache(kBlockCacheBytes);
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  records.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  // Event ids are looked up on every append and most are new: a hashed
  // memtable with a bloom filter answers "absent" without a search, and the
  // tables' bloom filters do the same for flushed ids.
  rocksdb::ColumnFamilyOptions ids;
  ids.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  ids.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(8));
  ids.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(
      /*bucket_count=*/1 << 18));
  ids.memtable_prefix_bloom_size_ratio = 0.05;
  ids.memtable_whole_key_filtering = true;

  bool legacy = false;
  {
    std::vector<std::string> existing;
    if (rocksdb::DB::ListColumnFamilies(db_options, options.path, &existing)
            .ok()) {
      legacy = std::find(existing.begin(), existing.end(), kEventIdsFamily) ==
               existing.end();
    }
  }

  const std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, records}, {kEventIdsFamily, ids}};
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
  if (legacy) {
    if (absl::Status moved = MoveLegacyEventIds(db.get(), families[1]);
        !moved.ok()) {
      close_families();
      return moved;
    }
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
  return std::make_unique<RocksDbLog>(std::move(db), std::move(families),
                                      options.sync, last);
}

}  // namespace prongsai::log

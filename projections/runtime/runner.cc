#include "projections/runtime/runner.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <functional>
#include <optional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/btree_map.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/bytes.h"
#include "core/base/change_signal.h"
#include "core/base/hash.h"
#include "core/base/status.h"
#include "core/log/rocksdb_status.h"

namespace prongsai::projections {
namespace {

// Key layout of the view store:
//   'v' name '\0' key  -> a row of projection `name`
//   'w' name '\0' key  -> the same, in the alternate row space: a rebuild
//                         writes the space that is not live, then swaps
//   'm' name           -> position(8) version(8) ['w']: what `name` has
//                         consumed, and which row space is live ('v' unless
//                         the 17th byte says 'w')
//   'c' stream         -> sequence(8) hash(32): the chain as checked so far
//   'f'                -> position(8): the last position chain-checked
//   'r' position(8)    -> sequence(8) stream '\0' reason: a refused record
// Rows, positions, chain and refusals of one batch commit in one WriteBatch.
constexpr char kRowPrefix = 'v';
constexpr char kAltRowPrefix = 'w';
constexpr char kMetaPrefix = 'm';
constexpr char kChainPrefix = 'c';
constexpr char kFrontierKey[] = "f";
constexpr char kRejectedPrefix = 'r';

constexpr absl::Duration kIdleWait = absl::Milliseconds(200);
// The background feeder's nice value (0 is the default; higher runs less
// when threads compete for a core).
constexpr int kFeederNice = 5;
// Longest a read-your-writes wait sleeps before it looks at the positions
// again, should no batch wake it.
constexpr absl::Duration kWaitSlice = absl::Milliseconds(50);
// After a batch of fewer than kLingerRecords records, the feeder lets more
// gather for up to kLinger before the next, unless a reader waits for a
// position: each batch costs a view-store write whatever its size, and
// appends that trickle in one at a time would each pay it.
constexpr uint64_t kLingerRecords = 256;
constexpr absl::Duration kLinger = absl::Milliseconds(5);

rocksdb::Slice ToSlice(absl::string_view s) { return {s.data(), s.size()}; }
absl::string_view ToView(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

std::string RowPrefix(absl::string_view name, char space = kRowPrefix) {
  std::string key(1, space);
  key.append(name.data(), name.size());
  key.push_back('\0');
  return key;
}

char OtherSpace(char space) {
  return space == kRowPrefix ? kAltRowPrefix : kRowPrefix;
}

// Deletes every row under `prefix` (which ends in '\0').
void StageDropRows(const std::string& prefix, rocksdb::WriteBatch& batch) {
  std::string end = prefix;
  end.back() = '\1';
  batch.DeleteRange(prefix, end);
}

std::string MetaKey(absl::string_view name) {
  return absl::StrCat(absl::string_view(&kMetaPrefix, 1), name);
}

std::string ChainKey(absl::string_view stream) {
  return absl::StrCat(absl::string_view(&kChainPrefix, 1), stream);
}

std::string RejectedKey(uint64_t position) {
  std::string key(1, kRejectedPrefix);
  AppendBigEndian64(position, &key);
  return key;
}

std::string EncodeMeta(uint64_t position, int version, char space) {
  std::string out;
  AppendBigEndian64(position, &out);
  AppendBigEndian64(static_cast<uint64_t>(version), &out);
  if (space != kRowPrefix) {
    out.push_back(space);
  }
  return out;
}

// Rows of one projection, read through `get` (a snapshot, or the batch over
// the database) and scanned through `iterate`.
class PrefixedReader : public ViewReader {
 public:
  PrefixedReader(rocksdb::DB* db, const rocksdb::Snapshot* snapshot,
                 std::string prefix)
      : db_(db), snapshot_(snapshot), prefix_(std::move(prefix)) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::string value;
    rocksdb::Status status =
        db_->Get(options, ToSlice(absl::StrCat(prefix_, key)), &value);
    if (status.IsNotFound()) {
      return std::nullopt;
    }
    RETURN_IF_ERROR(FromRocks(status, "reading a view row"));
    return value;
  }

  absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
    rocksdb::ReadOptions options;
    options.snapshot = snapshot_;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(options));
    const std::string start = absl::StrCat(prefix_, prefix);
    for (it->Seek(start); it->Valid() && it->key().starts_with(start);
         it->Next()) {
      absl::string_view key = ToView(it->key());
      key.remove_prefix(prefix_.size());
      if (!visit(key, ToView(it->value()))) {
        break;
      }
    }
    return FromRocks(it->status(), "scanning a view");
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  std::string prefix_;
};

// The writes of one batch, readable before they are committed: the last
// value (or deletion) of each key, in key order. Committing adds them to a
// WriteBatch in that order, which the memtable inserts cheaply.
class Overlay {
 public:
  void Put(std::string key, absl::string_view value) {
    rows_[std::move(key)] = std::string(value);
  }
  void Delete(std::string key) { rows_[std::move(key)] = std::nullopt; }

  // The batch's row for `key`: nullptr when the batch has not touched it; a
  // pointer to nullopt when the batch deleted it.
  const std::optional<std::string>* Find(absl::string_view key) const {
    auto it = rows_.find(key);
    return it == rows_.end() ? nullptr : &it->second;
  }

  using Rows =
      absl::btree_map<std::string, std::optional<std::string>, std::less<>>;
  const Rows& rows() const { return rows_; }

  void AppendTo(rocksdb::WriteBatch& batch) const {
    for (const auto& [key, value] : rows_) {
      if (value.has_value()) {
        batch.Put(key, *value);
      } else {
        batch.Delete(key);
      }
    }
  }

 private:
  Rows rows_;
};

// Stages one projection's writes into the shared overlay; reads see them.
class BatchWriter final : public ViewWriter {
 public:
  BatchWriter(rocksdb::DB* db, Overlay* overlay, std::string prefix)
      : db_(db), overlay_(overlay), prefix_(std::move(prefix)) {}

  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override {
    const std::string full = absl::StrCat(prefix_, key);
    if (const std::optional<std::string>* staged = overlay_->Find(full)) {
      return *staged;
    }
    std::string value;
    rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), ToSlice(full), &value);
    if (status.IsNotFound()) {
      return std::nullopt;
    }
    RETURN_IF_ERROR(FromRocks(status, "reading a view row"));
    return value;
  }

  // The stored rows merged with the staged ones, in key order.
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
    const std::string start = absl::StrCat(prefix_, prefix);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    it->Seek(start);
    auto staged = overlay_->rows().lower_bound(start);
    const auto staged_end = overlay_->rows().end();
    auto stored_valid = [&] {
      return it->Valid() && it->key().starts_with(start);
    };
    auto staged_valid = [&] {
      return staged != staged_end && absl::StartsWith(staged->first, start);
    };
    while (true) {
      const bool have_stored = stored_valid();
      const bool have_staged = staged_valid();
      if (!have_stored && !have_staged) {
        break;
      }
      const bool from_staged =
          have_staged && (!have_stored || absl::string_view(staged->first) <=
                                              ToView(it->key()));
      if (from_staged) {
        if (have_stored &&
            absl::string_view(staged->first) == ToView(it->key())) {
          it->Next();  // the staged row replaces the stored one
        }
        const auto row = staged++;
        if (!row->second.has_value()) {
          continue;  // deleted in this batch
        }
        if (!visit(absl::string_view(row->first).substr(prefix_.size()),
                   *row->second)) {
          break;
        }
      } else {
        // The iterator's key and value stay valid until it moves.
        const bool more = visit(ToView(it->key()).substr(prefix_.size()),
                                ToView(it->value()));
        if (!more) {
          break;
        }
        it->Next();
      }
    }
    return FromRocks(it->status(), "scanning a view");
  }

  void Put(absl::string_view key, absl::string_view value) override {
    overlay_->Put(absl::StrCat(prefix_, key), value);
  }

  void Delete(absl::string_view key) override {
    overlay_->Delete(absl::StrCat(prefix_, key));
  }

 private:
  rocksdb::DB* db_;
  Overlay* overlay_;
  std::string prefix_;
};

class EmptyView final : public ViewReader {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view) const override {
    return std::nullopt;
  }
  absl::Status Scan(
      absl::string_view,
      const std::function<bool(absl::string_view, absl::string_view)>&)
      const override {
    return absl::OkStatus();
  }
};

class Snapshot final : public ViewSnapshot {
 public:
  Snapshot(rocksdb::DB* db, const rocksdb::Snapshot* snapshot)
      : db_(db), snapshot_(snapshot) {}
  ~Snapshot() override { db_->ReleaseSnapshot(snapshot_); }

  void Add(const std::string& name, const std::string& prefix,
           uint64_t position) {
    readers_.emplace(name,
                     std::make_unique<PrefixedReader>(db_, snapshot_, prefix));
    positions_[name] = position;
  }

  const ViewReader& view(absl::string_view name) const override {
    auto it = readers_.find(name);
    if (it == readers_.end()) {
      static const EmptyView kEmpty;
      return kEmpty;
    }
    return *it->second;
  }

  uint64_t position(absl::string_view name) const override {
    auto it = positions_.find(name);
    return it == positions_.end() ? 0 : it->second;
  }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snapshot_;
  absl::flat_hash_map<std::string, std::unique_ptr<PrefixedReader>> readers_;
  absl::flat_hash_map<std::string, uint64_t> positions_;
};

struct ChainHead {
  uint64_t sequence = 0;
  Hash hash = kZeroHash;
};

class Runner final : public ProjectionRunner {
 public:
  Runner(log::EventLog* log, RunnerOptions options,
         std::vector<std::unique_ptr<Projection>> projections,
         std::unique_ptr<rocksdb::DB> db)
      : log_(log), options_(std::move(options)), db_(std::move(db)) {
    for (auto& projection : projections) {
      Slot slot;
      slot.name = std::string(projection->name());
      slot.space = kRowPrefix;
      slot.prefix = RowPrefix(slot.name, slot.space);
      slot.projection = std::move(projection);
      slots_.push_back(std::move(slot));
    }
  }

  ~Runner() override { Stop(); }

  absl::Status Load() {
    absl::MutexLock feed(&feed_mu_);
    absl::MutexLock lock(&mu_);
    rocksdb::WriteBatch resets;
    for (Slot& slot : slots_) {
      std::string meta;
      rocksdb::Status status =
          db_->Get(rocksdb::ReadOptions(), MetaKey(slot.name), &meta);
      if (status.ok() && (meta.size() == 16 || meta.size() == 17)) {
        slot.space = meta.size() == 17 && meta[16] == kAltRowPrefix
                         ? kAltRowPrefix
                         : kRowPrefix;
        slot.prefix = RowPrefix(slot.name, slot.space);
      }
      // Rows of a rebuild that did not finish.
      StageDropRows(RowPrefix(slot.name, OtherSpace(slot.space)), resets);
      if (status.ok() && (meta.size() == 16 || meta.size() == 17) &&
          static_cast<int>(ReadBigEndian64(meta.data() + 8)) ==
              slot.projection->version()) {
        slot.position = ReadBigEndian64(meta.data());
        continue;
      }
      if (!status.ok() && !status.IsNotFound()) {
        return FromRocks(status, "reading projection positions");
      }
      // New, or its version changed: start its view afresh.
      StageReset(slot, resets);
    }
    std::string frontier;
    rocksdb::Status status =
        db_->Get(rocksdb::ReadOptions(), kFrontierKey, &frontier);
    if (status.ok() && frontier.size() == 8) {
      frontier_ = ReadBigEndian64(frontier.data());
    } else if (!status.IsNotFound()) {
      return FromRocks(status, "reading the chain frontier");
    }
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    const std::string chain_prefix(1, kChainPrefix);
    for (it->Seek(chain_prefix);
         it->Valid() && it->key().starts_with(chain_prefix); it->Next()) {
      if (it->value().size() != 8 + kHashSize) {
        return absl::DataLossError("chain entry has the wrong size");
      }
      ChainHead head;
      head.sequence = ReadBigEndian64(it->value().data());
      std::memcpy(head.hash.data(), it->value().data() + 8, kHashSize);
      std::string stream(it->key().data() + 1, it->key().size() - 1);
      chain_[stream] = head;
    }
    const std::string rejected_prefix(1, kRejectedPrefix);
    for (it->Seek(rejected_prefix);
         it->Valid() && it->key().starts_with(rejected_prefix); it->Next()) {
      RejectedRecord rejected;
      rejected.position = ReadBigEndian64(it->key().data() + 1);
      absl::string_view value = ToView(it->value());
      rejected.sequence = ReadBigEndian64(value.data());
      value.remove_prefix(8);
      const size_t nul = value.find('\0');
      rejected.stream = std::string(value.substr(0, nul));
      rejected.reason = std::string(value.substr(nul + 1));
      rejected_.emplace(rejected.position, std::move(rejected));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "loading the chain"));
    return FromRocks(db_->Write(rocksdb::WriteOptions(), &resets),
                     "resetting changed projections");
  }

  void StartBackground() {
    feeder_ = std::thread([this] {
      // Below the ingest's threads: when the cores are all busy, appends are
      // answered first and the views follow (a read at a position waits for
      // them). Only this thread's priority changes; if it cannot, nothing
      // else does.
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kFeederNice);
      Follow();
    });
  }

  absl::Status CatchUp(
      const std::function<void(uint64_t, uint64_t)>& progress) override {
    while (true) {
      ASSIGN_OR_RETURN(bool advanced, Step());
      const uint64_t end = log_->LastPosition();
      const uint64_t reached = FeedPosition();
      if (progress) {
        progress(reached, end);
      }
      if (!advanced || reached >= end) {
        return absl::OkStatus();
      }
    }
  }

  bool WaitForPosition(uint64_t position, absl::Time deadline) override {
    return advanced_.Wait(
        [&] {
          absl::MutexLock state(&mu_);
          return MinPositionLocked(/*with_rebuilding=*/true) >= position;
        },
        deadline);
  }

  absl::Status Rebuild(absl::string_view name,
                       const std::function<void(uint64_t, uint64_t)>& progress,
                       const std::function<bool()>& cancelled) override {
    Slot* slot = nullptr;
    Shadow shadow;
    {
      // Between two batches of the feeder, so that none it started still
      // feeds the slot.
      absl::MutexLock feed(&feed_mu_);
      absl::MutexLock lock(&mu_);
      slot = Find(name);
      if (slot == nullptr) {
        std::vector<absl::string_view> names;
        for (const Slot& s : slots_) {
          names.push_back(s.name);
        }
        return absl::NotFoundError(absl::StrCat(
            "no projection named \"", name,
            "\"; the projections are: ", absl::StrJoin(names, ", ")));
      }
      if (slot->rebuilding) {
        return absl::FailedPreconditionError(
            absl::StrCat("projection ", name, " is being rebuilt already"));
      }
      if (stopping_) {
        return absl::CancelledError("the projection runner is stopping");
      }
      // The feeder leaves the slot alone from here until the swap.
      slot->rebuilding = true;
      shadow.prefix = RowPrefix(slot->name, OtherSpace(slot->space));
    }
    absl::Status status = RunRebuild(*slot, shadow, progress, cancelled);
    if (!status.ok()) {
      rocksdb::WriteBatch drop;
      StageDropRows(shadow.prefix, drop);
      static_cast<void>(db_->Write(rocksdb::WriteOptions(), &drop));
    }
    {
      absl::MutexLock lock(&mu_);
      slot->rebuilding = false;
    }
    if (status.ok() && !options_.background) {
      return CatchUp(progress);
    }
    return status;
  }

  std::vector<ProjectionStatus> Status() const override {
    absl::MutexLock lock(&mu_);
    std::vector<ProjectionStatus> out;
    const uint64_t end = log_->LastPosition();
    for (const Slot& slot : slots_) {
      out.push_back({slot.name, slot.projection->version(), slot.position, end,
                     slot.error.ok() ? "" : std::string(slot.error.message()),
                     slot.rebuilding});
    }
    return out;
  }

  std::vector<RejectedRecord> Rejected() const override {
    absl::MutexLock lock(&mu_);
    std::vector<RejectedRecord> out;
    for (const auto& [position, rejected] : rejected_) {
      out.push_back(rejected);
    }
    std::sort(out.begin(), out.end(),
              [](const RejectedRecord& a, const RejectedRecord& b) {
                return a.position < b.position;
              });
    return out;
  }

  RunnerCounters Counters() const override {
    constexpr auto kRelaxed = std::memory_order_relaxed;
    RunnerCounters out;
    out.batches = batches_.load(kRelaxed);
    out.records = records_.load(kRelaxed);
    out.batch_seconds = static_cast<double>(batch_nanos_.load(kRelaxed)) / 1e9;
    const int64_t last = last_batch_nanos_.load(kRelaxed);
    if (last != 0) {
      out.last_batch = absl::FromUnixNanos(last);
    }
    return out;
  }

  absl::StatusOr<std::unique_ptr<ViewSnapshot>> Snapshot() const override {
    // Positions and rows come from the same moment: a batch commits both,
    // and the lock keeps the in-memory positions in step with the store.
    absl::MutexLock lock(&mu_);
    auto snapshot =
        std::make_unique<class Snapshot>(db_.get(), db_->GetSnapshot());
    for (const Slot& slot : slots_) {
      snapshot->Add(slot.name, slot.prefix, slot.position);
    }
    return snapshot;
  }

  void Stop() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    if (feeder_.joinable()) {
      feeder_.join();
    }
  }

 private:
  // The prefix, space and position of a slot change only with mu_ held and,
  // except for the swap at the end of a rebuild, only in Step (which holds
  // feed_mu_); Step reads them without mu_. While `rebuilding`, Step leaves
  // the slot alone and the rebuild alone calls its projection.
  struct Slot {
    std::string name;
    char space = kRowPrefix;  // the live row space
    std::string prefix;       // RowPrefix(name, space)
    std::unique_ptr<Projection> projection;
    uint64_t position = 0;  // committed
    absl::Status error;
    bool rebuilding = false;
  };

  // The rows a rebuild writes, and the position they reached.
  struct Shadow {
    std::string prefix;
    uint64_t position = 0;
    uint64_t records = 0;
  };

  // Replays the log into `shadow` batch by batch, up to the chain frontier,
  // then swaps it in for the live rows.
  absl::Status RunRebuild(
      Slot& slot, Shadow& shadow,
      const std::function<void(uint64_t, uint64_t)>& progress,
      const std::function<bool()>& cancelled) {
    {
      // Leftovers of an earlier rebuild that failed.
      rocksdb::WriteBatch clear;
      StageDropRows(shadow.prefix, clear);
      RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &clear),
                                "clearing the rebuild rows"));
    }
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          return absl::CancelledError("the projection runner is stopping");
        }
      }
      if (cancelled && cancelled()) {
        return absl::CancelledError(
            absl::StrCat("the rebuild of ", slot.name, " was cancelled"));
      }
      RETURN_IF_ERROR(ShadowStep(slot, shadow));
      {
        absl::MutexLock lock(&mu_);
        // Only the rebuild moves this slot now, so its position stands still;
        // the frontier only grows. Swapping at the frontier keeps the view's
        // position from ever going back.
        if (shadow.position >= frontier_ && shadow.position >= slot.position) {
          rocksdb::WriteBatch swap;
          StageDropRows(slot.prefix, swap);
          const char space = OtherSpace(slot.space);
          swap.Put(
              MetaKey(slot.name),
              EncodeMeta(shadow.position, slot.projection->version(), space));
          RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &swap),
                                    "swapping in the rebuilt view"));
          slot.space = space;
          slot.prefix = shadow.prefix;
          slot.position = shadow.position;
          slot.error = absl::OkStatus();
          break;
        }
      }
      if (progress) {
        progress(shadow.position, log_->LastPosition());
      }
    }
    if (progress) {
      progress(shadow.position, log_->LastPosition());
    }
    return absl::OkStatus();
  }

  // Applies one batch of already chain-checked records to the rebuild rows.
  absl::Status ShadowStep(Slot& slot, Shadow& shadow) {
    uint64_t limit;
    {
      absl::MutexLock lock(&mu_);
      limit = frontier_;
    }
    if (shadow.position >= limit) {
      return absl::OkStatus();
    }
    const absl::Time batch_start = absl::Now();
    Overlay overlay;
    BatchWriter writer(db_.get(), &overlay, shadow.prefix);
    v1::Record record;
    uint64_t last = shadow.position;
    int count = 0;
    absl::Status failure;
    RETURN_IF_ERROR(
        log_->Scan(shadow.position + 1, [&](const log::LogEntry& entry) {
          if (entry.position > limit) {
            return false;
          }
          last = entry.position;
          ++count;
          bool refused;
          {
            absl::MutexLock lock(&mu_);
            refused = rejected_.contains(entry.position);
          }
          if (refused) {
            return count < options_.max_batch_records;
          }
          if (!record.ParseFromArray(
                  entry.record_bytes.data(),
                  static_cast<int>(entry.record_bytes.size()))) {
            failure = absl::DataLossError(absl::StrCat(
                "the record at position ", entry.position, " does not decode"));
            return false;
          }
          if (slot.projection->Wants(record)) {
            AppliedRecord applied{record, entry.position, entry.hash,
                                  entry.record_bytes};
            if (absl::Status status = slot.projection->Apply(applied, writer);
                !status.ok()) {
              failure = Annotate(status,
                                 absl::StrCat("at position ", entry.position));
              return false;
            }
          }
          return count < options_.max_batch_records;
        }));
    RETURN_IF_ERROR(failure);
    rocksdb::WriteBatch batch;
    overlay.AppendTo(batch);
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                              "committing a rebuilt batch"));
    shadow.position = last;
    shadow.records += static_cast<uint64_t>(count);
    const absl::Time batch_end = absl::Now();
    batches_.fetch_add(1, std::memory_order_relaxed);
    records_.fetch_add(static_cast<uint64_t>(count), std::memory_order_relaxed);
    batch_nanos_.fetch_add(absl::ToInt64Nanoseconds(batch_end - batch_start),
                           std::memory_order_relaxed);
    return absl::OkStatus();
  }

  Slot* Find(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (Slot& slot : slots_) {
      if (slot.name == name) {
        return &slot;
      }
    }
    return nullptr;
  }

  void StageReset(Slot& slot, rocksdb::WriteBatch& batch)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    StageDropRows(slot.prefix, batch);
    batch.Put(MetaKey(slot.name),
              EncodeMeta(0, slot.projection->version(), slot.space));
    slot.position = 0;
    slot.error = absl::OkStatus();
  }

  // The least position of the running projections; those being rebuilt
  // count only `with_rebuilding`.
  uint64_t MinPositionLocked(bool with_rebuilding = false) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    uint64_t min = UINT64_MAX;
    for (const Slot& slot : slots_) {
      if (slot.error.ok() && (with_rebuilding || !slot.rebuilding)) {
        min = std::min(min, slot.position);
      }
    }
    return min == UINT64_MAX ? frontier_ : min;
  }

  // Where the feeder stands: the least position it still feeds.
  uint64_t FeedPosition() const {
    absl::MutexLock lock(&mu_);
    return MinPositionLocked();
  }

  void Follow() {
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) {
          return;
        }
      }
      const uint64_t from = FeedPosition();
      absl::StatusOr<bool> advanced = Step();
      if (!advanced.ok() || !*advanced) {
        // Nothing new (or the store failed and the error is recorded):
        // wait for the log to grow, waking regularly to notice Stop.
        log_->WaitForPosition(FeedPosition() + 1, absl::Now() + kIdleWait);
      } else if (FeedPosition() - from < kLingerRecords) {
        advanced_.PauseUnlessAwaited(kLinger);
      }
    }
  }

  // Checks `entry` against its stream's chain; returns the reason it breaks
  // the chain, or an empty string. Updates `chain` when it continues it.
  static std::string CheckChain(
      const log::LogEntry& entry, const v1::Record& record,
      absl::flat_hash_map<std::string, ChainHead>& chain) {
    Hash computed = Sha256(entry.record_bytes);
    if (AsBytes(computed) != entry.hash) {
      return "stored hash does not match the record bytes";
    }
    if (record.stream() != entry.stream ||
        record.sequence() != entry.sequence) {
      return "record names another stream or sequence than where it is "
             "stored";
    }
    ChainHead& head = chain[entry.stream];
    if (record.sequence() != head.sequence + 1) {
      return absl::StrCat("sequence ", record.sequence(), " does not follow ",
                          head.sequence);
    }
    if (record.prev_hash() != AsBytes(head.hash)) {
      return "prev_hash does not match the previous record's hash";
    }
    head.sequence = record.sequence();
    head.hash = computed;
    return "";
  }

  // Applies one batch of records. Returns whether any position advanced.
  absl::StatusOr<bool> Step() {
    absl::MutexLock feed(&feed_mu_);
    uint64_t start;
    uint64_t frontier;
    std::vector<Slot*> active;
    absl::flat_hash_map<std::string, ChainHead> chain;
    {
      absl::MutexLock lock(&mu_);
      for (Slot& slot : slots_) {
        if (slot.error.ok() && !slot.rebuilding) {
          active.push_back(&slot);
        }
      }
      start = MinPositionLocked() + 1;
      frontier = frontier_;
      chain = chain_;
    }
    if (active.empty() || start > log_->LastPosition()) {
      return false;
    }

    const absl::Time batch_start = absl::Now();
    Overlay overlay;
    std::vector<BatchWriter> writers;
    writers.reserve(active.size());
    for (Slot* slot : active) {
      writers.emplace_back(db_.get(), &overlay, slot->prefix);
    }
    std::vector<RejectedRecord> refused;
    v1::Record record;
    uint64_t last = 0;
    int count = 0;
    Slot* failed = nullptr;
    absl::Status failure;
    absl::Status scan = log_->Scan(start, [&](const log::LogEntry& entry) {
      last = entry.position;
      const bool decoded =
          record.ParseFromArray(entry.record_bytes.data(),
                                static_cast<int>(entry.record_bytes.size()));
      bool refuse = false;
      if (entry.position > frontier) {
        std::string reason = decoded ? CheckChain(entry, record, chain)
                                     : "record bytes do not decode";
        if (!reason.empty()) {
          refused.push_back({entry.position, std::string(entry.stream),
                             entry.sequence, std::move(reason)});
          refuse = true;
        }
        frontier = entry.position;
      } else {
        absl::MutexLock lock(&mu_);
        refuse = rejected_.contains(entry.position);
      }
      if (!refuse) {
        AppliedRecord applied{record, entry.position, entry.hash,
                              entry.record_bytes};
        for (size_t i = 0; i < active.size(); ++i) {
          Slot* slot = active[i];
          if (slot->position >= entry.position ||
              !slot->projection->Wants(record)) {
            continue;
          }
          if (absl::Status status =
                  slot->projection->Apply(applied, writers[i]);
              !status.ok()) {
            failed = slot;
            failure =
                Annotate(status, absl::StrCat("at position ", entry.position));
            return false;
          }
        }
      }
      return ++count < options_.max_batch_records;
    });
    RETURN_IF_ERROR(scan);

    if (failed != nullptr) {
      // Nothing of this batch is committed; the failing projection stops at
      // its committed position and the others go on without it.
      absl::MutexLock lock(&mu_);
      failed->error = failure;
      return true;
    }

    rocksdb::WriteBatch batch;
    overlay.AppendTo(batch);
    rocksdb::WriteBatch* writes = &batch;
    for (Slot* slot : active) {
      if (slot->position < last) {
        writes->Put(MetaKey(slot->name),
                    EncodeMeta(last, slot->projection->version(), slot->space));
      }
    }
    std::string frontier_value;
    AppendBigEndian64(frontier, &frontier_value);
    writes->Put(kFrontierKey, frontier_value);
    for (const auto& [stream, head] : chain) {
      std::string value;
      AppendBigEndian64(head.sequence, &value);
      value.append(reinterpret_cast<const char*>(head.hash.data()), kHashSize);
      writes->Put(ChainKey(stream), value);
    }
    for (const RejectedRecord& r : refused) {
      std::string value;
      AppendBigEndian64(r.sequence, &value);
      absl::StrAppend(&value, r.stream, absl::string_view("\0", 1), r.reason);
      writes->Put(RejectedKey(r.position), value);
    }
    RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), writes),
                              "committing a view batch"));
    const absl::Time batch_end = absl::Now();
    batches_.fetch_add(1, std::memory_order_relaxed);
    records_.fetch_add(static_cast<uint64_t>(count), std::memory_order_relaxed);
    batch_nanos_.fetch_add(absl::ToInt64Nanoseconds(batch_end - batch_start),
                           std::memory_order_relaxed);
    last_batch_nanos_.store(absl::ToUnixNanos(batch_end),
                            std::memory_order_relaxed);

    {
      absl::MutexLock lock(&mu_);
      for (Slot* slot : active) {
        slot->position = std::max(slot->position, last);
      }
      frontier_ = frontier;
      chain_ = std::move(chain);
      for (RejectedRecord& r : refused) {
        rejected_.emplace(r.position, std::move(r));
      }
    }
    advanced_.Notify();
    return true;
  }

  log::EventLog* const log_;
  const RunnerOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::thread feeder_;

  // Held for a whole batch: one feeder at a time (background or CatchUp).
  absl::Mutex feed_mu_;
  mutable absl::Mutex mu_ ABSL_ACQUIRED_AFTER(feed_mu_);
  std::vector<Slot> slots_ ABSL_GUARDED_BY(mu_);
  uint64_t frontier_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, ChainHead> chain_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint64_t, RejectedRecord> rejected_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Notified after each committed batch, for WaitForPosition; looked at
  // every kWaitSlice too, in case a position moved elsewhere (a rebuild
  // swapped in, a view failed). The feeder does not linger while anyone
  // waits.
  ChangeSignal advanced_{kWaitSlice};
  // Tallies for Counters(); relaxed, each on its own.
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> records_{0};
  std::atomic<int64_t> batch_nanos_{0};
  std::atomic<int64_t> last_batch_nanos_{0};
};

}  // namespace

absl::StatusOr<std::unique_ptr<ProjectionRunner>> ProjectionRunner::Start(
    log::EventLog* log, RunnerOptions options,
    std::vector<std::unique_ptr<Projection>> projections) {
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(
      FromRocks(rocksdb::DB::Open(db_options, options.path, &raw),
                absl::StrCat("opening the view store at ", options.path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  const bool background = options.background;
  auto runner = std::make_unique<Runner>(log, std::move(options),
                                         std::move(projections), std::move(db));
  RETURN_IF_ERROR(runner->Load());
  if (background) {
    runner->StartBackground();
  }
  return runner;
}

}  // namespace prongsai::projections

#include "services/audit/checkpointer.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/merkle.h"
#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/log/rocksdb_status.h"
#include "projections/audit/merkle_projection.h"

namespace prongsai::audit_service {
namespace {

constexpr char kStreamPrefix = 'c';
constexpr char kCityPrefix = 'a';
constexpr absl::Duration kCatchUpPoll = absl::Seconds(1);

absl::string_view ToView(const rocksdb::Slice& slice) {
  return {slice.data(), slice.size()};
}

std::string StreamKey(absl::string_view stream, uint64_t size) {
  std::string key(1, kStreamPrefix);
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  AppendBigEndian64(size, &key);
  return key;
}

std::string CityKey(uint64_t number) {
  std::string key(1, kCityPrefix);
  AppendBigEndian64(number, &key);
  return key;
}

std::string ShortRoot(const Hash& root) {
  return audit::Base64Encode(AsBytes(root));
}

class CheckpointerImpl final : public Checkpointer {
 public:
  CheckpointerImpl(audit::NoteSigner signer, SnapshotSource snapshots,
                   CheckpointerOptions options, std::unique_ptr<rocksdb::DB> db)
      : signer_(std::move(signer)),
        verifier_(signer_.Verifier()),
        snapshots_(std::move(snapshots)),
        options_(std::move(options)),
        db_(std::move(db)) {
    write_options_.sync = true;
    if (!options_.warn) {
      options_.warn = [](absl::string_view message) {
        std::cerr << "prongsai audit: " << message << std::endl;
      };
    }
  }

  ~CheckpointerImpl() override { Stop(); }

  absl::Status Load() {
    // Only each stream's latest checkpoint is needed: jump from stream to
    // stream. Keys are 'c' stream '\0' size, so 'c' stream '\1' sorts after
    // every key of the stream and before the next stream's.
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    const std::string prefix(1, kStreamPrefix);
    it->Seek(prefix);
    while (it->Valid() && it->key().starts_with(prefix)) {
      const absl::string_view key = ToView(it->key());
      const size_t end = key.find('\0');
      if (end == absl::string_view::npos) {
        return absl::DataLossError("checkpoint store: a key without a stream");
      }
      const std::string stream(key.substr(1, end - 1));
      it->SeekForPrev(StreamKey(stream, UINT64_MAX));
      if (!it->Valid()) {
        break;
      }
      ASSIGN_OR_RETURN(SignedCheckpoint latest,
                       Decode(ToView(it->key()), ToView(it->value())));
      latest_[stream] = std::move(latest);
      it->Seek(absl::StrCat(prefix, stream, absl::string_view("\1", 1)));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "loading checkpoints"));
    it->SeekForPrev(CityKey(UINT64_MAX));
    RETURN_IF_ERROR(FromRocks(it->status(), "loading city checkpoints"));
    if (it->Valid() && it->key().starts_with(std::string(1, kCityPrefix))) {
      city_count_ = ReadBigEndian64(it->key().data() + 1);
    }
    return absl::OkStatus();
  }

  void StartSchedule() {
    if (options_.interval <= absl::ZeroDuration()) {
      return;
    }
    thread_ = std::thread([this] { Schedule(); });
  }

  absl::StatusOr<int> CheckpointAll() override {
    absl::MutexLock sign_lock(&sign_mu_);
    ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                     snapshots_());
    projections::MerkleView tree(
        snapshot->view(projections::kMerkleProjection));
    ASSIGN_OR_RETURN(std::vector<std::string> streams, tree.Streams());
    const uint64_t tree_position =
        snapshot->position(projections::kMerkleProjection);
    {
      absl::MutexLock lock(&mu_);
      caught_up_ = !Lagging(tree_position);
    }
    int signed_count = 0;
    absl::Status first_error;
    for (const std::string& stream : streams) {
      absl::StatusOr<bool> made = SignLocked(tree, tree_position, stream);
      if (!made.ok()) {
        if (first_error.ok()) {
          first_error = made.status();
        }
        continue;
      }
      signed_count += *made ? 1 : 0;
    }
    bool need_city;
    {
      absl::MutexLock lock(&mu_);
      need_city = !latest_.empty() && (signed_count > 0 || city_count_ == 0);
    }
    if (need_city) {
      RETURN_IF_ERROR(SignCityLocked());
    }
    RETURN_IF_ERROR(first_error);
    return signed_count;
  }

  absl::StatusOr<SignedCheckpoint> CheckpointStream(
      absl::string_view stream) override {
    absl::MutexLock sign_lock(&sign_mu_);
    ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                     snapshots_());
    projections::MerkleView tree(
        snapshot->view(projections::kMerkleProjection));
    ASSIGN_OR_RETURN(
        bool made,
        SignLocked(tree, snapshot->position(projections::kMerkleProjection),
                   stream));
    if (made) {
      RETURN_IF_ERROR(SignCityLocked());
    }
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(stream);
    if (it == latest_.end()) {
      return absl::NotFoundError(
          absl::StrCat("stream ", stream, " has no records to checkpoint"));
    }
    return it->second;
  }

  absl::StatusOr<std::optional<SignedCheckpoint>> Latest(
      absl::string_view stream) const override {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(stream);
    if (it == latest_.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  absl::StatusOr<std::optional<SignedCheckpoint>> AtSize(
      absl::string_view stream, uint64_t size) const override {
    const std::string key = StreamKey(stream, size);
    std::string value;
    rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), key, &value);
    if (status.IsNotFound()) {
      return std::nullopt;
    }
    RETURN_IF_ERROR(FromRocks(status, "reading a checkpoint"));
    return Decode(key, value);
  }

  absl::StatusOr<std::vector<SignedCheckpoint>> History(
      absl::string_view stream, size_t limit) const override {
    const std::string prefix =
        StreamKey(stream, 0).substr(0, stream.size() + 2);
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions()));
    std::vector<SignedCheckpoint> newest_first;
    for (it->SeekForPrev(StreamKey(stream, UINT64_MAX));
         it->Valid() && it->key().starts_with(prefix) &&
         newest_first.size() < limit;
         it->Prev()) {
      ASSIGN_OR_RETURN(SignedCheckpoint c,
                       Decode(ToView(it->key()), ToView(it->value())));
      newest_first.push_back(std::move(c));
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "reading checkpoints"));
    return std::vector<SignedCheckpoint>(newest_first.rbegin(),
                                         newest_first.rend());
  }

  absl::StatusOr<std::optional<std::string>> LatestCity() const override {
    uint64_t number;
    {
      absl::MutexLock lock(&mu_);
      number = city_count_;
    }
    if (number == 0) {
      return std::nullopt;
    }
    std::string value;
    RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), CityKey(number), &value),
                  "reading the city checkpoint"));
    return value;
  }

  std::string VerifierKey() const override { return signer_.VerifierKey(); }

  std::vector<std::pair<std::string, std::string>> Refusals() const override {
    absl::MutexLock lock(&mu_);
    return {refusals_.begin(), refusals_.end()};
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(stop_mu_);
      stopping_ = true;
    }
    stop_.notify_all();
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  void Schedule() {
    while (true) {
      if (absl::StatusOr<int> made = CheckpointAll(); !made.ok()) {
        options_.warn(
            absl::StrCat("checkpoint round failed: ", made.status().message()));
      }
      // While the merkle view is still catching up with the log (a start on
      // a full log), look again soon rather than a whole interval later.
      absl::Duration wait;
      {
        absl::MutexLock lock(&mu_);
        wait = caught_up_ ? options_.interval
                          : std::min(options_.interval, kCatchUpPoll);
      }
      // A plain condition variable, as in the RocksDB log: a timed
      // absl::Mutex wait of the abseil this builds with can miss both its
      // wake-up and its timeout, and Stop would then wait forever.
      std::unique_lock<std::mutex> lock(stop_mu_);
      if (stop_.wait_for(
              lock, absl::ToChronoNanoseconds(std::min(wait, absl::Hours(24))),
              [this] { return stopping_; })) {
        return;
      }
    }
  }

  absl::StatusOr<SignedCheckpoint> Decode(absl::string_view key,
                                          absl::string_view note) const {
    // The note was verified when it was signed; opening it again here
    // catches a store altered behind the checkpointer's back.
    absl::StatusOr<audit::Note> opened = audit::OpenNote(note, {verifier_});
    if (!opened.ok()) {
      return absl::DataLossError(absl::StrCat(
          "stored checkpoint does not verify with the signing key: ",
          opened.status().message()));
    }
    ASSIGN_OR_RETURN(audit::Checkpoint checkpoint,
                     audit::ParseCheckpoint(opened->text));
    SignedCheckpoint out;
    out.stream = std::string(key.substr(1, key.size() - 1 - 1 - 8));
    out.checkpoint = std::move(checkpoint);
    out.note = std::string(note);
    return out;
  }

  // True when the merkle view has not consumed the whole log yet.
  bool Lagging(uint64_t tree_position) const {
    return options_.log_position && tree_position < options_.log_position();
  }

  void Refuse(absl::string_view stream, std::string reason) {
    options_.warn(absl::StrCat("REFUSING to sign a checkpoint of stream ",
                               stream, ": ", reason));
    absl::MutexLock lock(&mu_);
    refusals_[stream] = std::move(reason);
  }

  // Signs the stream's current tree head unless its latest checkpoint
  // already covers it. True when it signed.
  absl::StatusOr<bool> SignLocked(const projections::MerkleView& tree,
                                  uint64_t tree_position,
                                  absl::string_view stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_) {
    ASSIGN_OR_RETURN(uint64_t size, tree.Size(stream));
    if (size == 0) {
      return false;
    }
    ASSIGN_OR_RETURN(Hash root, tree.Root(stream, size));
    std::optional<SignedCheckpoint> last;
    {
      absl::MutexLock lock(&mu_);
      if (auto it = latest_.find(stream); it != latest_.end()) {
        last = it->second;
      }
    }
    if (last.has_value()) {
      const audit::Checkpoint& old = last->checkpoint;
      if (size <= old.size && Lagging(tree_position)) {
        // The view is still catching up with the log (after a restart or a
        // rebuild): nothing to sign yet, and nothing to judge.
        return false;
      }
      std::string reason;
      if (size < old.size) {
        reason =
            absl::StrCat("its tree has ", size, " records, fewer than the ",
                         old.size, " of the checkpoint signed before");
      } else if (size == old.size && root != old.root) {
        reason = absl::StrCat("its tree of ", size, " records has root ",
                              ShortRoot(root), ", not the signed ",
                              ShortRoot(old.root));
      } else if (size > old.size) {
        absl::StatusOr<std::vector<Hash>> proof =
            tree.ConsistencyProof(stream, old.size, size);
        if (!proof.ok()) {
          return proof.status();
        }
        if (absl::Status consistent = audit::VerifyConsistency(
                old.size, size, old.root, root, *proof);
            !consistent.ok()) {
          reason =
              absl::StrCat("its tree of ", size,
                           " records does not extend the signed tree of ",
                           old.size, " records (root ", ShortRoot(old.root),
                           "): ", consistent.message());
        }
      }
      if (!reason.empty()) {
        Refuse(stream, reason);
        return absl::DataLossError(absl::StrCat(
            "refusing to sign a checkpoint of stream ", stream, ": ", reason));
      }
      if (size == old.size) {
        return false;
      }
    }

    audit::Checkpoint checkpoint;
    checkpoint.origin = audit::StreamOrigin(options_.log_name, stream);
    checkpoint.size = size;
    checkpoint.root = root;
    ASSIGN_OR_RETURN(std::string note,
                     signer_.Sign(audit::FormatCheckpoint(checkpoint)));
    const std::string key = StreamKey(stream, size);
    std::string existing;
    rocksdb::Status found = db_->Get(rocksdb::ReadOptions(), key, &existing);
    if (found.ok()) {
      // Signed before (Ed25519 is deterministic: the same head gives the
      // same note); a different note would be a second head for one size.
      if (existing != note) {
        const std::string reason = absl::StrCat(
            "a different checkpoint of size ", size, " is already stored");
        Refuse(stream, reason);
        return absl::DataLossError(absl::StrCat(
            "refusing to sign a checkpoint of stream ", stream, ": ", reason));
      }
    } else if (!found.IsNotFound()) {
      RETURN_IF_ERROR(FromRocks(found, "reading a checkpoint"));
    } else {
      RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, key, note),
                                "storing a checkpoint"));
    }
    absl::MutexLock lock(&mu_);
    refusals_.erase(stream);
    latest_[stream] = {std::string(stream), std::move(checkpoint),
                       std::move(note)};
    return true;
  }

  absl::Status SignCityLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(sign_mu_) {
    audit::CityCheckpoint city;
    city.log_name = options_.log_name;
    uint64_t number;
    {
      absl::MutexLock lock(&mu_);
      for (const auto& [stream, c] : latest_) {
        city.streams.push_back(c.checkpoint);
      }
      number = city_count_ + 1;
    }
    ASSIGN_OR_RETURN(std::string note,
                     signer_.Sign(audit::FormatCityCheckpoint(city)));
    RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, CityKey(number), note),
                              "storing the city checkpoint"));
    absl::MutexLock lock(&mu_);
    city_count_ = number;
    return absl::OkStatus();
  }

  const audit::NoteSigner signer_;
  const audit::NoteVerifier verifier_;
  SnapshotSource snapshots_;
  CheckpointerOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;

  // Held while signing: one head at a time, so checks and writes of one
  // stream never interleave.
  absl::Mutex sign_mu_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, SignedCheckpoint> latest_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, std::string> refusals_ ABSL_GUARDED_BY(mu_);
  uint64_t city_count_ ABSL_GUARDED_BY(mu_) = 0;
  std::mutex stop_mu_;
  std::condition_variable stop_;
  bool stopping_ = false;  // guarded by stop_mu_
  // Whether the last round saw the merkle view at the log's end.
  bool caught_up_ ABSL_GUARDED_BY(mu_) = true;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(
    audit::NoteSigner signer, SnapshotSource snapshots,
    CheckpointerOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("the checkpoint store needs a path");
  }
  if (!audit::IsValidKeyName(options.log_name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("log name \"", options.log_name,
                     "\" must be non-empty, without spaces or '+'"));
  }
  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  RETURN_IF_ERROR(FromRocks(
      rocksdb::DB::Open(db_options, options.path, &raw),
      absl::StrCat("opening the checkpoint store at ", options.path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  auto checkpointer = std::make_unique<CheckpointerImpl>(
      std::move(signer), std::move(snapshots), std::move(options),
      std::move(db));
  RETURN_IF_ERROR(checkpointer->Load());
  checkpointer->StartSchedule();
  return checkpointer;
}

}  // namespace prongsai::audit_service

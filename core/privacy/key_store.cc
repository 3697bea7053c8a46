#include "core/privacy/key_store.h"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/base/bytes.h"
#include "core/base/files.h"
#include "core/base/status.h"
#include "core/log/rocksdb_status.h"

namespace prongsai::privacy {
namespace {

// Row keys.
constexpr absl::string_view kKeyPrefix = "k/";      // k/SUBJECT -> key row
constexpr absl::string_view kErasedPrefix = "x/";   // x/SUBJECT\0KEYID -> seq
constexpr absl::string_view kErasurePrefix = "e/";  // e/SEQ(8) -> v1::Erasure
constexpr absl::string_view kCheckKey = "m/check";  // master key check

constexpr uint8_t kRowVersion = 1;
constexpr size_t kKeyIdChars = 16;
constexpr size_t kWrappedBytes = kNonceBytes + kKeyBytes + kTagBytes;
// version(1) | key id(16) | created_at unix micros(8) | wrapped key
constexpr size_t kRowBytes = 1 + kKeyIdChars + 8 + kWrappedBytes;
constexpr absl::string_view kCheckText = "prongsai keystore master key check";

std::string KeyRowKey(absl::string_view subject) {
  return absl::StrCat(kKeyPrefix, subject);
}

std::string ErasedKey(absl::string_view subject, absl::string_view key_id) {
  std::string key = absl::StrCat(kErasedPrefix, subject);
  key.push_back('\0');
  absl::StrAppend(&key, key_id);
  return key;
}

std::string ErasureKey(uint64_t sequence) {
  std::string key(kErasurePrefix);
  AppendBigEndian64(sequence, &key);
  return key;
}

// The wrapped key is bound to its subject and id: a row copied under another
// subject does not unwrap.
std::string WrapAad(absl::string_view subject, absl::string_view key_id) {
  std::string aad("prongsai keystore v1 key");
  aad.push_back('\0');
  absl::StrAppend(&aad, subject);
  aad.push_back('\0');
  absl::StrAppend(&aad, key_id);
  return aad;
}

struct KeyRow {
  std::string key_id;
  std::string wrapped;
};

absl::StatusOr<KeyRow> ParseKeyRow(absl::string_view subject,
                                   absl::string_view value) {
  if (value.size() != kRowBytes ||
      static_cast<uint8_t>(value[0]) != kRowVersion) {
    return absl::DataLossError(absl::StrCat(
        "key store: the key row of subject ", subject, " is malformed"));
  }
  return KeyRow{std::string(value.substr(1, kKeyIdChars)),
                std::string(value.substr(1 + kKeyIdChars + 8))};
}

absl::Status ReadMasterKey(const std::string& path, KeyBytes& key) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the master key ", path,
        " is readable by others; make it readable by its owner only "
        "(chmod 600)"));
  }
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  uint8_t buffer[kKeyBytes + 1];
  size_t got = 0;
  while (got < sizeof(buffer)) {
    const ssize_t n = ::read(fd, buffer + got, sizeof(buffer) - got);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      break;
    }
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got != kKeyBytes) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the master key ", path, " holds ", got, " bytes, not ", kKeyBytes));
  }
  std::memcpy(key.data(), buffer, kKeyBytes);
  std::memset(buffer, 0, sizeof(buffer));
  return absl::OkStatus();
}

absl::Status WriteNewMasterKey(const std::string& path, KeyBytes& key) {
  ASSIGN_OR_RETURN(key, NewRandomKey());
  return WriteNewPrivateFile(
      path,
      absl::string_view(reinterpret_cast<const char*>(key.data()), key.size()));
}

}  // namespace

absl::Status CheckSubjectId(absl::string_view subject) {
  if (subject.empty()) {
    return absl::InvalidArgumentError("required; must not be empty");
  }
  if (subject.size() > 128) {
    return absl::InvalidArgumentError(absl::StrCat(
        "too long for an id: ", subject.size(), " bytes; at most 128"));
  }
  for (char c : subject) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return absl::InvalidArgumentError(
          "contains a space or control character");
    }
  }
  if (!IsValidUtf8(subject)) {
    return absl::InvalidArgumentError("not valid UTF-8");
  }
  return absl::OkStatus();
}

class KeyStore::Impl {
 public:
  Impl(KeyStoreOptions options, std::unique_ptr<rocksdb::DB> db,
       const KeyBytes& master)
      : options_(std::move(options)), db_(std::move(db)), master_(master) {
    write_options_.sync = options_.sync;
  }
  ~Impl() {
    absl::MutexLock lock(&mu_);
    for (auto& [subject, key] : live_) {
      Wipe(key.key);
    }
    Wipe(master_);
  }

  absl::Status Init() {
    // The master key check: a store opened with another master key would
    // unwrap nothing; say so at start rather than on the first read.
    std::string check;
    rocksdb::Status s = db_->Get(
        {}, rocksdb::Slice(kCheckKey.data(), kCheckKey.size()), &check);
    if (s.IsNotFound()) {
      ASSIGN_OR_RETURN(std::string box, SealBox(master_, kCheckText, "check"));
      RETURN_IF_ERROR(FromRocks(
          db_->Put(write_options_,
                   rocksdb::Slice(kCheckKey.data(), kCheckKey.size()), box),
          "key store: writing the master key check"));
    } else {
      RETURN_IF_ERROR(FromRocks(s, "key store: reading the master key check"));
      if (!OpenBox(master_, check, "check").ok()) {
        return absl::FailedPreconditionError(absl::StrCat(
            "key store ", options_.path,
            ": the master key is not the one that wrapped its keys; restore "
            "the master key file that belongs to this store"));
      }
    }
    // The last erasure's sequence.
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    std::string upper(kErasurePrefix);
    upper.back() += 1;
    it->SeekForPrev(upper);
    if (it->Valid() && it->key().starts_with(rocksdb::Slice(
                           kErasurePrefix.data(), kErasurePrefix.size()))) {
      last_erasure_ = ReadBigEndian64(it->key().data() + kErasurePrefix.size());
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "key store: reading erasures"));
    it.reset();
    // Completes an erasure that a crash interrupted before its compaction.
    return Purge();
  }

  absl::StatusOr<SubjectKey> KeyFor(absl::string_view subject) {
    if (absl::Status s = CheckSubjectId(subject); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject id \"", subject, "\": ", s.message()));
    }
    absl::MutexLock lock(&mu_);
    if (auto it = live_.find(subject); it != live_.end()) {
      return it->second;
    }
    ASSIGN_OR_RETURN(std::optional<SubjectKey> stored, LoadLocked(subject));
    if (stored.has_value()) {
      return *stored;
    }
    SubjectKey key;
    ASSIGN_OR_RETURN(key.key, NewRandomKey());
    uint8_t id[kKeyIdChars / 2];
    RETURN_IF_ERROR(RandomBytes(id, sizeof(id)));
    key.key_id = absl::BytesToHexString(
        absl::string_view(reinterpret_cast<const char*>(id), sizeof(id)));
    ASSIGN_OR_RETURN(
        std::string wrapped,
        SealBox(master_,
                absl::string_view(reinterpret_cast<const char*>(key.key.data()),
                                  key.key.size()),
                WrapAad(subject, key.key_id)));
    std::string row;
    row.reserve(kRowBytes);
    row.push_back(static_cast<char>(kRowVersion));
    row.append(key.key_id);
    AppendBigEndian64(
        static_cast<uint64_t>(absl::ToUnixMicros(options_.clock())), &row);
    row.append(wrapped);
    RETURN_IF_ERROR(FromRocks(db_->Put(write_options_, KeyRowKey(subject), row),
                              "key store: writing a new key"));
    live_.emplace(std::string(subject), key);
    return key;
  }

  absl::StatusOr<KeyLookup> Find(absl::string_view subject,
                                 absl::string_view key_id) {
    KeyLookup lookup;
    absl::MutexLock lock(&mu_);
    auto it = live_.find(subject);
    if (it == live_.end()) {
      ASSIGN_OR_RETURN(std::optional<SubjectKey> stored, LoadLocked(subject));
      if (stored.has_value()) {
        it = live_.find(subject);
      }
    }
    if (it != live_.end() && it->second.key_id == key_id) {
      lookup.state = KeyState::kLive;
      lookup.key = it->second.key;
      return lookup;
    }
    std::string ignored;
    rocksdb::Status s = db_->Get({}, ErasedKey(subject, key_id), &ignored);
    if (s.ok()) {
      lookup.state = KeyState::kErased;
    } else if (!s.IsNotFound()) {
      return FromRocks(s, "key store: reading erased keys");
    }
    return lookup;
  }

  absl::StatusOr<EraseOutcome> Erase(absl::string_view subject,
                                     absl::string_view reason) {
    if (absl::Status s = CheckSubjectId(subject); !s.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("subject_id: ", s.message()));
    }
    absl::MutexLock lock(&mu_);
    std::string value;
    rocksdb::Status s = db_->Get({}, KeyRowKey(subject), &value);
    if (s.IsNotFound()) {
      return EarlierErasureLocked(subject);
    }
    RETURN_IF_ERROR(FromRocks(s, "key store: reading a key"));
    ASSIGN_OR_RETURN(KeyRow row, ParseKeyRow(subject, value));

    EraseOutcome outcome;
    v1::Erasure& erasure = outcome.erasure;
    erasure.set_sequence(last_erasure_ + 1);
    erasure.set_subject_id(std::string(subject));
    erasure.add_key_ids(row.key_id);
    erasure.set_reason(std::string(reason));
    const absl::Time now = options_.clock();
    erasure.mutable_erased_at()->set_seconds(absl::ToUnixSeconds(now));
    erasure.mutable_erased_at()->set_nanos(static_cast<int32_t>(
        (now - absl::FromUnixSeconds(absl::ToUnixSeconds(now))) /
        absl::Nanoseconds(1)));
    std::string sequence;
    AppendBigEndian64(erasure.sequence(), &sequence);

    rocksdb::WriteBatch batch;
    batch.Delete(KeyRowKey(subject));
    batch.Put(ErasedKey(subject, row.key_id), sequence);
    batch.Put(ErasureKey(erasure.sequence()), erasure.SerializeAsString());
    rocksdb::WriteOptions synced;
    synced.sync = true;
    RETURN_IF_ERROR(
        FromRocks(db_->Write(synced, &batch), "key store: erasing a key"));
    WipeString(value);
    last_erasure_ = erasure.sequence();
    if (auto it = live_.find(subject); it != live_.end()) {
      Wipe(it->second.key);
      live_.erase(it);
    }
    RETURN_IF_ERROR(
        Annotate(Purge(),
                 "the key is deleted, but the store was not compacted yet (it "
                 "is on the next start)"));
    return outcome;
  }

  absl::StatusOr<std::vector<v1::Erasure>> Erasures() {
    std::vector<v1::Erasure> out;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    const rocksdb::Slice prefix(kErasurePrefix.data(), kErasurePrefix.size());
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      v1::Erasure& erasure = out.emplace_back();
      if (!erasure.ParseFromArray(it->value().data(),
                                  static_cast<int>(it->value().size()))) {
        return absl::DataLossError("key store: a malformed erasure record");
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "key store: reading erasures"));
    return out;
  }

 private:
  // The stored live key of `subject`, unwrapped and cached.
  absl::StatusOr<std::optional<SubjectKey>> LoadLocked(
      absl::string_view subject) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string value;
    rocksdb::Status s = db_->Get({}, KeyRowKey(subject), &value);
    if (s.IsNotFound()) {
      return std::nullopt;
    }
    RETURN_IF_ERROR(FromRocks(s, "key store: reading a key"));
    ASSIGN_OR_RETURN(KeyRow row, ParseKeyRow(subject, value));
    absl::StatusOr<std::string> raw =
        OpenBox(master_, row.wrapped, WrapAad(subject, row.key_id));
    if (!raw.ok() || raw->size() != kKeyBytes) {
      return absl::DataLossError(
          absl::StrCat("key store: the key of subject ", subject,
                       " does not unwrap under the master key"));
    }
    SubjectKey key;
    key.key_id = row.key_id;
    std::memcpy(key.key.data(), raw->data(), kKeyBytes);
    WipeString(*raw);
    live_[std::string(subject)] = key;
    return key;
  }

  absl::StatusOr<EraseOutcome> EarlierErasureLocked(absl::string_view subject)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    std::string prefix = absl::StrCat(kErasedPrefix, subject);
    prefix.push_back('\0');
    uint64_t latest = 0;
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator({}));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      if (it->value().size() == 8) {
        latest = std::max(latest, ReadBigEndian64(it->value().data()));
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "key store: reading erasures"));
    if (latest == 0) {
      return absl::NotFoundError(
          absl::StrCat("subject_id: the key store holds no key of subject \"",
                       subject, "\"; no event sealed personal data under it"));
    }
    std::string value;
    RETURN_IF_ERROR(FromRocks(db_->Get({}, ErasureKey(latest), &value),
                              "key store: reading an erasure"));
    EraseOutcome outcome;
    outcome.already_erased = true;
    if (!outcome.erasure.ParseFromString(value)) {
      return absl::DataLossError("key store: a malformed erasure record");
    }
    return outcome;
  }

  // Flushes the memtable and rewrites every SST without deleted rows, so no
  // live file holds a destroyed key; RocksDB deletes the obsolete SST and WAL
  // files.
  absl::Status Purge() {
    RETURN_IF_ERROR(
        FromRocks(db_->Flush(rocksdb::FlushOptions()), "key store: flushing"));
    rocksdb::CompactRangeOptions compact;
    compact.bottommost_level_compaction =
        rocksdb::BottommostLevelCompaction::kForce;
    return FromRocks(db_->CompactRange(compact, nullptr, nullptr),
                     "key store: compacting");
  }

  const KeyStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::WriteOptions write_options_;
  absl::Mutex mu_;
  KeyBytes master_;
  absl::flat_hash_map<std::string, SubjectKey> live_ ABSL_GUARDED_BY(mu_);
  uint64_t last_erasure_ ABSL_GUARDED_BY(mu_) = 0;
};

KeyStore::KeyStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KeyStore::~KeyStore() = default;

absl::StatusOr<std::unique_ptr<KeyStore>> KeyStore::Open(
    KeyStoreOptions options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("key store: no path");
  }
  if (options.master_key_path.empty()) {
    options.master_key_path = options.path + "/master.key";
  }
  std::error_code error;
  std::filesystem::create_directories(options.path, error);
  if (error) {
    return absl::InvalidArgumentError(absl::StrCat(
        "key store directory ", options.path, ": ", error.message()));
  }
  ::chmod(options.path.c_str(), 0700);
  const std::string db_path = options.path + "/db";
  const bool fresh = !std::filesystem::exists(db_path + "/CURRENT");

  KeyBytes master{};
  absl::Status read = ReadMasterKey(options.master_key_path, master);
  if (absl::IsNotFound(read)) {
    if (!fresh) {
      return absl::FailedPreconditionError(absl::StrCat(
          "key store ", options.path, " holds keys but its master key ",
          options.master_key_path,
          " is missing; restore it from the backup of the key store"));
    }
    RETURN_IF_ERROR(WriteNewMasterKey(options.master_key_path, master));
  } else if (!read.ok()) {
    return read;
  }

  rocksdb::Options db_options;
  db_options.create_if_missing = true;
  // Obsolete write-ahead logs are deleted, never archived or recycled: a
  // destroyed key must not survive in one.
  db_options.WAL_ttl_seconds = 0;
  db_options.WAL_size_limit_MB = 0;
  db_options.recycle_log_file_num = 0;
  db_options.keep_log_file_num = 2;
  rocksdb::DB* raw = nullptr;
  absl::Status opened = FromRocks(rocksdb::DB::Open(db_options, db_path, &raw),
                                  absl::StrCat("key store ", db_path));
  if (!opened.ok()) {
    Wipe(master);
    return opened;
  }
  auto impl = std::make_unique<Impl>(std::move(options),
                                     std::unique_ptr<rocksdb::DB>(raw), master);
  Wipe(master);
  RETURN_IF_ERROR(impl->Init());
  return std::unique_ptr<KeyStore>(new KeyStore(std::move(impl)));
}

absl::StatusOr<SubjectKey> KeyStore::KeyFor(absl::string_view subject) {
  return impl_->KeyFor(subject);
}

absl::StatusOr<KeyLookup> KeyStore::Find(absl::string_view subject,
                                         absl::string_view key_id) {
  return impl_->Find(subject, key_id);
}

absl::StatusOr<EraseOutcome> KeyStore::Erase(absl::string_view subject,
                                             absl::string_view reason) {
  return impl_->Erase(subject, reason);
}

absl::StatusOr<std::vector<v1::Erasure>> KeyStore::Erasures() {
  return impl_->Erasures();
}

}  // namespace prongsai::privacy

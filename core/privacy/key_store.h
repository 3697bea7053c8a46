// The key store: one AES-256 key per data subject, apart from the event log.
//
// Layout under KeyStoreOptions::path (default DATA_DIR/keystore):
//   master.key  32 random bytes, made on first start with mode 0600; it wraps
//               (AES-256-GCM) every subject key before the key is written
//   db/         RocksDB: the wrapped key of each subject that has a live key,
//               the ids of destroyed keys, and the record of erasures
// A subject's key has a random 16-hex-digit id, written into every value
// sealed under it, so a value names the one key that opens it.
//
// Erase deletes the subject's key row and records the erasure in one synced
// write, then flushes the memtable and compacts the whole store, so that no
// live RocksDB file (SST or write-ahead log) still holds the wrapped key;
// RocksDB deletes the obsolete files. (Blocks a filesystem freed may keep old
// bytes until reused; the wrapped key in them is useless without master.key.)
// A start compacts the store again, so an erasure interrupted by a crash is
// completed. An erased subject named again later gets a new key with a new id.
//
// Example:
//   ASSIGN_OR_RETURN(auto store, KeyStore::Open({.path = dir + "/keystore"}));
//   ASSIGN_OR_RETURN(SubjectKey key, store->KeyFor("p-017"));
//   ASSIGN_OR_RETURN(EraseOutcome done, store->Erase("p-017", "PDPA request"));
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/privacy/cipher.h"
#include "prongsai/v1/privacy.pb.h"

namespace prongsai::privacy {

struct SubjectKey {
  std::string key_id;  // 16 lowercase hex digits
  KeyBytes key{};
};

enum class KeyState {
  kLive,     // the key exists; `key` holds it
  kErased,   // the key was destroyed by an erasure
  kUnknown,  // this store never held that key (another store, or a restored
             // backup older than the key)
};

struct KeyLookup {
  KeyState state = KeyState::kUnknown;
  KeyBytes key{};
};

// Where sealing and opening get keys; KeyStore is the real one.
class SubjectKeys {
 public:
  virtual ~SubjectKeys() = default;
  // The live key of `subject`, made (and durably stored) if it has none.
  virtual absl::StatusOr<SubjectKey> KeyFor(absl::string_view subject) = 0;
  // The key `key_id` of `subject`, or why there is none.
  virtual absl::StatusOr<KeyLookup> Find(absl::string_view subject,
                                         absl::string_view key_id) = 0;
};

struct KeyStoreOptions {
  // The store's directory; RocksDB lives in path/db.
  std::string path = {};
  // The master key file; empty: path/master.key.
  std::string master_key_path = {};
  // Sync every write (a new key is durable before the event it seals is
  // stored). Off only in tests and benchmarks.
  bool sync = true;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

struct EraseOutcome {
  v1::Erasure erasure;
  // The subject held no key: `erasure` is its latest earlier erasure.
  bool already_erased = false;
};

class KeyStore final : public SubjectKeys {
 public:
  // Opens the store, making the directory and the master key on first start.
  // FAILED_PRECONDITION when the store holds keys but its master key is
  // missing, is not the one that wrapped them, or is readable by others.
  static absl::StatusOr<std::unique_ptr<KeyStore>> Open(
      KeyStoreOptions options);
  ~KeyStore() override;

  absl::StatusOr<SubjectKey> KeyFor(absl::string_view subject) override;
  absl::StatusOr<KeyLookup> Find(absl::string_view subject,
                                 absl::string_view key_id) override;

  // Destroys the live key of `subject` and records the erasure.
  // NOT_FOUND when the store never held a key of `subject`.
  absl::StatusOr<EraseOutcome> Erase(absl::string_view subject,
                                     absl::string_view reason);
  // Every recorded erasure, oldest first.
  absl::StatusOr<std::vector<v1::Erasure>> Erasures();

  class Impl;

 private:
  explicit KeyStore(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Checks a data subject id: 1-128 bytes of valid UTF-8, no space or control
// character (the rule of every client-chosen id).
absl::Status CheckSubjectId(absl::string_view subject);

}  // namespace prongsai::privacy

// The key store: one key per subject, kept across restarts; an erased key is
// gone for good, from the store and from every file RocksDB keeps.
#include "core/privacy/key_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "tests/testing/testing.h"

namespace prongsai::privacy {
namespace {

using ::prongsai::testing::TempDir;

class KeyStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    store_.reset();
    auto store =
        KeyStore::Open({.path = path_, .clock = [this] { return now_; }});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(*store);
  }

  // Every byte of every file under the store's directory.
  std::string AllFileBytes() {
    std::string all;
    for (const auto& entry :
         std::filesystem::recursive_directory_iterator(path_)) {
      if (entry.is_regular_file()) {
        std::ifstream in(entry.path(), std::ios::binary);
        all.append(std::istreambuf_iterator<char>(in), {});
      }
    }
    return all;
  }

  TempDir dir_;
  const std::string path_ = dir_.Sub("keystore");
  absl::Time now_ = absl::FromUnixSeconds(1730000000);
  std::unique_ptr<KeyStore> store_;
};

TEST_F(KeyStoreTest, OneKeyPerSubject) {
  absl::StatusOr<SubjectKey> a = store_->KeyFor("p-1");
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->key_id.size(), 16u);
  absl::StatusOr<SubjectKey> again = store_->KeyFor("p-1");
  EXPECT_EQ(again->key_id, a->key_id);
  EXPECT_EQ(again->key, a->key);
  absl::StatusOr<SubjectKey> b = store_->KeyFor("p-2");
  EXPECT_NE(b->key_id, a->key_id);
  EXPECT_NE(b->key, a->key);

  absl::StatusOr<KeyLookup> found = store_->Find("p-1", a->key_id);
  EXPECT_EQ(found->state, KeyState::kLive);
  EXPECT_EQ(found->key, a->key);
  EXPECT_EQ(store_->Find("p-1", b->key_id)->state, KeyState::kUnknown);
  EXPECT_EQ(store_->Find("p-3", a->key_id)->state, KeyState::kUnknown);
  EXPECT_EQ(store_->KeyFor("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->KeyFor("a\nb").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KeyStoreTest, KeysSurviveARestart) {
  const SubjectKey a = *store_->KeyFor("p-1");
  Open();
  const SubjectKey again = *store_->KeyFor("p-1");
  EXPECT_EQ(again.key_id, a.key_id);
  EXPECT_EQ(again.key, a.key);
  EXPECT_EQ(store_->Find("p-1", a.key_id)->state, KeyState::kLive);
}

TEST_F(KeyStoreTest, MasterKeyIsOwnerOnlyAndKeysAreStoredWrapped) {
  const SubjectKey a = *store_->KeyFor("p-1");
  struct stat info;
  ASSERT_EQ(::stat((path_ + "/master.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  EXPECT_EQ(std::filesystem::file_size(path_ + "/master.key"), 32u);
  store_.reset();
  const std::string raw(reinterpret_cast<const char*>(a.key.data()),
                        a.key.size());
  EXPECT_EQ(AllFileBytes().find(raw), std::string::npos);
}

TEST_F(KeyStoreTest, EraseDestroysTheKeyAndRecordsTheErasure) {
  const SubjectKey a = *store_->KeyFor("p-1");
  const SubjectKey b = *store_->KeyFor("p-2");
  absl::StatusOr<EraseOutcome> erased = store_->Erase("p-1", "PDPA s.33");
  ASSERT_TRUE(erased.ok()) << erased.status();
  EXPECT_FALSE(erased->already_erased);
  EXPECT_EQ(erased->erasure.subject_id(), "p-1");
  ASSERT_EQ(erased->erasure.key_ids_size(), 1);
  EXPECT_EQ(erased->erasure.key_ids(0), a.key_id);
  EXPECT_EQ(erased->erasure.reason(), "PDPA s.33");
  EXPECT_EQ(erased->erasure.erased_at().seconds(), 1730000000);
  EXPECT_EQ(erased->erasure.sequence(), 1u);

  EXPECT_EQ(store_->Find("p-1", a.key_id)->state, KeyState::kErased);
  EXPECT_EQ(store_->Find("p-2", b.key_id)->state, KeyState::kLive);

  // Erasing again destroys nothing and returns the earlier record.
  absl::StatusOr<EraseOutcome> again = store_->Erase("p-1", "again");
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_erased);
  EXPECT_EQ(again->erasure.reason(), "PDPA s.33");
  EXPECT_EQ(store_->Erase("p-never", "x").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_->Erase("", "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(KeyStoreTest, ErasedStaysErasedAcrossRestartsAndANewKeyIsNew) {
  const SubjectKey a = *store_->KeyFor("p-1");
  ASSERT_TRUE(store_->Erase("p-1", "request 1").ok());
  Open();
  EXPECT_EQ(store_->Find("p-1", a.key_id)->state, KeyState::kErased);

  const SubjectKey renewed = *store_->KeyFor("p-1");
  EXPECT_NE(renewed.key_id, a.key_id);
  EXPECT_NE(renewed.key, a.key);
  EXPECT_EQ(store_->Find("p-1", a.key_id)->state, KeyState::kErased);
  EXPECT_EQ(store_->Find("p-1", renewed.key_id)->state, KeyState::kLive);

  ASSERT_TRUE(store_->Erase("p-1", "request 2").ok());
  Open();
  absl::StatusOr<std::vector<v1::Erasure>> erasures = store_->Erasures();
  ASSERT_TRUE(erasures.ok()) << erasures.status();
  ASSERT_EQ(erasures->size(), 2u);
  EXPECT_EQ((*erasures)[0].key_ids(0), a.key_id);
  EXPECT_EQ((*erasures)[1].key_ids(0), renewed.key_id);
  EXPECT_EQ((*erasures)[1].sequence(), 2u);
  EXPECT_EQ(store_->Find("p-1", renewed.key_id)->state, KeyState::kErased);
}

TEST_F(KeyStoreTest, AnErasedKeyIsInNoFileOfTheStore) {
  const SubjectKey a = *store_->KeyFor("p-1");
  // Let the key reach an SST as well as the write-ahead log.
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(store_->KeyFor("filler-" + std::to_string(i)).ok());
  }
  Open();
  store_.reset();
  std::string row;
  {
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::OpenForReadOnly({}, path_ + "/db", &raw).ok());
    std::unique_ptr<rocksdb::DB> db(raw);
    ASSERT_TRUE(db->Get({}, "k/p-1", &row).ok());
  }
  // The stored row: version, key id, time, and the wrapped key.
  const std::string wrapped = row.substr(1 + 16 + 8);
  ASSERT_EQ(wrapped.size(), 60u);
  ASSERT_NE(AllFileBytes().find(wrapped), std::string::npos);

  Open();
  ASSERT_TRUE(store_->Erase("p-1", "test").ok());
  EXPECT_EQ(AllFileBytes().find(wrapped), std::string::npos);
  store_.reset();
  EXPECT_EQ(AllFileBytes().find(wrapped), std::string::npos);
}

TEST_F(KeyStoreTest, RefusesAMissingOrForeignMasterKey) {
  ASSERT_TRUE(store_->KeyFor("p-1").ok());
  store_.reset();
  const std::string master = path_ + "/master.key";
  std::filesystem::rename(master, master + ".saved");
  absl::StatusOr<std::unique_ptr<KeyStore>> opened =
      KeyStore::Open({.path = path_});
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition)
      << opened.status();

  {
    std::ofstream other(master, std::ios::binary);
    other << std::string(32, 'x');
  }
  std::filesystem::permissions(master, std::filesystem::perms::owner_read |
                                           std::filesystem::perms::owner_write);
  opened = KeyStore::Open({.path = path_});
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition)
      << opened.status();

  std::filesystem::rename(master + ".saved", master);
  std::filesystem::permissions(master, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::add);
  opened = KeyStore::Open({.path = path_});
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kFailedPrecondition)
      << opened.status();
  std::filesystem::permissions(master, std::filesystem::perms::group_read,
                               std::filesystem::perm_options::remove);
  opened = KeyStore::Open({.path = path_});
  EXPECT_TRUE(opened.ok()) << opened.status();
}

}  // namespace
}  // namespace prongsai::privacy

#include "core/audit/merkle.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace prongsai::audit {
namespace {

// RFC 6962 section 2.1, written as the RFC states it: the reference the
// store-based functions are checked against.
Hash ReferenceRoot(const std::vector<Hash>& leaves, size_t lo, size_t hi) {
  if (hi - lo == 1) {
    return leaves[lo];
  }
  size_t k = 1;
  while (k * 2 < hi - lo) {
    k *= 2;
  }
  return NodeHash(ReferenceRoot(leaves, lo, lo + k),
                  ReferenceRoot(leaves, lo + k, hi));
}

// Every complete subtree of a tree of leaves, by level.
class NodeStore {
 public:
  void Append(const Hash& leaf) {
    Hash hash = leaf;
    uint64_t index = size_;
    for (size_t level = 0;; ++level) {
      if (nodes_.size() <= level) {
        nodes_.emplace_back();
      }
      nodes_[level].push_back(hash);
      if ((index & 1) == 0) {
        break;
      }
      hash = NodeHash(nodes_[level][index - 1], hash);
      index >>= 1;
    }
    ++size_;
  }

  NodeReader Reader() {
    return [this](int level, uint64_t index) -> absl::StatusOr<Hash> {
      ++reads_;
      if (static_cast<size_t>(level) >= nodes_.size() ||
          index >= nodes_[level].size()) {
        return absl::NotFoundError(absl::StrCat("no node ", level, "/", index));
      }
      return nodes_[level][index];
    };
  }

  int reads_ = 0;

 private:
  uint64_t size_ = 0;
  std::vector<std::vector<Hash>> nodes_;
};

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> leaves;
  for (size_t i = 0; i < n; ++i) {
    leaves.push_back(LeafHash(absl::StrCat("record ", i)));
  }
  return leaves;
}

TEST(MerkleTest, HashesFollowRfc6962) {
  // SHA-256 of the empty string, and of 0x00 alone (the empty leaf).
  EXPECT_EQ(HexEncode(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(LeafHash("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(LeafHash("abc"), Sha256(absl::string_view("\0", 1), "abc"));
  const Hash a = LeafHash("a");
  const Hash b = LeafHash("b");
  std::string joined = "\x01";
  joined += std::string(AsBytes(a));
  joined += std::string(AsBytes(b));
  EXPECT_EQ(NodeHash(a, b), Sha256(joined));
  EXPECT_EQ(FastSha256("abc"), Sha256("abc"));
}

TEST(MerkleTest, RootsMatchTheReferenceAtEverySize) {
  const std::vector<Hash> leaves = Leaves(70);
  NodeStore store;
  CompactTree compact;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    SCOPED_TRACE(absl::StrCat("size ", n));
    store.Append(leaves[n - 1]);
    compact.Append(leaves[n - 1]);
    const Hash expected = ReferenceRoot(leaves, 0, n);
    absl::StatusOr<Hash> root = RootAt(n, store.Reader());
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, expected);
    EXPECT_EQ(compact.Root(), expected);
  }
  EXPECT_EQ(*RootAt(0, store.Reader()), EmptyRoot());

  // Whole subtrees appended at once give the same roots.
  CompactTree by_subtrees;
  by_subtrees.Append(leaves[0]);
  by_subtrees.Append(leaves[1]);
  CompactTree four;
  for (size_t i = 4; i < 8; ++i) {
    four.Append(leaves[i]);
  }
  by_subtrees.Append(leaves[2]);
  by_subtrees.Append(leaves[3]);
  by_subtrees.AppendSubtree(2, four.Root());
  EXPECT_EQ(by_subtrees.size(), 8u);
  EXPECT_EQ(by_subtrees.Root(), ReferenceRoot(leaves, 0, 8));
  CompactTree eight;
  for (size_t i = 8; i < 16; ++i) {
    eight.Append(leaves[i]);
  }
  by_subtrees.AppendSubtree(3, eight.Root());
  by_subtrees.Append(leaves[16]);
  EXPECT_EQ(by_subtrees.Root(), ReferenceRoot(leaves, 0, 17));
  EXPECT_EQ(CompactTree().Root(), EmptyRoot());
}

TEST(MerkleTest, InclusionProofsVerifyForEveryLeafAndSize) {
  const std::vector<Hash> leaves = Leaves(40);
  NodeStore store;
  for (const Hash& leaf : leaves) {
    store.Append(leaf);
  }
  for (uint64_t size = 1; size <= leaves.size(); ++size) {
    const Hash root = ReferenceRoot(leaves, 0, size);
    for (uint64_t index = 0; index < size; ++index) {
      SCOPED_TRACE(absl::StrCat("leaf ", index, " of ", size));
      absl::StatusOr<std::vector<Hash>> proof =
          InclusionProof(index, size, store.Reader());
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(
          VerifyInclusion(index, size, leaves[index], *proof, root).ok());
      // The same proof must not prove another leaf, position or root.
      EXPECT_FALSE(
          VerifyInclusion(index, size, LeafHash("forged"), *proof, root).ok());
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion((index + 1) % size, size, leaves[index],
                                     *proof, root)
                         .ok());
      }
      EXPECT_FALSE(VerifyInclusion(index, size, leaves[index], *proof,
                                   LeafHash("other root"))
                       .ok());
      if (!proof->empty()) {
        std::vector<Hash> shorter(proof->begin(), proof->end() - 1);
        EXPECT_FALSE(
            VerifyInclusion(index, size, leaves[index], shorter, root).ok());
        std::vector<Hash> flipped = *proof;
        flipped[0][0] ^= 1;
        EXPECT_FALSE(
            VerifyInclusion(index, size, leaves[index], flipped, root).ok());
      }
      std::vector<Hash> longer = *proof;
      longer.push_back(root);
      EXPECT_FALSE(
          VerifyInclusion(index, size, leaves[index], longer, root).ok());
    }
  }
  EXPECT_FALSE(InclusionProof(5, 5, store.Reader()).ok());
}

TEST(MerkleTest, ConsistencyProofsVerifyForEveryPairOfSizes) {
  const std::vector<Hash> leaves = Leaves(40);
  NodeStore store;
  for (const Hash& leaf : leaves) {
    store.Append(leaf);
  }
  for (uint64_t to = 1; to <= leaves.size(); ++to) {
    const Hash new_root = ReferenceRoot(leaves, 0, to);
    for (uint64_t from = 1; from <= to; ++from) {
      SCOPED_TRACE(absl::StrCat(from, " -> ", to));
      const Hash old_root = ReferenceRoot(leaves, 0, from);
      absl::StatusOr<std::vector<Hash>> proof =
          ConsistencyProof(from, to, store.Reader());
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(VerifyConsistency(from, to, old_root, new_root, *proof).ok());
      // A root of another history must fail.
      EXPECT_FALSE(
          VerifyConsistency(from, to, LeafHash("forked"), new_root, *proof)
              .ok());
      EXPECT_FALSE(
          VerifyConsistency(from, to, old_root, LeafHash("forked"), *proof)
              .ok());
      if (!proof->empty()) {
        std::vector<Hash> flipped = *proof;
        flipped.back()[31] ^= 0x80;
        EXPECT_FALSE(
            VerifyConsistency(from, to, old_root, new_root, flipped).ok());
      }
    }
  }
  EXPECT_FALSE(ConsistencyProof(0, 3, store.Reader()).ok());
  EXPECT_FALSE(ConsistencyProof(4, 3, store.Reader()).ok());
}

TEST(MerkleTest, ProofsReadLogarithmicallyManyNodes) {
  NodeStore store;
  constexpr uint64_t kSize = (1 << 16) + 12345;
  for (uint64_t i = 0; i < kSize; ++i) {
    Hash leaf{};
    leaf[0] = static_cast<uint8_t>(i);
    leaf[1] = static_cast<uint8_t>(i >> 8);
    leaf[2] = static_cast<uint8_t>(i >> 16);
    store.Append(leaf);
  }
  // log2(kSize) ~ 17: a root reads one node per set bit of the size, a proof
  // at most one per level plus the right border once.
  store.reads_ = 0;
  ASSERT_TRUE(RootAt(kSize, store.Reader()).ok());
  EXPECT_LE(store.reads_, 17);
  for (uint64_t index : {uint64_t{0}, uint64_t{777}, kSize / 2, kSize - 1}) {
    store.reads_ = 0;
    ASSERT_TRUE(InclusionProof(index, kSize, store.Reader()).ok());
    EXPECT_LE(store.reads_, 2 * 17) << "leaf " << index;
  }
  store.reads_ = 0;
  ASSERT_TRUE(ConsistencyProof(1000, kSize, store.Reader()).ok());
  EXPECT_LE(store.reads_, 2 * 17);
}

}  // namespace
}  // namespace prongsai::audit

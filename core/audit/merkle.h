// RFC 6962 / RFC 9162 Merkle trees: roots, inclusion and consistency proofs,
// and their verification.
//
// A stream's records are the leaves, in sequence order: leaf i (from 0) is
// the record with sequence i + 1. Hashes:
//   leaf = SHA-256(0x00 || stored record bytes)
//   node = SHA-256(0x01 || left || right)
//
// A store keeps every complete subtree: node (level, index) covers leaves
// [index << level, (index + 1) << level). Any root or proof of a tree of n
// leaves needs O(log n) of them, read through a NodeReader, so the functions
// here work over any store (the merkle view, a vector in a test).
//
// Example:
//   NodeReader read = [&](int level, uint64_t index) {
//     return nodes[level][index];
//   };
//   ASSIGN_OR_RETURN(Hash root, RootAt(size, read));
//   ASSIGN_OR_RETURN(std::vector<Hash> proof, InclusionProof(7, size, read));
//   RETURN_IF_ERROR(VerifyInclusion(7, size, LeafHash(bytes), proof, root));
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/base/hash.h"

namespace prongsai::audit {

// SHA-256 of `data` through OpenSSL's SHA256_CTX functions: for records of a
// few hundred bytes they cost markedly less than an EVP digest per hash.
Hash FastSha256(absl::string_view data);
// SHA-256(0x00 || record_bytes).
Hash LeafHash(absl::string_view record_bytes);
// SHA-256(0x01 || left || right).
Hash NodeHash(const Hash& left, const Hash& right);
// The root of the empty tree: SHA-256 of nothing.
Hash EmptyRoot();

// The root of the complete subtree whose 2^k leaf hashes (k >= 0) are
// `nodes`, level by level, two node hashes at a time. Overwrites `nodes`.
Hash SubtreeRoot(absl::Span<Hash> nodes);

// Reads the complete subtree (level, index). It must exist in the store.
using NodeReader =
    std::function<absl::StatusOr<Hash>(int level, uint64_t index)>;

// The root of the tree of the first `size` leaves.
absl::StatusOr<Hash> RootAt(uint64_t size, const NodeReader& read);

// The audit path of leaf `index` in the tree of `size` leaves, from the leaf
// up (RFC 9162 section 2.1.3.1). INVALID_ARGUMENT unless index < size.
absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                                 const NodeReader& read);

// The proof that the tree of `old_size` leaves is a prefix of the tree of
// `new_size` leaves (RFC 9162 section 2.1.4.1). INVALID_ARGUMENT unless
// 1 <= old_size <= new_size.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size,
                                                   uint64_t new_size,
                                                   const NodeReader& read);

// RFC 9162 section 2.1.3.2. OK, or UNAUTHENTICATED saying what failed.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root);

// RFC 9162 section 2.1.4.2; equal sizes need an empty proof and equal roots.
// OK, or UNAUTHENTICATED saying what failed.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               absl::Span<const Hash> proof);

// A tree built leaf by leaf that keeps only its right border: the complete
// subtrees that make up the current size, O(log n) hashes. Appends cost one
// node hash on average.
class CompactTree {
 public:
  void Append(const Hash& leaf_hash);
  // Appends a complete subtree of 2^level leaves with root `root`; the size
  // must be a multiple of 2^level.
  void AppendSubtree(int level, const Hash& root);
  uint64_t size() const { return size_; }
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // Roots of the complete subtrees, largest (leftmost) first.
  std::vector<Hash> border_;
};

}  // namespace prongsai::audit

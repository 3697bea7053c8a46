#include "core/audit/merkle.h"

// The SHA256_CTX functions are deprecated in OpenSSL 3 in favour of EVP, but
// they skip the provider dispatch that dominates the cost of hashing a short
// record, and verification hashes every record twice.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <bit>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "core/base/sha256x2.h"
#include "core/base/status.h"

namespace prongsai::audit {
namespace {

// The largest power of two strictly below n (n >= 2): where RFC 6962 splits
// a tree of n leaves.
uint64_t SplitPoint(uint64_t n) {
  return uint64_t{1} << (63 - std::countl_zero(n - 1));
}

// The hash of leaves [lo, hi), where lo is a multiple of the smallest power
// of two >= hi - lo, as every range in the RFC 6962 recursion is. Such a
// range is a run of complete subtrees of decreasing size.
absl::StatusOr<Hash> RangeHash(uint64_t lo, uint64_t hi,
                               const NodeReader& read) {
  Hash parts[64];
  int count = 0;
  while (lo < hi) {
    const int level = 63 - std::countl_zero(hi - lo);
    if ((lo & ((uint64_t{1} << level) - 1)) != 0) {
      return absl::InternalError(
          absl::StrCat("leaf range starting at ", lo, " is not aligned"));
    }
    ASSIGN_OR_RETURN(parts[count], read(level, lo >> level));
    ++count;
    lo += uint64_t{1} << level;
  }
  Hash hash = parts[count - 1];
  for (int i = count - 2; i >= 0; --i) {
    hash = NodeHash(parts[i], hash);
  }
  return hash;
}

absl::Status Path(uint64_t m, uint64_t lo, uint64_t hi, const NodeReader& read,
                  std::vector<Hash>* out) {
  if (hi - lo == 1) {
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(hi - lo);
  if (m < lo + k) {
    RETURN_IF_ERROR(Path(m, lo, lo + k, read, out));
    ASSIGN_OR_RETURN(Hash right, RangeHash(lo + k, hi, read));
    out->push_back(right);
  } else {
    RETURN_IF_ERROR(Path(m, lo + k, hi, read, out));
    ASSIGN_OR_RETURN(Hash left, RangeHash(lo, lo + k, read));
    out->push_back(left);
  }
  return absl::OkStatus();
}

// SUBPROOF(m, D[lo:hi], whole) of RFC 9162 section 2.1.4.1.
absl::Status SubProof(uint64_t m, uint64_t lo, uint64_t hi, bool whole,
                      const NodeReader& read, std::vector<Hash>* out) {
  const uint64_t n = hi - lo;
  if (m == n) {
    if (!whole) {
      ASSIGN_OR_RETURN(Hash hash, RangeHash(lo, hi, read));
      out->push_back(hash);
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(m, lo, lo + k, whole, read, out));
    ASSIGN_OR_RETURN(Hash right, RangeHash(lo + k, hi, read));
    out->push_back(right);
  } else {
    RETURN_IF_ERROR(SubProof(m - k, lo + k, hi, false, read, out));
    ASSIGN_OR_RETURN(Hash left, RangeHash(lo, lo + k, read));
    out->push_back(left);
  }
  return absl::OkStatus();
}

std::string ShortHex(const Hash& hash) {
  return HexEncode(AsBytes(hash)).substr(0, 16);
}

}  // namespace

Hash FastSha256(absl::string_view data) {
  // Not the one-call SHA256(): OpenSSL 3 routes it through an algorithm
  // fetch on every call.
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  Hash out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash LeafHash(absl::string_view record_bytes) {
  static constexpr unsigned char kLeafPrefix = 0x00;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, &kLeafPrefix, 1);
  SHA256_Update(&ctx, record_bytes.data(), record_bytes.size());
  Hash out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash NodeHash(const Hash& left, const Hash& right) {
  unsigned char buffer[1 + 2 * kHashSize];
  buffer[0] = 0x01;
  std::memcpy(buffer + 1, left.data(), kHashSize);
  std::memcpy(buffer + 1 + kHashSize, right.data(), kHashSize);
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, buffer, sizeof(buffer));
  Hash out;
  SHA256_Final(out.data(), &ctx);
  return out;
}

Hash EmptyRoot() { return FastSha256(""); }

Hash SubtreeRoot(absl::Span<Hash> nodes) {
  static_assert(sizeof(Hash) == kHashSize, "hashes must lie side by side");
  auto pair = [](const Hash& left) {
    return reinterpret_cast<const char*>(left.data());
  };
  for (size_t width = nodes.size(); width > 1; width /= 2) {
    // Parent j covers children 2j and 2j + 1, which lie side by side. The
    // parents are written only after both of a pair are hashed, so a level
    // can be folded onto itself.
    if (width == 2) {
      nodes[0] = NodeHash(nodes[0], nodes[1]);
      break;
    }
    for (size_t j = 0; j < width / 2; j += 2) {
      Hash left;
      Hash right;
      NodeHashx2(pair(nodes[2 * j]), pair(nodes[2 * j + 2]), &left, &right);
      nodes[j] = left;
      nodes[j + 1] = right;
    }
  }
  return nodes[0];
}

absl::StatusOr<Hash> RootAt(uint64_t size, const NodeReader& read) {
  if (size == 0) {
    return EmptyRoot();
  }
  return RangeHash(0, size, read);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size,
                                                 const NodeReader& read) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", index, " is not in a tree of ", size, " leaves"));
  }
  std::vector<Hash> proof;
  RETURN_IF_ERROR(Path(index, 0, size, read, &proof));
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(uint64_t old_size,
                                                   uint64_t new_size,
                                                   const NodeReader& read) {
  if (old_size == 0 || old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("no consistency proof from size ", old_size, " to size ",
                     new_size, ": need 1 <= old size <= new size"));
  }
  std::vector<Hash> proof;
  RETURN_IF_ERROR(SubProof(old_size, 0, new_size, true, read, &proof));
  return proof;
}

absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             const Hash& leaf_hash,
                             absl::Span<const Hash> proof, const Hash& root) {
  if (index >= size) {
    return absl::UnauthenticatedError(absl::StrCat(
        "leaf ", index, " cannot be in a tree of ", size, " leaves"));
  }
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) {
      return absl::UnauthenticatedError(
          "inclusion proof has more hashes than the tree has levels");
    }
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::UnauthenticatedError(
        "inclusion proof has fewer hashes than the tree has levels");
  }
  if (r != root) {
    return absl::UnauthenticatedError(
        absl::StrCat("inclusion proof leads to root ", ShortHex(r), "..., not ",
                     ShortHex(root), "..."));
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size,
                               const Hash& old_root, const Hash& new_root,
                               absl::Span<const Hash> proof) {
  if (old_size == 0 || old_size > new_size) {
    return absl::UnauthenticatedError(
        absl::StrCat("no tree of size ", old_size,
                     " can be a prefix of one of size ", new_size));
  }
  if (old_size == new_size) {
    if (!proof.empty()) {
      return absl::UnauthenticatedError(
          "consistency proof between equal sizes must be empty");
    }
    if (old_root != new_root) {
      return absl::UnauthenticatedError(absl::StrCat(
          "two roots for the same size ", old_size, ": ", ShortHex(old_root),
          "... and ", ShortHex(new_root), "..."));
    }
    return absl::OkStatus();
  }
  if (proof.empty()) {
    return absl::UnauthenticatedError("consistency proof is empty");
  }
  std::vector<Hash> path;
  path.reserve(proof.size() + 1);
  if (std::has_single_bit(old_size)) {
    path.push_back(old_root);
  }
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = path[0];
  Hash sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash& c = path[i];
    if (sn == 0) {
      return absl::UnauthenticatedError(
          "consistency proof has more hashes than the trees need");
    }
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) {
    return absl::UnauthenticatedError(
        "consistency proof has fewer hashes than the trees need");
  }
  if (fr != old_root) {
    return absl::UnauthenticatedError(
        absl::StrCat("consistency proof leads to old root ", ShortHex(fr),
                     "..., not ", ShortHex(old_root), "..."));
  }
  if (sr != new_root) {
    return absl::UnauthenticatedError(
        absl::StrCat("consistency proof leads to new root ", ShortHex(sr),
                     "..., not ", ShortHex(new_root), "..."));
  }
  return absl::OkStatus();
}

void CompactTree::Append(const Hash& leaf_hash) {
  Hash hash = leaf_hash;
  // Each trailing one bit of the old size is a complete subtree that the new
  // leaf completes into a larger one.
  for (uint64_t s = size_; (s & 1) != 0; s >>= 1) {
    hash = NodeHash(border_.back(), hash);
    border_.pop_back();
  }
  border_.push_back(hash);
  ++size_;
}

void CompactTree::AppendSubtree(int level, const Hash& root) {
  Hash hash = root;
  for (uint64_t s = size_ >> level; (s & 1) != 0; s >>= 1) {
    hash = NodeHash(border_.back(), hash);
    border_.pop_back();
  }
  border_.push_back(hash);
  size_ += uint64_t{1} << level;
}

Hash CompactTree::Root() const {
  if (border_.empty()) {
    return EmptyRoot();
  }
  Hash hash = border_.back();
  for (size_t i = border_.size() - 1; i-- > 0;) {
    hash = NodeHash(border_[i], hash);
  }
  return hash;
}

}  // namespace prongsai::audit

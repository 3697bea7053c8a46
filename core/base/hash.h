// SHA-256 and the hash types of the ledger.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace prongsai {

inline constexpr size_t kHashSize = 32;
using Hash = std::array<uint8_t, kHashSize>;

// The all-zero hash: prev_hash of the first record of a stream.
inline constexpr Hash kZeroHash{};

// SHA-256 of `data`.
Hash Sha256(absl::string_view data);

// SHA-256 of `prefix` followed by `data`, without copying them together.
Hash Sha256(absl::string_view prefix, absl::string_view data);

inline absl::string_view AsBytes(const Hash& hash) {
  return {reinterpret_cast<const char*>(hash.data()), hash.size()};
}

// Returns false unless `bytes` is exactly kHashSize long.
bool HashFromBytes(absl::string_view bytes, Hash* out);

// A 64-bit mix with full avalanche (the splitmix64 finalizer): spreads the
// bits of an integer key over a hash table's buckets.
inline uint64_t Mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// A fast 64-bit hash of `text` (FNV-1a, then Mix64) that never changes from
// one build to the next, so it may be part of a stored key. Not for
// anything an adversary could exploit by choosing colliding inputs.
inline uint64_t StableHash64(absl::string_view text) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    h = (h ^ c) * 0x100000001b3ULL;
  }
  return Mix64(h);
}

std::string HexEncode(absl::string_view bytes);
inline std::string HexEncode(const Hash& hash) { return HexEncode(AsBytes(hash)); }

}  // namespace prongsai

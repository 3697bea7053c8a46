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

std::string HexEncode(absl::string_view bytes);
inline std::string HexEncode(const Hash& hash) { return HexEncode(AsBytes(hash)); }

}  // namespace prongsai

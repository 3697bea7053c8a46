// Fixed-width big-endian integers for keys that sort in numeric order, and
// text checks shared by the ingest path.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/strings/string_view.h"

namespace prongsai {

void AppendBigEndian64(uint64_t value, std::string* out);
// Reads 8 bytes at `data`; the caller guarantees they exist. Inline: keys
// and export frames are read in tight loops.
inline uint64_t ReadBigEndian64(const char* data) {
  static_assert(std::endian::native == std::endian::little);
  uint64_t value;
  std::memcpy(&value, data, sizeof(value));
  return __builtin_bswap64(value);
}

// True when `text` is well-formed UTF-8.
bool IsValidUtf8(absl::string_view text);

// True for the canonical textual UUID form: 8-4-4-4-12 hexadecimal digits.
bool IsUuid(absl::string_view text);

}  // namespace prongsai

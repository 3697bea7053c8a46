#include "core/base/sha256x2.h"

// The SHA256_CTX functions skip the provider dispatch of EVP, which costs
// more than hashing a short record (see merkle.cc).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#include <immintrin.h>
#define PRONGSAI_SHA_NI 1
#endif

namespace prongsai {
namespace {

void PortableDigest(const Sha256Message& m, Hash* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, m.prefix.data(), m.prefix.size());
  SHA256_Update(&ctx, m.data.data(), m.data.size());
  SHA256_Final(out->data(), &ctx);
}

#ifdef PRONGSAI_SHA_NI

constexpr size_t kBlockSize = 64;

alignas(16) constexpr uint32_t kRound[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t kInitial[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                  0xa54ff53a, 0x510e527f, 0x9b05688c,
                                  0x1f83d9ab, 0x5be0cd19};

#define PRONGSAI_SHA_TARGET __attribute__((target("sha,sse4.1,ssse3")))
#define PRONGSAI_SHA_INLINE \
  __attribute__((target("sha,sse4.1,ssse3"), always_inline)) inline

// The state as the SHA instructions want it: ABEF and CDGH.
struct State {
  __m128i abef;
  __m128i cdgh;
};

PRONGSAI_SHA_INLINE State InitialState() {
  const __m128i dcba =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kInitial[0]));
  const __m128i hgfe =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(&kInitial[4]));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xB1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1B);
  return {_mm_alignr_epi8(cdab, efgh, 8), _mm_blend_epi16(efgh, cdab, 0xF0)};
}

PRONGSAI_SHA_INLINE void Store(const State& s, Hash* out) {
  const __m128i feba = _mm_shuffle_epi32(s.abef, 0x1B);
  const __m128i dchg = _mm_shuffle_epi32(s.cdgh, 0xB1);
  const __m128i dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  const __m128i hgfe = _mm_alignr_epi8(dchg, feba, 8);
  // Words to big-endian bytes.
  const __m128i swap =
      _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out->data()),
                   _mm_shuffle_epi8(dcba, swap));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(out->data() + 16),
                   _mm_shuffle_epi8(hgfe, swap));
}

// Big-endian bytes to words.
PRONGSAI_SHA_INLINE __m128i ToWords(__m128i bytes) {
  const __m128i swap =
      _mm_set_epi8(12, 13, 14, 15, 8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3);
  return _mm_shuffle_epi8(bytes, swap);
}

PRONGSAI_SHA_INLINE __m128i LoadWords(const char* p) {
  return ToWords(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}

// A message as a sequence of 64-byte blocks: the whole blocks point into the
// caller's data wherever they can, and the last one or two (the rest of the
// data, the 0x80 byte and the bit length) are built here.
class Blocks {
 public:
  explicit Blocks(const Sha256Message& m) : prefix_(m.prefix), data_(m.data) {
    const uint64_t total = prefix_.size() + data_.size();
    whole_ = total / kBlockSize;
    const size_t rest = total % kBlockSize;
    const size_t rest_from = whole_ * kBlockSize;  // offset in prefix || data
    // Zeroed as a whole: a fixed size compiles to a few vector stores.
    std::memset(tail_, 0, sizeof(tail_));
    if (whole_ == 0) {
      std::memcpy(tail_, prefix_.data(), prefix_.size());
      std::memcpy(tail_ + prefix_.size(), data_.data(), data_.size());
    } else {
      std::memcpy(tail_, data_.data() + (rest_from - prefix_.size()), rest);
    }
    tail_blocks_ = rest + 1 + 8 > kBlockSize ? 2 : 1;
    tail_[rest] = static_cast<char>(0x80);
    const uint64_t bits = __builtin_bswap64(total * 8);
    std::memcpy(tail_ + tail_blocks_ * kBlockSize - 8, &bits, 8);
  }

  size_t count() const { return whole_ + tail_blocks_; }

  // Block k of count(), as words. The prefix is under 16 bytes in practice
  // (one byte for leaves and nodes): the block's first 16 bytes are then
  // assembled in a register, since reading back a freshly written buffer
  // stalls the load behind the stores.
  PRONGSAI_SHA_INLINE void Load(size_t k, __m128i w[4]) const {
    const char* block;
    if (k >= whole_) {
      block = tail_ + (k - whole_) * kBlockSize;
    } else if (k > 0 || prefix_.empty()) {
      block = data_.data() + (k * kBlockSize - prefix_.size());
    } else if (prefix_.size() == 1) {
      const __m128i first = _mm_insert_epi8(
          _mm_slli_si128(
              _mm_loadu_si128(reinterpret_cast<const __m128i*>(data_.data())),
              1),
          prefix_[0], 0);
      w[0] = ToWords(first);
#pragma GCC unroll 3
      for (int q = 1; q < 4; ++q) {
        w[q] = LoadWords(data_.data() + 16 * q - 1);
      }
      return;
    } else {
      char scratch[kBlockSize];
      std::memcpy(scratch, prefix_.data(), prefix_.size());
      std::memcpy(scratch + prefix_.size(), data_.data(),
                  kBlockSize - prefix_.size());
#pragma GCC unroll 4
      for (int q = 0; q < 4; ++q) {
        w[q] = LoadWords(scratch + 16 * q);
      }
      return;
    }
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      w[q] = LoadWords(block + 16 * q);
    }
  }

 private:
  absl::string_view prefix_;
  absl::string_view data_;
  size_t whole_ = 0;
  size_t tail_blocks_ = 0;
  char tail_[2 * kBlockSize];
};

// Four rounds with message words w (already scheduled).
PRONGSAI_SHA_INLINE void Rounds(State& s, __m128i w, int quad) {
  __m128i k = _mm_add_epi32(
      w, _mm_load_si128(reinterpret_cast<const __m128i*>(&kRound[4 * quad])));
  s.cdgh = _mm_sha256rnds2_epu32(s.cdgh, s.abef, k);
  k = _mm_shuffle_epi32(k, 0x0E);
  s.abef = _mm_sha256rnds2_epu32(s.abef, s.cdgh, k);
}

// The next four schedule words from the previous sixteen (w0 oldest).
PRONGSAI_SHA_INLINE __m128i Schedule(__m128i w0, __m128i w1, __m128i w2,
                                     __m128i w3) {
  __m128i m = _mm_sha256msg1_epu32(w0, w1);
  m = _mm_add_epi32(m, _mm_alignr_epi8(w3, w2, 4));
  return _mm_sha256msg2_epu32(m, w3);
}

PRONGSAI_SHA_INLINE void Compress1(State& s, __m128i w[4]) {
  const State saved = s;
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    Rounds(s, w[q], q);
  }
#pragma GCC unroll 12
  for (int q = 4; q < 16; ++q) {
    w[q & 3] =
        Schedule(w[q & 3], w[(q + 1) & 3], w[(q + 2) & 3], w[(q + 3) & 3]);
    Rounds(s, w[q & 3], q);
  }
  s.abef = _mm_add_epi32(s.abef, saved.abef);
  s.cdgh = _mm_add_epi32(s.cdgh, saved.cdgh);
}

// One block of each message, their instructions interleaved so that each
// digest's rounds run while the other's wait on their latency.
PRONGSAI_SHA_INLINE void Compress2(State& a, __m128i wa[4], State& b,
                                   __m128i wb[4]) {
  const State saved_a = a;
  const State saved_b = b;
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    Rounds(a, wa[q], q);
    Rounds(b, wb[q], q);
  }
#pragma GCC unroll 12
  for (int q = 4; q < 16; ++q) {
    wa[q & 3] =
        Schedule(wa[q & 3], wa[(q + 1) & 3], wa[(q + 2) & 3], wa[(q + 3) & 3]);
    wb[q & 3] =
        Schedule(wb[q & 3], wb[(q + 1) & 3], wb[(q + 2) & 3], wb[(q + 3) & 3]);
    Rounds(a, wa[q & 3], q);
    Rounds(b, wb[q & 3], q);
  }
  a.abef = _mm_add_epi32(a.abef, saved_a.abef);
  a.cdgh = _mm_add_epi32(a.cdgh, saved_a.cdgh);
  b.abef = _mm_add_epi32(b.abef, saved_b.abef);
  b.cdgh = _mm_add_epi32(b.cdgh, saved_b.cdgh);
}

PRONGSAI_SHA_TARGET void Sha256x2Ni(const Sha256Message& a,
                                    const Sha256Message& b, Hash* out_a,
                                    Hash* out_b) {
  const Blocks blocks_a(a);
  const Blocks blocks_b(b);
  __m128i wa[4];
  __m128i wb[4];
  State sa = InitialState();
  State sb = InitialState();
  const size_t na = blocks_a.count();
  const size_t nb = blocks_b.count();
  const size_t both = na < nb ? na : nb;
  size_t k = 0;
  for (; k < both; ++k) {
    blocks_a.Load(k, wa);
    blocks_b.Load(k, wb);
    Compress2(sa, wa, sb, wb);
  }
  for (size_t j = k; j < na; ++j) {
    blocks_a.Load(j, wa);
    Compress1(sa, wa);
  }
  for (size_t j = k; j < nb; ++j) {
    blocks_b.Load(j, wb);
    Compress1(sb, wb);
  }
  Store(sa, out_a);
  Store(sb, out_b);
}

// A node message is 0x01 and the 64 bytes of a pair of hashes: its first
// block is the pair shifted right by a byte, built in registers; `last` gets
// the first words of its second block, the pair's last byte and the 0x80
// that ends the message.
PRONGSAI_SHA_INLINE void NodeBlock(const char* pair, __m128i w[4],
                                   __m128i* last) {
  const __m128i prefix =
      _mm_set_epi8(0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i end_mark = _mm_set_epi8(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, static_cast<char>(0x80), 0);
  __m128i c[4];
#pragma GCC unroll 4
  for (int q = 0; q < 4; ++q) {
    c[q] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(pair + 16 * q));
  }
  w[0] = ToWords(_mm_alignr_epi8(c[0], prefix, 15));
  w[1] = ToWords(_mm_alignr_epi8(c[1], c[0], 15));
  w[2] = ToWords(_mm_alignr_epi8(c[2], c[1], 15));
  w[3] = ToWords(_mm_alignr_epi8(c[3], c[2], 15));
  *last = ToWords(_mm_or_si128(_mm_srli_si128(c[3], 15), end_mark));
}

// The parents of two pairs of nodes, side by side.
PRONGSAI_SHA_TARGET void NodeHashx2Ni(const char* pair_a, const char* pair_b,
                                      Hash* out_a, Hash* out_b) {
  __m128i wa[4];
  __m128i wb[4];
  __m128i last_a;
  __m128i last_b;
  NodeBlock(pair_a, wa, &last_a);
  NodeBlock(pair_b, wb, &last_b);
  State sa = InitialState();
  State sb = InitialState();
  Compress2(sa, wa, sb, wb);
  // The second block: the last byte, 0x80, zeros, and the length of a
  // 65-byte message (520 bits) in the last word.
  const __m128i length = _mm_set_epi32(65 * 8, 0, 0, 0);
  wa[0] = last_a;
  wb[0] = last_b;
  wa[1] = wb[1] = wa[2] = wb[2] = _mm_setzero_si128();
  wa[3] = wb[3] = length;
  Compress2(sa, wa, sb, wb);
  Store(sa, out_a);
  Store(sb, out_b);
}

bool HasShaExtensions() {
  unsigned int eax = 0;
  unsigned int ebx = 0;
  unsigned int ecx = 0;
  unsigned int edx = 0;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) {
    return false;
  }
  const bool ssse3 = (ecx & bit_SSSE3) != 0;
  const bool sse41 = (ecx & bit_SSE4_1) != 0;
  if (__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) == 0) {
    return false;
  }
  const bool sha = (ebx & bit_SHA) != 0;
  return ssse3 && sse41 && sha;
}

#endif  // PRONGSAI_SHA_NI

}  // namespace

bool Sha256x2Accelerated() {
#ifdef PRONGSAI_SHA_NI
  static const bool accelerated = HasShaExtensions();
  return accelerated;
#else
  return false;
#endif
}

void Sha256x2(const Sha256Message& a, const Sha256Message& b, Hash* out_a,
              Hash* out_b) {
#ifdef PRONGSAI_SHA_NI
  if (Sha256x2Accelerated() && a.prefix.size() < kBlockSize &&
      b.prefix.size() < kBlockSize) {
    Sha256x2Ni(a, b, out_a, out_b);
    return;
  }
#endif
  PortableDigest(a, out_a);
  PortableDigest(b, out_b);
}

void NodeHashx2(const char* pair_a, const char* pair_b, Hash* out_a,
                Hash* out_b) {
#ifdef PRONGSAI_SHA_NI
  if (Sha256x2Accelerated()) {
    NodeHashx2Ni(pair_a, pair_b, out_a, out_b);
    return;
  }
#endif
  static constexpr char kNodePrefix = 0x01;
  const absl::string_view prefix(&kNodePrefix, 1);
  PortableDigest({prefix, absl::string_view(pair_a, 2 * kHashSize)}, out_a);
  PortableDigest({prefix, absl::string_view(pair_b, 2 * kHashSize)}, out_b);
}

void ChainAndLeafHash(absl::string_view data, Hash* chain, Hash* leaf) {
  static constexpr char kLeafPrefix = 0x00;
  Sha256x2({{}, data}, {absl::string_view(&kLeafPrefix, 1), data}, chain, leaf);
}

}  // namespace prongsai

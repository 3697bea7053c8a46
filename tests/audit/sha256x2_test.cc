#include "core/base/sha256x2.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "absl/strings/str_cat.h"
#include "core/audit/merkle.h"
#include "core/base/hash.h"

namespace prongsai::audit {
namespace {

std::string RandomBytes(size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(size, '\0');
  for (char& c : out) {
    c = static_cast<char>(rng());
  }
  return out;
}

TEST(Sha256x2Test, MatchesSha256ForEveryLengthAndPrefix) {
  // Lengths around every block and padding boundary, prefixes of the sizes
  // the ledger uses (none, one byte) and odd ones, each message at an odd
  // offset of a larger buffer so no load may rely on alignment.
  const std::string buffer = RandomBytes(1200, 7);
  const std::string prefixes[] = {"", std::string(1, '\0'), "\x01", "ab",
                                  std::string(17, 'p'), std::string(63, 'q')};
  for (size_t length = 0; length <= 300; ++length) {
    for (const std::string& prefix_a : prefixes) {
      const std::string& prefix_b = prefixes[(length + prefix_a.size()) % 6];
      const absl::string_view a(buffer.data() + 3, length);
      // A second message of another length, so the two need different
      // numbers of blocks.
      const absl::string_view b(buffer.data() + 101, (length * 7) % 1000);
      SCOPED_TRACE(absl::StrCat("length ", length, " prefixes ",
                                prefix_a.size(), " and ", prefix_b.size()));
      Hash out_a;
      Hash out_b;
      Sha256x2({prefix_a, a}, {prefix_b, b}, &out_a, &out_b);
      EXPECT_EQ(out_a, Sha256(prefix_a, a));
      EXPECT_EQ(out_b, Sha256(prefix_b, b));
    }
  }
}

TEST(Sha256x2Test, GivesTheChainAndLeafHashesOfARecord) {
  for (size_t length : {0u, 1u, 55u, 56u, 63u, 64u, 316u, 5000u}) {
    SCOPED_TRACE(length);
    const std::string record = RandomBytes(length, length);
    Hash chain;
    Hash leaf;
    ChainAndLeafHash(record, &chain, &leaf);
    EXPECT_EQ(chain, Sha256(record));
    EXPECT_EQ(leaf, LeafHash(record));
  }
}

TEST(Sha256x2Test, HashesTwoNodesAsNodeHash) {
  const std::string children = RandomBytes(4 * kHashSize, 3);
  Hash h[4];
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(HashFromBytes(
        absl::string_view(children).substr(i * kHashSize, kHashSize), &h[i]));
  }
  const std::string node_prefix(1, '\x01');
  Hash left;
  Hash right;
  Sha256x2({node_prefix, absl::string_view(children).substr(0, 2 * kHashSize)},
           {node_prefix,
            absl::string_view(children).substr(2 * kHashSize, 2 * kHashSize)},
           &left, &right);
  EXPECT_EQ(left, NodeHash(h[0], h[1]));
  EXPECT_EQ(right, NodeHash(h[2], h[3]));
}

TEST(Sha256x2Test, NodeHashx2GivesTheParentsOfTwoPairs) {
  for (uint64_t seed = 0; seed < 200; ++seed) {
    const std::string children = RandomBytes(4 * kHashSize, 100 + seed);
    Hash h[4];
    for (int i = 0; i < 4; ++i) {
      ASSERT_TRUE(HashFromBytes(
          absl::string_view(children).substr(i * kHashSize, kHashSize),
          &h[i]));
    }
    Hash left;
    Hash right;
    NodeHashx2(children.data(), children.data() + 2 * kHashSize, &left,
               &right);
    EXPECT_EQ(left, NodeHash(h[0], h[1])) << "seed " << seed;
    EXPECT_EQ(right, NodeHash(h[2], h[3])) << "seed " << seed;
  }
}

}  // namespace
}  // namespace prongsai::audit

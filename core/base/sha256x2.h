// Two SHA-256 digests computed together.
//
// Verifying an export hashes every record twice: SHA-256(bytes) for the hash
// chain and SHA-256(0x00 || bytes) for the RFC 6962 leaf, and the tree hashes
// pairs of nodes level by level; the ingest hashes each new event and the
// record around it. The two digests are independent, and on a
// CPU with the SHA extensions one digest leaves the SHA unit idle while each
// round waits for the previous one; interleaving two digests fills those
// gaps, so the pair costs little more than one. Without the extensions the
// pair is two OpenSSL digests.
//
// Each message is a short `prefix` (under 64 bytes) followed by `data`, so a
// leaf or node hash needs no copy of what it covers.
//
// Example:
//   Hash chain, leaf;
//   Sha256x2({"", bytes}, {absl::string_view("\0", 1), bytes}, &chain, &leaf);
#pragma once

#include "absl/strings/string_view.h"
#include "core/base/hash.h"

namespace prongsai {

struct Sha256Message {
  absl::string_view prefix;  // at most 63 bytes
  absl::string_view data;
};

// *out_a = SHA-256(a.prefix || a.data), *out_b = SHA-256(b.prefix || b.data).
void Sha256x2(const Sha256Message& a, const Sha256Message& b, Hash* out_a,
              Hash* out_b);

// SHA-256(data) and SHA-256(0x00 || data): a record's chain and leaf hashes.
void ChainAndLeafHash(absl::string_view data, Hash* chain, Hash* leaf);

// The RFC 6962 parents of two pairs of nodes: *out_a = SHA-256(0x01 ||
// pair_a[0..64)), likewise b. Each pair is a left and a right hash side by
// side.
void NodeHashx2(const char* pair_a, const char* pair_b, Hash* out_a,
                Hash* out_b);

// Whether Sha256x2 runs on the SHA extensions (else on OpenSSL).
bool Sha256x2Accelerated();

}  // namespace prongsai

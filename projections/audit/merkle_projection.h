// The merkle view: each stream's RFC 6962 tree, kept incrementally.
//
// For every stream it stores each complete subtree's hash and the tree size.
// Appending a record writes its leaf and the subtrees it completes (reading
// one left sibling per level it climbs: O(log n), one on average); any root
// or proof of any size up to the current one then costs O(log n) reads
// (core/audit/merkle.h).
//
// Rows (keys are the view's own):
//   "n" stream '\0' level(1) index(8)  -> hash(32)   complete subtree
//   "s" stream                         -> size(8)    leaves in the tree
//
// Example:
//   MerkleView tree(snapshot->view(kMerkleProjection));
//   ASSIGN_OR_RETURN(uint64_t size, tree.Size("1045"));
//   ASSIGN_OR_RETURN(Hash root, tree.Root("1045", size));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "core/audit/merkle.h"
#include "core/base/hash.h"
#include "projections/runtime/projection.h"

namespace prongsai::projections {

inline constexpr absl::string_view kMerkleProjection = "merkle";

// Readers hash the nodes below this level from their block of leaves.
inline constexpr int kLeafBlockLevel = 6;

class MerkleProjection final : public Projection {
 public:
  absl::string_view name() const override { return kMerkleProjection; }
  absl::Status Apply(const AppliedRecord& record, ViewWriter& view) override;
};

// Reads the trees of a merkle view.
class MerkleView {
 public:
  explicit MerkleView(const ViewReader& view) : view_(view) {}

  // Leaves in the stream's tree (0 for a stream it has not seen).
  absl::StatusOr<uint64_t> Size(absl::string_view stream) const;
  // Every stream the view has a tree for, in key order.
  absl::StatusOr<std::vector<std::string>> Streams() const;

  // Reads nodes for the functions of core/audit/merkle.h: those below
  // kLeafBlockLevel from their leaf block (the last two blocks read are
  // kept), the others with a point read each. Valid while the view is.
  audit::NodeReader Reader(absl::string_view stream) const;
  // The complete subtree (level, index), with one point read.
  absl::StatusOr<Hash> Node(absl::string_view stream, int level,
                            uint64_t index) const;
  // The hashes of leaves [first, first + out.size()) in one scan, where
  // out.size() is a power of two up to 256 and `first` a multiple of it.
  // Returns how many of them the tree has: fewer where the tree ends.
  absl::StatusOr<size_t> Leaves(absl::string_view stream, uint64_t first,
                                absl::Span<Hash> out) const;
  absl::StatusOr<Hash> Root(absl::string_view stream, uint64_t size) const;
  // Leaf hash of the record with `sequence` (from 1).
  absl::StatusOr<Hash> Leaf(absl::string_view stream, uint64_t sequence) const;
  // Proofs; FAILED_PRECONDITION when a size exceeds the current tree.
  absl::StatusOr<std::vector<Hash>> InclusionProof(absl::string_view stream,
                                                   uint64_t sequence,
                                                   uint64_t size) const;
  absl::StatusOr<std::vector<Hash>> ConsistencyProof(absl::string_view stream,
                                                     uint64_t old_size,
                                                     uint64_t new_size) const;

 private:
  absl::Status CheckSize(absl::string_view stream, uint64_t size) const;

  const ViewReader& view_;
};

// The row keys, for tools that read the view directly.
std::string MerkleNodeKey(absl::string_view stream, int level, uint64_t index);
std::string MerkleSizeKey(absl::string_view stream);

}  // namespace prongsai::projections

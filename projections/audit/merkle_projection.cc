#include "projections/audit/merkle_projection.h"

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/base/status.h"

namespace prongsai::projections {
namespace {

constexpr char kNodePrefix = 'n';
constexpr char kSizePrefix = 's';

absl::StatusOr<uint64_t> DecodeSize(absl::string_view stream,
                                    const std::optional<std::string>& value) {
  if (!value.has_value()) {
    return 0;
  }
  if (value->size() != 8) {
    return absl::DataLossError(absl::StrCat(
        "merkle view: the size row of stream ", stream, " is not 8 bytes"));
  }
  return ReadBigEndian64(value->data());
}

constexpr size_t kBlockLeaves = size_t{1} << kLeafBlockLevel;

// Serves the nodes below kLeafBlockLevel from the leaves of their block. A
// proof needs at most two blocks (a consistency proof's two edges), so the
// last two read are kept.
class BlockReader {
 public:
  BlockReader(const MerkleView& tree, std::string stream)
      : tree_(tree), stream_(std::move(stream)) {}

  absl::StatusOr<Hash> Read(int level, uint64_t index) {
    if (level >= kLeafBlockLevel) {
      return tree_.Node(stream_, level, index);
    }
    const uint64_t first = index << level;
    const uint64_t number = first >> kLeafBlockLevel;
    Block* block = nullptr;
    for (Block& b : blocks_) {
      if (b.loaded && b.number == number) {
        block = &b;
      }
    }
    if (block == nullptr) {
      block = &blocks_[next_];
      next_ = (next_ + 1) % 2;
      block->loaded = false;
      ASSIGN_OR_RETURN(block->count,
                       tree_.Leaves(stream_, number << kLeafBlockLevel,
                                    absl::MakeSpan(block->leaves)));
      block->number = number;
      block->loaded = true;
    }
    const size_t offset = first - (number << kLeafBlockLevel);
    const size_t width = size_t{1} << level;
    if (offset + width > block->count) {
      return absl::DataLossError(absl::StrCat(
          "merkle view: stream ", stream_, " lacks node ", level, "/", index));
    }
    if (level == 0) {
      return block->leaves[offset];
    }
    Hash nodes[kBlockLeaves / 2];
    std::copy_n(block->leaves + offset, width, nodes);
    return audit::SubtreeRoot(absl::MakeSpan(nodes, width));
  }

 private:
  struct Block {
    bool loaded = false;
    uint64_t number = 0;
    size_t count = 0;
    Hash leaves[kBlockLeaves];
  };

  const MerkleView& tree_;
  const std::string stream_;
  Block blocks_[2];
  int next_ = 0;
};

}  // namespace

std::string MerkleNodeKey(absl::string_view stream, int level, uint64_t index) {
  std::string key(1, kNodePrefix);
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  key.push_back(static_cast<char>(level));
  AppendBigEndian64(index, &key);
  return key;
}

std::string MerkleSizeKey(absl::string_view stream) {
  return absl::StrCat(absl::string_view(&kSizePrefix, 1), stream);
}

absl::Status MerkleProjection::Apply(const AppliedRecord& record,
                                     ViewWriter& view) {
  const std::string& stream = record.record.stream();
  const std::string size_key = MerkleSizeKey(stream);
  ASSIGN_OR_RETURN(std::optional<std::string> size_row, view.Get(size_key));
  ASSIGN_OR_RETURN(const uint64_t size, DecodeSize(stream, size_row));
  if (record.record.sequence() != size + 1) {
    return absl::FailedPreconditionError(
        absl::StrCat("merkle view: stream ", stream, " has ", size,
                     " leaves; record sequence ", record.record.sequence(),
                     " does not extend it"));
  }
  Hash hash = audit::LeafHash(record.record_bytes);
  uint64_t index = size;
  int level = 0;
  view.Put(MerkleNodeKey(stream, level, index), AsBytes(hash));
  // A right child completes its parent: climb while the node is one.
  while ((index & 1) != 0) {
    ASSIGN_OR_RETURN(std::optional<std::string> left,
                     view.Get(MerkleNodeKey(stream, level, index - 1)));
    Hash left_hash;
    if (!left.has_value() || !HashFromBytes(*left, &left_hash)) {
      return absl::DataLossError(absl::StrCat("merkle view: stream ", stream,
                                              " lacks node ", level, "/",
                                              index - 1));
    }
    hash = audit::NodeHash(left_hash, hash);
    index >>= 1;
    ++level;
    view.Put(MerkleNodeKey(stream, level, index), AsBytes(hash));
  }
  std::string new_size;
  AppendBigEndian64(size + 1, &new_size);
  view.Put(size_key, new_size);
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> MerkleView::Size(absl::string_view stream) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   view_.Get(MerkleSizeKey(stream)));
  return DecodeSize(stream, value);
}

absl::StatusOr<std::vector<std::string>> MerkleView::Streams() const {
  std::vector<std::string> streams;
  RETURN_IF_ERROR(view_.Scan(absl::string_view(&kSizePrefix, 1),
                             [&](absl::string_view key, absl::string_view) {
                               streams.emplace_back(key.substr(1));
                               return true;
                             }));
  return streams;
}

audit::NodeReader MerkleView::Reader(absl::string_view stream) const {
  // Shared by the copies of the reader: the functions that take one copy it.
  auto blocks = std::make_shared<BlockReader>(*this, std::string(stream));
  return [blocks](int level, uint64_t index) {
    return blocks->Read(level, index);
  };
}

absl::StatusOr<Hash> MerkleView::Node(absl::string_view stream, int level,
                                      uint64_t index) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value,
                   view_.Get(MerkleNodeKey(stream, level, index)));
  Hash hash;
  if (!value.has_value() || !HashFromBytes(*value, &hash)) {
    return absl::DataLossError(absl::StrCat(
        "merkle view: stream ", stream, " lacks node ", level, "/", index));
  }
  return hash;
}

absl::StatusOr<size_t> MerkleView::Leaves(absl::string_view stream,
                                          uint64_t first,
                                          absl::Span<Hash> out) const {
  const uint64_t count = out.size();
  if (count == 0 || count > 256 || (count & (count - 1)) != 0 ||
      first % count != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("merkle view: cannot read ", count,
                     " leaves as one block from leaf ", first));
  }
  // The keys of 256 aligned leaves share all but the last byte, so the scan
  // starts at most 255 rows before `first`.
  std::string prefix = MerkleNodeKey(stream, 0, first);
  prefix.pop_back();
  size_t found = 0;
  bool bad_row = false;
  RETURN_IF_ERROR(view_.Scan(prefix, [&](absl::string_view key,
                                         absl::string_view value) {
    const uint64_t index = ReadBigEndian64(key.data() + key.size() - 8);
    if (index < first) {
      return true;
    }
    if (index != first + found || found == count) {
      return false;
    }
    if (!HashFromBytes(value, &out[found])) {
      bad_row = true;
      return false;
    }
    ++found;
    return found < count;
  }));
  if (bad_row) {
    return absl::DataLossError(
        absl::StrCat("merkle view: stream ", stream, " has a leaf row near ",
                     first + found, " that is not a hash"));
  }
  return found;
}

absl::Status MerkleView::CheckSize(absl::string_view stream,
                                   uint64_t size) const {
  ASSIGN_OR_RETURN(uint64_t current, Size(stream));
  if (size > current) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", stream, " has ", current,
        " records in its tree so far, fewer than the ", size, " asked for"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Hash> MerkleView::Root(absl::string_view stream,
                                      uint64_t size) const {
  RETURN_IF_ERROR(CheckSize(stream, size));
  return audit::RootAt(size, Reader(stream));
}

absl::StatusOr<Hash> MerkleView::Leaf(absl::string_view stream,
                                      uint64_t sequence) const {
  if (sequence == 0) {
    return absl::InvalidArgumentError("sequences start at 1");
  }
  RETURN_IF_ERROR(CheckSize(stream, sequence));
  return Node(stream, 0, sequence - 1);
}

absl::StatusOr<std::vector<Hash>> MerkleView::InclusionProof(
    absl::string_view stream, uint64_t sequence, uint64_t size) const {
  if (sequence == 0 || sequence > size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "sequence ", sequence, " is not in a tree of ", size, " records"));
  }
  RETURN_IF_ERROR(CheckSize(stream, size));
  return audit::InclusionProof(sequence - 1, size, Reader(stream));
}

absl::StatusOr<std::vector<Hash>> MerkleView::ConsistencyProof(
    absl::string_view stream, uint64_t old_size, uint64_t new_size) const {
  RETURN_IF_ERROR(CheckSize(stream, new_size));
  return audit::ConsistencyProof(old_size, new_size, Reader(stream));
}

}  // namespace prongsai::projections

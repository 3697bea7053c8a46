#include "projections/audit/merkle_projection.h"

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
  return [this, stream = std::string(stream)](
             int level, uint64_t index) -> absl::StatusOr<Hash> {
    ASSIGN_OR_RETURN(std::optional<std::string> value,
                     view_.Get(MerkleNodeKey(stream, level, index)));
    Hash hash;
    if (!value.has_value() || !HashFromBytes(*value, &hash)) {
      return absl::DataLossError(absl::StrCat(
          "merkle view: stream ", stream, " lacks node ", level, "/", index));
    }
    return hash;
  };
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
  return Reader(stream)(0, sequence - 1);
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

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "projections/runtime/projection.h"

namespace prongsai::projections {

absl::StatusOr<int64_t> ViewReader::GetInt(absl::string_view key) const {
  ASSIGN_OR_RETURN(std::optional<std::string> value, Get(key));
  if (!value.has_value()) {
    return 0;
  }
  if (value->size() != 8) {
    return absl::DataLossError("view row is not an integer");
  }
  return static_cast<int64_t>(ReadBigEndian64(value->data()));
}

void ViewWriter::PutInt(absl::string_view key, int64_t value) {
  std::string bytes;
  AppendBigEndian64(static_cast<uint64_t>(value), &bytes);
  Put(key, bytes);
}

}  // namespace prongsai::projections

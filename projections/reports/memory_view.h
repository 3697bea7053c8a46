// A view held in memory: the rows of one projection, for replaying a part of
// the log (as_of answers, tests) with the same projection code the runtime
// runs.
#pragma once

#include <string>

#include "absl/container/btree_map.h"
#include "projections/runtime/projection.h"

namespace prongsai::reports {

class MemoryView final : public projections::ViewWriter {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override;
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const override;
  void Put(absl::string_view key, absl::string_view value) override;
  void Delete(absl::string_view key) override;

  const absl::btree_map<std::string, std::string>& rows() const {
    return rows_;
  }
  size_t size() const { return rows_.size(); }

 private:
  absl::btree_map<std::string, std::string> rows_;
};

}  // namespace prongsai::reports

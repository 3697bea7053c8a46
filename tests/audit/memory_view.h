// An in-memory view and snapshot for driving projections in unit tests
// without the runtime.
#pragma once

#include <map>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "core/base/hash.h"
#include "projections/runtime/projection.h"
#include "projections/runtime/runner.h"

namespace prongsai::audit::testing {

class MemoryView final : public projections::ViewWriter {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override {
    ++reads;
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) {
      return std::nullopt;
    }
    return it->second;
  }
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
    ++scans;
    for (auto it = rows_.lower_bound(std::string(prefix));
         it != rows_.end() &&
         absl::string_view(it->first).substr(0, prefix.size()) == prefix;
         ++it) {
      if (!visit(it->first, it->second)) {
        break;
      }
    }
    return absl::OkStatus();
  }
  void Put(absl::string_view key, absl::string_view value) override {
    ++writes;
    rows_[std::string(key)] = std::string(value);
  }
  void Delete(absl::string_view key) override { rows_.erase(std::string(key)); }

  size_t size() const { return rows_.size(); }
  std::map<std::string, std::string>& rows() { return rows_; }

  mutable int reads = 0;
  mutable int scans = 0;
  int writes = 0;

 private:
  std::map<std::string, std::string> rows_;
};

// Feeds one stored record to `projection`, as the runtime would.
inline absl::Status Feed(projections::Projection& projection, MemoryView& view,
                         uint64_t position, const std::string& bytes) {
  v1::Record record;
  if (!record.ParseFromString(bytes)) {
    return absl::InvalidArgumentError("record does not decode");
  }
  const Hash hash = Sha256(bytes);
  projections::AppliedRecord applied{record, position, AsBytes(hash), bytes};
  return projection.Apply(applied, view);
}

// A snapshot over copies of in-memory views.
class MemorySnapshot final : public projections::ViewSnapshot {
 public:
  void Add(const std::string& name, const MemoryView& view, uint64_t position) {
    views_[name] = view;
    positions_[name] = position;
  }
  const projections::ViewReader& view(absl::string_view name) const override {
    auto it = views_.find(name);
    return it == views_.end() ? empty_ : it->second;
  }
  uint64_t position(absl::string_view name) const override {
    auto it = positions_.find(name);
    return it == positions_.end() ? 0 : it->second;
  }

 private:
  absl::flat_hash_map<std::string, MemoryView> views_;
  absl::flat_hash_map<std::string, uint64_t> positions_;
  MemoryView empty_;
};

}  // namespace prongsai::audit::testing

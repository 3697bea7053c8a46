#include "projections/reports/memory_view.h"

namespace prongsai::reports {

absl::StatusOr<std::optional<std::string>> MemoryView::Get(
    absl::string_view key) const {
  auto it = rows_.find(key);
  if (it == rows_.end()) {
    return std::nullopt;
  }
  return it->second;
}

absl::Status MemoryView::Scan(
    absl::string_view prefix,
    const std::function<bool(absl::string_view, absl::string_view)>& visit)
    const {
  for (auto it = rows_.lower_bound(prefix);
       it != rows_.end() &&
       absl::string_view(it->first).substr(0, prefix.size()) == prefix;
       ++it) {
    if (!visit(it->first, it->second)) {
      break;
    }
  }
  return absl::OkStatus();
}

void MemoryView::Put(absl::string_view key, absl::string_view value) {
  rows_.insert_or_assign(std::string(key), std::string(value));
}

void MemoryView::Delete(absl::string_view key) {
  auto it = rows_.find(key);
  if (it != rows_.end()) {
    rows_.erase(it);
  }
}

}  // namespace prongsai::reports

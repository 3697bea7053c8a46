// rocksdb::Status to absl::Status, for the modules that keep a RocksDB store
// (the embedded log, the view store, the checkpoint store). Include it from
// .cc files only: RocksDB headers stay out of public headers.
#pragma once

#include <rocksdb/status.h>

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace prongsai {

// Keeps the meaning a caller acts on: corruption is DATA_LOSS, a passing I/O
// problem UNAVAILABLE (retry), anything else INTERNAL; `what` says what was
// being done.
inline absl::Status FromRocks(const rocksdb::Status& status,
                              absl::string_view what) {
  if (status.ok()) {
    return absl::OkStatus();
  }
  const std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsCorruption()) {
    return absl::DataLossError(message);
  }
  if (status.IsIOError() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain() || status.IsNoSpace()) {
    return absl::UnavailableError(message);
  }
  return absl::InternalError(message);
}

}  // namespace prongsai

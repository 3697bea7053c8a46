// Helpers of the BMA OSS tests: a ledger client on an in-process ingestor,
// an in-memory view and snapshot, and builders of records and events.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "projections/runtime/projection.h"
#include "projections/runtime/runner.h"
#include "services/ingest/ingestor.h"
#include "services/oss_bridge/ledger_client.h"
#include "services/oss_bridge/record.h"

namespace prongsai::oss::testing {

// The Ledger of an in-process ingestor, one append at a time. `down`
// answers UNAVAILABLE, as a ledger that went away.
class IngestorLedger final : public LedgerClient {
 public:
  explicit IngestorLedger(ingest::Ingestor* ingestor) : ingestor_(ingestor) {}

  std::vector<absl::StatusOr<v1::AppendResponse>> AppendAll(
      const std::vector<const v1::AppendRequest*>& requests) override {
    std::vector<absl::StatusOr<v1::AppendResponse>> out;
    for (const v1::AppendRequest* request : requests) {
      appends++;
      if (down) {
        out.push_back(absl::UnavailableError("connection refused"));
      } else {
        out.push_back(ingestor_->Append(*request));
      }
    }
    return out;
  }

  std::atomic<bool> down{false};
  std::atomic<int> appends{0};

 private:
  ingest::Ingestor* const ingestor_;
};

class MemoryView final : public projections::ViewWriter {
 public:
  absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const override {
    auto it = rows_.find(std::string(key));
    if (it == rows_.end()) {
      return std::optional<std::string>();
    }
    return std::optional<std::string>(it->second);
  }
  absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view, absl::string_view)>& visit)
      const override {
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
    rows_[std::string(key)] = std::string(value);
  }
  void Delete(absl::string_view key) override { rows_.erase(std::string(key)); }

  const std::map<std::string, std::string>& rows() const { return rows_; }

 private:
  std::map<std::string, std::string> rows_;
};

// A snapshot of one in-memory view.
class MemorySnapshot final : public projections::ViewSnapshot {
 public:
  MemorySnapshot(std::string name, const MemoryView* view)
      : name_(std::move(name)), view_(view) {}
  const projections::ViewReader& view(absl::string_view name) const override {
    return name == name_ ? static_cast<const projections::ViewReader&>(*view_)
                         : empty_;
  }
  uint64_t position(absl::string_view name) const override { return 0; }

 private:
  std::string name_;
  const MemoryView* view_;
  MemoryView empty_;
};

// Bangkok local time "2024-10-15T09:30:00+07:00" of a civil second.
inline std::string BangkokText(absl::CivilSecond s) {
  return absl::FormatCivilTime(s) + "+07:00";
}

// A well-formed record of district 1045.
inline OssRecord Record(const std::string& id, const std::string& status,
                        absl::CivilSecond requested, absl::CivilSecond updated,
                        const std::string& notes = "") {
  OssRecord r;
  r.service_request_id = id;
  r.status = status;
  r.status_notes = notes;
  r.service_code = "BLD-PERMIT";
  r.agency_responsible = "1045";
  r.requested_datetime = BangkokText(requested);
  r.updated_datetime = BangkokText(updated);
  r.channel = "online";
  return r;
}

}  // namespace prongsai::oss::testing

// A projection: a view computed from the log, one event at a time.
//
// A projection says which records it wants and how each one changes its view.
// The runtime (runner.h) does the rest: it feeds records in log order, stages
// the view rows a batch of records writes together with the log position the
// batch ends at, and commits both in one RocksDB write batch. After a crash it
// resumes exactly where the last committed batch ended: no record is applied
// twice, none is skipped. Any view can be dropped and rebuilt by replay.
//
// The runtime checks each stream's chain before a record reaches a
// projection: a record is applied only when it continues its stream (next
// sequence, prev_hash equal to the previous record's hash).
//
// Example:
//   class MeetingCount final : public Projection {
//    public:
//     absl::string_view name() const override { return "meeting_count"; }
//     bool Wants(const v1::Record& r) const override {
//       return r.event().has_meeting_held();
//     }
//     absl::Status Apply(const AppliedRecord& r, ViewWriter& view) override {
//       ASSIGN_OR_RETURN(int64_t n, view.GetInt(r.record.stream()));
//       view.PutInt(r.record.stream(), n + 1);
//       return absl::OkStatus();
//     }
//   };
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::projections {

// One record as a projection sees it.
struct AppliedRecord {
  const v1::Record& record;
  uint64_t position;      // log position
  absl::string_view hash;  // SHA-256 of the stored bytes
  absl::string_view record_bytes;
};

// Reads the rows of one view. Keys are the projection's own: the runtime
// keeps every projection in its own key space.
class ViewReader {
 public:
  virtual ~ViewReader() = default;
  virtual absl::StatusOr<std::optional<std::string>> Get(
      absl::string_view key) const = 0;
  // Visits rows whose key starts with `prefix`, in key order, until `visit`
  // returns false.
  virtual absl::Status Scan(
      absl::string_view prefix,
      const std::function<bool(absl::string_view key, absl::string_view value)>&
          visit) const = 0;

  // Integer rows (8-byte big-endian); 0 when absent.
  absl::StatusOr<int64_t> GetInt(absl::string_view key) const;
};

// Reads and stages writes of one view inside the current batch. Reads see
// the batch's own earlier writes.
class ViewWriter : public ViewReader {
 public:
  virtual void Put(absl::string_view key, absl::string_view value) = 0;
  virtual void Delete(absl::string_view key) = 0;
  void PutInt(absl::string_view key, int64_t value);
};

class Projection {
 public:
  virtual ~Projection() = default;

  // Stable name: the view's key space and the name in `projections status`.
  virtual absl::string_view name() const = 0;

  // Bump when Apply changes meaning: the runtime then rebuilds the view.
  virtual int version() const { return 1; }

  // A cheap filter; records it returns false for are skipped (their position
  // still counts as consumed).
  virtual bool Wants(const v1::Record& record) const { return true; }

  // Changes the view for one record. An error stops the projection at this
  // record (nothing of its batch is committed) and is reported by status.
  virtual absl::Status Apply(const AppliedRecord& record,
                             ViewWriter& view) = 0;
};

}  // namespace prongsai::projections

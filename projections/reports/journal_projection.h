// The report_journal view: the exact stored bytes of every record that one of
// the report views applies (about one record in seven of a city's log: the
// service requests that make up most of it are not among them), keyed by
// stream and position. An as_of answer replays a district's journal - one
// short range read - instead of reading the district's whole stream from the
// log (see replay.h).
#pragma once

#include <memory>
#include <vector>

#include "projections/reports/keys.h"
#include "projections/runtime/projection.h"

namespace prongsai::reports {

inline constexpr absl::string_view kJournalView = "report_journal";

class JournalProjection final : public projections::Projection {
 public:
  JournalProjection();
  absl::string_view name() const override { return kJournalView; }
  bool Wants(const v1::Record& record) const override;
  absl::Status Apply(const projections::AppliedRecord& record,
                     projections::ViewWriter& view) override;

 private:
  // The views whose records are journaled; asked only what they want.
  std::vector<std::unique_ptr<projections::Projection>> views_;
};

// "J" stream position(8): the journal key of a record.
std::string JournalKey(absl::string_view stream, uint64_t position);

}  // namespace prongsai::reports

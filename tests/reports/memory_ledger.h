// The report projections driven in memory, without the log or the runtime:
// events get streams, dense sequences and positions, and every projection
// that wants one applies it to its own MemoryView.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/base/status.h"
#include "projections/reports/builders.h"
#include "projections/reports/memory_view.h"
#include "projections/reports/report_projections.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::reports::testing {

class MemoryLedger {
 public:
  MemoryLedger() : projections_(ReportProjections()) {
    views_.resize(projections_.size());
  }

  absl::Status Append(const std::string& stream,
                      const std::vector<v1::Event>& events) {
    for (const v1::Event& event : events) {
      v1::Record record;
      record.set_stream(stream);
      record.set_sequence(++sequences_[stream]);
      *record.mutable_event() = event;
      const std::string bytes = record.SerializeAsString();
      const projections::AppliedRecord applied{record, ++position_, "", bytes};
      for (size_t i = 0; i < projections_.size(); ++i) {
        if (projections_[i]->Wants(record)) {
          RETURN_IF_ERROR(projections_[i]->Apply(applied, views_[i]));
        }
      }
    }
    return absl::OkStatus();
  }

  const MemoryView& view(absl::string_view name) const {
    for (size_t i = 0; i < projections_.size(); ++i) {
      if (projections_[i]->name() == name) {
        return views_[i];
      }
    }
    static const MemoryView kEmpty;
    return kEmpty;
  }

  ReportViewSet views() const {
    return {view(kProgressView), view(kGiftsView), view(kComplaintsView),
            view(kCityView)};
  }

  uint64_t position() const { return position_; }

 private:
  std::vector<std::unique_ptr<projections::Projection>> projections_;
  std::vector<MemoryView> views_;
  std::map<std::string, uint64_t> sequences_;
  uint64_t position_ = 0;
};

}  // namespace prongsai::reports::testing

// The service_sla view: how fast each district delivers each service, from
// the service-request events (BMA OSS). It feeds the city dashboard and gives
// the ITA report real figures for items E1, E5 and E6.
//
// Per request the view keeps its receipt (service, channel, requested and
// expected times), its status updates and its completion; per district,
// service and month it keeps the requests received, completed, completed on
// time and late, closed without completion, and how many days each
// completion took (for medians). Status updates count by their own time, not
// by arrival: an update older than the latest known one is kept for the
// record but never moves the status backwards. Corrections and retractions
// of service-request events are applied as if the corrected event had said
// so from the start. No text is copied into the view (status notes may name
// people), and rows stay small so that a rebuild is fast.
//
// Rows ('\0' ends a variable-length id that is followed by more):
//   R district request_id          -> RequestRow
//   M district service_code \0 yyyymm -> MonthRow
//   E district event_uuid(16)      -> kind(1) request_id
//
// Example:
//   projections.push_back(std::make_unique<service_sla::ServiceSlaProjection>());
//   ...
//   ASSIGN_OR_RETURN(auto series, service_sla::ReadServiceSla(
//       snapshot->view(service_sla::kServiceSlaView), {.district = "1045"}));
#pragma once

#include "absl/strings/string_view.h"
#include "projections/runtime/projection.h"

namespace prongsai::service_sla {

inline constexpr absl::string_view kServiceSlaView = "service_sla";

class ServiceSlaProjection final : public projections::Projection {
 public:
  absl::string_view name() const override { return kServiceSlaView; }
  bool Wants(const v1::Record& record) const override;
  absl::Status Apply(const projections::AppliedRecord& record,
                     projections::ViewWriter& view) override;
};

}  // namespace prongsai::service_sla

// From a BMA OSS record to service-request events.
//
// A record says where one request stands at one moment. It maps to:
//   - ServiceRequestReceived (the request's receipt: service, channel,
//     requested and expected times), which the bridge sends only the first
//     time it sees the request;
//   - ServiceRequestCompleted, when the record is closed with a
//     completed_datetime;
//   - otherwise ServiceRequestStatusChanged (status, notes, update time),
//     unless the record only restates the receipt (open, updated when
//     requested, no notes).
// Event ids are name-based UUIDs, so the same record always gives the same
// events and a re-sent record adds nothing: the receipt and the completion
// (one each per request) are named by district, request id and kind, a
// status update also by its status and update time.
//
// Example:
//   ASSIGN_OR_RETURN(MappedRecord m, MapRecord(record, catalog, absl::Now()));
//   request.set_stream(m.district);
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/domain/reference.h"
#include "prongsai/v1/events.pb.h"
#include "services/oss_bridge/catalog.h"
#include "services/oss_bridge/record.h"

namespace prongsai::oss {

// The actor of the bridge's events.
inline constexpr absl::string_view kBridgeActor = "bma-oss-bridge";

struct MappedRecord {
  std::string district;  // the stream
  std::string request_id;
  absl::Time updated;
  v1::Event received;
  // The status update or the completion, if the record carries one.
  std::optional<v1::Event> change;
};

// The district named by `text`: its code ("1045"), or its Thai or English
// name, with or without "เขต"/"สำนักงานเขต" or "District"/"District Office",
// ignoring case and spaces. nullptr when none matches.
const domain::District* ResolveDistrict(absl::string_view text);

// Checks `record` and builds its events. INVALID_ARGUMENT naming the field
// and what is wrong: a missing id, status or service, an unknown district or
// service code, a time that does not parse, lies before 2000 or more than a
// day after `now`, or contradicts the others.
absl::StatusOr<MappedRecord> MapRecord(const OssRecord& record,
                                       const ServiceCatalog& catalog,
                                       absl::Time now);

}  // namespace prongsai::oss

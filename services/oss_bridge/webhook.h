// The bridge's HTTP webhook: BMA OSS posts service-request records as they
// change.
//
//   POST /oss/v1/requests
//   Content-Type: application/json
//   body: one record (a JSON object) or an array of records
//
// The request carries "Authorization: Bearer <token>" with the oss_bridge
// role (401 without one, 403 with another role).
//
// Answers (JSON):
//   200 {"accepted":N,"duplicates":N,"dead_lettered":[],"events_appended":N}
//       every record landed (accepted: it added events; duplicates: it had
//       landed before)
//   207 the same body, with "dead_lettered":[{"index":i,"reason":"..."}]:
//       the listed records (index into the posted array, 0 for a single
//       object) went to the dead-letter file, all the others landed
//   400 {"error":"..."} the body is not JSON, or holds no records; nothing
//       was done
//   503 {"error":"..."} with Retry-After: the ledger cannot take writes now;
//       nothing of the request is acknowledged. Re-send it: records that did
//       land are then counted as duplicates.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/security/guard.h"
#include "services/oss_bridge/bridge.h"

namespace prongsai::oss {

inline constexpr absl::string_view kWebhookPath = "/oss/v1/requests";

// Registers POST /oss/v1/requests on `server`, and GET /metrics with the
// bridge's counters in the Prometheus text format, behind `guard`
// (core/security/http_guard.h: the webhook needs a bearer token with the
// oss_bridge role, /metrics is open, anything else is 404). Without a guard,
// the library default (insecure-dev). `bridge` and `guard` must outlive it.
void RegisterWebhook(httplib::Server& server, Bridge* bridge,
                     security::Guard* guard = nullptr);

// The bridge's counters in the Prometheus text exposition format.
std::string RenderBridgeMetrics(const BridgeStats& stats);

// Reads a webhook body: a record object or an array of them. An element that
// is not a usable record is kept with its error, to be dead-lettered.
// INVALID_ARGUMENT when the body is not JSON or holds no records.
absl::StatusOr<std::vector<InputRecord>> ParseWebhookBody(
    absl::string_view body, absl::string_view source);

// {"accepted":..,"duplicates":..,"dead_lettered":[{"index":..,"reason":..}],
//  "events_appended":..}
nlohmann::json BatchResultJson(const BatchResult& result);

}  // namespace prongsai::oss

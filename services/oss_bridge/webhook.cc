#include "services/oss_bridge/webhook.h"

#include "absl/strings/str_cat.h"
#include "core/security/http_guard.h"

namespace prongsai::oss {
namespace {

constexpr int kRetryAfterSeconds = 5;

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(
      body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
      "application/json; charset=utf-8");
}

InputRecord ReadElement(const nlohmann::json& element, absl::string_view source,
                        uint64_t index) {
  InputRecord input;
  input.source = std::string(source);
  input.index = index;
  input.original = element;
  absl::StatusOr<OssRecord> record = RecordFromJson(element);
  if (record.ok()) {
    input.record = std::move(*record);
  } else {
    input.error = std::string(record.status().message());
  }
  return input;
}

}  // namespace

absl::StatusOr<std::vector<InputRecord>> ParseWebhookBody(
    absl::string_view body, absl::string_view source) {
  nlohmann::json parsed;
  try {
    parsed = nlohmann::json::parse(body.begin(), body.end());
  } catch (const nlohmann::json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the body is not JSON (at byte ", e.byte, "): ", JsonErrorReason(e)));
  }
  std::vector<InputRecord> records;
  if (parsed.is_array()) {
    records.reserve(parsed.size());
    for (size_t i = 0; i < parsed.size(); ++i) {
      records.push_back(ReadElement(parsed[i], source, i));
    }
  } else if (parsed.is_object()) {
    records.push_back(ReadElement(parsed, source, 0));
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("the body must be a record (a JSON object) or an array "
                     "of records, got ",
                     parsed.type_name()));
  }
  if (records.empty()) {
    return absl::InvalidArgumentError("the body holds no records");
  }
  return records;
}

nlohmann::json BatchResultJson(const BatchResult& result) {
  nlohmann::json dead = nlohmann::json::array();
  for (const BatchResult::Refused& refused : result.dead_lettered) {
    dead.push_back({{"index", refused.index}, {"reason", refused.reason}});
  }
  return {{"accepted", result.accepted},
          {"duplicates", result.duplicates},
          {"dead_lettered", std::move(dead)},
          {"events_appended", result.events_appended}};
}

std::string RenderBridgeMetrics(const BridgeStats& stats) {
  std::string out;
  auto counter = [&out](absl::string_view name, absl::string_view help) {
    absl::StrAppend(&out, "# HELP ", name, " ", help, "\n# TYPE ", name,
                    " counter\n");
  };
  counter("prongsai_oss_batches_total", "Batches received by the bridge.");
  absl::StrAppend(&out, "prongsai_oss_batches_total ", stats.batches, "\n");
  counter("prongsai_oss_batches_failed_total",
          "Batches answered with an error; none of their records was "
          "acknowledged.");
  absl::StrAppend(&out, "prongsai_oss_batches_failed_total ",
                  stats.batches_failed, "\n");
  counter("prongsai_oss_records_total",
          "Records of answered batches, by outcome; unacknowledged: records "
          "of failed batches.");
  for (const auto& [outcome, value] :
       {std::pair<absl::string_view, uint64_t>{"accepted", stats.accepted},
        {"duplicate", stats.duplicates},
        {"dead_lettered", stats.dead_lettered},
        {"unacknowledged", stats.records_unacknowledged}}) {
    absl::StrAppend(&out, "prongsai_oss_records_total{outcome=\"", outcome,
                    "\"} ", value, "\n");
  }
  counter("prongsai_oss_events_appended_total",
          "Service-request events the bridge appended to the ledger.");
  absl::StrAppend(&out, "prongsai_oss_events_appended_total ",
                  stats.events_appended, "\n");
  return out;
}

void RegisterWebhook(httplib::Server& server, Bridge* bridge,
                     security::Guard* guard) {
  security::InstallHttpGuard(
      server, guard == nullptr ? security::Guard::InsecureDev() : *guard);
  server.Get("/metrics", [bridge](const httplib::Request&,
                                  httplib::Response& res) {
    res.set_content(RenderBridgeMetrics(bridge->stats()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Post(std::string(kWebhookPath), [bridge](const httplib::Request& req,
                                                  httplib::Response& res) {
    absl::StatusOr<std::vector<InputRecord>> records =
        ParseWebhookBody(req.body, "webhook");
    if (!records.ok()) {
      SendJson(res, 400, {{"error", std::string(records.status().message())}});
      return;
    }
    absl::StatusOr<BatchResult> result = bridge->Submit(std::move(*records));
    if (!result.ok()) {
      res.set_header("Retry-After", std::to_string(kRetryAfterSeconds));
      SendJson(res, 503, {{"error", std::string(result.status().message())}});
      return;
    }
    SendJson(res, result->dead_lettered.empty() ? 200 : 207,
             BatchResultJson(*result));
  });
}

}  // namespace prongsai::oss

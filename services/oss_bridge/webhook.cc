#include "services/oss_bridge/webhook.h"

#include "absl/strings/str_cat.h"

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

void RegisterWebhook(httplib::Server& server, Bridge* bridge) {
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

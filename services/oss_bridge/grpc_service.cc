#include "services/oss_bridge/grpc_service.h"

#include "core/security/grpc_security.h"

namespace prongsai::oss {

grpc::Status OssBridgeService::ImportRequests(
    grpc::ServerContext* context, const v1::ImportRequestsRequest* request,
    v1::ImportRequestsResponse* response) {
  absl::StatusOr<security::Principal> who = security::CheckCall(
      *guard_, *context, "/prongsai.v1.OssBridge/ImportRequests", {});
  if (!who.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(who.status().code()),
                        std::string(who.status().message()));
  }
  if (request->records().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "records: the request holds no records");
  }
  std::vector<InputRecord> records;
  records.reserve(request->records_size());
  for (int i = 0; i < request->records_size(); ++i) {
    InputRecord input;
    input.record = RecordFromProto(request->records(i));
    input.original = RecordToJson(input.record);
    input.source = "grpc";
    input.index = static_cast<uint64_t>(i);
    records.push_back(std::move(input));
  }
  absl::StatusOr<BatchResult> result = bridge_->Submit(std::move(records));
  if (!result.ok()) {
    return grpc::Status(static_cast<grpc::StatusCode>(result.status().code()),
                        std::string(result.status().message()));
  }
  response->set_accepted(result->accepted);
  response->set_duplicates(result->duplicates);
  response->set_events_appended(result->events_appended);
  for (const BatchResult::Refused& refused : result->dead_lettered) {
    v1::DeadLetteredRecord* dead = response->add_dead_lettered();
    dead->set_index(static_cast<uint32_t>(refused.index));
    dead->set_reason(refused.reason);
  }
  return grpc::Status::OK;
}

}  // namespace prongsai::oss

#include "services/privacy/privacy_service.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace prongsai::privacy_service {
namespace {

constexpr size_t kMaxReasonBytes = 1000;

grpc::Status ToGrpc(const absl::Status& status) {
  grpc::StatusCode code = grpc::StatusCode::INTERNAL;
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      code = grpc::StatusCode::INVALID_ARGUMENT;
      break;
    case absl::StatusCode::kNotFound:
      code = grpc::StatusCode::NOT_FOUND;
      break;
    case absl::StatusCode::kUnavailable:
      code = grpc::StatusCode::UNAVAILABLE;
      break;
    case absl::StatusCode::kDataLoss:
      code = grpc::StatusCode::DATA_LOSS;
      break;
    default:
      break;
  }
  return grpc::Status(code, std::string(status.message()));
}

}  // namespace

grpc::Status PrivacyService::Erase(grpc::ServerContext* context,
                                   const v1::EraseRequest* request,
                                   v1::EraseResponse* response) {
  if (request->reason().size() > kMaxReasonBytes) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        absl::StrCat("reason: ", request->reason().size(),
                                     " bytes; at most ", kMaxReasonBytes));
  }
  absl::StatusOr<privacy::EraseOutcome> outcome =
      keys_->Erase(request->subject_id(), request->reason());
  if (!outcome.ok()) {
    return ToGrpc(outcome.status());
  }
  if (!outcome->already_erased) {
    // The record names the subject id and key ids only, never personal data.
    std::clog << "prongsai: erased data subject " << request->subject_id()
              << " (keys " << absl::StrJoin(outcome->erasure.key_ids(), ", ")
              << "; erasure " << outcome->erasure.sequence() << ")"
              << std::endl;
  }
  *response->mutable_erasure() = std::move(outcome->erasure);
  response->set_already_erased(outcome->already_erased);
  return grpc::Status::OK;
}

grpc::Status PrivacyService::ListErasures(
    grpc::ServerContext* context, const v1::ListErasuresRequest* request,
    v1::ListErasuresResponse* response) {
  absl::StatusOr<std::vector<v1::Erasure>> erasures = keys_->Erasures();
  if (!erasures.ok()) {
    return ToGrpc(erasures.status());
  }
  for (v1::Erasure& erasure : *erasures) {
    *response->add_erasures() = std::move(erasure);
  }
  return grpc::Status::OK;
}

}  // namespace prongsai::privacy_service

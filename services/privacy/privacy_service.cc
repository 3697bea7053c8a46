#include "services/privacy/privacy_service.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/security/grpc_security.h"

namespace prongsai::privacy_service {
namespace {

constexpr size_t kMaxReasonBytes = 1000;

constexpr absl::string_view kEraseMethod = "/prongsai.v1.Privacy/Erase";

// absl and gRPC share the canonical status codes.
grpc::Status ToGrpc(const absl::Status& status) {
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

}  // namespace

grpc::Status PrivacyService::Erase(grpc::ServerContext* context,
                                   const v1::EraseRequest* request,
                                   v1::EraseResponse* response) {
  if (absl::StatusOr<security::Principal> who =
          security::CheckCall(*guard_, *context, kEraseMethod, {});
      !who.ok()) {
    return ToGrpc(who.status());
  }
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
  if (absl::StatusOr<security::Principal> who =
          security::CheckCall(*guard_, *context, kEraseMethod, {});
      !who.ok()) {
    return ToGrpc(who.status());
  }
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

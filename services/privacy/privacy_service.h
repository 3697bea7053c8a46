// prongsai.v1.Privacy over the key store: Erase destroys a data subject's
// key and records the erasure; ListErasures returns that record. Registered
// by the process that holds the key store (the ingest role of `prongsai
// serve`); `prongsai erase` is its client. Who may call it is the access
// policy's decision (core/security): Erase is checked as
// "/prongsai.v1.Privacy/Erase", and ListErasures under the same rule (whoever
// may erase may see what was erased).
//
// Example:
//   PrivacyService service(key_store.get(), guard.get());
//   builder.RegisterService(&service);
#pragma once

#include <grpcpp/grpcpp.h>

#include "core/privacy/key_store.h"
#include "core/security/guard.h"
#include "prongsai/v1/privacy.grpc.pb.h"

namespace prongsai::privacy_service {

class PrivacyService final : public v1::Privacy::Service {
 public:
  // `keys` and `guard` must outlive the service.
  PrivacyService(privacy::KeyStore* keys, security::Guard* guard)
      : keys_(keys), guard_(guard) {}

  grpc::Status Erase(grpc::ServerContext* context,
                     const v1::EraseRequest* request,
                     v1::EraseResponse* response) override;
  grpc::Status ListErasures(grpc::ServerContext* context,
                            const v1::ListErasuresRequest* request,
                            v1::ListErasuresResponse* response) override;

 private:
  privacy::KeyStore* const keys_;
  security::Guard* const guard_;
};

}  // namespace prongsai::privacy_service

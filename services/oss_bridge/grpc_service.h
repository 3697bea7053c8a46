// prongsai.v1.OssBridge over gRPC: the webhook's contract for systems that
// prefer gRPC (see proto/prongsai/v1/oss.proto). Every call passes the guard
// first (the rule of /prongsai.v1.OssBridge/ImportRequests in
// core/security/policy.cc).
#pragma once

#include <grpcpp/grpcpp.h>

#include "core/security/guard.h"
#include "prongsai/v1/oss.grpc.pb.h"
#include "services/oss_bridge/bridge.h"

namespace prongsai::oss {

class OssBridgeService final : public v1::OssBridge::Service {
 public:
  // `bridge` and `guard` must outlive the service; without a guard, the
  // library default (insecure-dev).
  explicit OssBridgeService(Bridge* bridge, security::Guard* guard = nullptr)
      : bridge_(bridge),
        guard_(guard == nullptr ? &security::Guard::InsecureDev() : guard) {}

  grpc::Status ImportRequests(grpc::ServerContext* context,
                              const v1::ImportRequestsRequest* request,
                              v1::ImportRequestsResponse* response) override;

 private:
  Bridge* const bridge_;
  security::Guard* const guard_;
};

}  // namespace prongsai::oss

// prongsai.v1.OssBridge over gRPC: the webhook's contract for systems that
// prefer gRPC (see proto/prongsai/v1/oss.proto).
#pragma once

#include <grpcpp/grpcpp.h>

#include "prongsai/v1/oss.grpc.pb.h"
#include "services/oss_bridge/bridge.h"

namespace prongsai::oss {

class OssBridgeService final : public v1::OssBridge::Service {
 public:
  // `bridge` must outlive the service.
  explicit OssBridgeService(Bridge* bridge) : bridge_(bridge) {}

  grpc::Status ImportRequests(grpc::ServerContext* context,
                              const v1::ImportRequestsRequest* request,
                              v1::ImportRequestsResponse* response) override;

 private:
  Bridge* const bridge_;
};

}  // namespace prongsai::oss

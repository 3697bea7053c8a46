// prongsai.v1.Projections over the projection runner: the state of every view
// (position, lag, error) and the rebuild of one view by replay, with its
// progress streamed. Registered by the projector role of `prongsai serve`;
// `prongsai projections` is its client.
//
// Example:
//   ProjectionsService service(runner.get());
//   builder.RegisterService(&service);
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <vector>

#include "core/security/guard.h"
#include "prongsai/v1/projections.grpc.pb.h"
#include "projections/runtime/projection.h"
#include "projections/runtime/runner.h"

namespace prongsai::server {

// Every view the projector keeps, in the order `projections status` lists
// them.
std::vector<std::unique_ptr<projections::Projection>> AllProjections();

// The runner's status as the API gives it; lag is log_position - position.
v1::ProjectionsStatus ToStatusMessage(
    const std::vector<projections::ProjectionStatus>& statuses);

class ProjectionsService final : public v1::Projections::Service {
 public:
  // Both must outlive the service. Every call passes `guard` first.
  explicit ProjectionsService(
      projections::ProjectionRunner* runner,
      security::Guard* guard = &security::Guard::InsecureDev())
      : runner_(runner), guard_(guard) {}

  grpc::Status GetStatus(grpc::ServerContext* context,
                         const v1::GetProjectionsStatusRequest* request,
                         v1::ProjectionsStatus* response) override;
  grpc::Status Rebuild(
      grpc::ServerContext* context, const v1::RebuildRequest* request,
      grpc::ServerWriter<v1::RebuildProgress>* writer) override;

 private:
  projections::ProjectionRunner* const runner_;
  security::Guard* const guard_;
};

}  // namespace prongsai::server

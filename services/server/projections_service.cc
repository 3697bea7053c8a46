#include "services/server/projections_service.h"

#include <algorithm>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/security/grpc_security.h"
#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"
#include "projections/reports/report_projections.h"
#include "projections/service_sla/service_sla_projection.h"
#include "services/ingest/ledger_service.h"

namespace prongsai::server {
namespace {

// Streamed steps are at least this far apart; the last one always goes.
constexpr absl::Duration kStepInterval = absl::Milliseconds(100);

void SetDuration(absl::Duration d, google::protobuf::Duration* out) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);
  out->set_seconds(nanos / 1'000'000'000);
  out->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
}

}  // namespace

std::vector<std::unique_ptr<projections::Projection>> AllProjections() {
  std::vector<std::unique_ptr<projections::Projection>> all =
      reports::ReportProjections();
  all.push_back(std::make_unique<projections::MerkleProjection>());
  all.push_back(std::make_unique<projections::AuditTrailProjection>());
  all.push_back(std::make_unique<service_sla::ServiceSlaProjection>());
  return all;
}

v1::ProjectionsStatus ToStatusMessage(
    const std::vector<projections::ProjectionStatus>& statuses) {
  v1::ProjectionsStatus out;
  for (const projections::ProjectionStatus& status : statuses) {
    out.set_log_position(std::max(out.log_position(), status.log_position));
    v1::ProjectionState* state = out.add_projections();
    state->set_name(status.name);
    state->set_version(status.version);
    state->set_position(status.position);
    state->set_lag(status.log_position > status.position
                       ? status.log_position - status.position
                       : 0);
    state->set_error(status.error);
    state->set_rebuilding(status.rebuilding);
  }
  return out;
}

grpc::Status ProjectionsService::GetStatus(
    grpc::ServerContext* context, const v1::GetProjectionsStatusRequest*,
    v1::ProjectionsStatus* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Projections/GetStatus", {});
      !who.ok()) {
    return ingest::ToGrpcStatus(who.status());
  }
  *response = ToStatusMessage(runner_->Status());
  return grpc::Status::OK;
}

grpc::Status ProjectionsService::Rebuild(
    grpc::ServerContext* context, const v1::RebuildRequest* request,
    grpc::ServerWriter<v1::RebuildProgress>* writer) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Projections/Rebuild", {});
      !who.ok()) {
    return ingest::ToGrpcStatus(who.status());
  }
  if (request->name().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "name: give the projection to rebuild");
  }
  const absl::Time start = absl::Now();
  absl::Time last_sent = absl::InfinitePast();
  uint64_t reached = 0;
  bool client_gone = false;
  absl::Status status = runner_->Rebuild(
      request->name(),
      [&](uint64_t position, uint64_t log_position) {
        reached = position;
        const absl::Time now = absl::Now();
        if (client_gone || now - last_sent < kStepInterval) {
          return;
        }
        last_sent = now;
        v1::RebuildProgress progress;
        v1::RebuildStep* step = progress.mutable_step();
        step->set_position(position);
        step->set_log_position(log_position);
        step->set_records(position);  // positions are dense from 1
        SetDuration(now - start, step->mutable_elapsed());
        client_gone = !writer->Write(progress);
      },
      [context] { return context->IsCancelled(); });
  if (!status.ok()) {
    return ingest::ToGrpcStatus(status);
  }
  v1::RebuildProgress done;
  v1::RebuildSummary* summary = done.mutable_done();
  summary->set_name(request->name());
  summary->set_position(reached);
  summary->set_records(reached);
  SetDuration(absl::Now() - start, summary->mutable_elapsed());
  writer->Write(done);
  return grpc::Status::OK;
}

}  // namespace prongsai::server

// prongsai.v1.Audit over gRPC: signed checkpoints from the checkpointer,
// proofs from the merkle view, raw records straight from the event log, and
// the audit trail view.
//
// Example:
//   AuditService audit(log.get(), [&] { return runner->Snapshot(); },
//                      checkpointer.get());
//   builder.RegisterService(&audit);
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/merkle.h"
#include "core/log/event_log.h"
#include "core/security/guard.h"
#include "projections/audit/merkle_projection.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "services/audit/checkpointer.h"

namespace prongsai::audit_service {

class AuditService final : public v1::Audit::Service {
 public:
  // All must outlive the service. Every call passes `guard` first.
  AuditService(log::EventLog* log, SnapshotSource snapshots,
               Checkpointer* checkpointer,
               security::Guard* guard = &security::Guard::InsecureDev())
      : log_(log),
        snapshots_(std::move(snapshots)),
        checkpointer_(checkpointer),
        guard_(guard) {}

  grpc::Status GetCheckpoint(grpc::ServerContext* context,
                             const v1::GetCheckpointRequest* request,
                             v1::GetCheckpointResponse* response) override;
  grpc::Status GetInclusionProof(grpc::ServerContext* context,
                                 const v1::GetInclusionProofRequest* request,
                                 v1::InclusionProof* response) override;
  grpc::Status GetConsistencyProof(
      grpc::ServerContext* context,
      const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override;
  grpc::Status ReadRecords(grpc::ServerContext* context,
                           const v1::ReadRecordsRequest* request,
                           grpc::ServerWriter<v1::RawRecord>* writer) override;
  grpc::Status GetTrail(grpc::ServerContext* context,
                        const v1::GetTrailRequest* request,
                        v1::Trail* response) override;

  // The handlers without gRPC around them: what the RPCs answer.
  absl::Status Checkpoint(const v1::GetCheckpointRequest& request,
                          v1::GetCheckpointResponse* response);
  absl::Status Inclusion(const v1::GetInclusionProofRequest& request,
                         v1::InclusionProof* response);
  absl::Status Consistency(const v1::GetConsistencyProofRequest& request,
                           v1::ConsistencyProof* response);
  absl::Status Trail(const v1::GetTrailRequest& request, v1::Trail* response);

 private:
  // The signed checkpoint of exactly `size`, if there is one: the latest
  // from memory, older ones from the store.
  absl::StatusOr<std::optional<SignedCheckpoint>> SignedAt(
      absl::string_view stream, uint64_t size,
      const std::optional<SignedCheckpoint>& latest);
  // FAILED_PRECONDITION when the tree has not reached `size` yet.
  absl::Status CheckReached(absl::string_view stream, uint64_t size,
                            uint64_t current);
  // Reads the stream's nodes from `tree`, keeping the upper levels in memory.
  audit::NodeReader Reader(const projections::MerkleView& tree,
                           absl::string_view stream);

  log::EventLog* const log_;
  const SnapshotSource snapshots_;
  Checkpointer* const checkpointer_;
  security::Guard* const guard_;

  // A complete subtree never changes once the view holds it, so the upper
  // levels of every proof (few nodes, read by every proof) are kept here.
  // Should a kept node ever disagree with the view or the signed root, the
  // check every proof passes before it is served refuses it.
  absl::Mutex cache_mu_;
  absl::flat_hash_map<std::string, Hash> cache_ ABSL_GUARDED_BY(cache_mu_);
};

// Fills `out` from a signed checkpoint.
void ToProto(const SignedCheckpoint& checkpoint, v1::Checkpoint* out);

}  // namespace prongsai::audit_service

// prongsai.v1.Ledger over gRPC: Append through the ingestor, reads straight
// from the event log.
#pragma once

#include <grpcpp/grpcpp.h>

#include "core/log/event_log.h"
#include "core/security/guard.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/ingest/ingestor.h"

namespace prongsai::ingest {

// Maps a Status to the gRPC status with the same code and message.
grpc::Status ToGrpcStatus(const absl::Status& status);

// Append takes the raw request bytes (gRPC's callback API), so that a request
// that does not decode is answered with what is wrong and where, and so that
// no handler thread blocks while the ingest writes.
class LedgerService final
    : public v1::Ledger::WithRawCallbackMethod_Append<v1::Ledger::Service> {
 public:
  // All must outlive the service. Every call passes `guard` first.
  LedgerService(Ingestor* ingestor, log::EventLog* log,
                security::Guard* guard = &security::Guard::InsecureDev())
      : ingestor_(ingestor), log_(log), guard_(guard) {}

  grpc::ServerUnaryReactor* Append(grpc::CallbackServerContext* context,
                                   const grpc::ByteBuffer* request,
                                   grpc::ByteBuffer* response) override;
  grpc::Status Read(grpc::ServerContext* context,
                    const v1::ReadRequest* request,
                    grpc::ServerWriter<v1::Entry>* writer) override;
  grpc::Status Subscribe(grpc::ServerContext* context,
                         const v1::SubscribeRequest* request,
                         grpc::ServerWriter<v1::Entry>* writer) override;
  grpc::Status GetHead(grpc::ServerContext* context,
                       const v1::GetHeadRequest* request,
                       v1::Head* response) override;

 private:
  Ingestor* const ingestor_;
  log::EventLog* const log_;
  security::Guard* const guard_;
};

// Fills `out` from a stored entry, decoding the record for convenience.
absl::Status ToEntry(const log::LogEntry& entry, v1::Entry* out);

}  // namespace prongsai::ingest

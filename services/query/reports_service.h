// prongsai.v1.Reports over gRPC: each call is one ReportQueries call, with
// the call's deadline bounding any read-your-writes wait.
#pragma once

#include <grpcpp/grpcpp.h>

#include <optional>
#include <string>

#include "core/security/guard.h"
#include "core/security/policy.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "services/query/report_queries.h"

namespace prongsai::query {

// The gRPC status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

class ReportsService final : public v1::Reports::Service {
 public:
  // Both must outlive the service. Every call passes `guard` first; what a
  // reader sees of personal data follows from its principal.
  ReportsService(ReportQueries* queries, security::Guard* guard)
      : queries_(queries), guard_(guard) {}

  grpc::Status GetItaReport(grpc::ServerContext* context,
                            const v1::ItaReportRequest* request,
                            v1::ItaReport* response) override;
  grpc::Status GetScorecard(grpc::ServerContext* context,
                            const v1::ScorecardRequest* request,
                            v1::Scorecard* response) override;
  grpc::Status GetGiftRegister(grpc::ServerContext* context,
                               const v1::GiftRegisterRequest* request,
                               v1::GiftRegister* response) override;
  grpc::Status GetComplaintStats(grpc::ServerContext* context,
                                 const v1::ComplaintStatsRequest* request,
                                 v1::ComplaintStats* response) override;
  grpc::Status GetCityOverview(grpc::ServerContext* context,
                               const v1::CityOverviewRequest* request,
                               v1::CityOverview* response) override;

 private:
  // Checks the call against the policy; the reader sees personal data of
  // `personal` kind if its principal may, in `district`.
  absl::StatusOr<Reader> ReaderOf(
      grpc::ServerContext& context, absl::string_view method,
      const std::string& district,
      std::optional<security::PersonalKind> personal) const;

  ReportQueries* const queries_;
  security::Guard* const guard_;
};

}  // namespace prongsai::query

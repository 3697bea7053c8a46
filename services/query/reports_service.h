// prongsai.v1.Reports over gRPC: each call is one ReportQueries call, with
// the call's deadline bounding any read-your-writes wait.
#pragma once

#include <grpcpp/grpcpp.h>

#include "prongsai/v1/reports.grpc.pb.h"
#include "services/query/report_queries.h"

namespace prongsai::query {

// The gRPC status with the same code and message.
grpc::Status ToGrpc(const absl::Status& status);

class ReportsService final : public v1::Reports::Service {
 public:
  // `queries` must outlive the service.
  ReportsService(ReportQueries* queries, bool reveal_personal_data)
      : queries_(queries), reveal_personal_data_(reveal_personal_data) {}

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
  Reader ReaderOf(const grpc::ServerContext& context) const;

  ReportQueries* const queries_;
  const bool reveal_personal_data_;
};

}  // namespace prongsai::query

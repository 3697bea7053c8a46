#include "services/query/reports_service.h"

#include <chrono>

namespace prongsai::query {
namespace {

template <typename T>
grpc::Status Answer(absl::StatusOr<T> answer, T* response) {
  if (!answer.ok()) {
    return ToGrpc(answer.status());
  }
  *response = std::move(*answer);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

Reader ReportsService::ReaderOf(const grpc::ServerContext& context) const {
  Reader reader;
  reader.may_see_personal_data = reveal_personal_data_;
  const auto deadline = context.deadline();
  if (deadline != std::chrono::system_clock::time_point::max()) {
    reader.deadline = absl::FromChrono(deadline);
  }
  return reader;
}

grpc::Status ReportsService::GetItaReport(grpc::ServerContext* context,
                                          const v1::ItaReportRequest* request,
                                          v1::ItaReport* response) {
  return Answer(queries_->ItaReport(*request, ReaderOf(*context)), response);
}

grpc::Status ReportsService::GetScorecard(grpc::ServerContext* context,
                                          const v1::ScorecardRequest* request,
                                          v1::Scorecard* response) {
  return Answer(queries_->Scorecard(*request, ReaderOf(*context)), response);
}

grpc::Status ReportsService::GetGiftRegister(
    grpc::ServerContext* context, const v1::GiftRegisterRequest* request,
    v1::GiftRegister* response) {
  return Answer(queries_->GiftRegister(*request, ReaderOf(*context)), response);
}

grpc::Status ReportsService::GetComplaintStats(
    grpc::ServerContext* context, const v1::ComplaintStatsRequest* request,
    v1::ComplaintStats* response) {
  return Answer(queries_->ComplaintStats(*request, ReaderOf(*context)),
                response);
}

grpc::Status ReportsService::GetCityOverview(
    grpc::ServerContext* context, const v1::CityOverviewRequest* request,
    v1::CityOverview* response) {
  return Answer(queries_->CityOverview(*request, ReaderOf(*context)), response);
}

}  // namespace prongsai::query

#include "services/query/reports_service.h"

#include <chrono>

#include "core/security/grpc_security.h"
#include "core/security/policy.h"

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

absl::StatusOr<Reader> ReportsService::ReaderOf(
    grpc::ServerContext& context, absl::string_view method,
    const std::string& district,
    std::optional<security::PersonalKind> personal) const {
  std::vector<std::string> districts;
  if (!district.empty()) {
    districts.push_back(district);
  }
  absl::StatusOr<security::Principal> who =
      security::CheckCall(*guard_, context, method, std::move(districts));
  if (!who.ok()) {
    return who.status();
  }
  Reader reader;
  reader.may_see_personal_data =
      personal.has_value() &&
      security::MaySeePersonal(*who, *personal, district);
  reader.deadline = security::CallDeadline(*guard_, context);
  return reader;
}

grpc::Status ReportsService::GetItaReport(grpc::ServerContext* context,
                                          const v1::ItaReportRequest* request,
                                          v1::ItaReport* response) {
  absl::StatusOr<Reader> reader =
      ReaderOf(*context, "/prongsai.v1.Reports/GetItaReport",
               request->district(), std::nullopt);
  if (!reader.ok()) {
    return ToGrpc(reader.status());
  }
  return Answer(queries_->ItaReport(*request, *reader), response);
}

grpc::Status ReportsService::GetScorecard(grpc::ServerContext* context,
                                          const v1::ScorecardRequest* request,
                                          v1::Scorecard* response) {
  absl::StatusOr<Reader> reader =
      ReaderOf(*context, "/prongsai.v1.Reports/GetScorecard",
               request->district(), std::nullopt);
  if (!reader.ok()) {
    return ToGrpc(reader.status());
  }
  return Answer(queries_->Scorecard(*request, *reader), response);
}

grpc::Status ReportsService::GetGiftRegister(
    grpc::ServerContext* context, const v1::GiftRegisterRequest* request,
    v1::GiftRegister* response) {
  absl::StatusOr<Reader> reader =
      ReaderOf(*context, "/prongsai.v1.Reports/GetGiftRegister",
               request->district(), security::PersonalKind::kGiftGiver);
  if (!reader.ok()) {
    return ToGrpc(reader.status());
  }
  return Answer(queries_->GiftRegister(*request, *reader), response);
}

grpc::Status ReportsService::GetComplaintStats(
    grpc::ServerContext* context, const v1::ComplaintStatsRequest* request,
    v1::ComplaintStats* response) {
  absl::StatusOr<Reader> reader =
      ReaderOf(*context, "/prongsai.v1.Reports/GetComplaintStats",
               request->district(), security::PersonalKind::kComplainant);
  if (!reader.ok()) {
    return ToGrpc(reader.status());
  }
  return Answer(queries_->ComplaintStats(*request, *reader), response);
}

grpc::Status ReportsService::GetCityOverview(
    grpc::ServerContext* context, const v1::CityOverviewRequest* request,
    v1::CityOverview* response) {
  absl::StatusOr<Reader> reader = ReaderOf(
      *context, "/prongsai.v1.Reports/GetCityOverview", "", std::nullopt);
  if (!reader.ok()) {
    return ToGrpc(reader.status());
  }
  return Answer(queries_->CityOverview(*request, *reader), response);
}

}  // namespace prongsai::query

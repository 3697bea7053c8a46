#include "projections/reports/gifts_projection.h"

#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "projections/reports/view_rows.pb.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::reports {
namespace {

constexpr int64_t kSatangPerBaht = 100;
constexpr int64_t kThreeThousandBaht = 3'000 * kSatangPerBaht;

void SetStamp(const Fact& fact, Stamp* stamp) {
  stamp->set_position(fact.position);
  stamp->set_occurred_seconds(fact.occurred_seconds);
  stamp->set_corrected(fact.corrected);
}

// The aggregate row a gift report counts in, or empty for a report whose
// date is not a calendar date (the ingest refuses those).
std::string AggregateKey(absl::string_view district,
                         const v1::GiftReportFiled& report) {
  if (!domain::IsValidDate(report.received_on())) {
    return "";
  }
  const absl::CivilDay day = domain::ToCivilDay(report.received_on());
  std::string key =
      Key('A', FiscalYearKey(domain::FiscalYearOf(day)), district);
  key.push_back(domain::RoundOf(day) == v1::ROUND_H1 ? '1' : '2');
  key.push_back(static_cast<char>(report.disposition()));
  key.push_back(
      static_cast<char>(ValueBandOf(report.estimated_value_satang())));
  return key;
}

absl::Status AddToAggregate(projections::ViewWriter& view,
                            absl::string_view district,
                            const v1::GiftReportFiled& report, int sign) {
  const std::string key = AggregateKey(district, report);
  if (key.empty()) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::optional<std::string> bytes, view.Get(key));
  int64_t count = 0;
  int64_t value = 0;
  if (bytes.has_value() && !DecodeGiftAggregate(*bytes, &count, &value)) {
    return absl::DataLossError("gift aggregate row has the wrong size");
  }
  count += sign;
  value += sign * report.estimated_value_satang();
  if (count == 0) {
    view.Delete(key);
    return absl::OkStatus();
  }
  std::string out;
  AppendBigEndian64(static_cast<uint64_t>(count), &out);
  AppendBigEndian64(static_cast<uint64_t>(value), &out);
  view.Put(key, out);
  return absl::OkStatus();
}

}  // namespace

v1::GiftValueBand ValueBandOf(int64_t satang) {
  if (satang <= 0) {
    return v1::GIFT_VALUE_BAND_NONE;
  }
  return satang <= kThreeThousandBaht ? v1::GIFT_VALUE_BAND_UP_TO_3000
                                      : v1::GIFT_VALUE_BAND_OVER_3000;
}

bool DecodeGiftAggregate(absl::string_view bytes, int64_t* count,
                         int64_t* value_satang) {
  if (bytes.size() != 16) {
    return false;
  }
  *count = static_cast<int64_t>(ReadBigEndian64(bytes.data()));
  *value_satang = static_cast<int64_t>(ReadBigEndian64(bytes.data() + 8));
  return true;
}

bool GiftsProjection::Tracks(v1::Event::PayloadCase kind) const {
  return kind == v1::Event::kGiftReportFiled ||
         kind == v1::Event::kGiftReportsSubmitted;
}

absl::StatusOr<std::string> GiftsProjection::Do(const Fact& fact,
                                                const v1::Event& event,
                                                projections::ViewWriter& view) {
  const absl::string_view d = fact.stream;
  if (event.has_gift_report_filed()) {
    const v1::GiftReportFiled& report = event.gift_report_filed();
    if (!domain::IsValidDate(report.received_on())) {
      return std::string();
    }
    const int fy =
        domain::FiscalYearOf(domain::ToCivilDay(report.received_on()));
    GiftRow row;
    *row.mutable_report() = report;
    SetStamp(fact, row.mutable_stamp());
    std::string key = Key('G', d, FiscalYearKey(fy), report.report_id());
    WriteRow(view, key, row);
    RETURN_IF_ERROR(AddToAggregate(view, d, report, +1));
    return key;
  }
  if (event.has_gift_reports_submitted()) {
    const v1::GiftReportsSubmitted& submission = event.gift_reports_submitted();
    SubmissionRow row;
    *row.mutable_submission() = submission;
    SetStamp(fact, row.mutable_stamp());
    std::string key = Key('U', FiscalYearKey(submission.fiscal_year()), d);
    key.push_back(static_cast<char>('0' + submission.round()));
    key.append(submission.submission_id());
    WriteRow(view, key, row);
    return key;
  }
  return std::string();
}

absl::Status GiftsProjection::Undo(const Fact& fact, absl::string_view key,
                                   projections::ViewWriter& view) {
  if (key.empty()) {
    return absl::OkStatus();
  }
  if (key[0] == 'G') {
    ASSIGN_OR_RETURN(std::optional<GiftRow> row, ReadRow<GiftRow>(view, key));
    if (row.has_value()) {
      RETURN_IF_ERROR(AddToAggregate(view, fact.stream, row->report(), -1));
    }
  }
  view.Delete(key);
  return absl::OkStatus();
}

}  // namespace prongsai::reports

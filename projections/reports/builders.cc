#include "projections/reports/builders.h"

#include <algorithm>
#include <map>
#include <set>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "projections/reports/correctable.h"
#include "projections/reports/gifts_projection.h"
#include "projections/reports/ita_report.h"
#include "projections/reports/keys.h"
#include "projections/reports/labels.h"
#include "projections/reports/view_rows.pb.h"
#include "prongsai/v1/options.pb.h"

namespace prongsai::reports {
namespace {

using projections::ViewReader;

constexpr v1::GiftDisposition kDispositions[] = {
    v1::GIFT_DISPOSITION_DECLINED, v1::GIFT_DISPOSITION_RETURNED,
    v1::GIFT_DISPOSITION_HANDED_TO_AGENCY,
    v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION};
constexpr v1::GiftValueBand kValueBands[] = {v1::GIFT_VALUE_BAND_NONE,
                                             v1::GIFT_VALUE_BAND_UP_TO_3000,
                                             v1::GIFT_VALUE_BAND_OVER_3000};

absl::Status CheckDistrict(absl::string_view district, bool required) {
  if (district.empty()) {
    return required ? absl::InvalidArgumentError(
                          "district: required; a district code 1001-1050")
                    : absl::OkStatus();
  }
  if (domain::FindDistrict(district) == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("district: unknown district code \"", district,
                     "\"; Bangkok's district codes are 1001-1050"));
  }
  return absl::OkStatus();
}

// Whether a submission of `submitted` answers the report of `round`.
bool Answers(v1::Round submitted, v1::Round round) {
  if (submitted == round) {
    return true;
  }
  const auto twelve_months = [](v1::Round r) {
    return r == v1::ROUND_H2 || r == v1::ROUND_FULL_YEAR;
  };
  return round != v1::ROUND_H1 && twelve_months(submitted) &&
         twelve_months(round);
}

bool HalfInRound(char half, v1::Round round) {
  switch (round) {
    case v1::ROUND_H1:
      return half == '1';
    case v1::ROUND_H2:
      return half == '2';
    default:
      return true;
  }
}

// Totals keyed by disposition and band, turned into a GiftTotals.
struct GiftTally {
  std::map<std::pair<int, int>, std::pair<int64_t, int64_t>> cells;

  void Add(int disposition, int band, int64_t count, int64_t value) {
    auto& cell = cells[{disposition, band}];
    cell.first += count;
    cell.second += value;
  }

  v1::GiftTotals ToProto() const {
    v1::GiftTotals totals;
    std::map<int, std::pair<int64_t, int64_t>> by_disposition;
    std::map<int, std::pair<int64_t, int64_t>> by_band;
    for (const auto& [key, cell] : cells) {
      totals.set_count(totals.count() + cell.first);
      totals.set_value_satang(totals.value_satang() + cell.second);
      by_disposition[key.first].first += cell.first;
      by_disposition[key.first].second += cell.second;
      by_band[key.second].first += cell.first;
      by_band[key.second].second += cell.second;
    }
    for (v1::GiftDisposition d : kDispositions) {
      v1::GiftCount* count = totals.add_by_disposition();
      count->set_disposition(d);
      *count->mutable_label() = DispositionLabel(d);
      count->set_count(by_disposition[d].first);
      count->set_value_satang(by_disposition[d].second);
    }
    for (v1::GiftValueBand b : kValueBands) {
      v1::GiftCount* count = totals.add_by_value_band();
      count->set_value_band(b);
      *count->mutable_label() = ValueBandLabel(b);
      count->set_count(by_band[b].first);
      count->set_value_satang(by_band[b].second);
    }
    return totals;
  }
};

void ClearPersonal(google::protobuf::Message* message, int depth) {
  if (depth > 16) {
    return;
  }
  const google::protobuf::Reflection* reflection = message->GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const google::protobuf::FieldDescriptor* field : fields) {
    if (field->options().GetExtension(v1::personal)) {
      reflection->ClearField(message, field);
      continue;
    }
    if (field->cpp_type() !=
        google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        ClearPersonal(reflection->MutableRepeatedMessage(message, field, i),
                      depth + 1);
      }
    } else {
      ClearPersonal(reflection->MutableMessage(message, field), depth + 1);
    }
  }
}

absl::StatusOr<std::map<std::string, v1::Label>> DistrictNames(
    const ViewReader& progress) {
  std::map<std::string, v1::Label> names;
  for (const domain::District& d : domain::Districts()) {
    names[d.code] = MakeLabel(d.name_th, d.name_en);
  }
  absl::Status parse;
  RETURN_IF_ERROR(
      progress.Scan("D", [&](absl::string_view key, absl::string_view value) {
        DistrictRow row;
        parse = ParseRow(key, value, row);
        if (parse.ok()) {
          names[row.district().code()] =
              MakeLabel(row.district().name_th(), row.district().name_en());
        }
        return parse.ok();
      }));
  RETURN_IF_ERROR(parse);
  return names;
}

}  // namespace

void ClearPersonalFields(google::protobuf::Message* message) {
  ClearPersonal(message, 0);
}

absl::StatusOr<v1::GiftRegister> BuildGiftRegister(const ReportViewSet& views,
                                                   absl::string_view district,
                                                   int fiscal_year,
                                                   v1::Round round,
                                                   bool include_personal) {
  RETURN_IF_ERROR(CheckDistrict(district, false));
  if (round != v1::ROUND_H1 && round != v1::ROUND_H2 &&
      round != v1::ROUND_FULL_YEAR) {
    return absl::InvalidArgumentError(
        "round: required; H1 (the 6-month report), H2 or FULL_YEAR (the "
        "12-month report)");
  }
  ASSIGN_OR_RETURN(auto names, DistrictNames(views.progress));
  const std::string fy = FiscalYearKey(fiscal_year);

  v1::GiftRegister reg;
  reg.set_district(std::string(district));
  reg.set_fiscal_year(fiscal_year);
  reg.set_round(round);
  *reg.mutable_round_label() =
      MakeLabel(domain::RoundLabelTh(fiscal_year, round),
                domain::RoundLabelEn(fiscal_year, round));
  const bool twelve = round != v1::ROUND_H1;
  const std::string scope_th =
      district.empty()
          ? std::string("สำนักงานเขตทั้ง 50 เขต")
          : absl::StrCat("สำนักงานเขต", names[std::string(district)].th());
  const std::string scope_en =
      district.empty()
          ? std::string("all 50 district offices")
          : absl::StrCat(names[std::string(district)].en(), " District Office");
  *reg.mutable_title() = MakeLabel(
      absl::StrCat("รายงานผลการรับของขวัญและของกำนัลตามนโยบาย No Gift Policy ",
                   twelve ? "รอบ 12 เดือน" : "รอบ 6 เดือน", " ของ", scope_th, " ",
                   domain::FiscalYearLabelTh(fiscal_year),
                   " เสนอศูนย์ปฏิบัติการต่อต้านการทุจริต กรุงเทพมหานคร (ศปท.กทม.)"),
      absl::StrCat("No Gift Policy gift reports, ",
                   twelve ? "12-month" : "6-month", " report of ", scope_en,
                   ", ", domain::FiscalYearLabelEn(fiscal_year),
                   ", to the BMA anti-corruption centre"));
  for (v1::GiftValueBand b : kValueBands) {
    v1::GiftCount* band = reg.add_value_bands();
    band->set_value_band(b);
    *band->mutable_label() = ValueBandLabel(b);
  }

  // Submissions and totals of every district in one pass each.
  std::map<std::string, std::vector<SubmissionRow>> submissions;
  absl::Status parse;
  RETURN_IF_ERROR(views.gifts.Scan(
      Key('U', fy, district),
      [&](absl::string_view key, absl::string_view value) {
        SubmissionRow row;
        parse = ParseRow(key, value, row);
        if (parse.ok()) {
          submissions[std::string(key.substr(1 + 4, kStreamWidth))].push_back(
              std::move(row));
        }
        return parse.ok();
      }));
  RETURN_IF_ERROR(parse);
  std::map<std::string, GiftTally> tallies;
  RETURN_IF_ERROR(views.gifts.Scan(
      Key('A', fy, district),
      [&](absl::string_view key, absl::string_view value) {
        // A fy d half disposition band
        if (key.size() != 1 + 4 + kStreamWidth + 3) {
          return true;
        }
        const char half = key[1 + 4 + kStreamWidth];
        if (!HalfInRound(half, round)) {
          return true;
        }
        int64_t count = 0;
        int64_t satang = 0;
        if (DecodeGiftAggregate(value, &count, &satang)) {
          tallies[std::string(key.substr(1 + 4, kStreamWidth))].Add(
              static_cast<unsigned char>(key[key.size() - 2]),
              static_cast<unsigned char>(key[key.size() - 1]), count, satang);
        }
        return true;
      }));

  GiftTally city;
  for (const domain::District& d : domain::Districts()) {
    if (!district.empty() && d.code != district) {
      continue;
    }
    v1::GiftDistrictSummary* summary = reg.add_districts();
    summary->set_district(d.code);
    *summary->mutable_district_name() = names[d.code];
    const GiftTally& tally = tallies[d.code];
    *summary->mutable_totals() = tally.ToProto();
    for (const auto& [cell_key, cell] : tally.cells) {
      city.Add(cell_key.first, cell_key.second, cell.first, cell.second);
    }
    for (const SubmissionRow& row : submissions[d.code]) {
      const v1::GiftReportsSubmitted& s = row.submission();
      v1::GiftSubmission* out = summary->add_submissions();
      out->set_submission_id(s.submission_id());
      out->set_round(s.round());
      *out->mutable_submitted_on() = s.submitted_on();
      out->set_reports(s.report_ids_size());
      if (Answers(s.round(), round)) {
        summary->set_submitted(true);
      }
    }
    (summary->submitted() ? reg.add_submitted_districts()
                          : reg.add_missing_districts())
        ->assign(d.code);
  }
  *reg.mutable_totals() = city.ToProto();

  if (!district.empty()) {
    std::map<std::string, std::vector<std::string>> submitted_in;
    for (const SubmissionRow& row : submissions[std::string(district)]) {
      for (const std::string& id : row.submission().report_ids()) {
        submitted_in[id].push_back(row.submission().submission_id());
      }
    }
    const domain::DayRange range = domain::RoundRange(fiscal_year, round);
    std::vector<GiftRow> rows;
    RETURN_IF_ERROR(views.gifts.Scan(
        Key('G', district, fy),
        [&](absl::string_view key, absl::string_view value) {
          GiftRow row;
          parse = ParseRow(key, value, row);
          if (parse.ok() && domain::IsValidDate(row.report().received_on()) &&
              range.Contains(domain::ToCivilDay(row.report().received_on()))) {
            rows.push_back(std::move(row));
          }
          return parse.ok();
        }));
    RETURN_IF_ERROR(parse);
    std::sort(rows.begin(), rows.end(), [](const GiftRow& a, const GiftRow& b) {
      const absl::CivilDay da = domain::ToCivilDay(a.report().received_on());
      const absl::CivilDay db = domain::ToCivilDay(b.report().received_on());
      return da != db ? da < db : a.stamp().position() < b.stamp().position();
    });
    for (const GiftRow& row : rows) {
      const v1::GiftReportFiled& r = row.report();
      v1::GiftEntry* entry = reg.add_entries();
      entry->set_report_id(r.report_id());
      *entry->mutable_received_on() = r.received_on();
      if (r.has_official()) {
        *entry->mutable_official() = r.official();
      }
      if (r.has_giver()) {
        *entry->mutable_giver() = r.giver();
      }
      entry->set_giver_category(r.giver_category());
      *entry->mutable_giver_category_label() =
          GiverCategoryLabel(r.giver_category());
      entry->set_description(r.description());
      entry->set_value_satang(r.estimated_value_satang());
      entry->set_value_band(ValueBandOf(r.estimated_value_satang()));
      entry->set_disposition(r.disposition());
      *entry->mutable_disposition_label() = DispositionLabel(r.disposition());
      entry->set_exception_reason(r.exception_reason());
      for (const std::string& id : submitted_in[r.report_id()]) {
        entry->add_submission_ids(id);
      }
      entry->set_corrected(row.stamp().corrected());
    }
  }
  reg.set_personal_data_included(include_personal);
  if (!include_personal) {
    ClearPersonalFields(&reg);
  }
  return reg;
}

absl::StatusOr<v1::ComplaintStats> BuildComplaintStats(
    const ReportViewSet& views, absl::string_view district, int fiscal_year,
    v1::Round round, absl::CivilDay today) {
  RETURN_IF_ERROR(CheckDistrict(district, false));
  if (round == v1::ROUND_UNSPECIFIED) {
    round = v1::ROUND_FULL_YEAR;
  }
  if (round != v1::ROUND_H1 && round != v1::ROUND_H2 &&
      round != v1::ROUND_FULL_YEAR) {
    return absl::InvalidArgumentError(
        "round: H1, H2 or FULL_YEAR (or unset for the whole year)");
  }
  ASSIGN_OR_RETURN(auto names, DistrictNames(views.progress));
  const domain::DayRange range = domain::RoundRange(fiscal_year, round);
  const int32_t first = DayNumber(range.first);
  const int32_t last = DayNumber(range.last);
  const int32_t now = DayNumber(today);

  v1::ComplaintStats stats;
  stats.set_district(std::string(district));
  stats.set_fiscal_year(fiscal_year);
  stats.set_round(round);
  *stats.mutable_scope_label() =
      district.empty()
          ? MakeLabel("กรุงเทพมหานคร (สำนักงานเขตทั้ง 50 เขต)",
                      "Bangkok (all 50 district offices)")
          : MakeLabel(
                absl::StrCat("สำนักงานเขต", names[std::string(district)].th()),
                absl::StrCat(names[std::string(district)].en(),
                             " District Office"));
  *stats.mutable_period_label() =
      MakeLabel(absl::StrCat(domain::FiscalYearLabelTh(fiscal_year), " ",
                             domain::RoundLabelTh(fiscal_year, round)),
                absl::StrCat(domain::FiscalYearLabelEn(fiscal_year), ", ",
                             domain::RoundLabelEn(fiscal_year, round)));

  std::map<int, v1::ComplaintGroup> by_category;
  std::map<int, v1::ComplaintGroup> by_channel;
  struct Bucket {
    const char* th;
    const char* en;
    int min;
    int max;
  };
  constexpr Bucket kBuckets[] = {
      {"ไม่เกิน 15 วัน", "up to 15 days", 0, 15},
      {"16 - 30 วัน", "16 - 30 days", 16, 30},
      {"31 - 60 วัน", "31 - 60 days", 31, 60},
      {"เกิน 60 วัน", "more than 60 days", 61, 0},
  };
  int64_t bucket_open[4] = {0, 0, 0, 0};
  std::vector<int> days_to_close;
  std::map<absl::CivilMonth, v1::ComplaintMonth> months;
  for (absl::CivilMonth m = absl::CivilMonth(range.first);
       m <= absl::CivilMonth(range.last); ++m) {
    v1::ComplaintMonth& month = months[m];
    month.set_year(static_cast<int>(m.year()));
    month.set_month(m.month());
    *month.mutable_label() =
        MakeLabel(domain::FormatMonthTh(m), domain::FormatMonthEn(m));
  }

  absl::Status parse;
  RETURN_IF_ERROR(views.complaints.Scan(
      Key('C', district), [&](absl::string_view key, absl::string_view value) {
        ComplaintRow row;
        parse = ParseRow(key, value, row);
        if (!parse.ok()) {
          return false;
        }
        if (row.received_day() < first || row.received_day() > last) {
          return true;
        }
        stats.set_received(stats.received() + 1);
        if (row.open()) {
          stats.set_open(stats.open() + 1);
          const int age = std::max(0, now - row.received_day());
          stats.set_oldest_open_days(std::max(stats.oldest_open_days(), age));
          for (int b = 0; b < 4; ++b) {
            if (age >= kBuckets[b].min &&
                (kBuckets[b].max == 0 || age <= kBuckets[b].max)) {
              ++bucket_open[b];
              break;
            }
          }
        } else {
          stats.set_closed(stats.closed() + 1);
          days_to_close.push_back(
              std::max(0, row.closed_day() - row.received_day()));
        }
        for (auto* groups : {&by_category, &by_channel}) {
          const bool category = groups == &by_category;
          v1::ComplaintGroup& group =
              (*groups)[category ? static_cast<int>(row.category())
                                 : static_cast<int>(row.channel())];
          group.set_received(group.received() + 1);
          if (row.open()) {
            group.set_open(group.open() + 1);
          } else {
            group.set_closed(group.closed() + 1);
          }
        }
        v1::ComplaintMonth& month =
            months[absl::CivilMonth(DayOf(row.received_day()))];
        month.set_received(month.received() + 1);
        if (row.open()) {
          month.set_in_progress(month.in_progress() + 1);
        } else {
          month.set_completed(month.completed() + 1);
        }
        return true;
      }));
  RETURN_IF_ERROR(parse);

  for (int c = v1::COMPLAINT_CATEGORY_BRIBERY;
       c <= v1::COMPLAINT_CATEGORY_OTHER; ++c) {
    v1::ComplaintGroup group = by_category[c];
    group.set_category(static_cast<v1::ComplaintCategory>(c));
    *group.mutable_label() =
        CategoryLabel(static_cast<v1::ComplaintCategory>(c));
    *stats.add_by_category() = std::move(group);
  }
  for (int c = v1::COMPLAINT_CHANNEL_WEBSITE; c <= v1::COMPLAINT_CHANNEL_OTHER;
       ++c) {
    v1::ComplaintGroup group = by_channel[c];
    group.set_channel(static_cast<v1::ComplaintChannel>(c));
    *group.mutable_label() = ChannelLabel(static_cast<v1::ComplaintChannel>(c));
    *stats.add_by_channel() = std::move(group);
  }
  for (int b = 0; b < 4; ++b) {
    v1::ComplaintAgeBucket* bucket = stats.add_open_ages();
    *bucket->mutable_label() = MakeLabel(kBuckets[b].th, kBuckets[b].en);
    bucket->set_min_days(kBuckets[b].min);
    bucket->set_max_days(kBuckets[b].max);
    bucket->set_open(bucket_open[b]);
  }
  stats.set_closed_count(static_cast<int64_t>(days_to_close.size()));
  if (!days_to_close.empty()) {
    std::sort(days_to_close.begin(), days_to_close.end());
    double sum = 0;
    for (int d : days_to_close) {
      sum += d;
    }
    const size_t n = days_to_close.size();
    stats.set_mean_days_to_close(sum / n);
    stats.set_median_days_to_close(
        n % 2 == 1 ? days_to_close[n / 2]
                   : (days_to_close[n / 2 - 1] + days_to_close[n / 2]) / 2.0);
    stats.set_max_days_to_close(days_to_close.back());
  }
  for (auto& [m, month] : months) {
    *stats.add_monthly() = std::move(month);
  }
  return stats;
}

}  // namespace prongsai::reports

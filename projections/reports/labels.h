// Thai and English labels of the report vocabulary: statuses, score bands,
// gift dispositions and value bands, complaint categories and channels, ITA
// tools and indicators, rounds.
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "prongsai/v1/events.pb.h"
#include "prongsai/v1/reports.pb.h"

namespace prongsai::reports {

v1::Label MakeLabel(absl::string_view th, absl::string_view en);

v1::Label StatusLabel(v1::ProgressStatus status);

// AA >= 95, A >= 85, B >= 75, C >= 65, D >= 55, E >= 50, F below.
v1::ScoreBand BandOf(double score);
double BandMinimum(v1::ScoreBand band);
v1::Label BandLabel(v1::ScoreBand band);
// "AA" .. "F"; empty when unspecified.
absl::string_view BandCode(v1::ScoreBand band);

v1::Label DispositionLabel(v1::GiftDisposition disposition);
v1::Label GiverCategoryLabel(v1::GiverCategory category);
v1::Label ValueBandLabel(v1::GiftValueBand band);

v1::Label CategoryLabel(v1::ComplaintCategory category);
v1::Label ChannelLabel(v1::ComplaintChannel channel);

// "IIT", "EIT", "OIT".
absl::string_view ToolCode(v1::Tool tool);
// "แบบวัดการรับรู้ของผู้มีส่วนได้ส่วนเสียภายใน (IIT)" / "Internal stakeholder
// perception (IIT)"; `name_th` is the framework's name of the tool.
v1::Label ToolLabel(v1::Tool tool, absl::string_view name_th);
// "ตัวชี้วัดที่ 1 การปฏิบัติหน้าที่" / "Indicator 1: Duty performance".
v1::Label IndicatorLabel(int number, absl::string_view name_th,
                         absl::string_view name_en);

// "H1", "H2", "FULL_YEAR".
absl::string_view RoundCode(v1::Round round);

// A score as the report writes it: "100", "99.76".
std::string FormatScore(double score);
// Satang as baht: "6,434,905.00".
std::string FormatBaht(int64_t satang);

}  // namespace prongsai::reports

#include "projections/reports/labels.h"

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace prongsai::reports {

v1::Label MakeLabel(absl::string_view th, absl::string_view en) {
  v1::Label label;
  label.set_th(std::string(th));
  label.set_en(std::string(en));
  return label;
}

v1::Label StatusLabel(v1::ProgressStatus status) {
  switch (status) {
    case v1::PROGRESS_STATUS_IN_PROGRESS:
      return MakeLabel("อยู่ระหว่างดำเนินการ", "In progress");
    case v1::PROGRESS_STATUS_DONE:
      return MakeLabel("ดำเนินการแล้วเสร็จ", "Done");
    case v1::PROGRESS_STATUS_DROPPED:
      return MakeLabel("ยกเลิก", "Dropped");
    default:
      return MakeLabel("ยังไม่ได้ดำเนินการ", "Not started");
  }
}

v1::ScoreBand BandOf(double score) {
  if (score >= 95) return v1::SCORE_BAND_AA;
  if (score >= 85) return v1::SCORE_BAND_A;
  if (score >= 75) return v1::SCORE_BAND_B;
  if (score >= 65) return v1::SCORE_BAND_C;
  if (score >= 55) return v1::SCORE_BAND_D;
  if (score >= 50) return v1::SCORE_BAND_E;
  return v1::SCORE_BAND_F;
}

double BandMinimum(v1::ScoreBand band) {
  switch (band) {
    case v1::SCORE_BAND_AA:
      return 95;
    case v1::SCORE_BAND_A:
      return 85;
    case v1::SCORE_BAND_B:
      return 75;
    case v1::SCORE_BAND_C:
      return 65;
    case v1::SCORE_BAND_D:
      return 55;
    case v1::SCORE_BAND_E:
      return 50;
    default:
      return 0;
  }
}

v1::Label BandLabel(v1::ScoreBand band) {
  switch (band) {
    case v1::SCORE_BAND_AA:
      return MakeLabel("AA (95-100 คะแนน)", "AA (95-100)");
    case v1::SCORE_BAND_A:
      return MakeLabel("A (85-94.99 คะแนน)", "A (85-94.99)");
    case v1::SCORE_BAND_B:
      return MakeLabel("B (75-84.99 คะแนน)", "B (75-84.99)");
    case v1::SCORE_BAND_C:
      return MakeLabel("C (65-74.99 คะแนน)", "C (65-74.99)");
    case v1::SCORE_BAND_D:
      return MakeLabel("D (55-64.99 คะแนน)", "D (55-64.99)");
    case v1::SCORE_BAND_E:
      return MakeLabel("E (50-54.99 คะแนน)", "E (50-54.99)");
    case v1::SCORE_BAND_F:
      return MakeLabel("F (0-49.99 คะแนน)", "F (0-49.99)");
    default:
      return MakeLabel("ไม่มีคะแนน", "No score");
  }
}

absl::string_view BandCode(v1::ScoreBand band) {
  switch (band) {
    case v1::SCORE_BAND_AA:
      return "AA";
    case v1::SCORE_BAND_A:
      return "A";
    case v1::SCORE_BAND_B:
      return "B";
    case v1::SCORE_BAND_C:
      return "C";
    case v1::SCORE_BAND_D:
      return "D";
    case v1::SCORE_BAND_E:
      return "E";
    case v1::SCORE_BAND_F:
      return "F";
    default:
      return "";
  }
}

v1::Label DispositionLabel(v1::GiftDisposition disposition) {
  switch (disposition) {
    case v1::GIFT_DISPOSITION_DECLINED:
      return MakeLabel("ปฏิเสธการรับ", "Declined");
    case v1::GIFT_DISPOSITION_RETURNED:
      return MakeLabel("ส่งคืนผู้ให้", "Returned");
    case v1::GIFT_DISPOSITION_HANDED_TO_AGENCY:
      return MakeLabel("ส่งมอบให้หน่วยงาน", "Handed to the agency");
    case v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION:
      return MakeLabel("รับไว้ตามข้อยกเว้น", "Kept under an exception");
    default:
      return MakeLabel("ไม่ระบุ", "Unspecified");
  }
}

v1::Label GiverCategoryLabel(v1::GiverCategory category) {
  switch (category) {
    case v1::GIVER_CATEGORY_CITIZEN:
      return MakeLabel("ประชาชน", "Citizen");
    case v1::GIVER_CATEGORY_BUSINESS:
      return MakeLabel("ภาคเอกชน", "Business");
    case v1::GIVER_CATEGORY_CONTRACTOR:
      return MakeLabel("ผู้รับจ้าง/คู่สัญญา", "Contractor");
    case v1::GIVER_CATEGORY_OTHER_AGENCY:
      return MakeLabel("หน่วยงานอื่น", "Other agency");
    case v1::GIVER_CATEGORY_COLLEAGUE:
      return MakeLabel("เพื่อนร่วมงาน", "Colleague");
    case v1::GIVER_CATEGORY_OTHER:
      return MakeLabel("อื่น ๆ", "Other");
    default:
      return MakeLabel("ไม่ระบุ", "Unspecified");
  }
}

v1::Label ValueBandLabel(v1::GiftValueBand band) {
  switch (band) {
    case v1::GIFT_VALUE_BAND_NONE:
      return MakeLabel("ไม่มีมูลค่า", "No monetary value");
    case v1::GIFT_VALUE_BAND_UP_TO_3000:
      return MakeLabel("ไม่เกิน 3,000 บาท", "Up to 3,000 baht");
    case v1::GIFT_VALUE_BAND_OVER_3000:
      return MakeLabel("เกิน 3,000 บาท", "More than 3,000 baht");
    default:
      return MakeLabel("ไม่ระบุ", "Unspecified");
  }
}

v1::Label CategoryLabel(v1::ComplaintCategory category) {
  switch (category) {
    case v1::COMPLAINT_CATEGORY_BRIBERY:
      return MakeLabel("การเรียกรับสินบน", "Bribery");
    case v1::COMPLAINT_CATEGORY_ABUSE_OF_POWER:
      return MakeLabel("การใช้อำนาจโดยมิชอบ", "Abuse of power");
    case v1::COMPLAINT_CATEGORY_PROCUREMENT:
      return MakeLabel("การจัดซื้อจัดจ้าง", "Procurement");
    case v1::COMPLAINT_CATEGORY_DISCRIMINATION:
      return MakeLabel("การเลือกปฏิบัติ", "Discrimination");
    case v1::COMPLAINT_CATEGORY_ASSET_MISUSE:
      return MakeLabel("การใช้ทรัพย์สินของราชการโดยมิชอบ",
                       "Misuse of state property");
    case v1::COMPLAINT_CATEGORY_SERVICE_DELAY:
      return MakeLabel("การให้บริการล่าช้า", "Service delay");
    case v1::COMPLAINT_CATEGORY_MISCONDUCT:
      return MakeLabel("การประพฤติมิชอบ", "Misconduct");
    case v1::COMPLAINT_CATEGORY_OTHER:
      return MakeLabel("อื่น ๆ", "Other");
    default:
      return MakeLabel("ไม่ระบุ", "Unspecified");
  }
}

v1::Label ChannelLabel(v1::ComplaintChannel channel) {
  switch (channel) {
    case v1::COMPLAINT_CHANNEL_WEBSITE:
      return MakeLabel("เว็บไซต์สำนักงานเขต", "District website");
    case v1::COMPLAINT_CHANNEL_HOTLINE_1555:
      return MakeLabel("สายด่วน 1555", "Hotline 1555");
    case v1::COMPLAINT_CHANNEL_TRAFFY_FONDUE:
      return MakeLabel("Traffy Fondue", "Traffy Fondue");
    case v1::COMPLAINT_CHANNEL_LETTER:
      return MakeLabel("หนังสือ", "Letter");
    case v1::COMPLAINT_CHANNEL_WALK_IN:
      return MakeLabel("ติดต่อด้วยตนเอง", "Walk-in");
    case v1::COMPLAINT_CHANNEL_BMA_OSS:
      return MakeLabel("BMA OSS", "BMA OSS");
    case v1::COMPLAINT_CHANNEL_OTHER:
      return MakeLabel("อื่น ๆ", "Other");
    default:
      return MakeLabel("ไม่ระบุ", "Unspecified");
  }
}

absl::string_view ToolCode(v1::Tool tool) {
  switch (tool) {
    case v1::TOOL_IIT:
      return "IIT";
    case v1::TOOL_EIT:
      return "EIT";
    case v1::TOOL_OIT:
      return "OIT";
    default:
      return "";
  }
}

v1::Label ToolLabel(v1::Tool tool, absl::string_view name_th) {
  absl::string_view en;
  switch (tool) {
    case v1::TOOL_IIT:
      en = "Internal stakeholder perception";
      break;
    case v1::TOOL_EIT:
      en = "External stakeholder perception";
      break;
    case v1::TOOL_OIT:
      en = "Open data";
      break;
    default:
      en = "Other";
      break;
  }
  const absl::string_view code = ToolCode(tool);
  if (code.empty()) {
    return MakeLabel(name_th, en);
  }
  return MakeLabel(absl::StrCat(name_th, " (", code, ")"),
                   absl::StrCat(en, " (", code, ")"));
}

v1::Label IndicatorLabel(int number, absl::string_view name_th,
                         absl::string_view name_en) {
  return MakeLabel(absl::StrCat("ตัวชี้วัดที่ ", number, " ", name_th),
                   absl::StrCat("Indicator ", number, ": ", name_en));
}

absl::string_view RoundCode(v1::Round round) {
  switch (round) {
    case v1::ROUND_H1:
      return "H1";
    case v1::ROUND_H2:
      return "H2";
    case v1::ROUND_FULL_YEAR:
      return "FULL_YEAR";
    default:
      return "";
  }
}

std::string FormatScore(double score) {
  std::string text = absl::StrFormat("%.2f", score);
  while (!text.empty() && text.back() == '0') {
    text.pop_back();
  }
  if (!text.empty() && text.back() == '.') {
    text.pop_back();
  }
  return text;
}

std::string FormatBaht(int64_t satang) {
  const bool negative = satang < 0;
  const uint64_t abs =
      negative ? static_cast<uint64_t>(-satang) : static_cast<uint64_t>(satang);
  std::string whole = absl::StrCat(abs / 100);
  std::string grouped;
  for (size_t i = 0; i < whole.size(); ++i) {
    if (i > 0 && (whole.size() - i) % 3 == 0) {
      grouped.push_back(',');
    }
    grouped.push_back(whole[i]);
  }
  return absl::StrFormat("%s%s.%02d", negative ? "-" : "", grouped,
                         static_cast<int>(abs % 100));
}

}  // namespace prongsai::reports

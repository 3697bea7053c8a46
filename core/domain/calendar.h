// The Thai government calendar: Buddhist-era years, fiscal years (1 October -
// 30 September, named by the Buddhist-era year in which they end) and their
// two rounds, H1 (October - March) and H2 (April - September), with Thai and
// English labels for reports.
//
// Example:
//   absl::CivilDay day(2024, 10, 15);
//   FiscalYearOf(day);                    // 2568
//   RoundOf(day);                         // v1::ROUND_H1
//   FormatDateTh(day);                    // "15 ตุลาคม 2567"
//   FormatMonthThShort(day);              // "ต.ค. 67"
//   RoundLabelTh(2568, v1::ROUND_H1);
//       // "รอบ 6 เดือนแรก (ตุลาคม 2567 - มีนาคม 2568)"
#pragma once

#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "prongsai/v1/common.pb.h"

namespace prongsai::domain {

// Buddhist era = Gregorian + 543.
inline constexpr int kBuddhistEraOffset = 543;

inline constexpr int ToBuddhistEra(int gregorian_year) {
  return gregorian_year + kBuddhistEraOffset;
}
inline constexpr int ToGregorian(int buddhist_year) {
  return buddhist_year - kBuddhistEraOffset;
}

// True when `date` names a real day of the Gregorian calendar (years 1-9999).
bool IsValidDate(const v1::Date& date);

// `date` as a civil day; `date` must be valid (see IsValidDate).
absl::CivilDay ToCivilDay(const v1::Date& date);
v1::Date ToDate(absl::CivilDay day);

// Thailand's time zone (UTC+7, no daylight saving time).
absl::TimeZone BangkokTimeZone();
// The day in Bangkok at instant `t`.
absl::CivilDay BangkokDay(absl::Time t);

// The fiscal year (Buddhist era) that contains `day`: 1 Oct 2024 - 30 Sep 2025
// is fiscal year 2568.
int FiscalYearOf(absl::CivilDay day);

// ROUND_H1 for October - March, ROUND_H2 for April - September.
v1::Round RoundOf(absl::CivilDay day);

// An inclusive range of days.
struct DayRange {
  absl::CivilDay first;
  absl::CivilDay last;

  bool Contains(absl::CivilDay day) const {
    return first <= day && day <= last;
  }
};

// 1 October of (fiscal_year - 544) to 30 September of (fiscal_year - 543).
DayRange FiscalYearRange(int fiscal_year);

// The days of `round` in `fiscal_year`. ROUND_FULL_YEAR and ROUND_UNSPECIFIED
// give the whole fiscal year.
DayRange RoundRange(int fiscal_year, v1::Round round);

// The days of `quarter` (1-4) of `fiscal_year`: quarter 1 is October -
// December. `quarter` must be 1-4.
DayRange QuarterRange(int fiscal_year, int quarter);

// Month names; `month` is 1-12.
absl::string_view ThaiMonthName(int month);          // "ตุลาคม"
absl::string_view ThaiMonthAbbreviation(int month);  // "ต.ค."
absl::string_view EnglishMonthName(int month);       // "October"

// "15 ตุลาคม 2567" (Buddhist era).
std::string FormatDateTh(absl::CivilDay day);
// "15 ต.ค. 67" (two-digit Buddhist-era year).
std::string FormatDateThShort(absl::CivilDay day);
// "ตุลาคม 2567".
std::string FormatMonthTh(absl::CivilMonth month);
// "ต.ค. 67".
std::string FormatMonthThShort(absl::CivilMonth month);
// "15 October 2024" (Gregorian, as English readers expect).
std::string FormatDateEn(absl::CivilDay day);
// "October 2024".
std::string FormatMonthEn(absl::CivilMonth month);

// "ปีงบประมาณ พ.ศ. 2568".
std::string FiscalYearLabelTh(int fiscal_year);
// "fiscal year 2568 (October 2024 - September 2025)".
std::string FiscalYearLabelEn(int fiscal_year);

// "รอบ 6 เดือนแรก (ตุลาคม 2567 - มีนาคม 2568)",
// "รอบ 6 เดือนหลัง (เมษายน 2568 - กันยายน 2568)",
// "รอบ 12 เดือน (ตุลาคม 2567 - กันยายน 2568)".
std::string RoundLabelTh(int fiscal_year, v1::Round round);
// "first 6 months (October 2024 - March 2025)",
// "second 6 months (April 2025 - September 2025)",
// "full year (October 2024 - September 2025)".
std::string RoundLabelEn(int fiscal_year, v1::Round round);

}  // namespace prongsai::domain

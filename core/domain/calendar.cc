#include "core/domain/calendar.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace prongsai::domain {
namespace {

constexpr std::array<absl::string_view, 12> kThaiMonths = {
    "มกราคม",  "กุมภาพันธ์", "มีนาคม",  "เมษายน", "พฤษภาคม",  "มิถุนายน",
    "กรกฎาคม", "สิงหาคม",  "กันยายน", "ตุลาคม",  "พฤศจิกายน", "ธันวาคม"};
constexpr std::array<absl::string_view, 12> kThaiMonthAbbreviations = {
    "ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
    "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",  "พ.ย.", "ธ.ค."};
constexpr std::array<absl::string_view, 12> kEnglishMonths = {
    "January", "February", "March",     "April",   "May",      "June",
    "July",    "August",   "September", "October", "November", "December"};

// The fiscal year starts in October of the Gregorian year before the one in
// which it ends.
constexpr int kFirstMonth = 10;

absl::string_view MonthAt(const std::array<absl::string_view, 12>& names,
                          int month) {
  if (month < 1 || month > 12) {
    return "?";
  }
  return names[month - 1];
}

std::string MonthSpanTh(const DayRange& range) {
  return absl::StrCat(FormatMonthTh(absl::CivilMonth(range.first)), " - ",
                      FormatMonthTh(absl::CivilMonth(range.last)));
}

std::string MonthSpanEn(const DayRange& range) {
  return absl::StrCat(FormatMonthEn(absl::CivilMonth(range.first)), " - ",
                      FormatMonthEn(absl::CivilMonth(range.last)));
}

}  // namespace

bool IsValidDate(const v1::Date& date) {
  if (date.year() < 1 || date.year() > 9999 || date.month() < 1 ||
      date.month() > 12 || date.day() < 1 || date.day() > 31) {
    return false;
  }
  // CivilDay normalizes out-of-range days (31 April -> 1 May); a real date
  // survives the round trip unchanged.
  const absl::CivilDay day(date.year(), date.month(), date.day());
  return day.year() == date.year() && day.month() == date.month() &&
         day.day() == date.day();
}

absl::CivilDay ToCivilDay(const v1::Date& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

v1::Date ToDate(absl::CivilDay day) {
  v1::Date date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

constexpr int64_t kBangkokOffsetSeconds = 7 * 60 * 60;

absl::TimeZone BangkokTimeZone() {
  // Making a fixed zone looks it up in a global, locked table.
  static const absl::TimeZone zone = absl::FixedTimeZone(kBangkokOffsetSeconds);
  return zone;
}

absl::CivilDay BangkokDay(absl::Time t) {
  // Bangkok keeps UTC+7 all year (no daylight saving), so its day is plain
  // arithmetic: this runs for every event ingested and every event replayed.
  if (t == absl::InfinitePast() || t == absl::InfiniteFuture()) {
    return absl::ToCivilDay(t, BangkokTimeZone());
  }
  const int64_t seconds = absl::ToUnixSeconds(t) + kBangkokOffsetSeconds;
  const int64_t days =
      seconds >= 0 ? seconds / 86400 : -((-seconds + 86399) / 86400);
  return absl::CivilDay(1970, 1, 1) + days;
}

int FiscalYearOf(absl::CivilDay day) {
  const int year = static_cast<int>(day.year());
  return ToBuddhistEra(day.month() >= kFirstMonth ? year + 1 : year);
}

v1::Round RoundOf(absl::CivilDay day) {
  return day.month() >= 4 && day.month() <= 9 ? v1::ROUND_H2 : v1::ROUND_H1;
}

DayRange FiscalYearRange(int fiscal_year) {
  const int end_year = ToGregorian(fiscal_year);
  return {absl::CivilDay(end_year - 1, kFirstMonth, 1),
          absl::CivilDay(end_year, 9, 30)};
}

DayRange RoundRange(int fiscal_year, v1::Round round) {
  const int end_year = ToGregorian(fiscal_year);
  switch (round) {
    case v1::ROUND_H1:
      return {absl::CivilDay(end_year - 1, kFirstMonth, 1),
              absl::CivilDay(end_year, 3, 31)};
    case v1::ROUND_H2:
      return {absl::CivilDay(end_year, 4, 1), absl::CivilDay(end_year, 9, 30)};
    default:
      return FiscalYearRange(fiscal_year);
  }
}

DayRange QuarterRange(int fiscal_year, int quarter) {
  const absl::CivilMonth first =
      absl::CivilMonth(ToGregorian(fiscal_year) - 1, kFirstMonth) +
      absl::civil_diff_t{3} * (quarter - 1);
  return {absl::CivilDay(first), absl::CivilDay(first + 3) - 1};
}

absl::string_view ThaiMonthName(int month) {
  return MonthAt(kThaiMonths, month);
}

absl::string_view ThaiMonthAbbreviation(int month) {
  return MonthAt(kThaiMonthAbbreviations, month);
}

absl::string_view EnglishMonthName(int month) {
  return MonthAt(kEnglishMonths, month);
}

std::string FormatDateTh(absl::CivilDay day) {
  return absl::StrCat(day.day(), " ", ThaiMonthName(day.month()), " ",
                      ToBuddhistEra(static_cast<int>(day.year())));
}

std::string FormatDateThShort(absl::CivilDay day) {
  return absl::StrCat(day.day(), " ",
                      FormatMonthThShort(absl::CivilMonth(day)));
}

std::string FormatMonthTh(absl::CivilMonth month) {
  return absl::StrCat(ThaiMonthName(month.month()), " ",
                      ToBuddhistEra(static_cast<int>(month.year())));
}

std::string FormatMonthThShort(absl::CivilMonth month) {
  return absl::StrFormat("%s %02d", ThaiMonthAbbreviation(month.month()),
                         ToBuddhistEra(static_cast<int>(month.year())) % 100);
}

std::string FormatDateEn(absl::CivilDay day) {
  return absl::StrCat(day.day(), " ", EnglishMonthName(day.month()), " ",
                      day.year());
}

std::string FormatMonthEn(absl::CivilMonth month) {
  return absl::StrCat(EnglishMonthName(month.month()), " ", month.year());
}

std::string FiscalYearLabelTh(int fiscal_year) {
  return absl::StrCat("ปีงบประมาณ พ.ศ. ", fiscal_year);
}

std::string FiscalYearLabelEn(int fiscal_year) {
  return absl::StrCat("fiscal year ", fiscal_year, " (",
                      MonthSpanEn(FiscalYearRange(fiscal_year)), ")");
}

std::string RoundLabelTh(int fiscal_year, v1::Round round) {
  absl::string_view name;
  switch (round) {
    case v1::ROUND_H1:
      name = "รอบ 6 เดือนแรก";
      break;
    case v1::ROUND_H2:
      name = "รอบ 6 เดือนหลัง";
      break;
    default:
      name = "รอบ 12 เดือน";
      break;
  }
  return absl::StrCat(name, " (", MonthSpanTh(RoundRange(fiscal_year, round)),
                      ")");
}

std::string RoundLabelEn(int fiscal_year, v1::Round round) {
  absl::string_view name;
  switch (round) {
    case v1::ROUND_H1:
      name = "first 6 months";
      break;
    case v1::ROUND_H2:
      name = "second 6 months";
      break;
    default:
      name = "full year";
      break;
  }
  return absl::StrCat(name, " (", MonthSpanEn(RoundRange(fiscal_year, round)),
                      ")");
}

}  // namespace prongsai::domain

// The Thai calendar: fiscal years, rounds, Buddhist-era dates and labels.
#include "core/domain/calendar.h"

#include <string>

#include "gtest/gtest.h"

namespace prongsai::domain {
namespace {

v1::Date D(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

TEST(CalendarTest, FiscalYearAndRoundOfADay) {
  struct Case {
    absl::CivilDay day;
    int fiscal_year;
    v1::Round round;
  };
  const Case cases[] = {
      {absl::CivilDay(2024, 9, 30), 2567, v1::ROUND_H2},
      {absl::CivilDay(2024, 10, 1), 2568, v1::ROUND_H1},
      {absl::CivilDay(2024, 12, 31), 2568, v1::ROUND_H1},
      {absl::CivilDay(2025, 1, 1), 2568, v1::ROUND_H1},
      {absl::CivilDay(2025, 3, 31), 2568, v1::ROUND_H1},
      {absl::CivilDay(2025, 4, 1), 2568, v1::ROUND_H2},
      {absl::CivilDay(2025, 9, 30), 2568, v1::ROUND_H2},
      {absl::CivilDay(2025, 10, 1), 2569, v1::ROUND_H1},
      {absl::CivilDay(2000, 1, 1), 2543, v1::ROUND_H1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(FormatDateEn(c.day));
    EXPECT_EQ(FiscalYearOf(c.day), c.fiscal_year);
    EXPECT_EQ(RoundOf(c.day), c.round);
    EXPECT_TRUE(FiscalYearRange(c.fiscal_year).Contains(c.day));
    EXPECT_TRUE(RoundRange(c.fiscal_year, c.round).Contains(c.day));
  }
}

TEST(CalendarTest, RangesOfAFiscalYear) {
  const DayRange year = FiscalYearRange(2568);
  EXPECT_EQ(year.first, absl::CivilDay(2024, 10, 1));
  EXPECT_EQ(year.last, absl::CivilDay(2025, 9, 30));
  EXPECT_FALSE(year.Contains(absl::CivilDay(2024, 9, 30)));
  EXPECT_FALSE(year.Contains(absl::CivilDay(2025, 10, 1)));

  const DayRange h1 = RoundRange(2568, v1::ROUND_H1);
  EXPECT_EQ(h1.first, absl::CivilDay(2024, 10, 1));
  EXPECT_EQ(h1.last, absl::CivilDay(2025, 3, 31));
  const DayRange h2 = RoundRange(2568, v1::ROUND_H2);
  EXPECT_EQ(h2.first, absl::CivilDay(2025, 4, 1));
  EXPECT_EQ(h2.last, absl::CivilDay(2025, 9, 30));
  const DayRange full = RoundRange(2568, v1::ROUND_FULL_YEAR);
  EXPECT_EQ(full.first, year.first);
  EXPECT_EQ(full.last, year.last);

  const absl::CivilDay quarters[][2] = {
      {absl::CivilDay(2024, 10, 1), absl::CivilDay(2024, 12, 31)},
      {absl::CivilDay(2025, 1, 1), absl::CivilDay(2025, 3, 31)},
      {absl::CivilDay(2025, 4, 1), absl::CivilDay(2025, 6, 30)},
      {absl::CivilDay(2025, 7, 1), absl::CivilDay(2025, 9, 30)},
  };
  for (int q = 1; q <= 4; ++q) {
    SCOPED_TRACE(q);
    EXPECT_EQ(QuarterRange(2568, q).first, quarters[q - 1][0]);
    EXPECT_EQ(QuarterRange(2568, q).last, quarters[q - 1][1]);
  }
}

TEST(CalendarTest, BuddhistEraConversion) {
  EXPECT_EQ(ToBuddhistEra(2024), 2567);
  EXPECT_EQ(ToGregorian(2568), 2025);
  EXPECT_EQ(ToGregorian(ToBuddhistEra(1999)), 1999);
}

TEST(CalendarTest, ValidDates) {
  struct Case {
    v1::Date date;
    bool valid;
  };
  const Case cases[] = {
      {D(2024, 2, 29), true},   // leap year
      {D(2025, 2, 29), false},  // not a leap year
      {D(2100, 2, 29), false},  // century, not a leap year
      {D(2000, 2, 29), true},   // divisible by 400
      {D(2025, 4, 31), false}, {D(2025, 12, 31), true}, {D(2025, 13, 1), false},
      {D(2025, 0, 1), false},  {D(2025, 1, 0), false},  {D(0, 1, 1), false},
      {D(-2025, 1, 1), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.date.ShortDebugString());
    EXPECT_EQ(IsValidDate(c.date), c.valid);
    if (c.valid) {
      EXPECT_EQ(ToDate(ToCivilDay(c.date)).ShortDebugString(),
                c.date.ShortDebugString());
    }
  }
}

TEST(CalendarTest, BangkokDayIsSevenHoursAheadOfUtc) {
  // 30 Sep 2025 17:00 UTC is already 1 Oct 2025 in Bangkok: FY 2569.
  const absl::Time t = absl::FromCivil(absl::CivilSecond(2025, 9, 30, 17, 0, 0),
                                       absl::UTCTimeZone());
  EXPECT_EQ(BangkokDay(t), absl::CivilDay(2025, 10, 1));
  EXPECT_EQ(FiscalYearOf(BangkokDay(t)), 2569);
  EXPECT_EQ(BangkokDay(t - absl::Seconds(1)), absl::CivilDay(2025, 9, 30));
}

TEST(CalendarTest, BangkokDayAgreesWithTheTimeZoneEverywhere) {
  const absl::TimeZone bangkok = absl::FixedTimeZone(7 * 60 * 60);
  for (int64_t s = -3 * 86400; s <= 3 * 86400; s += 1799) {
    for (absl::Duration frac :
         {absl::ZeroDuration(), absl::Milliseconds(999)}) {
      const absl::Time t = absl::FromUnixSeconds(s) + frac;
      EXPECT_EQ(BangkokDay(t), absl::ToCivilDay(t, bangkok)) << t;
      const absl::Time late = t + absl::Hours(24 * 365 * 56);
      EXPECT_EQ(BangkokDay(late), absl::ToCivilDay(late, bangkok)) << late;
    }
  }
  EXPECT_EQ(BangkokDay(absl::FromUnixSeconds(17 * 3600) - absl::Nanoseconds(1)),
            absl::CivilDay(1970, 1, 1));
  EXPECT_EQ(BangkokDay(absl::FromUnixSeconds(17 * 3600)),
            absl::CivilDay(1970, 1, 2));
  EXPECT_EQ(BangkokDay(absl::FromUnixSeconds(-7 * 3600) - absl::Nanoseconds(1)),
            absl::CivilDay(1969, 12, 31));
}

TEST(CalendarTest, FormatsDatesInThaiAndEnglish) {
  const absl::CivilDay day(2024, 10, 15);
  EXPECT_EQ(FormatDateTh(day), "15 ตุลาคม 2567");
  EXPECT_EQ(FormatDateThShort(day), "15 ต.ค. 67");
  EXPECT_EQ(FormatMonthTh(absl::CivilMonth(day)), "ตุลาคม 2567");
  EXPECT_EQ(FormatMonthThShort(absl::CivilMonth(day)), "ต.ค. 67");
  EXPECT_EQ(FormatDateEn(day), "15 October 2024");
  EXPECT_EQ(FormatMonthEn(absl::CivilMonth(day)), "October 2024");
  EXPECT_EQ(FormatDateTh(absl::CivilDay(2025, 1, 1)), "1 มกราคม 2568");
  EXPECT_EQ(FormatMonthThShort(absl::CivilMonth(2043, 5)), "พ.ค. 86");
  EXPECT_EQ(FormatMonthThShort(absl::CivilMonth(2057, 4)), "เม.ย. 00");
}

TEST(CalendarTest, MonthNamesOfTheWholeYear) {
  const char* full[] = {"มกราคม",  "กุมภาพันธ์", "มีนาคม",    "เมษายน",
                        "พฤษภาคม", "มิถุนายน",  "กรกฎาคม",  "สิงหาคม",
                        "กันยายน",  "ตุลาคม",   "พฤศจิกายน", "ธันวาคม"};
  const char* abbreviated[] = {"ม.ค.", "ก.พ.", "มี.ค.", "เม.ย.", "พ.ค.", "มิ.ย.",
                               "ก.ค.", "ส.ค.", "ก.ย.", "ต.ค.",  "พ.ย.", "ธ.ค."};
  for (int month = 1; month <= 12; ++month) {
    SCOPED_TRACE(month);
    EXPECT_EQ(ThaiMonthName(month), full[month - 1]);
    EXPECT_EQ(ThaiMonthAbbreviation(month), abbreviated[month - 1]);
  }
  EXPECT_EQ(EnglishMonthName(9), "September");
  EXPECT_EQ(ThaiMonthName(13), "?");
}

TEST(CalendarTest, RoundLabels) {
  EXPECT_EQ(RoundLabelTh(2568, v1::ROUND_H1),
            "รอบ 6 เดือนแรก (ตุลาคม 2567 - มีนาคม 2568)");
  EXPECT_EQ(RoundLabelTh(2568, v1::ROUND_H2),
            "รอบ 6 เดือนหลัง (เมษายน 2568 - กันยายน 2568)");
  EXPECT_EQ(RoundLabelTh(2568, v1::ROUND_FULL_YEAR),
            "รอบ 12 เดือน (ตุลาคม 2567 - กันยายน 2568)");
  EXPECT_EQ(RoundLabelEn(2568, v1::ROUND_H1),
            "first 6 months (October 2024 - March 2025)");
  EXPECT_EQ(RoundLabelEn(2568, v1::ROUND_H2),
            "second 6 months (April 2025 - September 2025)");
  EXPECT_EQ(FiscalYearLabelTh(2568), "ปีงบประมาณ พ.ศ. 2568");
  EXPECT_EQ(FiscalYearLabelEn(2568),
            "fiscal year 2568 (October 2024 - September 2025)");
}

}  // namespace
}  // namespace prongsai::domain

// Row keys of the report views, shared by the projections that write them
// and the builders that read them.
//
// Streams ("1001".."1050", "city") and fiscal years ("2568") are fixed-width,
// so they need no separator; a variable-length id is followed by '\0' when
// more follows. Positions are 8-byte big-endian, so rows sort in log order.
// Applying an event reads rows by key only, never by a range scan: a range
// scan inside a write batch walks over deleted rows, which makes rebuilds
// slow; what an event needs to see is kept in one small row instead.
//
//   ita_progress   F fy                      -> FrameworkRow
//                  D code                    -> DistrictRow
//                  S d fy item \0 pos        -> ScoreRow
//                  I d fy item \0 pos        -> IssueRow
//                  M d fy pos                -> MeasureRow
//                  R d measure \0 G pos      -> ProgressRow
//                  R d measure \0 V pos      -> EvidenceRow
//   gifts          G d fy report             -> GiftRow
//                  A fy d half disp band     -> count(8) value(8)
//                  U fy d round submission   -> SubmissionRow
//   complaints     C d complaint             -> ComplaintRow (+ transitions)
//                  O d day(4) complaint      -> "" (open complaints)
//   city_overview  T d measure               -> MeasureStateRow
//                  G d measure               -> ProgressMarksRow
//                  S d fy item               -> ScoreHistoryRow
//                  O fy d item               -> ItemAggregateRow
//                  R fy d                    -> RoundReportsRow
//   report_journal J stream pos              -> the stored record bytes
//   every view     E stream event_id         -> Locator (not the journal)
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"

namespace prongsai::reports {

// The names of the views (projections).
inline constexpr absl::string_view kProgressView = "ita_progress";
inline constexpr absl::string_view kGiftsView = "gifts";
inline constexpr absl::string_view kComplaintsView = "complaints";
inline constexpr absl::string_view kCityView = "city_overview";

// Width of a stream name in keys: district codes and "city".
inline constexpr size_t kStreamWidth = 4;

// "2568".
std::string FiscalYearKey(int fiscal_year);
void AppendPosition(uint64_t position, std::string* key);
// 4-byte big-endian of a day number (days since 1970-01-01, >= 0).
void AppendDay(int32_t day, std::string* key);
int32_t ReadDay(const char* data);

// Keys built from parts, e.g. Key('M', district, FiscalYearKey(fy)).
std::string Key(char kind, absl::string_view a, absl::string_view b = {},
                absl::string_view c = {}, absl::string_view d = {});

// The locator of an event.
std::string LocatorKey(absl::string_view stream, absl::string_view event_id);

// Splits "prefix id \0 rest" at the '\0' after `offset`; returns the id, and
// sets `rest` to what follows the '\0' (empty when there is none).
absl::string_view IdAt(absl::string_view key, size_t offset,
                       absl::string_view* rest = nullptr);

// The 8-byte position at the end of a key; 0 when the key is too short.
uint64_t TrailingPosition(absl::string_view key);

// Days since 1970-01-01 of a civil day, and back.
int32_t DayNumber(absl::CivilDay day);
absl::CivilDay DayOf(int32_t day_number);

}  // namespace prongsai::reports

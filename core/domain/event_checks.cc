#include "core/domain/event_checks.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"
#include "google/protobuf/descriptor.h"

namespace prongsai::domain::internal {
namespace {

using google::protobuf::EnumDescriptor;

// ---------------------------------------------------------------------------
// Limits

// FY 2543 is October 1999 - September 2000: nothing before 2000 is recorded.
constexpr int kMinFiscalYear = 2543;
constexpr int64_t kEarliestSeconds = 946684800;  // 2000-01-01T00:00:00Z
constexpr absl::Duration kMaxAhead = absl::Hours(24);
constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTextBytes = size_t{64} * 1024;
constexpr size_t kMaxUrlBytes = 2048;
// Ten trillion baht: more than the whole national budget.
constexpr int64_t kMaxSatang = 1'000'000'000'000'000;
constexpr int kMaxScore = 100;

// ---------------------------------------------------------------------------
// Error paths and messages

// A field path such as events[2].meeting_held.agenda_items[0].measure_ids[1],
// rendered only when a rule is broken.
class Path {
 public:
  Path(absl::string_view name, int index) : name_(name), index_(index) {}

  [[nodiscard]] Path Field(absl::string_view name) const {
    return {this, name, -1};
  }
  [[nodiscard]] Path At(absl::string_view name, int index) const {
    return {this, name, index};
  }

  [[nodiscard]] std::string Render() const {
    std::string out;
    if (parent_ != nullptr) {
      out = parent_->Render();
      out.push_back('.');
    }
    absl::StrAppend(&out, name_);
    if (index_ >= 0) {
      absl::StrAppend(&out, "[", index_, "]");
    }
    return out;
  }

 private:
  Path(const Path* parent, absl::string_view name, int index)
      : parent_(parent), name_(name), index_(index) {}

  const Path* parent_ = nullptr;
  absl::string_view name_;
  int index_ = -1;
};

template <typename... Args>
absl::Status Fail(const Path& at, const Args&... rule) {
  return absl::InvalidArgumentError(absl::StrCat(at.Render(), ": ", rule...));
}

std::string DateText(const v1::Date& d) {
  return absl::StrCat(d.year(), "-", d.month(), "-", d.day());
}

std::string DayText(absl::CivilDay day) { return FormatDateEn(day); }

absl::string_view PayloadName(Kind kind) {
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(static_cast<int>(kind));
  return field == nullptr ? absl::string_view("payload")
                          : absl::string_view(field->name());
}

// ---------------------------------------------------------------------------
// Field rules

bool Blank(absl::string_view text) {
  return absl::StripAsciiWhitespace(text).empty();
}

absl::Status CheckText(const Path& at, absl::string_view text, bool required) {
  if (required && Blank(text)) {
    return Fail(at, "required; must not be empty");
  }
  if (text.size() > kMaxTextBytes) {
    return Fail(at, "too long: ", text.size(), " bytes; at most ",
                kMaxTextBytes);
  }
  return absl::OkStatus();
}

// An id chosen by the client: 1-128 bytes, no spaces or control characters.
absl::Status CheckId(const Path& at, absl::string_view id) {
  if (id.empty()) {
    return Fail(at, "required; must not be empty");
  }
  if (id.size() > kMaxIdBytes) {
    return Fail(at, "too long for an id: ", id.size(), " bytes; at most ",
                kMaxIdBytes);
  }
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Fail(at, "id ", Quote(id),
                  " contains a space or control character");
    }
  }
  if (!IsValidUtf8(id)) {
    return Fail(at, "id is not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckUuid(const Path& at, absl::string_view id) {
  if (!IsUuid(id)) {
    return Fail(at, "must be a UUID (8-4-4-4-12 hexadecimal digits), got ",
                Quote(id));
  }
  return absl::OkStatus();
}

absl::Status CheckUrl(const Path& at, absl::string_view url, bool required) {
  if (url.empty()) {
    return required ? Fail(at, "required; give the http(s) address")
                    : absl::OkStatus();
  }
  if (url.size() > kMaxUrlBytes) {
    return Fail(at, "too long for a URL: ", url.size(), " bytes; at most ",
                kMaxUrlBytes);
  }
  absl::string_view rest;
  if (absl::StartsWithIgnoreCase(url, "https://")) {
    rest = url.substr(8);
  } else if (absl::StartsWithIgnoreCase(url, "http://")) {
    rest = url.substr(7);
  } else {
    return Fail(at, "must be an http:// or https:// URL, got ", Quote(url));
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') {
    return Fail(at, "URL ", Quote(url), " names no host");
  }
  for (char c : url) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Fail(at, "URL ", Quote(url),
                  " contains a space or control character");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckMoney(const Path& at, int64_t satang) {
  if (satang < 0) {
    return Fail(at, "must not be negative: ", satang, " satang");
  }
  if (satang > kMaxSatang) {
    return Fail(at, "implausibly large: ", satang,
                " satang (amounts are in satang, 1 baht = 100 satang)");
  }
  return absl::OkStatus();
}

absl::Status CheckCount(const Path& at, int64_t value) {
  if (value < 0) {
    return Fail(at, "must not be negative: ", value);
  }
  return absl::OkStatus();
}

// An enum field: set, to a value this schema knows, and (when `only` is not
// empty) to one of `only`.
absl::Status CheckEnum(const Path& at, int value, const EnumDescriptor* type,
                       std::initializer_list<int> only = {}) {
  const bool ok =
      only.size() == 0
          ? value != 0 && type->FindValueByNumber(value) != nullptr
          : std::find(only.begin(), only.end(), value) != only.end();
  if (ok) {
    return absl::OkStatus();
  }
  std::vector<std::string> names;
  for (int i = 0; i < type->value_count(); ++i) {
    const int number = type->value(i)->number();
    if (only.size() == 0
            ? number != 0
            : std::find(only.begin(), only.end(), number) != only.end()) {
      names.push_back(type->value(i)->name());
    }
  }
  const std::string choices = absl::StrJoin(names, ", ");
  if (value == 0) {
    return Fail(at, "required; set one of ", choices);
  }
  if (const auto* v = type->FindValueByNumber(value); v != nullptr) {
    return Fail(at, v->name(), " is not allowed here; use one of ", choices);
  }
  return Fail(at, "unknown value ", value, "; use one of ", choices);
}

absl::Status CheckPerson(const Path& at, bool has, const v1::Person& person,
                         bool required) {
  if (!has) {
    return required ? Fail(at, "required; name the person (name or subject_id)")
                    : absl::OkStatus();
  }
  if (person.subject_id().empty() && Blank(person.name())) {
    return Fail(at, "names nobody; set name or subject_id");
  }
  if (!person.subject_id().empty()) {
    RETURN_IF_ERROR(CheckId(at.Field("subject_id"), person.subject_id()));
  }
  RETURN_IF_ERROR(CheckText(at.Field("name"), person.name(), false));
  RETURN_IF_ERROR(CheckText(at.Field("contact"), person.contact(), false));
  RETURN_IF_ERROR(CheckText(at.Field("position"), person.position(), false));
  RETURN_IF_ERROR(CheckText(at.Field("division"), person.division(), false));
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Checking one event against the model

struct Ctx {
  const WriteModel& model;
  const StreamModel& stream;
  bool city = false;
  absl::Time now;
  absl::CivilDay today;  // in Bangkok
  int max_fiscal_year = 0;
  // When the fact happened (the correcting event's time for a replacement).
  absl::Time occurred;
  // Set while checking a correction's replacement: created identities must
  // stay those of the original, and the rules that depend on the order of
  // events (duplicates, life cycles) were settled by the original.
  bool replacement = false;
  uint64_t original_target = 0;
};

// A date of something that happened (kFact: not after tomorrow) or that is
// planned (kPlanned: not after the last fiscal year open for planning).
enum class DateUse { kFact, kPlanned };

absl::StatusOr<std::optional<absl::CivilDay>> CheckDate(
    const Ctx& c, const Path& at, bool has, const v1::Date& date, bool required,
    DateUse use) {
  if (!has) {
    if (required) {
      return Fail(at, "required; give the date");
    }
    return std::optional<absl::CivilDay>();
  }
  if (!IsValidDate(date)) {
    return Fail(at, "not a calendar date: ", DateText(date),
                " (year-month-day, Gregorian)");
  }
  const absl::CivilDay day = ToCivilDay(date);
  if (day < absl::CivilDay(2000, 1, 1)) {
    return Fail(at, DayText(day), " is before 1 January 2000");
  }
  if (use == DateUse::kFact && day > c.today + 1) {
    return Fail(at, DayText(day), " is in the future (today is ",
                DayText(c.today), ")");
  }
  const absl::CivilDay last = FiscalYearRange(c.max_fiscal_year).last;
  if (use == DateUse::kPlanned && day > last) {
    return Fail(at, DayText(day), " is too far ahead; plans reach at most ",
                DayText(last));
  }
  return std::optional<absl::CivilDay>(day);
}

absl::StatusOr<absl::Time> CheckTime(const Ctx& c, const Path& at, bool has,
                                     const google::protobuf::Timestamp& ts) {
  if (!has) {
    return Fail(at, "required; give the time");
  }
  if (ts.nanos() < 0 || ts.nanos() > 999'999'999) {
    return Fail(at.Field("nanos"), "must be 0-999999999, got ", ts.nanos());
  }
  if (ts.seconds() < kEarliestSeconds) {
    return Fail(at, "is before 1 January 2000");
  }
  if (ts.seconds() > absl::ToUnixSeconds(c.now + kMaxAhead)) {
    return Fail(at, "is more than a day in the future (now is ",
                absl::FormatTime(c.now, absl::UTCTimeZone()), ")");
  }
  return absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
}

absl::Status CheckFiscalYear(const Ctx& c, const Path& at, int fiscal_year) {
  if (fiscal_year == 0) {
    return Fail(at, "required; give the fiscal year in the Buddhist era, e.g. ",
                FiscalYearOf(c.today));
  }
  if (fiscal_year < kMinFiscalYear) {
    return Fail(at, "FY ", fiscal_year, " is before FY ", kMinFiscalYear,
                " (fiscal years are Buddhist-era years, e.g. ",
                FiscalYearOf(c.today), ")");
  }
  if (fiscal_year > c.max_fiscal_year) {
    return Fail(at, "FY ", fiscal_year,
                " is too far ahead; the latest open is FY ", c.max_fiscal_year);
  }
  return absl::OkStatus();
}

absl::StatusOr<const Framework*> FindFramework(const Ctx& c, const Path& at,
                                               int fiscal_year) {
  RETURN_IF_ERROR(CheckFiscalYear(c, at, fiscal_year));
  auto it = c.model.frameworks.find(fiscal_year);
  if (it == c.model.frameworks.end()) {
    return Fail(at, "no ITA framework is published for FY ", fiscal_year,
                "; publish it on the city stream first");
  }
  return &it->second;
}

absl::Status CheckItemCode(const Path& at, const Framework& framework,
                           int fiscal_year, absl::string_view code,
                           bool oit_only) {
  if (code.empty()) {
    return Fail(at, R"(required; give an item code such as "I1" or "O5")");
  }
  for (const FrameworkEntry& item : framework.items) {
    if (ItemCodeCovers(item.code, code)) {
      if (oit_only && item.tool != v1::TOOL_OIT) {
        return Fail(at, "item ", Quote(code),
                    " is not an OIT (open data) item; disclosures are OIT "
                    "items");
      }
      return absl::OkStatus();
    }
  }
  std::vector<absl::string_view> codes;
  for (const FrameworkEntry& item : framework.items) {
    if (!oit_only || item.tool == v1::TOOL_OIT) {
      codes.emplace_back(item.code);
    }
  }
  return Fail(at, "item ", Quote(code), " is not in the ITA framework of FY ",
              fiscal_year, " (", absl::StrJoin(codes, ", "), ")");
}

// A new identity: a well-formed id, not yet used in this stream. In a
// correction's replacement it must be the original's identity.
absl::Status CheckNewId(const Ctx& c, const Path& at, Kind space,
                        absl::string_view id, absl::string_view noun) {
  RETURN_IF_ERROR(CheckId(at, id));
  const uint64_t key = IdKey(space, id);
  if (c.replacement) {
    if (key != c.original_target) {
      return Fail(at, "a correction cannot change the ", noun,
                  " id; retract the event and record a new one instead");
    }
    return absl::OkStatus();
  }
  if (c.stream.ids.contains(key)) {
    return Fail(at, noun, " ", Quote(id), " already exists in this stream");
  }
  return absl::OkStatus();
}

// A reference to an identity of this stream; returns its entry.
absl::StatusOr<uint32_t> FindId(const Ctx& c, const Path& at, Kind space,
                                absl::string_view id, absl::string_view noun,
                                absl::string_view how_to_create) {
  RETURN_IF_ERROR(CheckId(at, id));
  auto it = c.stream.ids.find(IdKey(space, id));
  if (it == c.stream.ids.end()) {
    return Fail(at, "unknown ", noun, " ", Quote(id), " in this stream; ",
                how_to_create);
  }
  return it->second;
}

absl::Status CheckUniqueStrings(
    const Path& parent, absl::string_view field,
    const google::protobuf::RepeatedPtrField<std::string>& values) {
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < values.size(); ++i) {
    if (!seen.insert(values[i]).second) {
      return Fail(parent.At(field, i), Quote(values[i]),
                  " is listed more than once");
    }
  }
  return absl::OkStatus();
}

// Payload rules, one function per event type.

absl::Status CheckFrameworkPublished(const Ctx& c, const Path& at,
                                     const v1::FrameworkPublished& p) {
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (c.replacement) {
    if (IdKey(v1::Event::kFrameworkPublished, absl::StrCat(p.fiscal_year())) !=
        c.original_target) {
      return Fail(at.Field("fiscal_year"),
                  "a correction cannot change the fiscal year of a framework");
    }
  } else if (c.model.frameworks.contains(p.fiscal_year())) {
    return Fail(at.Field("fiscal_year"), "the framework of FY ",
                p.fiscal_year(),
                " is already published; correct it with event_corrected");
  }
  if (p.items().empty()) {
    return Fail(at.Field("items"), "required; list the items of the framework");
  }
  absl::flat_hash_set<absl::string_view> codes;
  std::vector<std::pair<ItemCode, int>> groups;
  for (int i = 0; i < p.items_size(); ++i) {
    const Path item_at = at.At("items", i);
    const v1::FrameworkItem& item = p.items(i);
    RETURN_IF_ERROR(
        CheckEnum(item_at.Field("tool"), item.tool(), v1::Tool_descriptor()));
    if (item.indicator() < 1 || item.indicator() > 99) {
      return Fail(item_at.Field("indicator"), "must be 1-99, got ",
                  item.indicator());
    }
    const std::optional<ItemCode> code = ParseItemCode(item.code());
    if (!code.has_value()) {
      return Fail(item_at.Field("code"),
                  "not an item code: ", Quote(item.code()),
                  R"(; use letters and a number ("I7") or a group ("O1-O17"))");
    }
    if (!codes.insert(item.code()).second) {
      return Fail(item_at.Field("code"), "item ", Quote(item.code()),
                  " is listed more than once");
    }
    if (code->is_group()) {
      for (const auto& [other, index] : groups) {
        if (other.prefix == code->prefix && other.first <= code->last &&
            code->first <= other.last) {
          return Fail(item_at.Field("code"), "group ", Quote(item.code()),
                      " overlaps group ", Quote(p.items(index).code()));
        }
      }
      groups.emplace_back(*code, i);
    }
    RETURN_IF_ERROR(
        CheckText(item_at.Field("tool_name_th"), item.tool_name_th(), false));
    RETURN_IF_ERROR(
        CheckText(item_at.Field("tool_name_en"), item.tool_name_en(), false));
    RETURN_IF_ERROR(CheckText(item_at.Field("indicator_name_th"),
                              item.indicator_name_th(), true));
    RETURN_IF_ERROR(CheckText(item_at.Field("indicator_name_en"),
                              item.indicator_name_en(), true));
    RETURN_IF_ERROR(
        CheckText(item_at.Field("title_th"), item.title_th(), true));
    RETURN_IF_ERROR(
        CheckText(item_at.Field("title_en"), item.title_en(), true));
  }
  return absl::OkStatus();
}

absl::Status CheckDistrictRegistered(const Ctx& c, const Path& at,
                                     const v1::DistrictRegistered& p) {
  if (FindDistrict(p.code()) == nullptr) {
    return Fail(at.Field("code"), "unknown district code ", Quote(p.code()),
                "; expected 1001-1050");
  }
  RETURN_IF_ERROR(CheckNewId(c, at.Field("code"),
                             v1::Event::kDistrictRegistered, p.code(),
                             "district"));
  RETURN_IF_ERROR(CheckText(at.Field("name_th"), p.name_th(), true));
  return CheckText(at.Field("name_en"), p.name_en(), true);
}

absl::Status CheckScoreRecorded(const Ctx& c, const Path& at,
                                const v1::ScoreRecorded& p) {
  ASSIGN_OR_RETURN(const Framework* framework,
                   FindFramework(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(CheckItemCode(at.Field("item_code"), *framework,
                                p.fiscal_year(), p.item_code(), false));
  if (!std::isfinite(p.score()) || p.score() < 0 || p.score() > kMaxScore) {
    return Fail(at.Field("score"), "must be a number from 0 to 100, got ",
                p.score());
  }
  RETURN_IF_ERROR(CheckText(at.Field("source"), p.source(), true));
  // Unset in records written before the field existed.
  if (p.assessment_year() != 0) {
    RETURN_IF_ERROR(
        CheckFiscalYear(c, at.Field("assessment_year"), p.assessment_year()));
    if (p.assessment_year() > FiscalYearOf(c.today)) {
      return Fail(at.Field("assessment_year"), "FY ", p.assessment_year(),
                  " has not started yet");
    }
  }
  return absl::OkStatus();
}

absl::Status CheckImprovementIssue(const Ctx& c, const Path& at,
                                   const v1::ImprovementIssueIdentified& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("issue_id"),
                             v1::Event::kImprovementIssueIdentified,
                             p.issue_id(), "improvement issue"));
  ASSIGN_OR_RETURN(const Framework* framework,
                   FindFramework(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(CheckItemCode(at.Field("item_code"), *framework,
                                p.fiscal_year(), p.item_code(), false));
  return CheckText(at.Field("text"), p.text(), true);
}

absl::Status CheckMeasurePlanned(const Ctx& c, const Path& at,
                                 const v1::MeasurePlanned& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("measure_id"),
                             v1::Event::kMeasurePlanned, p.measure_id(),
                             "measure"));
  ASSIGN_OR_RETURN(const Framework* framework,
                   FindFramework(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (p.item_codes().empty()) {
    return Fail(at.Field("item_codes"),
                "required; list the ITA items the measure serves");
  }
  for (int i = 0; i < p.item_codes_size(); ++i) {
    RETURN_IF_ERROR(CheckItemCode(at.At("item_codes", i), *framework,
                                  p.fiscal_year(), p.item_codes(i), false));
  }
  RETURN_IF_ERROR(CheckUniqueStrings(at, "item_codes", p.item_codes()));
  if (p.number() < 0) {
    return Fail(at.Field("number"), "must not be negative: ", p.number());
  }
  RETURN_IF_ERROR(CheckText(at.Field("title"), p.title(), true));
  RETURN_IF_ERROR(CheckText(at.Field("description"), p.description(), false));
  RETURN_IF_ERROR(CheckText(at.Field("responsible_division"),
                            p.responsible_division(), false));
  RETURN_IF_ERROR(
      CheckEnum(at.Field("round"), p.round(), v1::Round_descriptor()));
  const DayRange range = RoundRange(p.fiscal_year(), p.round());
  ASSIGN_OR_RETURN(
      std::optional<absl::CivilDay> start,
      CheckDate(c, at.Field("planned_start"), p.has_planned_start(),
                p.planned_start(), false, DateUse::kPlanned));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> end,
                   CheckDate(c, at.Field("planned_end"), p.has_planned_end(),
                             p.planned_end(), false, DateUse::kPlanned));
  const std::pair<absl::string_view, std::optional<absl::CivilDay>> dates[] = {
      {"planned_start", start}, {"planned_end", end}};
  for (const auto& [field, day] : dates) {
    if (day.has_value() && !range.Contains(*day)) {
      return Fail(at.Field(field), DayText(*day), " is outside ",
                  RoundLabelEn(p.fiscal_year(), p.round()), " of FY ",
                  p.fiscal_year());
    }
  }
  if (start.has_value() && end.has_value() && *end < *start) {
    return Fail(at.Field("planned_end"), DayText(*end), " is before ",
                "planned_start ", DayText(*start));
  }
  return absl::OkStatus();
}

absl::Status CheckProgressReported(const Ctx& c, const Path& at,
                                   const v1::MeasureProgressReported& p) {
  ASSIGN_OR_RETURN(
      uint32_t measure,
      FindId(c, at.Field("measure_id"), v1::Event::kMeasurePlanned,
             p.measure_id(), "measure", "plan it with measure_planned first"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (static_cast<uint32_t>(p.fiscal_year()) != DetailOf(measure)) {
    return Fail(at.Field("fiscal_year"), "FY ", p.fiscal_year(),
                " differs from FY ", DetailOf(measure), " of measure ",
                Quote(p.measure_id()));
  }
  RETURN_IF_ERROR(CheckEnum(at.Field("round"), p.round(),
                            v1::Round_descriptor(),
                            {v1::ROUND_H1, v1::ROUND_H2}));
  const DayRange round = RoundRange(p.fiscal_year(), p.round());
  const absl::CivilDay reported = BangkokDay(c.occurred);
  if (reported < round.first) {
    return Fail(at.Field("round"), "progress of ",
                RoundLabelEn(p.fiscal_year(), p.round()),
                " cannot be reported before the round starts (occurred_at is ",
                DayText(reported), ")");
  }
  RETURN_IF_ERROR(CheckEnum(at.Field("status"), p.status(),
                            v1::ProgressStatus_descriptor()));
  const bool needs_result = p.status() == v1::PROGRESS_STATUS_IN_PROGRESS ||
                            p.status() == v1::PROGRESS_STATUS_DONE;
  if (needs_result && Blank(p.result_text())) {
    return Fail(at.Field("result_text"),
                "required when the measure is in progress or done; say what "
                "was done");
  }
  return CheckText(at.Field("result_text"), p.result_text(), false);
}

absl::Status CheckMediaType(const Path& at, absl::string_view media_type) {
  if (media_type.empty()) {
    return Fail(at, "required; give the media type, e.g. \"image/jpeg\"");
  }
  const absl::string_view essence =
      absl::StripAsciiWhitespace(media_type.substr(0, media_type.find(';')));
  const size_t slash = essence.find('/');
  auto is_token = [](absl::string_view token) {
    if (token.empty()) {
      return false;
    }
    for (char ch : token) {
      if (!absl::ascii_isalnum(ch) &&
          absl::string_view("!#$&^_.+-").find(ch) == absl::string_view::npos) {
        return false;
      }
    }
    return true;
  };
  if (slash == absl::string_view::npos || !is_token(essence.substr(0, slash)) ||
      !is_token(essence.substr(slash + 1)) || media_type.size() > 255) {
    return Fail(at, "not a media type: ", Quote(media_type),
                "; expected type/subtype such as \"application/pdf\"");
  }
  return absl::OkStatus();
}

absl::Status CheckEvidenceAttached(const Ctx& c, const Path& at,
                                   const v1::EvidenceAttached& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("evidence_id"),
                             v1::Event::kEvidenceAttached, p.evidence_id(),
                             "evidence"));
  if (p.sha256().size() != kHashSize) {
    return Fail(at.Field("sha256"),
                "must be the 32-byte SHA-256 of the file, got ",
                p.sha256().size(), " bytes");
  }
  RETURN_IF_ERROR(CheckMediaType(at.Field("media_type"), p.media_type()));
  if (p.size_bytes() <= 0) {
    return Fail(at.Field("size_bytes"),
                "must be the file size in bytes, more than 0; got ",
                p.size_bytes());
  }
  RETURN_IF_ERROR(CheckText(at.Field("caption"), p.caption(), false));
  RETURN_IF_ERROR(CheckUrl(at.Field("uri"), p.uri(), false));
  switch (p.subject_case()) {
    case v1::EvidenceAttached::kMeasureId:
      return FindId(c, at.Field("measure_id"), v1::Event::kMeasurePlanned,
                    p.measure_id(), "measure",
                    "plan it with measure_planned first")
          .status();
    case v1::EvidenceAttached::kMeetingId:
      return FindId(c, at.Field("meeting_id"), v1::Event::kMeetingHeld,
                    p.meeting_id(), "meeting",
                    "record it with meeting_held first")
          .status();
    default:
      return Fail(at.Field("subject"),
                  "required; set measure_id or meeting_id to say what the "
                  "evidence proves");
  }
}

absl::Status CheckMeetingHeld(const Ctx& c, const Path& at,
                              const v1::MeetingHeld& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("meeting_id"), v1::Event::kMeetingHeld,
                             p.meeting_id(), "meeting"));
  RETURN_IF_ERROR(
      CheckEnum(at.Field("kind"), p.kind(), v1::MeetingKind_descriptor()));
  RETURN_IF_ERROR(CheckText(at.Field("title"), p.title(), true));
  RETURN_IF_ERROR(CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                            DateUse::kFact)
                      .status());
  RETURN_IF_ERROR(CheckCount(at.Field("attendees"), p.attendees()));
  for (int i = 0; i < p.agenda_items_size(); ++i) {
    const Path item_at = at.At("agenda_items", i);
    const v1::AgendaItem& item = p.agenda_items(i);
    RETURN_IF_ERROR(CheckText(item_at.Field("text"), item.text(), true));
    for (int k = 0; k < item.measure_ids_size(); ++k) {
      RETURN_IF_ERROR(FindId(c, item_at.At("measure_ids", k),
                             v1::Event::kMeasurePlanned, item.measure_ids(k),
                             "measure", "plan it with measure_planned first")
                          .status());
    }
    RETURN_IF_ERROR(
        CheckUniqueStrings(item_at, "measure_ids", item.measure_ids()));
  }
  return absl::OkStatus();
}

absl::Status CheckPolicyAnnounced(const Ctx& c, const Path& at,
                                  const v1::PolicyAnnounced& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("policy_id"),
                             v1::Event::kPolicyAnnounced, p.policy_id(),
                             "policy"));
  RETURN_IF_ERROR(
      CheckEnum(at.Field("kind"), p.kind(), v1::PolicyKind_descriptor()));
  RETURN_IF_ERROR(CheckText(at.Field("title"), p.title(), true));
  RETURN_IF_ERROR(CheckText(at.Field("announced_by"), p.announced_by(), false));
  RETURN_IF_ERROR(CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                            DateUse::kFact)
                      .status());
  return CheckUrl(at.Field("uri"), p.uri(), false);
}

absl::Status CheckWorkingGroupAppointed(const Ctx& c, const Path& at,
                                        const v1::WorkingGroupAppointed& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("group_id"),
                             v1::Event::kWorkingGroupAppointed, p.group_id(),
                             "working group"));
  RETURN_IF_ERROR(CheckText(at.Field("title"), p.title(), true));
  RETURN_IF_ERROR(CheckText(at.Field("order_ref"), p.order_ref(), false));
  RETURN_IF_ERROR(CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                            DateUse::kFact)
                      .status());
  for (int i = 0; i < p.members_size(); ++i) {
    const Path member_at = at.At("members", i);
    RETURN_IF_ERROR(CheckPerson(member_at.Field("person"),
                                p.members(i).has_person(),
                                p.members(i).person(), true));
    RETURN_IF_ERROR(
        CheckText(member_at.Field("role"), p.members(i).role(), false));
  }
  return absl::OkStatus();
}

absl::Status CheckDisclosurePublished(const Ctx& c, const Path& at,
                                      const v1::DisclosurePublished& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("disclosure_id"),
                             v1::Event::kDisclosurePublished, p.disclosure_id(),
                             "disclosure"));
  ASSIGN_OR_RETURN(const Framework* framework,
                   FindFramework(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(CheckItemCode(at.Field("item_code"), *framework,
                                p.fiscal_year(), p.item_code(), true));
  RETURN_IF_ERROR(CheckText(at.Field("title"), p.title(), false));
  RETURN_IF_ERROR(CheckUrl(at.Field("url"), p.url(), true));
  RETURN_IF_ERROR(CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                            DateUse::kFact)
                      .status());
  return CheckText(at.Field("responsible_division"), p.responsible_division(),
                   false);
}

absl::Status CheckChecklistAssigned(const Ctx& c, const Path& at,
                                    const v1::DisclosureChecklistAssigned& p) {
  ASSIGN_OR_RETURN(const Framework* framework,
                   FindFramework(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (p.assignments().empty()) {
    return Fail(at.Field("assignments"),
                "required; assign at least one OIT item to a division");
  }
  absl::flat_hash_set<absl::string_view> items;
  for (int i = 0; i < p.assignments_size(); ++i) {
    const Path item_at = at.At("assignments", i);
    const v1::DisclosureAssignment& a = p.assignments(i);
    RETURN_IF_ERROR(CheckItemCode(item_at.Field("item_code"), *framework,
                                  p.fiscal_year(), a.item_code(), true));
    if (!items.insert(a.item_code()).second) {
      return Fail(item_at.Field("item_code"), "item ", Quote(a.item_code()),
                  " is assigned more than once");
    }
    RETURN_IF_ERROR(CheckText(item_at.Field("division"), a.division(), true));
  }
  return absl::OkStatus();
}

absl::Status CheckGiftReportFiled(const Ctx& c, const Path& at,
                                  const v1::GiftReportFiled& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("report_id"),
                             v1::Event::kGiftReportFiled, p.report_id(),
                             "gift report"));
  RETURN_IF_ERROR(
      CheckPerson(at.Field("official"), p.has_official(), p.official(), true));
  RETURN_IF_ERROR(
      CheckPerson(at.Field("giver"), p.has_giver(), p.giver(), false));
  RETURN_IF_ERROR(CheckEnum(at.Field("giver_category"), p.giver_category(),
                            v1::GiverCategory_descriptor()));
  RETURN_IF_ERROR(CheckText(at.Field("description"), p.description(), true));
  RETURN_IF_ERROR(CheckMoney(at.Field("estimated_value_satang"),
                             p.estimated_value_satang()));
  RETURN_IF_ERROR(CheckDate(c, at.Field("received_on"), p.has_received_on(),
                            p.received_on(), true, DateUse::kFact)
                      .status());
  RETURN_IF_ERROR(CheckEnum(at.Field("disposition"), p.disposition(),
                            v1::GiftDisposition_descriptor()));
  if (p.disposition() == v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION) {
    if (Blank(p.exception_reason())) {
      return Fail(at.Field("exception_reason"),
                  "required when the gift is kept under an exception; name the "
                  "exception that allows it");
    }
  } else if (!p.exception_reason().empty()) {
    return Fail(at.Field("exception_reason"),
                "only for gifts kept under an exception; this one is ",
                v1::GiftDisposition_Name(p.disposition()));
  }
  return CheckText(at.Field("exception_reason"), p.exception_reason(), false);
}

absl::Status CheckGiftReportsSubmitted(const Ctx& c, const Path& at,
                                       const v1::GiftReportsSubmitted& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("submission_id"),
                             v1::Event::kGiftReportsSubmitted,
                             p.submission_id(), "gift report submission"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(
      CheckEnum(at.Field("round"), p.round(), v1::Round_descriptor()));
  const DayRange round = RoundRange(p.fiscal_year(), p.round());
  for (int i = 0; i < p.report_ids_size(); ++i) {
    const Path report_at = at.At("report_ids", i);
    ASSIGN_OR_RETURN(
        uint32_t report,
        FindId(c, report_at, v1::Event::kGiftReportFiled, p.report_ids(i),
               "gift report", "file it with gift_report_filed first"));
    const absl::CivilDay received = DayFromNumber(DetailOf(report));
    if (!round.Contains(received)) {
      return Fail(report_at, "gift report ", Quote(p.report_ids(i)),
                  " was received on ", DayText(received), ", outside ",
                  RoundLabelEn(p.fiscal_year(), p.round()), " of FY ",
                  p.fiscal_year());
    }
  }
  RETURN_IF_ERROR(CheckUniqueStrings(at, "report_ids", p.report_ids()));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> submitted,
                   CheckDate(c, at.Field("submitted_on"), p.has_submitted_on(),
                             p.submitted_on(), true, DateUse::kFact));
  if (*submitted < round.first) {
    return Fail(at.Field("submitted_on"), DayText(*submitted),
                " is before the round it reports starts (",
                DayText(round.first), ")");
  }
  return absl::OkStatus();
}

absl::Status CheckComplaintReceived(const Ctx& c, const Path& at,
                                    const v1::ComplaintReceived& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("complaint_id"),
                             v1::Event::kComplaintReceived, p.complaint_id(),
                             "complaint"));
  RETURN_IF_ERROR(CheckEnum(at.Field("channel"), p.channel(),
                            v1::ComplaintChannel_descriptor()));
  RETURN_IF_ERROR(CheckEnum(at.Field("category"), p.category(),
                            v1::ComplaintCategory_descriptor()));
  RETURN_IF_ERROR(CheckText(at.Field("summary"), p.summary(), true));
  const Path who = at.Field("complainant");
  if (!p.has_complainant()) {
    return Fail(who, "required; set anonymous: true or name the person");
  }
  switch (p.complainant().identity_case()) {
    case v1::Complainant::kAnonymous:
      if (!p.complainant().anonymous()) {
        return Fail(who.Field("anonymous"),
                    "must be true when set; name the person otherwise");
      }
      break;
    case v1::Complainant::kPerson:
      RETURN_IF_ERROR(CheckPerson(who.Field("person"), true,
                                  p.complainant().person(), true));
      break;
    default:
      return Fail(who, "required; set anonymous: true or name the person");
  }
  return CheckDate(c, at.Field("received_on"), p.has_received_on(),
                   p.received_on(), true, DateUse::kFact)
      .status();
}

// A complaint named by a later event; returns its entry.
absl::StatusOr<uint32_t> FindComplaint(const Ctx& c, const Path& at,
                                       absl::string_view id) {
  return FindId(c, at, v1::Event::kComplaintReceived, id, "complaint",
                "record it with complaint_received first");
}

absl::Status CheckNotClosed(const Ctx& c, const Path& at, uint32_t complaint,
                            absl::string_view id) {
  if (!c.replacement && StateOf(complaint) == kClosed) {
    return Fail(at, "complaint ", Quote(id),
                " is closed; reopen it with complaint_reopened first");
  }
  return absl::OkStatus();
}

absl::Status CheckComplaintAssigned(const Ctx& c, const Path& at,
                                    const v1::ComplaintAssigned& p) {
  ASSIGN_OR_RETURN(
      uint32_t complaint,
      FindComplaint(c, at.Field("complaint_id"), p.complaint_id()));
  RETURN_IF_ERROR(
      CheckNotClosed(c, at.Field("complaint_id"), complaint, p.complaint_id()));
  RETURN_IF_ERROR(CheckText(at.Field("division"), p.division(), true));
  return CheckPerson(at.Field("assignee"), p.has_assignee(), p.assignee(),
                     false);
}

absl::Status CheckComplaintStatusChanged(const Ctx& c, const Path& at,
                                         const v1::ComplaintStatusChanged& p) {
  ASSIGN_OR_RETURN(
      uint32_t complaint,
      FindComplaint(c, at.Field("complaint_id"), p.complaint_id()));
  RETURN_IF_ERROR(
      CheckNotClosed(c, at.Field("complaint_id"), complaint, p.complaint_id()));
  if (p.status() == v1::COMPLAINT_STATUS_CLOSED) {
    return Fail(at.Field("status"),
                "a complaint is closed only by complaint_closed, which gives "
                "the outcome");
  }
  RETURN_IF_ERROR(CheckEnum(at.Field("status"), p.status(),
                            v1::ComplaintStatus_descriptor()));
  return CheckText(at.Field("note"), p.note(), false);
}

absl::Status CheckComplaintClosed(const Ctx& c, const Path& at,
                                  const v1::ComplaintClosed& p) {
  ASSIGN_OR_RETURN(
      uint32_t complaint,
      FindComplaint(c, at.Field("complaint_id"), p.complaint_id()));
  if (c.replacement) {
    if (IdKey(v1::Event::kComplaintReceived, p.complaint_id()) !=
        c.original_target) {
      return Fail(at.Field("complaint_id"),
                  "a correction cannot move a close to another complaint; "
                  "retract it instead");
    }
  } else if (StateOf(complaint) == kClosed) {
    return Fail(at.Field("complaint_id"), "complaint ", Quote(p.complaint_id()),
                " is already closed");
  }
  RETURN_IF_ERROR(CheckEnum(at.Field("outcome"), p.outcome(),
                            v1::ComplaintOutcome_descriptor()));
  const bool needs_action = p.outcome() != v1::COMPLAINT_OUTCOME_WITHDRAWN;
  return CheckText(at.Field("action_taken"), p.action_taken(), needs_action);
}

absl::Status CheckComplaintReopened(const Ctx& c, const Path& at,
                                    const v1::ComplaintReopened& p) {
  ASSIGN_OR_RETURN(
      uint32_t complaint,
      FindComplaint(c, at.Field("complaint_id"), p.complaint_id()));
  if (c.replacement) {
    if (IdKey(v1::Event::kComplaintReceived, p.complaint_id()) !=
        c.original_target) {
      return Fail(at.Field("complaint_id"),
                  "a correction cannot move a reopen to another complaint; "
                  "retract it instead");
    }
  } else if (StateOf(complaint) != kClosed) {
    return Fail(at.Field("complaint_id"), "complaint ", Quote(p.complaint_id()),
                " is not closed; only a closed complaint can be reopened");
  }
  return CheckText(at.Field("reason"), p.reason(), true);
}

absl::Status CheckDisciplinaryReport(const Ctx& c, const Path& at,
                                     const v1::DisciplinaryReportMade& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("report_id"),
                             v1::Event::kDisciplinaryReportMade, p.report_id(),
                             "disciplinary report"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(
      CheckEnum(at.Field("round"), p.round(), v1::Round_descriptor()));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> date,
                   CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                             DateUse::kFact));
  const DayRange round = RoundRange(p.fiscal_year(), p.round());
  if (*date < round.first) {
    return Fail(at.Field("date"), DayText(*date),
                " is before the round it reports starts (",
                DayText(round.first), ")");
  }
  RETURN_IF_ERROR(CheckCount(at.Field("cases"), p.cases()));
  return CheckText(at.Field("summary"), p.summary(), false);
}

absl::Status CheckAssetInspection(const Ctx& c, const Path& at,
                                  const v1::AssetInspectionCompleted& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("inspection_id"),
                             v1::Event::kAssetInspectionCompleted,
                             p.inspection_id(), "asset inspection"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (p.items_checked() <= 0) {
    return Fail(at.Field("items_checked"),
                "must be the number of items checked, more than 0; got ",
                p.items_checked());
  }
  if (p.discrepancies() < 0 || p.discrepancies() > p.items_checked()) {
    return Fail(at.Field("discrepancies"), "must be 0-", p.items_checked(),
                " (the items checked), got ", p.discrepancies());
  }
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> reported,
                   CheckDate(c, at.Field("reported_on"), p.has_reported_on(),
                             p.reported_on(), true, DateUse::kFact));
  const absl::CivilDay start = FiscalYearRange(p.fiscal_year()).first;
  if (*reported < start) {
    return Fail(at.Field("reported_on"), DayText(*reported), " is before FY ",
                p.fiscal_year(), " starts (", DayText(start), ")");
  }
  return CheckText(at.Field("note"), p.note(), false);
}

absl::Status CheckBudgetReview(const Ctx& c, const Path& at,
                               const v1::BudgetReviewHeld& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("review_id"),
                             v1::Event::kBudgetReviewHeld, p.review_id(),
                             "budget review"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  if (p.quarter() < 1 || p.quarter() > 4) {
    return Fail(at.Field("quarter"),
                "must be 1-4 (quarter 1 is October - December), got ",
                p.quarter());
  }
  RETURN_IF_ERROR(CheckMoney(at.Field("planned_satang"), p.planned_satang()));
  RETURN_IF_ERROR(
      CheckMoney(at.Field("disbursed_satang"), p.disbursed_satang()));
  ASSIGN_OR_RETURN(std::optional<absl::CivilDay> date,
                   CheckDate(c, at.Field("date"), p.has_date(), p.date(), true,
                             DateUse::kFact));
  const DayRange quarter = QuarterRange(p.fiscal_year(), p.quarter());
  if (*date < quarter.first) {
    return Fail(at.Field("date"), DayText(*date), " is before quarter ",
                p.quarter(), " of FY ", p.fiscal_year(), " starts (",
                DayText(quarter.first), ")");
  }
  return CheckText(at.Field("note"), p.note(), false);
}

absl::Status CheckCommunityProject(const Ctx& c, const Path& at,
                                   const v1::CommunityProjectApproved& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("project_id"),
                             v1::Event::kCommunityProjectApproved,
                             p.project_id(), "community project"));
  RETURN_IF_ERROR(CheckFiscalYear(c, at.Field("fiscal_year"), p.fiscal_year()));
  RETURN_IF_ERROR(CheckText(at.Field("name"), p.name(), true));
  RETURN_IF_ERROR(CheckText(at.Field("community"), p.community(), false));
  RETURN_IF_ERROR(CheckMoney(at.Field("amount_satang"), p.amount_satang()));
  return CheckDate(c, at.Field("approved_on"), p.has_approved_on(),
                   p.approved_on(), true, DateUse::kFact)
      .status();
}

absl::Status CheckServiceRequestReceived(const Ctx& c, const Path& at,
                                         const v1::ServiceRequestReceived& p) {
  RETURN_IF_ERROR(CheckNewId(c, at.Field("request_id"),
                             v1::Event::kServiceRequestReceived, p.request_id(),
                             "service request"));
  RETURN_IF_ERROR(CheckId(at.Field("service_code"), p.service_code()));
  RETURN_IF_ERROR(CheckText(at.Field("service_name"), p.service_name(), true));
  RETURN_IF_ERROR(CheckEnum(at.Field("channel"), p.channel(),
                            v1::ServiceChannel_descriptor()));
  ASSIGN_OR_RETURN(absl::Time requested,
                   CheckTime(c, at.Field("requested_at"), p.has_requested_at(),
                             p.requested_at()));
  if (p.has_expected_at()) {
    // A promised completion may lie well ahead: check the form only.
    const google::protobuf::Timestamp& e = p.expected_at();
    if (e.nanos() < 0 || e.nanos() > 999'999'999) {
      return Fail(at.Field("expected_at").Field("nanos"),
                  "must be 0-999999999, got ", e.nanos());
    }
    const absl::Time expected =
        absl::FromUnixSeconds(e.seconds()) + absl::Nanoseconds(e.nanos());
    if (expected < requested) {
      return Fail(at.Field("expected_at"),
                  "is before requested_at; the expected completion cannot "
                  "precede the request");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint32_t> FindServiceRequest(const Ctx& c, const Path& at,
                                            absl::string_view id) {
  ASSIGN_OR_RETURN(
      uint32_t request,
      FindId(c, at, v1::Event::kServiceRequestReceived, id, "service request",
             "record it with service_request_received first"));
  if (!c.replacement && StateOf(request) == kCompleted) {
    return Fail(at, "service request ", Quote(id), " is already completed");
  }
  return request;
}

absl::Status CheckServiceRequestStatus(
    const Ctx& c, const Path& at, const v1::ServiceRequestStatusChanged& p) {
  // An update made on or before the day of the completion may arrive after
  // it (systems resend out of order): it is history and is recorded; the
  // views order updates by their own time. A later one is refused.
  ASSIGN_OR_RETURN(
      uint32_t request,
      FindId(c, at.Field("request_id"), v1::Event::kServiceRequestReceived,
             p.request_id(), "service request",
             "record it with service_request_received first"));
  if (!c.replacement && StateOf(request) == kCompleted &&
      (!p.has_updated_at() ||
       BangkokDayNumber(p.updated_at()) > DetailOf(request))) {
    return Fail(at.Field("request_id"), "service request ",
                Quote(p.request_id()),
                " is already completed; an update made after its completion "
                "is not taken");
  }
  RETURN_IF_ERROR(CheckId(at.Field("status"), p.status()));
  RETURN_IF_ERROR(CheckText(at.Field("status_notes"), p.status_notes(), false));
  return CheckTime(c, at.Field("updated_at"), p.has_updated_at(),
                   p.updated_at())
      .status();
}

absl::Status CheckServiceRequestCompleted(
    const Ctx& c, const Path& at, const v1::ServiceRequestCompleted& p) {
  RETURN_IF_ERROR(
      FindServiceRequest(c, at.Field("request_id"), p.request_id()).status());
  if (c.replacement && IdKey(v1::Event::kServiceRequestReceived,
                             p.request_id()) != c.original_target) {
    return Fail(at.Field("request_id"),
                "a correction cannot move a completion to another request; "
                "retract it instead");
  }
  RETURN_IF_ERROR(CheckTime(c, at.Field("completed_at"), p.has_completed_at(),
                            p.completed_at())
                      .status());
  return CheckText(at.Field("status_notes"), p.status_notes(), false);
}

absl::Status CheckPayload(const Ctx& c, const Path& event_at,
                          const v1::Event& e);

// The event named by a correction or retraction; returns its entry.
absl::StatusOr<uint64_t> FindOriginal(const Ctx& c, const Path& at,
                                      absl::string_view event_id,
                                      absl::string_view verb) {
  RETURN_IF_ERROR(CheckUuid(at, event_id));
  auto it = c.stream.events.find(EventKey(event_id));
  if (it == c.stream.events.end()) {
    return Fail(at, "no event ", Quote(event_id), " in this stream to ", verb);
  }
  const uint64_t entry = it->second;
  const Kind kind = KindOf(entry);
  if (kind == v1::Event::kEventCorrected ||
      kind == v1::Event::kEventRetracted) {
    return Fail(at, "event ", Quote(event_id), " is itself a ",
                PayloadName(kind), "; name the original event instead");
  }
  if (kind == v1::Event::PAYLOAD_NOT_SET) {
    return Fail(at, "event ", Quote(event_id),
                " has a type this server does not know; it cannot be ", verb,
                "ed here");
  }
  if (IsRetracted(entry)) {
    return Fail(at, "event ", Quote(event_id), " was retracted; it cannot be ",
                verb, "ed");
  }
  return entry;
}

absl::Status CheckEventCorrected(const Ctx& c, const Path& at,
                                 const v1::EventCorrected& p) {
  ASSIGN_OR_RETURN(uint64_t original,
                   FindOriginal(c, at.Field("corrected_event_id"),
                                p.corrected_event_id(), "correct"));
  const Path r_at = at.Field("replacement");
  if (!p.has_replacement()) {
    return Fail(r_at, "required; give the corrected event content");
  }
  const v1::Event& r = p.replacement();
  if (!r.event_id().empty()) {
    return Fail(r_at.Field("event_id"),
                "must be empty; the replacement takes the id of the "
                "correcting event");
  }
  if (r.has_occurred_at()) {
    return Fail(r_at.Field("occurred_at"),
                "must be unset; the replacement takes occurred_at from the "
                "correcting event");
  }
  if (r.has_actor()) {
    return Fail(r_at.Field("actor"),
                "must be unset; the replacement takes the actor of the "
                "correcting event");
  }
  const Kind kind = KindOf(original);
  if (r.payload_case() != kind) {
    return Fail(r_at, "must carry a ", PayloadName(kind),
                " like the event it corrects",
                r.payload_case() == v1::Event::PAYLOAD_NOT_SET
                    ? std::string()
                    : absl::StrCat(", not a ", PayloadName(r.payload_case())));
  }
  RETURN_IF_ERROR(CheckText(at.Field("reason"), p.reason(), true));
  Ctx rc = c;
  rc.replacement = true;
  rc.original_target = TargetOf(original);
  return CheckPayload(rc, r_at, r);
}

absl::Status CheckEventRetracted(const Ctx& c, const Path& at,
                                 const v1::EventRetracted& p) {
  const Path id_at = at.Field("retracted_event_id");
  ASSIGN_OR_RETURN(uint64_t original,
                   FindOriginal(c, id_at, p.retracted_event_id(), "retract"));
  const Kind kind = KindOf(original);
  if (kind == v1::Event::kComplaintClosed ||
      kind == v1::Event::kComplaintReopened) {
    auto t = c.stream.complaint_transitions.find(TargetOf(original));
    const uint64_t key = EventKey(p.retracted_event_id());
    if (t != c.stream.complaint_transitions.end() && !t->second.empty() &&
        t->second.back() != key) {
      return Fail(id_at,
                  "only the latest close or reopen of a complaint can "
                  "be retracted; retract the later ones first");
    }
  }
  return CheckText(at.Field("reason"), p.reason(), true);
}

absl::Status CheckPayload(const Ctx& c, const Path& event_at,
                          const v1::Event& e) {
  const Path at = event_at.Field(PayloadName(e.payload_case()));
  switch (e.payload_case()) {
    case v1::Event::kFrameworkPublished:
      return CheckFrameworkPublished(c, at, e.framework_published());
    case v1::Event::kDistrictRegistered:
      return CheckDistrictRegistered(c, at, e.district_registered());
    case v1::Event::kScoreRecorded:
      return CheckScoreRecorded(c, at, e.score_recorded());
    case v1::Event::kImprovementIssueIdentified:
      return CheckImprovementIssue(c, at, e.improvement_issue_identified());
    case v1::Event::kMeasurePlanned:
      return CheckMeasurePlanned(c, at, e.measure_planned());
    case v1::Event::kMeasureProgressReported:
      return CheckProgressReported(c, at, e.measure_progress_reported());
    case v1::Event::kEvidenceAttached:
      return CheckEvidenceAttached(c, at, e.evidence_attached());
    case v1::Event::kMeetingHeld:
      return CheckMeetingHeld(c, at, e.meeting_held());
    case v1::Event::kPolicyAnnounced:
      return CheckPolicyAnnounced(c, at, e.policy_announced());
    case v1::Event::kWorkingGroupAppointed:
      return CheckWorkingGroupAppointed(c, at, e.working_group_appointed());
    case v1::Event::kDisclosurePublished:
      return CheckDisclosurePublished(c, at, e.disclosure_published());
    case v1::Event::kDisclosureChecklistAssigned:
      return CheckChecklistAssigned(c, at, e.disclosure_checklist_assigned());
    case v1::Event::kGiftReportFiled:
      return CheckGiftReportFiled(c, at, e.gift_report_filed());
    case v1::Event::kGiftReportsSubmitted:
      return CheckGiftReportsSubmitted(c, at, e.gift_reports_submitted());
    case v1::Event::kComplaintReceived:
      return CheckComplaintReceived(c, at, e.complaint_received());
    case v1::Event::kComplaintAssigned:
      return CheckComplaintAssigned(c, at, e.complaint_assigned());
    case v1::Event::kComplaintStatusChanged:
      return CheckComplaintStatusChanged(c, at, e.complaint_status_changed());
    case v1::Event::kComplaintClosed:
      return CheckComplaintClosed(c, at, e.complaint_closed());
    case v1::Event::kComplaintReopened:
      return CheckComplaintReopened(c, at, e.complaint_reopened());
    case v1::Event::kDisciplinaryReportMade:
      return CheckDisciplinaryReport(c, at, e.disciplinary_report_made());
    case v1::Event::kAssetInspectionCompleted:
      return CheckAssetInspection(c, at, e.asset_inspection_completed());
    case v1::Event::kBudgetReviewHeld:
      return CheckBudgetReview(c, at, e.budget_review_held());
    case v1::Event::kCommunityProjectApproved:
      return CheckCommunityProject(c, at, e.community_project_approved());
    case v1::Event::kServiceRequestReceived:
      return CheckServiceRequestReceived(c, at, e.service_request_received());
    case v1::Event::kServiceRequestStatusChanged:
      return CheckServiceRequestStatus(c, at,
                                       e.service_request_status_changed());
    case v1::Event::kServiceRequestCompleted:
      return CheckServiceRequestCompleted(c, at, e.service_request_completed());
    case v1::Event::kEventCorrected:
      return CheckEventCorrected(c, at, e.event_corrected());
    case v1::Event::kEventRetracted:
      return CheckEventRetracted(c, at, e.event_retracted());
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return Fail(event_at.Field("payload"),
              "missing or of a type this server does not know; set one event "
              "type");
}

// Which stream an event type belongs on.
enum class Scope { kCity, kDistrict, kBoth };

Scope ScopeOf(Kind kind) {
  switch (kind) {
    case v1::Event::kFrameworkPublished:
    case v1::Event::kDistrictRegistered:
      return Scope::kCity;
    case v1::Event::kPolicyAnnounced:
    case v1::Event::kEventCorrected:
    case v1::Event::kEventRetracted:
      return Scope::kBoth;
    default:
      return Scope::kDistrict;
  }
}

absl::Status CheckEnvelopeAndPayload(const Ctx& base, const Path& at,
                                     const v1::Event& e) {
  RETURN_IF_ERROR(CheckUuid(at.Field("event_id"), e.event_id()));
  if (base.stream.events.contains(EventKey(e.event_id()))) {
    return Fail(at.Field("event_id"), "event id ", Quote(e.event_id()),
                " is already used in this stream; choose a new one");
  }
  Ctx c = base;
  ASSIGN_OR_RETURN(c.occurred, CheckTime(base, at.Field("occurred_at"),
                                         e.has_occurred_at(), e.occurred_at()));
  if (!e.has_actor() || e.actor().id().empty()) {
    return Fail(at.Field("actor").Field("id"),
                "required; name the account or system that records the event");
  }
  RETURN_IF_ERROR(CheckId(at.Field("actor").Field("id"), e.actor().id()));
  RETURN_IF_ERROR(CheckText(at.Field("actor").Field("division"),
                            e.actor().division(), false));
  RETURN_IF_ERROR(
      CheckText(at.Field("actor").Field("name"), e.actor().name(), false));
  const Kind kind = e.payload_case();
  if (kind != v1::Event::PAYLOAD_NOT_SET) {
    const Scope scope = ScopeOf(kind);
    if (scope == Scope::kCity && !c.city) {
      return Fail(at.Field(PayloadName(kind)),
                  "belongs on the city stream, not on a district stream");
    }
    if (scope == Scope::kDistrict && c.city) {
      return Fail(at.Field(PayloadName(kind)),
                  "belongs on a district stream, not on the city stream");
    }
  }
  return CheckPayload(c, at, e);
}

}  // namespace

absl::Status CheckEvent(const BatchContext& batch, int index,
                        const v1::Event& event) {
  const absl::CivilDay today = BangkokDay(batch.now);
  const Ctx ctx{.model = batch.model,
                .stream = batch.stream,
                .city = batch.city,
                .now = batch.now,
                .today = today,
                .max_fiscal_year = FiscalYearOf(today) + 1,
                .occurred = batch.now};
  return CheckEnvelopeAndPayload(ctx, Path("events", index), event);
}

std::string Quote(absl::string_view value) {
  constexpr size_t kShown = 64;
  absl::string_view shown = value;
  bool cut = false;
  if (shown.size() > kShown) {
    size_t n = kShown;
    while (n > 0 && (static_cast<unsigned char>(shown[n]) & 0xc0) == 0x80) {
      --n;
    }
    shown = shown.substr(0, n);
    cut = true;
  }
  std::string out = "\"";
  if (IsValidUtf8(shown)) {
    for (char c : shown) {
      const auto u = static_cast<unsigned char>(c);
      if (u < 0x20 || u == 0x7f || c == '"' || c == '\\') {
        out += absl::CHexEscape(absl::string_view(&c, 1));
      } else {
        out.push_back(c);
      }
    }
  } else {
    out += absl::CHexEscape(shown);
  }
  if (cut) {
    out += "...";
  }
  out.push_back('"');
  return out;
}

}  // namespace prongsai::domain::internal

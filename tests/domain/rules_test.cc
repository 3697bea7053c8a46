// The domain rules: every rule has a case it rejects (naming the field path
// and the rule) and a case it accepts; batches are all or nothing; Replay of
// the stored events rebuilds the same model as Admit.
#include "core/domain/rules.h"

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/domain/domain_events.h"

namespace prongsai::domain {
namespace {

using namespace testing;  // NOLINT: the event builders of domain_events.h
using ::testing::HasSubstr;
using ::testing::StartsWith;

// What district 1045 holds before each case.
struct World {
  v1::Event measure = Measure("M1");
  v1::Event measure2 = Measure("M2");
  v1::Event progress = Progress("M1");
  v1::Event meeting = Meeting("MT1");
  v1::Event c1 = Complaint("C1");
  v1::Event c2 = Complaint("C2");
  v1::Event close_c2 = Close("C2");
  v1::Event c3 = Complaint("C3");
  v1::Event c3_close1 = Close("C3");
  v1::Event c3_reopen = Reopen("C3");
  v1::Event c3_close2 = Close("C3");
  v1::Event g1 = Gift("G1");
  v1::Event g2 = Gift("G2", D(2025, 4, 20));
  v1::Event r1 = Request("R1");
  v1::Event r2 = Request("R2");
  v1::Event r2_done = RequestDone("R2");

  std::vector<v1::Event> All() const {
    return {measure,  measure2, progress,  meeting,   c1,        c2,
            close_c2, c3,       c3_close1, c3_reopen, c3_close2, g1,
            g2,       r1,       r2,        r2_done};
  }
};

// Moves an event to 9 January 2026, in FY 2569.
v1::Event InFy2569(v1::Event event) {
  *event.mutable_occurred_at() = At(1767934800);
  return event;
}

template <typename F>
v1::Event With(v1::Event event, F mutate) {
  mutate(event);
  return event;
}

struct Case {
  std::string name;
  std::function<std::vector<v1::Event>(const World&)> batch;
  // Empty: the batch is accepted. Otherwise the start of the error message.
  std::string want;
  std::string stream = "1045";
};

// One event, accepted or rejected.
Case One(std::string name, std::function<v1::Event(const World&)> make,
         std::string want = "", std::string stream = "1045") {
  return {std::move(name),
          [make](const World& w) { return std::vector<v1::Event>{make(w)}; },
          std::move(want), std::move(stream)};
}

std::vector<Case> EnvelopeCases() {
  return {
      One(
          "event id that is not a UUID",
          [](const World&) {
            return With(Meeting("MX"),
                        [](v1::Event& e) { e.set_event_id("meeting-1"); });
          },
          "events[0].event_id: must be a UUID"),
      One("event id as an upper-case UUID",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.set_event_id(absl::AsciiStrToUpper(e.event_id()));
            });
          }),
      One(
          "event id used before in the stream",
          [](const World& w) {
            return With(Meeting("MX"), [&](v1::Event& e) {
              e.set_event_id(w.measure.event_id());
            });
          },
          "events[0].event_id: event id"),
      {"event id used twice in one batch",
       [](const World&) {
         v1::Event a = Meeting("MX");
         v1::Event b = With(Meeting("MY"), [&](v1::Event& e) {
           e.set_event_id(a.event_id());
         });
         return std::vector<v1::Event>{a, b};
       },
       "events[1].event_id: event id"},
      One(
          "occurred_at missing",
          [](const World&) {
            return With(Meeting("MX"),
                        [](v1::Event& e) { e.clear_occurred_at(); });
          },
          "events[0].occurred_at: required"),
      One(
          "occurred_at before 2000",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.mutable_occurred_at()->set_seconds(946684799);
            });
          },
          "events[0].occurred_at: is before 1 January 2000"),
      One(
          "occurred_at 25 hours ahead of the clock",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(kNow) +
                                                   25 * 3600);
            });
          },
          "events[0].occurred_at: is more than a day in the future"),
      One("occurred_at 23 hours ahead of the clock",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(kNow) +
                                                   23 * 3600);
            });
          }),
      One(
          "occurred_at with nanos out of range",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.mutable_occurred_at()->set_nanos(1'000'000'000);
            });
          },
          "events[0].occurred_at.nanos: must be 0-999999999"),
      One(
          "actor missing",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) { e.clear_actor(); });
          },
          "events[0].actor.id: required"),
      One(
          "actor id with a space",
          [](const World&) {
            return With(Meeting("MX"), [](v1::Event& e) {
              e.mutable_actor()->set_id("ita officer");
            });
          },
          "events[0].actor.id: id \"ita officer\" contains a space"),
      One(
          "payload missing", [](const World&) { return Bare(); },
          "events[0].payload: missing"),
      One(
          "framework on a district stream",
          [](const World&) { return Framework(2569); },
          "events[0].framework_published: belongs on the city stream"),
      One(
          "district event on the city stream",
          [](const World&) { return Meeting("MX"); },
          "events[0].meeting_held: belongs on a district stream", "city"),
      One(
          "policy on the city stream",
          [](const World&) { return Policy("P-city"); }, "", "city"),
  };
}

std::vector<Case> FrameworkAndScoreCases() {
  return {
      One(
          "framework of a new fiscal year",
          [](const World&) { return Framework(2569); }, "", "city"),
      One(
          "framework of a fiscal year already published",
          [](const World&) { return Framework(2568); },
          "events[0].framework_published.fiscal_year: the framework of FY 2568 "
          "is already "
          "published",
          "city"),
      One(
          "framework without items",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()->clear_items();
            });
          },
          "events[0].framework_published.items: required", "city"),
      One(
          "framework group written backwards",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()->mutable_items(18)->set_code(
                  "O17-O1");
            });
          },
          "events[0].framework_published.items[18].code: not an item code",
          "city"),
      One(
          "framework groups that overlap",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()->mutable_items(19)->set_code(
                  "O10-O22");
            });
          },
          "events[0].framework_published.items[19].code: group \"O10-O22\" "
          "overlaps group "
          "\"O1-O17\"",
          "city"),
      One(
          "framework item listed twice",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()->mutable_items(1)->set_code("I1");
            });
          },
          "events[0].framework_published.items[1].code: item \"I1\" is listed "
          "more than once",
          "city"),
      One(
          "framework item without an English title",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()
                  ->mutable_items(0)
                  ->clear_title_en();
            });
          },
          "events[0].framework_published.items[0].title_en: required", "city"),
      One(
          "framework item without a tool",
          [](const World&) {
            return With(Framework(2569), [](v1::Event& e) {
              e.mutable_framework_published()->mutable_items(0)->clear_tool();
            });
          },
          "events[0].framework_published.items[0].tool: required", "city"),
      One(
          "district registered twice",
          [](const World&) {
            return With(Bare(), [](v1::Event& e) {
              auto* d = e.mutable_district_registered();
              d->set_code("1045");
              d->set_name_th("วังทองหลาง");
              d->set_name_en("Wang Thonglang");
            });
          },
          "events[0].district_registered.code: district \"1045\" already "
          "exists",
          "city"),
      One(
          "unknown district registered",
          [](const World&) {
            return With(Bare(), [](v1::Event& e) {
              auto* d = e.mutable_district_registered();
              d->set_code("1099");
              d->set_name_th("ไม่มี");
              d->set_name_en("None");
            });
          },
          "events[0].district_registered.code: unknown district code \"1099\"",
          "city"),
      One("score of an item", [](const World&) { return Score("I7"); }),
      One("score of an item inside an OIT group",
          [](const World&) { return Score("O5", 100); }),
      One("score of an OIT group",
          [](const World&) { return Score("O1-O17", 100); }),
      One(
          "score of an item not in the framework",
          [](const World&) { return Score("I13"); },
          "events[0].score_recorded.item_code: item \"I13\" is not in the ITA "
          "framework of FY "
          "2568"),
      One(
          "score of a year without a framework",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->set_fiscal_year(2569);
            });
          },
          "events[0].score_recorded.fiscal_year: no ITA framework is published "
          "for FY 2569"),
      One(
          "score of a fiscal year too far ahead",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->set_fiscal_year(2600);
            });
          },
          "events[0].score_recorded.fiscal_year: FY 2600 is too far ahead"),
      One(
          "score with a Gregorian fiscal year",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->set_fiscal_year(2025);
            });
          },
          "events[0].score_recorded.fiscal_year: FY 2025 is before FY 2543"),
      One(
          "score above 100", [](const World&) { return Score("I7", 100.5); },
          "events[0].score_recorded.score: must be a number from 0 to 100"),
      One(
          "score that is not a number",
          [](const World&) {
            return Score("I7", std::numeric_limits<double>::quiet_NaN());
          },
          "events[0].score_recorded.score: must be a number from 0 to 100"),
      One(
          "score without its source",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->clear_source();
            });
          },
          "events[0].score_recorded.source: required"),
      One("score without an assessment year, as older records are",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->clear_assessment_year();
            });
          }),
      One(
          "score of an assessment not made yet",
          [](const World&) {
            return With(Score(), [](v1::Event& e) {
              e.mutable_score_recorded()->set_assessment_year(2569);
            });
          },
          "events[0].score_recorded.assessment_year: FY 2569 has not started "
          "yet"),
  };
}

std::vector<Case> PlanningCases() {
  return {
      One("improvement issue", [](const World&) { return Issue("IS1"); }),
      {"improvement issue id used twice",
       [](const World&) {
         return std::vector<v1::Event>{Issue("IS1"), Issue("IS1")};
       },
       "events[1].improvement_issue_identified.issue_id: improvement issue "
       "\"IS1\" already "
       "exists in this stream"},
      One(
          "improvement issue without text",
          [](const World&) {
            return With(Issue("IS1"), [](v1::Event& e) {
              e.mutable_improvement_issue_identified()->set_text(" ");
            });
          },
          "events[0].improvement_issue_identified.text: required"),
      One("measure", [](const World&) { return Measure("M9"); }),
      One(
          "measure id already planned",
          [](const World&) { return Measure("M1"); },
          "events[0].measure_planned.measure_id: measure \"M1\" already exists "
          "in this stream"),
      One(
          "measure id with a space",
          [](const World&) { return Measure("M 9"); },
          "events[0].measure_planned.measure_id: id \"M 9\" contains a space"),
      One(
          "measure id too long",
          [](const World&) { return Measure(std::string(200, 'x')); },
          "events[0].measure_planned.measure_id: too long for an id"),
      One(
          "measure without items",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->clear_item_codes();
            });
          },
          "events[0].measure_planned.item_codes: required"),
      One(
          "measure for an item not in the framework",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->set_item_codes(1, "X1");
            });
          },
          "events[0].measure_planned.item_codes[1]: item \"X1\" is not in the "
          "ITA framework"),
      One(
          "measure listing an item twice",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->add_item_codes("I1");
            });
          },
          "events[0].measure_planned.item_codes[2]: \"I1\" is listed more than "
          "once"),
      One(
          "measure without a round",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->clear_round();
            });
          },
          "events[0].measure_planned.round: required; set one of ROUND_H1, "
          "ROUND_H2, "
          "ROUND_FULL_YEAR"),
      One(
          "measure with a round this schema does not know",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->set_round(static_cast<v1::Round>(9));
            });
          },
          "events[0].measure_planned.round: unknown value 9"),
      One(
          "measure ending after its round",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              *e.mutable_measure_planned()->mutable_planned_end() =
                  D(2025, 4, 1);
            });
          },
          "events[0].measure_planned.planned_end: 1 April 2025 is outside "
          "first 6 months "
          "(October 2024 - March 2025) of FY 2568"),
      One("measure for the full year",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->set_round(v1::ROUND_FULL_YEAR);
              *e.mutable_measure_planned()->mutable_planned_end() =
                  D(2025, 9, 30);
            });
          }),
      One(
          "measure ending before it starts",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              *e.mutable_measure_planned()->mutable_planned_start() =
                  D(2025, 3, 1);
              *e.mutable_measure_planned()->mutable_planned_end() =
                  D(2025, 2, 1);
            });
          },
          "events[0].measure_planned.planned_end: 1 February 2025 is before "
          "planned_start"),
      One(
          "measure ending on a day that does not exist",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              *e.mutable_measure_planned()->mutable_planned_end() =
                  D(2025, 2, 29);
            });
          },
          "events[0].measure_planned.planned_end: not a calendar date: "
          "2025-2-29"),
      One(
          "measure with a negative number",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->set_number(-1);
            });
          },
          "events[0].measure_planned.number: must not be negative"),
      One(
          "measure with a blank title",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->set_title("  ");
            });
          },
          "events[0].measure_planned.title: required"),
      One("measure without planned dates",
          [](const World&) {
            return With(Measure("M9"), [](v1::Event& e) {
              e.mutable_measure_planned()->clear_planned_start();
              e.mutable_measure_planned()->clear_planned_end();
            });
          }),
      One("progress", [](const World&) { return Progress("M1"); }),
      One(
          "progress of an unknown measure",
          [](const World&) { return Progress("M404"); },
          "events[0].measure_progress_reported.measure_id: unknown measure "
          "\"M404\" in this "
          "stream"),
      {"progress of a measure planned earlier in the batch",
       [](const World&) {
         return std::vector<v1::Event>{Measure("M9"), Progress("M9")};
       }},
      One(
          "progress in another fiscal year than the measure's",
          [](const World&) { return Progress("M1", v1::ROUND_H1, 2569); },
          "events[0].measure_progress_reported.fiscal_year: FY 2569 differs "
          "from FY 2568 of "
          "measure \"M1\""),
      One(
          "progress of the full year",
          [](const World&) { return Progress("M1", v1::ROUND_FULL_YEAR); },
          "events[0].measure_progress_reported.round: ROUND_FULL_YEAR is not "
          "allowed here; "
          "use one of ROUND_H1, ROUND_H2"),
      One(
          "progress of H2 before H2 starts",
          [](const World&) {
            return With(Progress("M1", v1::ROUND_H2), [](v1::Event& e) {
              *e.mutable_occurred_at() = At(1740798000);
            });
          },
          "events[0].measure_progress_reported.round: progress of second 6 "
          "months (April 2025 "
          "- September 2025) cannot be reported before the round starts"),
      One(
          "progress without a status",
          [](const World&) {
            return With(Progress("M1"), [](v1::Event& e) {
              e.mutable_measure_progress_reported()->clear_status();
            });
          },
          "events[0].measure_progress_reported.status: required"),
      One(
          "progress done without a result",
          [](const World&) {
            return With(Progress("M1"), [](v1::Event& e) {
              e.mutable_measure_progress_reported()->clear_result_text();
            });
          },
          "events[0].measure_progress_reported.result_text: required when the "
          "measure is in "
          "progress or done"),
      One("progress not started, without a result",
          [](const World&) {
            return With(Progress("M1"), [](v1::Event& e) {
              e.mutable_measure_progress_reported()->set_status(
                  v1::PROGRESS_STATUS_NOT_STARTED);
              e.mutable_measure_progress_reported()->clear_result_text();
            });
          }),
      One("evidence", [](const World&) { return Evidence("EV9", "M1"); }),
      One(
          "evidence hash of 31 bytes",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_sha256(std::string(31, 'a'));
            });
          },
          "events[0].evidence_attached.sha256: must be the 32-byte SHA-256 of "
          "the file, got 31 "
          "bytes"),
      One(
          "evidence with a bare file extension as media type",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_media_type("jpeg");
            });
          },
          "events[0].evidence_attached.media_type: not a media type: \"jpeg\""),
      One(
          "evidence of an empty file",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_size_bytes(0);
            });
          },
          "events[0].evidence_attached.size_bytes: must be the file size"),
      One(
          "evidence at an ftp address",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_uri(
                  "ftp://files.example/1.jpg");
            });
          },
          "events[0].evidence_attached.uri: must be an http:// or https:// "
          "URL"),
      One(
          "evidence at a relative path",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_uri("evidence/1045/1.jpg");
            });
          },
          "events[0].evidence_attached.uri: must be an http:// or https:// "
          "URL"),
      One(
          "evidence at a URL without a host",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_uri("https:///1.jpg");
            });
          },
          "events[0].evidence_attached.uri: URL \"https:///1.jpg\" names no "
          "host"),
      One("evidence without an address",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->clear_uri();
            });
          }),
      One(
          "evidence proving nothing",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->clear_subject();
            });
          },
          "events[0].evidence_attached.subject: required"),
      One(
          "evidence of an unknown meeting",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_meeting_id("MT404");
            });
          },
          "events[0].evidence_attached.meeting_id: unknown meeting \"MT404\""),
      One("evidence of a meeting",
          [](const World&) {
            return With(Evidence("EV9", "M1"), [](v1::Event& e) {
              e.mutable_evidence_attached()->set_meeting_id("MT1");
            });
          }),
      {"evidence id used twice",
       [](const World&) {
         return std::vector<v1::Event>{Evidence("EV9", "M1"),
                                       Evidence("EV9", "M2")};
       },
       "events[1].evidence_attached.evidence_id: evidence \"EV9\" already "
       "exists"},
      One("meeting", [](const World&) { return Meeting("MT9"); }),
      One(
          "meeting of no kind",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              e.mutable_meeting_held()->clear_kind();
            });
          },
          "events[0].meeting_held.kind: required"),
      One(
          "meeting without a title",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              e.mutable_meeting_held()->clear_title();
            });
          },
          "events[0].meeting_held.title: required"),
      One(
          "meeting without a date",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              e.mutable_meeting_held()->clear_date();
            });
          },
          "events[0].meeting_held.date: required"),
      One(
          "meeting the day after tomorrow",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              *e.mutable_meeting_held()->mutable_date() = D(2025, 6, 17);
            });
          },
          "events[0].meeting_held.date: 17 June 2025 is in the future"),
      One("meeting tomorrow, within time-zone slack",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              *e.mutable_meeting_held()->mutable_date() = D(2025, 6, 16);
            });
          }),
      One(
          "meeting before 2000",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              *e.mutable_meeting_held()->mutable_date() = D(1999, 12, 31);
            });
          },
          "events[0].meeting_held.date: 31 December 1999 is before 1 January "
          "2000"),
      One(
          "meeting with negative attendees",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              e.mutable_meeting_held()->set_attendees(-3);
            });
          },
          "events[0].meeting_held.attendees: must not be negative"),
      One(
          "meeting agenda linked to an unknown measure",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              auto* item = e.mutable_meeting_held()->add_agenda_items();
              item->set_text("ชี้แจงคู่มือการปฏิบัติงาน");
              item->add_measure_ids("M404");
            });
          },
          "events[0].meeting_held.agenda_items[0].measure_ids[0]: unknown "
          "measure \"M404\""),
      One("meeting agenda linked to a measure",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              auto* item = e.mutable_meeting_held()->add_agenda_items();
              item->set_text("ชี้แจงคู่มือการปฏิบัติงาน");
              item->add_measure_ids("M1");
            });
          }),
      One(
          "meeting agenda item without text",
          [](const World&) {
            return With(Meeting("MT9"), [](v1::Event& e) {
              e.mutable_meeting_held()->add_agenda_items()->add_measure_ids(
                  "M1");
            });
          },
          "events[0].meeting_held.agenda_items[0].text: required"),
      One("policy", [](const World&) { return Policy("P1"); }),
      One(
          "policy of no kind",
          [](const World&) {
            return With(Policy("P1"), [](v1::Event& e) {
              e.mutable_policy_announced()->clear_kind();
            });
          },
          "events[0].policy_announced.kind: required"),
      One(
          "policy at a javascript address",
          [](const World&) {
            return With(Policy("P1"), [](v1::Event& e) {
              e.mutable_policy_announced()->set_uri("javascript:alert(1)");
            });
          },
          "events[0].policy_announced.uri: must be an http:// or https:// URL"),
      One("policy at a web address",
          [](const World&) {
            return With(Policy("P1"), [](v1::Event& e) {
              e.mutable_policy_announced()->set_uri(
                  "https://webportal.bangkok.go.th/wangthonglang");
            });
          }),
      One("working group", [](const World&) { return WorkingGroup("WG1"); }),
      One(
          "working group member who is nobody",
          [](const World&) {
            return With(WorkingGroup("WG1"), [](v1::Event& e) {
              e.mutable_working_group_appointed()
                  ->mutable_members(0)
                  ->clear_person();
            });
          },
          "events[0].working_group_appointed.members[0].person: required"),
      One(
          "working group member with a position only",
          [](const World&) {
            return With(WorkingGroup("WG1"), [](v1::Event& e) {
              auto* person = e.mutable_working_group_appointed()
                                 ->mutable_members(0)
                                 ->mutable_person();
              person->Clear();
              person->set_position("ผู้อำนวยการเขต");
            });
          },
          "events[0].working_group_appointed.members[0].person: names nobody"),
      One("disclosure of an OIT item",
          [](const World&) { return Disclosure("D1", "O5"); }),
      One(
          "disclosure of an IIT item",
          [](const World&) { return Disclosure("D1", "I1"); },
          "events[0].disclosure_published.item_code: item \"I1\" is not an OIT "
          "(open data) item"),
      One(
          "disclosure of an item past the framework",
          [](const World&) { return Disclosure("D1", "O23"); },
          "events[0].disclosure_published.item_code: item \"O23\" is not in "
          "the ITA framework "
          "of FY 2568 (O1-O17, O18-O22)"),
      One(
          "disclosure without a URL",
          [](const World&) {
            return With(Disclosure("D1"), [](v1::Event& e) {
              e.mutable_disclosure_published()->clear_url();
            });
          },
          "events[0].disclosure_published.url: required"),
      One("disclosure checklist", [](const World&) { return Checklist(); }),
      One(
          "disclosure checklist assigning nothing",
          [](const World&) {
            return With(Checklist(), [](v1::Event& e) {
              e.mutable_disclosure_checklist_assigned()->clear_assignments();
            });
          },
          "events[0].disclosure_checklist_assigned.assignments: required"),
      One(
          "disclosure checklist assigning an item twice",
          [](const World&) {
            return With(Checklist(), [](v1::Event& e) {
              e.mutable_disclosure_checklist_assigned()
                  ->mutable_assignments(1)
                  ->set_item_code("O1");
            });
          },
          "events[0].disclosure_checklist_assigned.assignments[1].item_code: "
          "item \"O1\" is "
          "assigned more than once"),
      One(
          "disclosure checklist item without a division",
          [](const World&) {
            return With(Checklist(), [](v1::Event& e) {
              e.mutable_disclosure_checklist_assigned()
                  ->mutable_assignments(0)
                  ->clear_division();
            });
          },
          "events[0].disclosure_checklist_assigned.assignments[0].division: "
          "required"),
  };
}

std::vector<Case> IntegrityCases() {
  return {
      One("gift report", [](const World&) { return Gift("G9"); }),
      One(
          "gift of negative value",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->set_estimated_value_satang(-1);
            });
          },
          "events[0].gift_report_filed.estimated_value_satang: must not be "
          "negative"),
      One(
          "gift kept without the exception that allows it",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->set_disposition(
                  v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION);
            });
          },
          "events[0].gift_report_filed.exception_reason: required when the "
          "gift is kept"),
      One("gift kept under a named exception",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->set_disposition(
                  v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION);
              e.mutable_gift_report_filed()->set_exception_reason(
                  "ของที่ระลึกตามประเพณี มูลค่าไม่เกิน 3,000 บาท");
            });
          }),
      One(
          "gift returned, with an exception reason",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->set_exception_reason("ประเพณี");
            });
          },
          "events[0].gift_report_filed.exception_reason: only for gifts kept "
          "under an "
          "exception"),
      One(
          "gift without the official",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->clear_official();
            });
          },
          "events[0].gift_report_filed.official: required"),
      One(
          "gift from no category of giver",
          [](const World&) {
            return With(Gift("G9"), [](v1::Event& e) {
              e.mutable_gift_report_filed()->clear_giver_category();
            });
          },
          "events[0].gift_report_filed.giver_category: required"),
      One(
          "gift report id used before", [](const World&) { return Gift("G1"); },
          "events[0].gift_report_filed.report_id: gift report \"G1\" already "
          "exists"),
      One("gift reports submitted",
          [](const World&) { return GiftSubmission("S1", {"G1"}); }),
      One("no gifts to submit this round",
          [](const World&) { return GiftSubmission("S1", {}); }),
      One(
          "gift submission of an unknown report",
          [](const World&) { return GiftSubmission("S1", {"G404"}); },
          "events[0].gift_reports_submitted.report_ids[0]: unknown gift report "
          "\"G404\""),
      One(
          "gift submission of a report from another round",
          [](const World&) {
            return GiftSubmission("S1", {"G1", "G2"});
          },
          "events[0].gift_reports_submitted.report_ids[1]: gift report \"G2\" "
          "was received on "
          "20 April 2025, outside first 6 months (October 2024 - March 2025) "
          "of FY 2568"),
      One(
          "gift submission before its round starts",
          [](const World&) {
            return With(
                GiftSubmission("S1", {}, v1::ROUND_H2), [](v1::Event& e) {
                  *e.mutable_gift_reports_submitted()->mutable_submitted_on() =
                      D(2025, 3, 30);
                });
          },
          "events[0].gift_reports_submitted.submitted_on: 30 March 2025 is "
          "before the round it "
          "reports starts (1 April 2025)"),
      One(
          "gift submission listing a report twice",
          [](const World&) {
            return GiftSubmission("S1", {"G1", "G1"});
          },
          "events[0].gift_reports_submitted.report_ids[1]: \"G1\" is listed "
          "more than once"),
      One("complaint", [](const World&) { return Complaint("C9"); }),
      One(
          "complaint without a complainant",
          [](const World&) {
            return With(Complaint("C9"), [](v1::Event& e) {
              e.mutable_complaint_received()->clear_complainant();
            });
          },
          "events[0].complaint_received.complainant: required"),
      One(
          "complainant anonymous: false",
          [](const World&) {
            return With(Complaint("C9"), [](v1::Event& e) {
              e.mutable_complaint_received()
                  ->mutable_complainant()
                  ->set_anonymous(false);
            });
          },
          "events[0].complaint_received.complainant.anonymous: must be true "
          "when set"),
      One("complainant named",
          [](const World&) {
            return With(Complaint("C9"), [](v1::Event& e) {
              auto* person = e.mutable_complaint_received()
                                 ->mutable_complainant()
                                 ->mutable_person();
              person->set_subject_id("p-900");
              person->set_name("นายร้องเรียน ตัวอย่าง");
            });
          }),
      One(
          "complaint from no channel",
          [](const World&) {
            return With(Complaint("C9"), [](v1::Event& e) {
              e.mutable_complaint_received()->clear_channel();
            });
          },
          "events[0].complaint_received.channel: required"),
      One(
          "complaint id used before",
          [](const World&) { return Complaint("C1"); },
          "events[0].complaint_received.complaint_id: complaint \"C1\" already "
          "exists"),
      One("complaint assigned", [](const World&) { return Assign("C1"); }),
      One(
          "unknown complaint assigned",
          [](const World&) { return Assign("C404"); },
          "events[0].complaint_assigned.complaint_id: unknown complaint "
          "\"C404\""),
      One(
          "closed complaint assigned",
          [](const World&) { return Assign("C2"); },
          "events[0].complaint_assigned.complaint_id: complaint \"C2\" is "
          "closed; reopen it"),
      One(
          "complaint assigned to no division",
          [](const World&) {
            return With(Assign("C1"), [](v1::Event& e) {
              e.mutable_complaint_assigned()->clear_division();
            });
          },
          "events[0].complaint_assigned.division: required"),
      One("complaint status changed",
          [](const World&) { return Status("C1"); }),
      One(
          "complaint status set to closed",
          [](const World&) {
            return Status("C1", v1::COMPLAINT_STATUS_CLOSED);
          },
          "events[0].complaint_status_changed.status: a complaint is closed "
          "only by "
          "complaint_closed"),
      One(
          "status of a closed complaint",
          [](const World&) { return Status("C2"); },
          "events[0].complaint_status_changed.complaint_id: complaint \"C2\" "
          "is closed"),
      {"status of a reopened complaint",
       [](const World&) {
         return std::vector<v1::Event>{Reopen("C2"), Status("C2")};
       }},
      One(
          "status of an unknown complaint",
          [](const World&) { return Status("C404"); },
          "events[0].complaint_status_changed.complaint_id: unknown complaint "
          "\"C404\""),
      One("complaint closed", [](const World&) { return Close("C1"); }),
      One(
          "complaint closed twice", [](const World&) { return Close("C2"); },
          "events[0].complaint_closed.complaint_id: complaint \"C2\" is "
          "already closed"),
      {"complaint closed twice in one batch",
       [](const World&) {
         return std::vector<v1::Event>{Close("C1"), Close("C1")};
       },
       "events[1].complaint_closed.complaint_id: complaint \"C1\" is already "
       "closed"},
      One(
          "complaint closed without an outcome",
          [](const World&) {
            return With(Close("C1"), [](v1::Event& e) {
              e.mutable_complaint_closed()->clear_outcome();
            });
          },
          "events[0].complaint_closed.outcome: required"),
      One(
          "complaint substantiated without the action taken",
          [](const World&) {
            return With(Close("C1"), [](v1::Event& e) {
              e.mutable_complaint_closed()->clear_action_taken();
            });
          },
          "events[0].complaint_closed.action_taken: required"),
      One("complaint withdrawn, nothing done",
          [](const World&) {
            return With(Close("C1"), [](v1::Event& e) {
              e.mutable_complaint_closed()->set_outcome(
                  v1::COMPLAINT_OUTCOME_WITHDRAWN);
              e.mutable_complaint_closed()->clear_action_taken();
            });
          }),
      One("complaint reopened", [](const World&) { return Reopen("C2"); }),
      One(
          "open complaint reopened", [](const World&) { return Reopen("C1"); },
          "events[0].complaint_reopened.complaint_id: complaint \"C1\" is not "
          "closed"),
      One(
          "complaint reopened without a reason",
          [](const World&) {
            return With(Reopen("C2"), [](v1::Event& e) {
              e.mutable_complaint_reopened()->clear_reason();
            });
          },
          "events[0].complaint_reopened.reason: required"),
      One("disciplinary report",
          [](const World&) { return Disciplinary("DR1"); }),
      One(
          "disciplinary report dated before its round",
          [](const World&) {
            return With(Disciplinary("DR1"), [](v1::Event& e) {
              *e.mutable_disciplinary_report_made()->mutable_date() =
                  D(2025, 3, 31);
            });
          },
          "events[0].disciplinary_report_made.date: 31 March 2025 is before "
          "the round it "
          "reports starts"),
      One(
          "disciplinary report of negative cases",
          [](const World&) {
            return With(Disciplinary("DR1"), [](v1::Event& e) {
              e.mutable_disciplinary_report_made()->set_cases(-1);
            });
          },
          "events[0].disciplinary_report_made.cases: must not be negative"),
      One("asset inspection", [](const World&) { return Inspection("AI1"); }),
      One(
          "asset inspection with more discrepancies than items",
          [](const World&) {
            return With(Inspection("AI1"), [](v1::Event& e) {
              e.mutable_asset_inspection_completed()->set_discrepancies(1251);
            });
          },
          "events[0].asset_inspection_completed.discrepancies: must be 0-1250"),
      One(
          "asset inspection of nothing",
          [](const World&) {
            return With(Inspection("AI1"), [](v1::Event& e) {
              e.mutable_asset_inspection_completed()->set_items_checked(0);
              e.mutable_asset_inspection_completed()->set_discrepancies(0);
            });
          },
          "events[0].asset_inspection_completed.items_checked: must be the "
          "number of items"),
      One(
          "asset inspection reported before its fiscal year",
          [](const World&) {
            return With(Inspection("AI1"), [](v1::Event& e) {
              *e.mutable_asset_inspection_completed()->mutable_reported_on() =
                  D(2024, 9, 30);
            });
          },
          "events[0].asset_inspection_completed.reported_on: 30 September 2024 "
          "is before FY "
          "2568 starts"),
      One("budget review", [](const World&) { return Budget("B1"); }),
      One(
          "budget review of a fifth quarter",
          [](const World&) {
            return With(Budget("B1"), [](v1::Event& e) {
              e.mutable_budget_review_held()->set_quarter(5);
            });
          },
          "events[0].budget_review_held.quarter: must be 1-4"),
      One(
          "budget review before its quarter",
          [](const World&) {
            return With(Budget("B1"), [](v1::Event& e) {
              e.mutable_budget_review_held()->set_quarter(3);
              *e.mutable_budget_review_held()->mutable_date() = D(2025, 3, 31);
            });
          },
          "events[0].budget_review_held.date: 31 March 2025 is before quarter "
          "3 of FY 2568 "
          "starts (1 April 2025)"),
      One(
          "budget review of a negative disbursement",
          [](const World&) {
            return With(Budget("B1"), [](v1::Event& e) {
              e.mutable_budget_review_held()->set_disbursed_satang(-100);
            });
          },
          "events[0].budget_review_held.disbursed_satang: must not be "
          "negative"),
      One(
          "budget review of an implausible amount",
          [](const World&) {
            return With(Budget("B1"), [](v1::Event& e) {
              e.mutable_budget_review_held()->set_planned_satang(
                  2'000'000'000'000'000);
            });
          },
          "events[0].budget_review_held.planned_satang: implausibly large"),
      One("community project", [](const World&) { return Project("CP1"); }),
      One(
          "community project of a negative amount",
          [](const World&) {
            return With(Project("CP1"), [](v1::Event& e) {
              e.mutable_community_project_approved()->set_amount_satang(-1);
            });
          },
          "events[0].community_project_approved.amount_satang: must not be "
          "negative"),
      One(
          "community project without a name",
          [](const World&) {
            return With(Project("CP1"), [](v1::Event& e) {
              e.mutable_community_project_approved()->clear_name();
            });
          },
          "events[0].community_project_approved.name: required"),
  };
}

std::vector<Case> ServiceRequestCases() {
  return {
      One("service request", [](const World&) { return Request("R9"); }),
      One(
          "service request expected before it was made",
          [](const World&) {
            return With(Request("R9"), [](v1::Event& e) {
              *e.mutable_service_request_received()->mutable_expected_at() =
                  At(kOccurredSeconds - 7200);
            });
          },
          "events[0].service_request_received.expected_at: is before "
          "requested_at"),
      One(
          "service request without the time it was made",
          [](const World&) {
            return With(Request("R9"), [](v1::Event& e) {
              e.mutable_service_request_received()->clear_requested_at();
            });
          },
          "events[0].service_request_received.requested_at: required"),
      One(
          "service code with a space",
          [](const World&) {
            return With(Request("R9"), [](v1::Event& e) {
              e.mutable_service_request_received()->set_service_code("BMA 01");
            });
          },
          "events[0].service_request_received.service_code: id \"BMA 01\" "
          "contains a space"),
      One(
          "service request id used before",
          [](const World&) { return Request("R1"); },
          "events[0].service_request_received.request_id: service request "
          "\"R1\" already "
          "exists"),
      One("service request status",
          [](const World&) { return RequestStatus("R1"); }),
      One(
          "status of an unknown service request",
          [](const World&) { return RequestStatus("R404"); },
          "events[0].service_request_status_changed.request_id: unknown "
          "service request "
          "\"R404\""),
      One("a late status of a completed service request, made before the "
          "completion",
          [](const World&) { return RequestStatus("R2"); }),
      One(
          "status of a completed service request, made after the completion",
          [](const World&) {
            v1::Event e = RequestStatus("R2");
            e.mutable_service_request_status_changed()
                ->mutable_updated_at()
                ->set_seconds(kOccurredSeconds + 2 * 86400);
            return e;
          },
          "events[0].service_request_status_changed.request_id: service "
          "request \"R2\" is already completed; an update made after its "
          "completion is not taken"),
      One("service request completed",
          [](const World&) { return RequestDone("R1"); }),
      One(
          "service request completed twice",
          [](const World&) { return RequestDone("R2"); },
          "events[0].service_request_completed.request_id: service request "
          "\"R2\" is already "
          "completed"),
  };
}

std::vector<Case> CorrectionCases() {
  return {
      One("correction",
          [](const World& w) {
            return Correct(
                w.measure, With(Measure("M1"), [](v1::Event& e) {
                  e.mutable_measure_planned()->set_title("ชื่อมาตรการที่แก้ไขแล้ว");
                }));
          }),
      One(
          "correction of an unknown event",
          [](const World&) { return Correct(Bare(), Measure("M1")); },
          "events[0].event_corrected.corrected_event_id: no event"),
      One(
          "correction naming no UUID",
          [](const World& w) {
            return With(Correct(w.measure, Measure("M1")), [](v1::Event& e) {
              e.mutable_event_corrected()->set_corrected_event_id("M1");
            });
          },
          "events[0].event_corrected.corrected_event_id: must be a UUID"),
      One(
          "correction of another type of event",
          [](const World& w) { return Correct(w.measure, Meeting("MT1")); },
          "events[0].event_corrected.replacement: must carry a measure_planned "
          "like the event "
          "it corrects, not a meeting_held"),
      One(
          "correction whose replacement has its own id",
          [](const World& w) {
            return With(Correct(w.measure, Measure("M1")), [](v1::Event& e) {
              e.mutable_event_corrected()->mutable_replacement()->set_event_id(
                  prongsai::testing::NewUuid());
            });
          },
          "events[0].event_corrected.replacement.event_id: must be empty"),
      One(
          "correction changing the measure id",
          [](const World& w) { return Correct(w.measure, Measure("M7")); },
          "events[0].event_corrected.replacement.measure_planned.measure_id: a "
          "correction "
          "cannot change the measure id"),
      One(
          "correction with an invalid replacement",
          [](const World& w) {
            return Correct(w.measure, With(Measure("M1"), [](v1::Event& e) {
                             e.mutable_measure_planned()->clear_title();
                           }));
          },
          "events[0].event_corrected.replacement.measure_planned.title: "
          "required"),
      One("correction moving progress to another measure",
          [](const World& w) { return Correct(w.progress, Progress("M2")); }),
      One(
          "correction without a reason",
          [](const World& w) {
            return With(Correct(w.measure, Measure("M1")), [](v1::Event& e) {
              e.mutable_event_corrected()->clear_reason();
            });
          },
          "events[0].event_corrected.reason: required"),
      {"correction of a correction",
       [](const World& w) {
         v1::Event first = Correct(w.measure, Measure("M1"));
         return std::vector<v1::Event>{first, Correct(first, Measure("M1"))};
       },
       "events[1].event_corrected.corrected_event_id: event"},
      {"correction of a retracted event",
       [](const World& w) {
         return std::vector<v1::Event>{Retract(w.meeting),
                                       Correct(w.meeting, Meeting("MT1"))};
       },
       "events[1].event_corrected.corrected_event_id: event"},
      One("correction of the close of a closed complaint",
          [](const World& w) {
            return Correct(w.close_c2, With(Close("C2"), [](v1::Event& e) {
                             e.mutable_complaint_closed()->set_outcome(
                                 v1::COMPLAINT_OUTCOME_REFERRED);
                           }));
          }),
      One(
          "correction moving a close to another complaint",
          [](const World& w) { return Correct(w.close_c2, Close("C1")); },
          "events[0].event_corrected.replacement.complaint_closed.complaint_id:"
          " a correction "
          "cannot move a close to another complaint"),
      One(
          "correction of an event of another stream",
          [](const World& w) { return Correct(w.meeting, Meeting("MT1")); },
          "events[0].event_corrected.corrected_event_id: no event", "1001"),
      One("retraction", [](const World& w) { return Retract(w.meeting); }),
      {"retraction of a retracted event",
       [](const World& w) {
         return std::vector<v1::Event>{Retract(w.meeting), Retract(w.meeting)};
       },
       "events[1].event_retracted.retracted_event_id: event"},
      One(
          "retraction of an unknown event",
          [](const World&) { return Retract(Bare()); },
          "events[0].event_retracted.retracted_event_id: no event"),
      One(
          "retraction without a reason",
          [](const World& w) {
            return With(Retract(w.meeting), [](v1::Event& e) {
              e.mutable_event_retracted()->clear_reason();
            });
          },
          "events[0].event_retracted.reason: required"),
      One(
          "retraction of an earlier close of a complaint",
          [](const World& w) { return Retract(w.c3_close1); },
          "events[0].event_retracted.retracted_event_id: only the latest close "
          "or reopen of a "
          "complaint can be retracted"),
      One("retraction of the latest close of a complaint",
          [](const World& w) { return Retract(w.c3_close2); }),
      {"retraction of a retraction",
       [](const World& w) {
         const v1::Event first = Retract(w.meeting);
         return std::vector<v1::Event>{first, Retract(first)};
       },
       "events[1].event_retracted.retracted_event_id: event"},
  };
}

struct CaseSet {
  const char* name;
  std::vector<Case> (*cases)();
};

class RulesTableTest : public ::testing::TestWithParam<CaseSet> {};

TEST_P(RulesTableTest, RejectsWhatBreaksARuleAndAcceptsTheRest) {
  int rejected = 0;
  int accepted = 0;
  for (const Case& c : GetParam().cases()) {
    SCOPED_TRACE(c.name);
    auto rules = NewRules();
    World world;
    ASSERT_TRUE(AdmitVector(*rules, "1045", world.All()).ok());
    const absl::Status status = AdmitVector(*rules, c.stream, c.batch(world));
    if (c.want.empty()) {
      ++accepted;
      EXPECT_TRUE(status.ok()) << status;
    } else {
      ++rejected;
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
      EXPECT_THAT(std::string(status.message()), StartsWith(c.want));
    }
  }
  // Every set shows both sides of its rules.
  EXPECT_GT(rejected, 0);
  EXPECT_GT(accepted, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Rules, RulesTableTest,
    ::testing::Values(CaseSet{"Envelope", &EnvelopeCases},
                      CaseSet{"FrameworkAndScore", &FrameworkAndScoreCases},
                      CaseSet{"Planning", &PlanningCases},
                      CaseSet{"Integrity", &IntegrityCases},
                      CaseSet{"ServiceRequests", &ServiceRequestCases},
                      CaseSet{"Corrections", &CorrectionCases}),
    [](const ::testing::TestParamInfo<CaseSet>& info) {
      return std::string(info.param.name);
    });

TEST(RulesTest, ChecksTheStreamName) {
  Rules rules;
  EXPECT_TRUE(rules.CheckStream("1001").ok());
  EXPECT_TRUE(rules.CheckStream("1050").ok());
  EXPECT_TRUE(rules.CheckStream("city").ok());
  for (absl::string_view bad : {"", "1051", "1000", "City", "1045 "}) {
    SCOPED_TRACE(bad);
    const absl::Status status = rules.CheckStream(bad);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(status.message()),
                StartsWith("stream: unknown stream"));
    EXPECT_EQ(AdmitAll(rules, bad, {Meeting("MX")}).code(),
              absl::StatusCode::kInvalidArgument);
  }
}

TEST(RulesTest, ABatchWithOneBadEventIsRejectedWhole) {
  auto rules = NewRules();
  const v1::Event measure = Measure("M9");
  const absl::Status status =
      AdmitAll(*rules, "1045", {measure, Complaint("C9"), Progress("M404")});
  EXPECT_THAT(
      std::string(status.message()),
      StartsWith(
          "events[2].measure_progress_reported.measure_id: unknown measure"));

  // Nothing of the batch was applied: its measure is unknown, and its ids
  // are free.
  EXPECT_THAT(
      std::string(AdmitAll(*rules, "1045", {Progress("M9")}).message()),
      StartsWith(
          "events[0].measure_progress_reported.measure_id: unknown measure"));
  EXPECT_THAT(
      std::string(AdmitAll(*rules, "1045", {Assign("C9")}).message()),
      StartsWith(
          "events[0].complaint_assigned.complaint_id: unknown complaint"));
  EXPECT_TRUE(AdmitAll(*rules, "1045", {measure, Complaint("C9")}).ok());
}

TEST(RulesTest, ARejectedBatchLeavesCloseAndRetractionUndone) {
  auto rules = NewRules();
  World w;
  ASSERT_TRUE(AdmitVector(*rules, "1045", w.All()).ok());
  // Closing C1, reopening C2, retracting C3's last close and a measure, then
  // failing: all of it must be rolled back.
  EXPECT_FALSE(AdmitAll(*rules, "1045",
                        {Close("C1"), Reopen("C2"), Retract(w.c3_close2),
                         Retract(w.measure), Progress("M404")})
                   .ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Status("C1")}).ok());
  EXPECT_THAT(std::string(AdmitAll(*rules, "1045", {Status("C2")}).message()),
              HasSubstr("is closed"));
  EXPECT_THAT(std::string(AdmitAll(*rules, "1045", {Status("C3")}).message()),
              HasSubstr("is closed"));
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Progress("M1")}).ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Retract(w.c3_close2)}).ok());
}

TEST(RulesTest, ARejectedCityBatchLeavesNoFramework) {
  auto rules = NewRules();
  v1::Event bad = Framework(2569);
  bad.mutable_framework_published()->mutable_items(0)->clear_title_th();
  EXPECT_FALSE(AdmitAll(*rules, "city", {Framework(2569), bad}).ok());
  EXPECT_FALSE(AdmitAll(*rules, "city", {Policy("P1"), bad}).ok());
  const absl::Time later = absl::FromUnixSeconds(1768021200);  // 10 Jan 2026
  auto later_rules = NewRules(&later);
  EXPECT_FALSE(AdmitAll(*later_rules, "city", {Framework(2569), Bare()}).ok());
  EXPECT_THAT(
      std::string(
          AdmitAll(*later_rules, "1045", {Measure("M1", 2569)}).message()),
      HasSubstr("no ITA framework is published for FY 2569"));
  EXPECT_TRUE(
      AdmitAll(*later_rules, "city", {Framework(2569), Policy("P1")}).ok());
  EXPECT_TRUE(AdmitAll(*later_rules, "1045", {Measure("M1", 2569)}).ok());
}

TEST(RulesTest, TheFrameworkOfTheCityIsUsedByEveryDistrict) {
  const absl::Time later =
      absl::FromUnixSeconds(1768021200);  // 10 Jan 2026, FY 2569
  auto rules = NewRules(&later);
  EXPECT_TRUE(AdmitAll(*rules, "city", {Framework(2569)}).ok());
  for (const char* district : {"1001", "1045", "1050"}) {
    SCOPED_TRACE(district);
    EXPECT_TRUE(AdmitAll(*rules, district,
                         {Measure("M1", 2569),
                          InFy2569(Progress("M1", v1::ROUND_H1, 2569))})
                    .ok());
  }
}

TEST(RulesTest, ACorrectionUpdatesTheModelAsTheCorrectedValue) {
  const absl::Time later = absl::FromUnixSeconds(1768021200);  // 10 Jan 2026
  auto rules = NewRules(&later);
  ASSERT_TRUE(AdmitAll(*rules, "city", {Framework(2569)}).ok());
  const v1::Event measure = Measure("M1", 2568);
  ASSERT_TRUE(AdmitAll(*rules, "1045", {measure}).ok());
  // The measure was meant for FY 2569.
  v1::Event replacement = Measure("M1", 2569);
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Correct(measure, replacement)}).ok());
  EXPECT_THAT(
      std::string(AdmitAll(*rules, "1045", {Progress("M1", v1::ROUND_H1, 2568)})
                      .message()),
      HasSubstr("FY 2568 differs from FY 2569"));
  EXPECT_TRUE(
      AdmitAll(*rules, "1045", {InFy2569(Progress("M1", v1::ROUND_H1, 2569))})
          .ok());
}

TEST(RulesTest, ARetractionUndoesWhatTheEventDid) {
  auto rules = NewRules();
  World w;
  ASSERT_TRUE(AdmitVector(*rules, "1045", w.All()).ok());

  // A retracted close leaves the complaint open.
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Retract(w.close_c2)}).ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Status("C2")}).ok());
  // A retracted reopen leaves it closed again.
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Retract(w.c3_close2)}).ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Status("C3")}).ok());
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Retract(w.c3_reopen)}).ok());
  EXPECT_THAT(std::string(AdmitAll(*rules, "1045", {Status("C3")}).message()),
              HasSubstr("is closed"));
  // A retracted completion leaves the request open.
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Retract(w.r2_done)}).ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {RequestStatus("R2")}).ok());
  // A retracted measure never happened: no progress for it, and its id is
  // free for the measure recorded properly.
  ASSERT_TRUE(AdmitAll(*rules, "1045", {Retract(w.measure)}).ok());
  EXPECT_THAT(std::string(AdmitAll(*rules, "1045", {Progress("M1")}).message()),
              HasSubstr("unknown measure \"M1\""));
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Measure("M1"), Progress("M1")}).ok());
}

TEST(RulesTest, RetractingTheFrameworkWithdrawsItsItems) {
  auto rules = NewRules();
  const v1::Event framework = CityBootstrapEvents().back();
  ASSERT_TRUE(framework.has_framework_published());
  ASSERT_TRUE(AdmitAll(*rules, "city", {Retract(framework)}).ok());
  EXPECT_THAT(std::string(AdmitAll(*rules, "1045", {Score()}).message()),
              HasSubstr("no ITA framework is published for FY 2568"));
}

TEST(RulesTest, ACorrectedFrameworkReplacesTheItems) {
  auto rules = NewRules();
  const v1::Event framework = CityBootstrapEvents().back();
  v1::Event replacement = Framework(2568);
  auto* items = replacement.mutable_framework_published()->mutable_items();
  items->RemoveLast();
  items->RemoveLast();
  for (int n = 1; n <= 22; ++n) {
    v1::FrameworkItem* item = items->Add();
    *item = framework.framework_published().items(18);
    item->set_code(absl::StrCat("O", n));
  }
  ASSERT_TRUE(AdmitAll(*rules, "city", {Correct(framework, replacement)}).ok());
  EXPECT_TRUE(AdmitAll(*rules, "1045", {Score("O22", 100)}).ok());
  EXPECT_THAT(
      std::string(AdmitAll(*rules, "1045", {Score("O1-O17", 100)}).message()),
      HasSubstr("is not in the ITA framework of FY 2568"));
}

TEST(RulesTest, TheClockIsInjected) {
  absl::Time now = kNow;
  auto rules = NewRules(&now);
  v1::Event event = Meeting("MX");
  event.mutable_occurred_at()->set_seconds(absl::ToUnixSeconds(kNow) +
                                           2 * 86400);
  EXPECT_FALSE(AdmitAll(*rules, "1045", {event}).ok());
  now = kNow + absl::Hours(48);
  EXPECT_TRUE(AdmitAll(*rules, "1045", {event}).ok());
}

TEST(RulesTest, ErrorMessagesQuoteLongAndOddValuesSafely) {
  auto rules = NewRules();
  v1::Event event = Meeting("MX");
  event.set_event_id(std::string(5000, 'z'));
  absl::Status status = AdmitAll(*rules, "1045", {event});
  EXPECT_LT(status.message().size(), 200u);
  EXPECT_THAT(std::string(status.message()), HasSubstr("...\""));

  event = Meeting("M\x01\"X");
  status = AdmitAll(*rules, "1045", {event});
  EXPECT_THAT(std::string(status.message()), HasSubstr("\"M\\x01\\\"X\""));
}

// Replays `batches` that Admit accepted into a fresh Rules and checks that
// both answer every probe the same way.
void ExpectSameAnswers(const std::vector<std::vector<v1::Event>>& batches,
                       const std::vector<v1::Event>& probes) {
  auto admitted = NewRules();
  auto replayed = NewRules();
  for (const auto& batch : batches) {
    ASSERT_TRUE(AdmitVector(*admitted, "1045", batch).ok());
    for (const v1::Event& event : batch) {
      replayed->Replay("1045", event);
    }
  }
  for (const v1::Event& probe : probes) {
    SCOPED_TRACE(probe.ShortDebugString());
    const absl::Status a = AdmitVector(*admitted, "1045", {probe});
    const absl::Status b = AdmitVector(*replayed, "1045", {probe});
    EXPECT_EQ(a.code(), b.code());
    EXPECT_EQ(a.message(), b.message());
  }
}

TEST(RulesTest, ReplayRebuildsWhatAdmitBuilt) {
  World w;
  const v1::Event progress_fix = Correct(w.progress, Progress("M2"));
  const v1::Event gift_fix = Correct(w.g2, Gift("G2", D(2025, 3, 20)));
  const std::vector<std::vector<v1::Event>> batches = {
      w.All(),
      {Retract(w.close_c2), Retract(w.c3_close2), Retract(w.r2_done)},
      {progress_fix, gift_fix, Retract(w.meeting), Measure("M3")},
      {Close("C1"), Reopen("C1")},
  };
  std::vector<v1::Event> probes = {Progress("M1"),
                                   Progress("M3"),
                                   Measure("M3"),
                                   Meeting("MT1"),
                                   Status("C1"),
                                   Status("C2"),
                                   Status("C3"),
                                   Close("C1"),
                                   Close("C2"),
                                   Reopen("C3"),
                                   RequestStatus("R2"),
                                   RequestDone("R1"),
                                   GiftSubmission("S1", {"G1", "G2"}),
                                   Evidence("EV1", "M1"),
                                   Retract(w.meeting),
                                   Retract(w.c3_close1),
                                   Retract(w.c3_reopen),
                                   Correct(w.meeting, Meeting("MT1")),
                                   Correct(progress_fix, Progress("M1")),
                                   With(Meeting("MX"), [&](v1::Event& e) {
                                     e.set_event_id(w.c1.event_id());
                                   })};
  ExpectSameAnswers(batches, probes);
}

TEST(RulesTest, TheWriteModelStaysSmall) {
  auto rules = NewRules();
  const size_t before = rules->MemoryUsage();
  constexpr int kRequests = 20'000;
  std::vector<v1::Event> batch;
  for (int i = 0; i < kRequests; ++i) {
    const std::string id = absl::StrCat("OSS-2568-", i);
    batch.push_back(Request(id));
    batch.push_back(RequestStatus(id));
    batch.push_back(RequestDone(id));
    if (batch.size() >= 3000) {
      ASSERT_TRUE(AdmitVector(*rules, "1045", batch).ok());
      batch.clear();
    }
  }
  ASSERT_TRUE(AdmitVector(*rules, "1045", batch).ok());
  const double per_event =
      static_cast<double>(rules->MemoryUsage() - before) / (3 * kRequests);
  // Three events and one identity per request, each a 17-byte slot in a hash
  // table that keeps spare room: 20-50 bytes per event, never hundreds.
  RecordProperty("bytes_per_event", absl::StrCat(per_event));
  EXPECT_LT(per_event, 64.0);
}

}  // namespace
}  // namespace prongsai::domain

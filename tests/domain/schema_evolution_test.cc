// Schema evolution: a record written by an older schema still decodes and
// passes the rules with the current one; fields, enum values and event types
// written by a newer schema survive a decode and re-encode by the current one.
#include <string>

#include "absl/strings/match.h"
#include "core/domain/rules.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "prongsai/v1/record.pb.h"
#include "schema/future_v2.pb.h"
#include "schema/legacy_v0.pb.h"
#include "tests/domain/domain_events.h"

namespace prongsai::domain {
namespace {

using google::protobuf::util::MessageDifferencer;
using testing::AdmitVector;
using testing::NewRules;

template <typename Message>
void SetCommon(Message& event, absl::string_view id) {
  event.set_event_id(std::string(id));
  event.mutable_occurred_at()->set_seconds(testing::kOccurredSeconds);
  event.mutable_actor()->set_id("1045-ita-01");
}

legacy::v0::Event LegacyScore() {
  legacy::v0::Event event;
  SetCommon(event, "0b7ad1a4-3c5e-4f0e-9a51-0d4cf1a3b001");
  auto* score = event.mutable_score_recorded();
  score->set_fiscal_year(2568);
  score->set_item_code("I7");
  score->set_score(99.76);
  score->set_source("ผลการประเมิน ITA ประจำปี 2567");
  return event;
}

legacy::v0::Event LegacyMeeting() {
  legacy::v0::Event event;
  SetCommon(event, "0b7ad1a4-3c5e-4f0e-9a51-0d4cf1a3b002");
  auto* meeting = event.mutable_meeting_held();
  meeting->set_meeting_id("MT-2567-10");
  meeting->set_kind(legacy::v0::MEETING_KIND_MONTHLY_STAFF);
  meeting->set_title("ประชุมข้าราชการและลูกจ้างประจำเดือน ตุลาคม 2567");
  meeting->mutable_date()->set_year(2024);
  meeting->mutable_date()->set_month(10);
  meeting->mutable_date()->set_day(15);
  meeting->set_attendees(80);
  return event;
}

future::v2::Event FutureMeeting() {
  future::v2::Event event;
  SetCommon(event, "0b7ad1a4-3c5e-4f0e-9a51-0d4cf1a3b003");
  event.mutable_actor()->set_role("ita-secretary");
  event.set_trace_id("trace-77");
  auto* meeting = event.mutable_meeting_held();
  meeting->set_meeting_id("MT-2568-04");
  meeting->set_kind(future::v2::MEETING_KIND_MONTHLY_STAFF);
  meeting->set_title("ประชุมข้าราชการและลูกจ้างประจำเดือน เมษายน 2568");
  meeting->mutable_date()->set_year(2025);
  meeting->mutable_date()->set_month(4);
  meeting->mutable_date()->set_day(30);
  meeting->set_attendees(85);
  meeting->set_location("ห้องประชุมชั้น 3");
  meeting->set_duration_minutes(90);
  return event;
}

TEST(SchemaEvolutionTest, AnOlderRecordDecodesAndPassesTheRules) {
  legacy::v0::Record record;
  record.set_stream("1045");
  record.set_sequence(1);
  record.set_prev_hash(std::string(32, '\0'));
  record.mutable_recorded_at()->set_seconds(testing::kOccurredSeconds);
  *record.mutable_event() = LegacyScore();
  const std::string bytes = record.SerializeAsString();

  v1::Record current;
  ASSERT_TRUE(current.ParseFromString(bytes));
  EXPECT_EQ(current.stream(), "1045");
  const v1::Event& event = current.event();
  ASSERT_TRUE(event.has_score_recorded());
  EXPECT_EQ(event.score_recorded().item_code(), "I7");
  EXPECT_DOUBLE_EQ(event.score_recorded().score(), 99.76);
  EXPECT_EQ(event.score_recorded().assessment_year(), 0);  // added later
  EXPECT_TRUE(event.actor().division().empty());

  v1::Event meeting;
  ASSERT_TRUE(meeting.ParseFromString(LegacyMeeting().SerializeAsString()));
  EXPECT_EQ(meeting.meeting_held().agenda_items_size(), 0);

  // Stored: replays. Sent again today: passes every rule.
  auto replayed = NewRules();
  replayed->Replay("1045", event);
  replayed->Replay("1045", meeting);
  EXPECT_FALSE(AdmitVector(*replayed, "1045", {meeting}).ok());  // id known
  auto rules = NewRules();
  const absl::Status status = AdmitVector(*rules, "1045", {event, meeting});
  EXPECT_TRUE(status.ok()) << status;

  // The current schema encodes what it decoded to the very same bytes, so a
  // hash over an old record still verifies.
  EXPECT_EQ(current.SerializeAsString(), bytes);
}

TEST(SchemaEvolutionTest, NewerFieldsSurviveADecodeAndReencode) {
  const future::v2::Event original = FutureMeeting();
  v1::Event current;
  ASSERT_TRUE(current.ParseFromString(original.SerializeAsString()));
  ASSERT_TRUE(current.has_meeting_held());
  EXPECT_EQ(current.meeting_held().meeting_id(), "MT-2568-04");

  // The rules judge the fields they know.
  auto rules = NewRules();
  const absl::Status status = AdmitVector(*rules, "1045", {current});
  EXPECT_TRUE(status.ok()) << status;

  future::v2::Event round_trip;
  ASSERT_TRUE(round_trip.ParseFromString(current.SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(round_trip, original))
      << round_trip.ShortDebugString();
  EXPECT_EQ(round_trip.trace_id(), "trace-77");
  EXPECT_EQ(round_trip.actor().role(), "ita-secretary");
  EXPECT_EQ(round_trip.meeting_held().location(), "ห้องประชุมชั้น 3");
}

TEST(SchemaEvolutionTest, ANewerEnumValueIsKeptButRefusedAsUnknown) {
  future::v2::Event original = FutureMeeting();
  original.mutable_meeting_held()->set_kind(
      future::v2::MEETING_KIND_PUBLIC_HEARING);
  v1::Event current;
  ASSERT_TRUE(current.ParseFromString(original.SerializeAsString()));
  EXPECT_EQ(static_cast<int>(current.meeting_held().kind()), 6);

  auto rules = NewRules();
  const absl::Status status = AdmitVector(*rules, "1045", {current});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(),
                               "events[0].meeting_held.kind: unknown value 6"))
      << status.message();

  future::v2::Event round_trip;
  ASSERT_TRUE(round_trip.ParseFromString(current.SerializeAsString()));
  EXPECT_EQ(round_trip.meeting_held().kind(),
            future::v2::MEETING_KIND_PUBLIC_HEARING);
}

TEST(SchemaEvolutionTest, ANewerEventTypeIsKeptButNotAdmitted) {
  future::v2::Event original;
  SetCommon(original, "0b7ad1a4-3c5e-4f0e-9a51-0d4cf1a3b004");
  original.mutable_training_completed()->set_training_id("T-1");
  original.mutable_training_completed()->set_participants(42);
  v1::Event current;
  ASSERT_TRUE(current.ParseFromString(original.SerializeAsString()));
  EXPECT_EQ(current.payload_case(), v1::Event::PAYLOAD_NOT_SET);

  // This server cannot check it, so it does not take it.
  auto rules = NewRules();
  const absl::Status status = AdmitVector(*rules, "1045", {current});
  EXPECT_TRUE(
      absl::StartsWith(status.message(),
                       "events[0].payload: missing or of a type this server "
                       "does not know"))
      << status.message();

  // Stored by a newer server, it replays, and it is not mistaken for an event
  // that could be corrected.
  rules->Replay("1045", current);
  v1::Event correction = testing::Bare();
  correction.mutable_event_corrected()->set_corrected_event_id(
      current.event_id());
  *correction.mutable_event_corrected()
       ->mutable_replacement()
       ->mutable_meeting_held() = testing::Meeting("MT9").meeting_held();
  correction.mutable_event_corrected()->set_reason("x");
  EXPECT_TRUE(
      absl::StrContains(AdmitVector(*rules, "1045", {correction}).message(),
                        "has a type this server does not know"));

  future::v2::Event round_trip;
  ASSERT_TRUE(round_trip.ParseFromString(current.SerializeAsString()));
  EXPECT_TRUE(MessageDifferencer::Equals(round_trip, original));
}

TEST(SchemaEvolutionTest, HandWrittenWireBytesOfAMinimalEventDecode) {
  // Event{event_id: "...", occurred_at{seconds: 1746068400}, actor{id: "a"},
  //       meeting_held{meeting_id: "M", kind: 1, title: "t",
  //                    date{2025, 4, 30}}}, encoded by hand.
  const std::string id = "0b7ad1a4-3c5e-4f0e-9a51-0d4cf1a3b005";
  std::string bytes;
  bytes += '\x0a';
  bytes += static_cast<char>(id.size());
  bytes += id;
  bytes += std::string("\x12\x06\x08\xb0\xc7\xcb\xc0\x06", 8);  // occurred_at
  bytes += std::string(
      "\x1a\x03\x0a\x01"
      "a",
      5);  // actor
  const std::string meeting = std::string(
      "\x0a\x01M\x10\x01\x1a\x01t\x22\x07\x08\xe9\x0f\x10\x04\x18\x1e", 17);
  bytes += std::string("\xc2\x01", 2);  // field 24, length-delimited
  bytes += static_cast<char>(meeting.size());
  bytes += meeting;

  v1::Event event;
  ASSERT_TRUE(event.ParseFromString(bytes));
  EXPECT_EQ(event.occurred_at().seconds(), testing::kOccurredSeconds);
  EXPECT_EQ(event.meeting_held().date().year(), 2025);
  EXPECT_EQ(event.meeting_held().date().day(), 30);
  auto rules = NewRules();
  const absl::Status status = AdmitVector(*rules, "1045", {event});
  EXPECT_TRUE(status.ok()) << status;
  EXPECT_EQ(event.SerializeAsString(), bytes);
}

}  // namespace
}  // namespace prongsai::domain

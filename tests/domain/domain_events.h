// Valid events of every type for the domain tests, and a Rules with the city
// reference data published, on a fixed clock.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "core/domain/rules.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "prongsai/v1/events.pb.h"
#include "tests/testing/testing.h"

namespace prongsai::domain::testing {

// 15 June 2025, 12:00 in Bangkok: in H2 of FY 2568.
inline const absl::Time kNow = absl::FromUnixSeconds(1749963600);
// 1 May 2025, 10:00 in Bangkok: when the sample events happened.
inline constexpr int64_t kOccurredSeconds = 1746068400;

inline v1::Date D(int year, int month, int day) {
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

inline google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(seconds);
  return ts;
}

// A Rules on a clock that reads `*now`, with the city bootstrap replayed.
inline std::unique_ptr<Rules> NewRules(const absl::Time* now = &kNow) {
  auto rules = std::make_unique<Rules>([now] { return *now; });
  for (const v1::Event& event : CityBootstrapEvents()) {
    rules->Replay(kCityStream, event);
  }
  return rules;
}

inline absl::Status AdmitAll(Rules& rules, absl::string_view stream,
                             std::initializer_list<v1::Event> events) {
  google::protobuf::RepeatedPtrField<v1::Event> batch;
  for (const v1::Event& event : events) {
    *batch.Add() = event;
  }
  return rules.Admit(stream, batch);
}

inline absl::Status AdmitVector(Rules& rules, absl::string_view stream,
                                const std::vector<v1::Event>& events) {
  google::protobuf::RepeatedPtrField<v1::Event> batch(events.begin(),
                                                      events.end());
  return rules.Admit(stream, batch);
}

// An event with a fresh id, occurred_at and actor, and no payload.
inline v1::Event Bare() {
  v1::Event event;
  event.set_event_id(prongsai::testing::NewUuid());
  *event.mutable_occurred_at() = At(kOccurredSeconds);
  event.mutable_actor()->set_id("1045-ita-01");
  event.mutable_actor()->set_division("ฝ่ายปกครอง");
  return event;
}

inline v1::Event Score(absl::string_view item = "I7", double score = 99.76) {
  v1::Event e = Bare();
  auto* p = e.mutable_score_recorded();
  p->set_fiscal_year(2568);
  p->set_item_code(std::string(item));
  p->set_score(score);
  p->set_source("ผลการประเมิน ITA ประจำปี 2567");
  p->set_assessment_year(2567);
  return e;
}

inline v1::Event Issue(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_improvement_issue_identified();
  p->set_issue_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_item_code("I1");
  p->set_text("การปฏิบัติงานยังมีการเลือกปฏิบัติ");
  return e;
}

inline v1::Event Measure(absl::string_view id, int fiscal_year = 2568) {
  v1::Event e = Bare();
  auto* p = e.mutable_measure_planned();
  p->set_measure_id(std::string(id));
  p->set_fiscal_year(fiscal_year);
  p->add_item_codes("I1");
  p->add_item_codes("E1");
  p->set_number(1);
  p->set_title("เผยแพร่คู่มือการปฏิบัติงานผ่านเว็บไซต์ของสำนักงานเขต");
  p->set_round(v1::ROUND_H1);
  *p->mutable_planned_start() = D(fiscal_year - 544, 10, 1);
  *p->mutable_planned_end() = D(fiscal_year - 543, 3, 31);
  return e;
}

inline v1::Event Progress(absl::string_view measure_id,
                          v1::Round round = v1::ROUND_H1,
                          int fiscal_year = 2568) {
  v1::Event e = Bare();
  auto* p = e.mutable_measure_progress_reported();
  p->set_measure_id(std::string(measure_id));
  p->set_fiscal_year(fiscal_year);
  p->set_round(round);
  p->set_status(v1::PROGRESS_STATUS_DONE);
  p->set_result_text("เผยแพร่ผ่านทางเว็บไซต์ของสำนักงานเขตแล้ว");
  return e;
}

inline v1::Event Evidence(absl::string_view id, absl::string_view measure_id) {
  v1::Event e = Bare();
  auto* p = e.mutable_evidence_attached();
  p->set_evidence_id(std::string(id));
  p->set_sha256(std::string(32, '\x5a'));
  p->set_media_type("image/jpeg");
  p->set_size_bytes(204800);
  p->set_caption("ภาพการประชุม");
  p->set_uri("https://wangthonglang.example/ita/1.jpg");
  p->set_measure_id(std::string(measure_id));
  return e;
}

inline v1::Event Meeting(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_meeting_held();
  p->set_meeting_id(std::string(id));
  p->set_kind(v1::MEETING_KIND_MONTHLY_STAFF);
  p->set_title("ประชุมข้าราชการและลูกจ้างประจำเดือน");
  *p->mutable_date() = D(2025, 4, 30);
  p->set_attendees(85);
  return e;
}

inline v1::Event Policy(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_policy_announced();
  p->set_policy_id(std::string(id));
  p->set_kind(v1::POLICY_KIND_NO_GIFT);
  p->set_title("ประกาศนโยบายไม่รับของขวัญ (No Gift Policy)");
  p->set_announced_by("ผู้อำนวยการเขต");
  *p->mutable_date() = D(2024, 10, 15);
  return e;
}

inline v1::Event WorkingGroup(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_working_group_appointed();
  p->set_group_id(std::string(id));
  p->set_title("คณะทำงานขับเคลื่อน ITA");
  p->set_order_ref("คำสั่งเขตวังทองหลาง ที่ 12/2568");
  *p->mutable_date() = D(2024, 10, 20);
  auto* member = p->add_members();
  member->mutable_person()->set_subject_id("p-001");
  member->mutable_person()->set_name("สมชาย ใจดี");
  member->set_role("ประธาน");
  return e;
}

inline v1::Event Disclosure(absl::string_view id,
                            absl::string_view item = "O5") {
  v1::Event e = Bare();
  auto* p = e.mutable_disclosure_published();
  p->set_disclosure_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_item_code(std::string(item));
  p->set_title("กฎหมายที่เกี่ยวข้อง");
  p->set_url("https://wangthonglang.example/oit/o5");
  *p->mutable_date() = D(2025, 1, 10);
  p->set_responsible_division("ฝ่ายปกครอง");
  return e;
}

inline v1::Event Checklist() {
  v1::Event e = Bare();
  auto* p = e.mutable_disclosure_checklist_assigned();
  p->set_fiscal_year(2568);
  auto* a = p->add_assignments();
  a->set_item_code("O1");
  a->set_division("ฝ่ายปกครอง");
  a = p->add_assignments();
  a->set_item_code("O18");
  a->set_division("ฝ่ายการคลัง");
  return e;
}

inline v1::Event Gift(absl::string_view id,
                      v1::Date received = D(2024, 11, 2)) {
  v1::Event e = Bare();
  auto* p = e.mutable_gift_report_filed();
  p->set_report_id(std::string(id));
  p->mutable_official()->set_subject_id("p-017");
  p->mutable_official()->set_name("สมหญิง รักดี");
  p->mutable_giver()->set_name("ร้านค้าในพื้นที่");
  p->set_giver_category(v1::GIVER_CATEGORY_BUSINESS);
  p->set_description("กระเช้าผลไม้");
  p->set_estimated_value_satang(150000);
  *p->mutable_received_on() = received;
  p->set_disposition(v1::GIFT_DISPOSITION_RETURNED);
  return e;
}

inline v1::Event GiftSubmission(absl::string_view id,
                                std::initializer_list<const char*> reports,
                                v1::Round round = v1::ROUND_H1) {
  v1::Event e = Bare();
  auto* p = e.mutable_gift_reports_submitted();
  p->set_submission_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_round(round);
  for (const char* report : reports) {
    p->add_report_ids(report);
  }
  *p->mutable_submitted_on() = D(2025, 4, 5);
  return e;
}

inline v1::Event Complaint(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_complaint_received();
  p->set_complaint_id(std::string(id));
  p->set_channel(v1::COMPLAINT_CHANNEL_WEBSITE);
  p->set_category(v1::COMPLAINT_CATEGORY_SERVICE_DELAY);
  p->set_summary("ขอใบอนุญาตแล้วรอนานเกินกำหนด");
  p->mutable_complainant()->set_anonymous(true);
  *p->mutable_received_on() = D(2025, 4, 1);
  return e;
}

inline v1::Event Assign(absl::string_view complaint_id) {
  v1::Event e = Bare();
  auto* p = e.mutable_complaint_assigned();
  p->set_complaint_id(std::string(complaint_id));
  p->set_division("ฝ่ายโยธา");
  return e;
}

inline v1::Event Status(
    absl::string_view complaint_id,
    v1::ComplaintStatus status = v1::COMPLAINT_STATUS_INVESTIGATING) {
  v1::Event e = Bare();
  auto* p = e.mutable_complaint_status_changed();
  p->set_complaint_id(std::string(complaint_id));
  p->set_status(status);
  return e;
}

inline v1::Event Close(absl::string_view complaint_id) {
  v1::Event e = Bare();
  auto* p = e.mutable_complaint_closed();
  p->set_complaint_id(std::string(complaint_id));
  p->set_outcome(v1::COMPLAINT_OUTCOME_SUBSTANTIATED);
  p->set_action_taken("ตักเตือนเจ้าหน้าที่และเร่งรัดการออกใบอนุญาต");
  return e;
}

inline v1::Event Reopen(absl::string_view complaint_id) {
  v1::Event e = Bare();
  auto* p = e.mutable_complaint_reopened();
  p->set_complaint_id(std::string(complaint_id));
  p->set_reason("ผู้ร้องแจ้งว่ายังไม่ได้รับใบอนุญาต");
  return e;
}

inline v1::Event Disciplinary(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_disciplinary_report_made();
  p->set_report_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_round(v1::ROUND_H2);
  *p->mutable_date() = D(2025, 4, 30);
  p->set_cases(0);
  return e;
}

inline v1::Event Inspection(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_asset_inspection_completed();
  p->set_inspection_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_items_checked(1250);
  p->set_discrepancies(3);
  *p->mutable_reported_on() = D(2025, 3, 20);
  return e;
}

inline v1::Event Budget(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_budget_review_held();
  p->set_review_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_quarter(2);
  p->set_planned_satang(125'000'000);
  p->set_disbursed_satang(110'000'000);
  *p->mutable_date() = D(2025, 4, 10);
  return e;
}

inline v1::Event Project(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_community_project_approved();
  p->set_project_id(std::string(id));
  p->set_fiscal_year(2568);
  p->set_name("โครงการส่งเสริมสุขภาพชุมชน");
  p->set_community("ชุมชนพลับพลา");
  p->set_amount_satang(17'875'000);
  *p->mutable_approved_on() = D(2025, 2, 14);
  return e;
}

inline v1::Event Request(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_service_request_received();
  p->set_request_id(std::string(id));
  p->set_service_code("BMA-OSS-0101");
  p->set_service_name("ขออนุญาตก่อสร้างอาคาร");
  p->set_channel(v1::SERVICE_CHANNEL_ONLINE);
  *p->mutable_requested_at() = At(kOccurredSeconds - 3600);
  *p->mutable_expected_at() = At(kOccurredSeconds + 30 * 86400);
  return e;
}

inline v1::Event RequestStatus(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_service_request_status_changed();
  p->set_request_id(std::string(id));
  p->set_status("in_progress");
  *p->mutable_updated_at() = At(kOccurredSeconds);
  return e;
}

inline v1::Event RequestDone(absl::string_view id) {
  v1::Event e = Bare();
  auto* p = e.mutable_service_request_completed();
  p->set_request_id(std::string(id));
  *p->mutable_completed_at() = At(kOccurredSeconds);
  return e;
}

inline v1::Event Correct(const v1::Event& original, v1::Event replacement) {
  replacement.clear_event_id();
  replacement.clear_occurred_at();
  replacement.clear_actor();
  v1::Event e = Bare();
  auto* p = e.mutable_event_corrected();
  p->set_corrected_event_id(original.event_id());
  *p->mutable_replacement() = std::move(replacement);
  p->set_reason("แก้ไขข้อมูลที่บันทึกผิด");
  return e;
}

inline v1::Event Retract(const v1::Event& original) {
  v1::Event e = Bare();
  auto* p = e.mutable_event_retracted();
  p->set_retracted_event_id(original.event_id());
  p->set_reason("บันทึกซ้ำโดยไม่ได้ตั้งใจ");
  return e;
}

// A FrameworkPublished for `fiscal_year`, with the items of FY 2568.
inline v1::Event Framework(int fiscal_year) {
  v1::Event e = Bare();
  *e.mutable_framework_published() = *ShippedFramework(2568);
  e.mutable_framework_published()->set_fiscal_year(fiscal_year);
  return e;
}

}  // namespace prongsai::domain::testing

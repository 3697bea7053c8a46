#include "projections/audit/audit_trail_projection.h"

#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/base/status.h"

namespace prongsai::projections {
namespace {

constexpr char kEventPrefix = 'e';
constexpr char kSubjectPrefix = 's';
constexpr char kActorPrefix = 'a';
constexpr uint32_t kDefaultLimit = 1000;

std::string EventKey(absl::string_view event_id) {
  return absl::StrCat(absl::string_view(&kEventPrefix, 1), event_id);
}

std::string SubjectPrefix(absl::string_view kind, absl::string_view id) {
  std::string key(1, kSubjectPrefix);
  absl::StrAppend(&key, kind);
  key.push_back('\0');
  absl::StrAppend(&key, id);
  key.push_back('\0');
  return key;
}

std::string ActorPrefix(absl::string_view actor_id) {
  std::string key(1, kActorPrefix);
  absl::StrAppend(&key, actor_id);
  key.push_back('\0');
  return key;
}

void Add(std::vector<v1::TrailSubject>* out, absl::string_view kind,
         absl::string_view id) {
  if (id.empty()) {
    return;
  }
  for (const v1::TrailSubject& s : *out) {
    if (s.kind() == kind && s.id() == id) {
      return;
    }
  }
  v1::TrailSubject subject;
  subject.set_kind(std::string(kind));
  subject.set_id(std::string(id));
  out->push_back(std::move(subject));
}

absl::StatusOr<std::optional<v1::TrailEntry>> ReadEntry(
    const ViewReader& view, absl::string_view event_id) {
  ASSIGN_OR_RETURN(std::optional<std::string> row,
                   view.Get(EventKey(event_id)));
  if (!row.has_value()) {
    return std::nullopt;
  }
  v1::TrailEntry entry;
  if (!entry.ParseFromString(*row)) {
    return absl::DataLossError(absl::StrCat("audit trail: the entry of event ",
                                            event_id, " does not decode"));
  }
  return entry;
}

}  // namespace

std::string EventKind(const v1::Event& event) {
  if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) {
    return "unknown";
  }
  const google::protobuf::FieldDescriptor* field =
      v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
  return field == nullptr ? "unknown" : field->name();
}

std::vector<v1::TrailSubject> SubjectsOf(const v1::Event& event) {
  std::vector<v1::TrailSubject> out;
  switch (event.payload_case()) {
    case v1::Event::kFrameworkPublished:
      Add(&out, "framework",
          absl::StrCat(event.framework_published().fiscal_year()));
      break;
    case v1::Event::kDistrictRegistered:
      Add(&out, "district", event.district_registered().code());
      break;
    case v1::Event::kScoreRecorded:
      Add(&out, "score",
          absl::StrCat(event.score_recorded().fiscal_year(), "/",
                       event.score_recorded().item_code()));
      break;
    case v1::Event::kImprovementIssueIdentified:
      Add(&out, "issue", event.improvement_issue_identified().issue_id());
      break;
    case v1::Event::kMeasurePlanned:
      Add(&out, "measure", event.measure_planned().measure_id());
      break;
    case v1::Event::kMeasureProgressReported:
      Add(&out, "measure", event.measure_progress_reported().measure_id());
      break;
    case v1::Event::kEvidenceAttached: {
      const v1::EvidenceAttached& e = event.evidence_attached();
      Add(&out, "evidence", e.evidence_id());
      Add(&out, "measure", e.measure_id());
      Add(&out, "meeting", e.meeting_id());
      break;
    }
    case v1::Event::kMeetingHeld:
      Add(&out, "meeting", event.meeting_held().meeting_id());
      for (const v1::AgendaItem& item : event.meeting_held().agenda_items()) {
        for (const std::string& measure : item.measure_ids()) {
          Add(&out, "measure", measure);
        }
      }
      break;
    case v1::Event::kPolicyAnnounced:
      Add(&out, "policy", event.policy_announced().policy_id());
      break;
    case v1::Event::kWorkingGroupAppointed:
      Add(&out, "working_group", event.working_group_appointed().group_id());
      break;
    case v1::Event::kDisclosurePublished:
      Add(&out, "disclosure", event.disclosure_published().disclosure_id());
      break;
    case v1::Event::kDisclosureChecklistAssigned:
      Add(&out, "disclosure_checklist",
          absl::StrCat(event.disclosure_checklist_assigned().fiscal_year()));
      break;
    case v1::Event::kGiftReportFiled:
      Add(&out, "gift_report", event.gift_report_filed().report_id());
      break;
    case v1::Event::kGiftReportsSubmitted:
      Add(&out, "gift_submission",
          event.gift_reports_submitted().submission_id());
      for (const std::string& id :
           event.gift_reports_submitted().report_ids()) {
        Add(&out, "gift_report", id);
      }
      break;
    case v1::Event::kComplaintReceived:
      Add(&out, "complaint", event.complaint_received().complaint_id());
      break;
    case v1::Event::kComplaintAssigned:
      Add(&out, "complaint", event.complaint_assigned().complaint_id());
      break;
    case v1::Event::kComplaintStatusChanged:
      Add(&out, "complaint", event.complaint_status_changed().complaint_id());
      break;
    case v1::Event::kComplaintClosed:
      Add(&out, "complaint", event.complaint_closed().complaint_id());
      break;
    case v1::Event::kComplaintReopened:
      Add(&out, "complaint", event.complaint_reopened().complaint_id());
      break;
    case v1::Event::kDisciplinaryReportMade:
      Add(&out, "disciplinary_report",
          event.disciplinary_report_made().report_id());
      break;
    case v1::Event::kAssetInspectionCompleted:
      Add(&out, "asset_inspection",
          event.asset_inspection_completed().inspection_id());
      break;
    case v1::Event::kBudgetReviewHeld:
      Add(&out, "budget_review", event.budget_review_held().review_id());
      break;
    case v1::Event::kCommunityProjectApproved:
      Add(&out, "community_project",
          event.community_project_approved().project_id());
      break;
    case v1::Event::kServiceRequestReceived:
      Add(&out, "service_request",
          event.service_request_received().request_id());
      break;
    case v1::Event::kServiceRequestStatusChanged:
      Add(&out, "service_request",
          event.service_request_status_changed().request_id());
      break;
    case v1::Event::kServiceRequestCompleted:
      Add(&out, "service_request",
          event.service_request_completed().request_id());
      break;
    case v1::Event::kEventCorrected:
    case v1::Event::kEventRetracted:
    case v1::Event::PAYLOAD_NOT_SET:
      break;
  }
  return out;
}

absl::Status AuditTrailProjection::Apply(const AppliedRecord& record,
                                         ViewWriter& view) {
  const v1::Record& r = record.record;
  const v1::Event& event = r.event();
  if (event.event_id().empty()) {
    return absl::DataLossError(absl::StrCat("audit trail: record ", r.stream(),
                                            "/", r.sequence(),
                                            " has no event id"));
  }
  v1::TrailEntry entry;
  entry.set_event_id(event.event_id());
  entry.set_stream(r.stream());
  entry.set_sequence(r.sequence());
  entry.set_position(record.position);
  entry.set_kind(EventKind(event));
  entry.set_actor_id(event.actor().id());
  if (event.has_occurred_at()) {
    *entry.mutable_occurred_at() = event.occurred_at();
  }
  if (r.has_recorded_at()) {
    *entry.mutable_recorded_at() = r.recorded_at();
  }

  std::vector<v1::TrailSubject> subjects;
  std::string target;
  if (event.has_event_corrected()) {
    target = event.event_corrected().corrected_event_id();
    subjects = SubjectsOf(event.event_corrected().replacement());
  } else if (event.has_event_retracted()) {
    target = event.event_retracted().retracted_event_id();
  } else {
    subjects = SubjectsOf(event);
  }
  if (!target.empty()) {
    entry.set_target_event_id(target);
    ASSIGN_OR_RETURN(std::optional<v1::TrailEntry> original,
                     ReadEntry(view, target));
    if (original.has_value()) {
      entry.set_target_sequence(original->sequence());
      // Filed under what the original was about, so a subject's trail shows
      // its corrections.
      std::vector<v1::TrailSubject> merged(original->subjects().begin(),
                                           original->subjects().end());
      for (const v1::TrailSubject& s : subjects) {
        Add(&merged, s.kind(), s.id());
      }
      subjects = std::move(merged);
      v1::TrailCorrection* correction = original->add_corrections();
      correction->set_event_id(event.event_id());
      correction->set_stream(r.stream());
      correction->set_sequence(r.sequence());
      correction->set_kind(entry.kind());
      view.Put(EventKey(target), original->SerializeAsString());
    }
  }
  for (const v1::TrailSubject& s : subjects) {
    *entry.add_subjects() = s;
    std::string key = SubjectPrefix(s.kind(), s.id());
    AppendBigEndian64(record.position, &key);
    view.Put(key, event.event_id());
  }
  if (!entry.actor_id().empty()) {
    std::string key = ActorPrefix(entry.actor_id());
    AppendBigEndian64(record.position, &key);
    view.Put(key, event.event_id());
  }
  view.Put(EventKey(event.event_id()), entry.SerializeAsString());
  return absl::OkStatus();
}

absl::StatusOr<v1::Trail> AuditTrailView::Collect(absl::string_view prefix,
                                                  uint32_t limit) const {
  if (limit == 0) {
    limit = kDefaultLimit;
  }
  std::vector<std::string> ids;
  bool more = false;
  RETURN_IF_ERROR(
      view_.Scan(prefix, [&](absl::string_view, absl::string_view value) {
        if (ids.size() == limit) {
          more = true;
          return false;
        }
        ids.emplace_back(value);
        return true;
      }));
  v1::Trail trail;
  trail.set_truncated(more);
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(std::optional<v1::TrailEntry> entry, ReadEntry(view_, id));
    if (!entry.has_value()) {
      return absl::DataLossError(
          absl::StrCat("audit trail: an index row names event ", id,
                       ", which has no entry"));
    }
    *trail.add_entries() = std::move(*entry);
  }
  return trail;
}

absl::StatusOr<v1::Trail> AuditTrailView::ForSubject(absl::string_view kind,
                                                     absl::string_view id,
                                                     uint32_t limit) const {
  if (kind.empty() || id.empty()) {
    return absl::InvalidArgumentError(
        "subject.kind and subject.id are required");
  }
  return Collect(SubjectPrefix(kind, id), limit);
}

absl::StatusOr<v1::Trail> AuditTrailView::ForActor(absl::string_view actor_id,
                                                   uint32_t limit) const {
  if (actor_id.empty()) {
    return absl::InvalidArgumentError("actor_id is required");
  }
  return Collect(ActorPrefix(actor_id), limit);
}

absl::StatusOr<v1::TrailEntry> AuditTrailView::Event(
    absl::string_view event_id) const {
  ASSIGN_OR_RETURN(std::optional<v1::TrailEntry> entry,
                   ReadEntry(view_, event_id));
  if (!entry.has_value()) {
    return absl::NotFoundError(
        absl::StrCat("the audit trail has no event ", event_id));
  }
  return *std::move(entry);
}

}  // namespace prongsai::projections

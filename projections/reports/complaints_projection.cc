#include "projections/reports/complaints_projection.h"

#include <algorithm>
#include <functional>

#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {
namespace {

std::string OpenKey(absl::string_view district, int32_t received_day,
                    absl::string_view complaint) {
  std::string key = Key('O', district);
  AppendDay(received_day, &key);
  key.append(complaint.data(), complaint.size());
  return key;
}

int32_t DayOfSeconds(int64_t seconds) {
  return DayNumber(domain::BangkokDay(absl::FromUnixSeconds(seconds)));
}

int32_t DayOfDate(const v1::Date& date) {
  return domain::IsValidDate(date) ? DayNumber(domain::ToCivilDay(date)) : 0;
}

// The complaint's state from its transitions, in log order.
void Derive(ComplaintRow* row) {
  ComplaintRow derived;
  for (const TransitionRow& t : row->transitions()) {
    switch (t.kind()) {
      case TRANSITION_KIND_RECEIVED:
        derived.set_received(true);
        derived.set_channel(t.channel());
        derived.set_category(t.category());
        derived.set_received_day(t.received_day());
        derived.set_open(true);
        derived.set_status(v1::COMPLAINT_STATUS_RECEIVED);
        break;
      case TRANSITION_KIND_ASSIGNED:
        derived.set_division(t.division());
        break;
      case TRANSITION_KIND_STATUS:
        derived.set_status(t.status());
        break;
      case TRANSITION_KIND_CLOSED:
        derived.set_open(false);
        derived.set_closed_day(t.day());
        derived.set_outcome(t.outcome());
        derived.set_status(v1::COMPLAINT_STATUS_CLOSED);
        break;
      case TRANSITION_KIND_REOPENED:
        derived.set_open(true);
        derived.set_closed_day(0);
        derived.set_outcome(v1::COMPLAINT_OUTCOME_UNSPECIFIED);
        derived.set_status(v1::COMPLAINT_STATUS_UNDER_REVIEW);
        derived.set_reopened(derived.reopened() + 1);
        break;
      default:
        break;
    }
  }
  *derived.mutable_transitions() = std::move(*row->mutable_transitions());
  *row = std::move(derived);
}

// Changes one complaint's transitions with `change` and rewrites its row and
// its place among the open complaints. One read, one or two writes.
absl::Status Update(projections::ViewWriter& view, absl::string_view district,
                    absl::string_view complaint,
                    const std::function<void(ComplaintRow*)>& change) {
  const std::string key = Key('C', district, complaint);
  ASSIGN_OR_RETURN(std::optional<ComplaintRow> old,
                   ReadRow<ComplaintRow>(view, key));
  ComplaintRow row = old.value_or(ComplaintRow());
  change(&row);
  Derive(&row);
  const bool was_open = old.has_value() && old->received() && old->open();
  const bool is_open = row.received() && row.open();
  if (was_open && (!is_open || old->received_day() != row.received_day())) {
    view.Delete(OpenKey(district, old->received_day(), complaint));
  }
  if (is_open && (!was_open || old->received_day() != row.received_day())) {
    view.Put(OpenKey(district, row.received_day(), complaint), "");
  }
  if (row.transitions().empty()) {
    view.Delete(key);
  } else {
    WriteRow(view, key, row);
  }
  return absl::OkStatus();
}

absl::string_view ComplaintOf(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kComplaintReceived:
      return event.complaint_received().complaint_id();
    case v1::Event::kComplaintAssigned:
      return event.complaint_assigned().complaint_id();
    case v1::Event::kComplaintStatusChanged:
      return event.complaint_status_changed().complaint_id();
    case v1::Event::kComplaintClosed:
      return event.complaint_closed().complaint_id();
    case v1::Event::kComplaintReopened:
      return event.complaint_reopened().complaint_id();
    default:
      return {};
  }
}

}  // namespace

bool ComplaintsProjection::Tracks(v1::Event::PayloadCase kind) const {
  switch (kind) {
    case v1::Event::kComplaintReceived:
    case v1::Event::kComplaintAssigned:
    case v1::Event::kComplaintStatusChanged:
    case v1::Event::kComplaintClosed:
    case v1::Event::kComplaintReopened:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::string> ComplaintsProjection::Do(
    const Fact& fact, const v1::Event& event, projections::ViewWriter& view) {
  const absl::string_view complaint = ComplaintOf(event);
  if (complaint.empty()) {
    return std::string();
  }
  TransitionRow t;
  t.set_position(fact.position);
  t.set_day(DayOfSeconds(fact.occurred_seconds));
  switch (event.payload_case()) {
    case v1::Event::kComplaintReceived: {
      const v1::ComplaintReceived& p = event.complaint_received();
      t.set_kind(TRANSITION_KIND_RECEIVED);
      t.set_channel(p.channel());
      t.set_category(p.category());
      t.set_received_day(DayOfDate(p.received_on()));
      break;
    }
    case v1::Event::kComplaintAssigned:
      t.set_kind(TRANSITION_KIND_ASSIGNED);
      t.set_division(event.complaint_assigned().division());
      break;
    case v1::Event::kComplaintStatusChanged:
      t.set_kind(TRANSITION_KIND_STATUS);
      t.set_status(event.complaint_status_changed().status());
      break;
    case v1::Event::kComplaintClosed:
      t.set_kind(TRANSITION_KIND_CLOSED);
      t.set_outcome(event.complaint_closed().outcome());
      break;
    default:
      t.set_kind(TRANSITION_KIND_REOPENED);
      break;
  }
  RETURN_IF_ERROR(Update(view, fact.stream, complaint, [&](ComplaintRow* row) {
    // In log order: a replacement goes back to its original's place.
    auto* list = row->mutable_transitions();
    auto at = std::find_if(list->begin(), list->end(),
                           [&](const TransitionRow& other) {
                             return other.position() > fact.position;
                           });
    const int index = static_cast<int>(at - list->begin());
    list->Add(std::move(t));
    for (int i = list->size() - 1; i > index; --i) {
      list->SwapElements(i, i - 1);
    }
  }));
  return Key('C', fact.stream, complaint);
}

absl::Status ComplaintsProjection::Undo(const Fact& fact, absl::string_view key,
                                        projections::ViewWriter& view) {
  if (key.size() <= 1 + kStreamWidth) {
    return absl::OkStatus();
  }
  const std::string complaint(key.substr(1 + kStreamWidth));
  return Update(view, fact.stream, complaint, [&](ComplaintRow* row) {
    auto* list = row->mutable_transitions();
    list->erase(std::remove_if(list->begin(), list->end(),
                               [&](const TransitionRow& t) {
                                 return t.position() == fact.position;
                               }),
                list->end());
  });
}

}  // namespace prongsai::reports

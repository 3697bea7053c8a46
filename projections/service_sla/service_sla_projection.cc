#include "projections/service_sla/service_sla_projection.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/reference.h"
#include "projections/service_sla/rows.h"

namespace prongsai::service_sla {
namespace {

using projections::AppliedRecord;
using projections::ViewWriter;

// The kind byte of an event's locator row.
enum class FactKind : char {
  kReceived = 'r',
  kStatus = 's',
  kCompleted = 'c',
};

bool IsServiceEvent(v1::Event::PayloadCase kind) {
  return kind == v1::Event::kServiceRequestReceived ||
         kind == v1::Event::kServiceRequestStatusChanged ||
         kind == v1::Event::kServiceRequestCompleted;
}

absl::string_view RequestIdOf(const v1::Event& event) {
  switch (event.payload_case()) {
    case v1::Event::kServiceRequestReceived:
      return event.service_request_received().request_id();
    case v1::Event::kServiceRequestStatusChanged:
      return event.service_request_status_changed().request_id();
    case v1::Event::kServiceRequestCompleted:
      return event.service_request_completed().request_id();
    default:
      return {};
  }
}

// What one request adds to the month rows. Two requests in the same state
// contribute the same, so an event that changes nothing the months count
// writes no month row.
struct Contribution {
  bool counted = false;
  std::string service;
  absl::CivilMonth received_month;
  enum class Close { kNone, kCompleted, kClosed } close = Close::kNone;
  absl::CivilMonth close_month;
  int timeliness = 0;  // 1 on time, -1 late, 0 no deadline
  int32_t days = 0;

  bool operator==(const Contribution& o) const {
    return counted == o.counted && service == o.service &&
           received_month == o.received_month && close == o.close &&
           close_month == o.close_month && timeliness == o.timeliness &&
           days == o.days;
  }
};

Contribution ContributionOf(const RequestRow& row) {
  Contribution c;
  if (!row.received()) {
    return c;
  }
  c.counted = true;
  c.service = row.service_code();
  c.received_month = MonthOf(row.requested());
  if (row.completed() != 0) {
    c.close = Contribution::Close::kCompleted;
    c.close_month = MonthOf(row.completed());
    if (row.expected() != 0) {
      c.timeliness = row.completed() <= row.expected() ? 1 : -1;
    }
    c.days = DaysBetween(row.requested(), row.completed());
    return c;
  }
  const CurrentStatus status = StatusOf(row);
  if (status.status == "closed") {
    c.close = Contribution::Close::kClosed;
    c.close_month = MonthOf(std::max(status.updated, row.requested()));
  }
  return c;
}

void AddDays(MonthRow& row, int32_t days, int64_t delta) {
  auto* list = row.mutable_days();
  auto it = std::lower_bound(
      list->begin(), list->end(), days,
      [](const DayCount& d, int32_t value) { return d.days() < value; });
  if (it != list->end() && it->days() == days) {
    it->set_count(it->count() + delta);
    if (it->count() == 0) {
      list->erase(it);
    }
    return;
  }
  if (delta <= 0) {
    return;
  }
  const int index = static_cast<int>(it - list->begin());
  DayCount* added = list->Add();
  added->set_days(days);
  added->set_count(delta);
  // Move the new entry from the end to its place.
  for (int i = list->size() - 1; i > index; --i) {
    list->SwapElements(i, i - 1);
  }
}

bool IsEmpty(const MonthRow& row) {
  return row.received() == 0 && row.completed() == 0 && row.on_time() == 0 &&
         row.late() == 0 && row.closed_without_completion() == 0 &&
         row.days().empty();
}

// The change one request makes to one month row.
struct MonthDelta {
  int64_t received = 0;
  int64_t completed = 0;
  int64_t on_time = 0;
  int64_t late = 0;
  int64_t closed_without_completion = 0;
  std::vector<std::pair<int32_t, int64_t>> days;

  bool IsZero() const {
    return received == 0 && completed == 0 && on_time == 0 && late == 0 &&
           closed_without_completion == 0 && days.empty();
  }
};

using MonthDeltas =
    std::map<std::pair<std::string, absl::CivilMonth>, MonthDelta>;

void AddContribution(const Contribution& c, int64_t sign, MonthDeltas& deltas) {
  if (!c.counted) {
    return;
  }
  deltas[{c.service, c.received_month}].received += sign;
  if (c.close == Contribution::Close::kNone) {
    return;
  }
  MonthDelta& d = deltas[{c.service, c.close_month}];
  if (c.close == Contribution::Close::kClosed) {
    d.closed_without_completion += sign;
    return;
  }
  d.completed += sign;
  if (c.timeliness > 0) {
    d.on_time += sign;
  } else if (c.timeliness < 0) {
    d.late += sign;
  }
  for (auto& [days, count] : d.days) {
    if (days == c.days) {
      count += sign;
      return;
    }
  }
  d.days.emplace_back(c.days, sign);
}

// Moves the month rows from what `before` contributed to what `after` does,
// reading and writing each row once.
absl::Status Recount(ViewWriter& view, absl::string_view district,
                     const Contribution& before, const Contribution& after) {
  MonthDeltas deltas;
  AddContribution(before, -1, deltas);
  AddContribution(after, +1, deltas);
  for (auto& [id, delta] : deltas) {
    delta.days.erase(
        std::remove_if(delta.days.begin(), delta.days.end(),
                       [](const auto& d) { return d.second == 0; }),
        delta.days.end());
    if (delta.IsZero()) {
      continue;
    }
    const std::string key = MonthKey(district, id.first, id.second);
    ASSIGN_OR_RETURN(std::optional<MonthRow> stored,
                     ReadRow<MonthRow>(view, key));
    MonthRow row = stored.value_or(MonthRow());
    row.set_received(row.received() + delta.received);
    row.set_completed(row.completed() + delta.completed);
    row.set_on_time(row.on_time() + delta.on_time);
    row.set_late(row.late() + delta.late);
    row.set_closed_without_completion(row.closed_without_completion() +
                                      delta.closed_without_completion);
    for (const auto& [days, count] : delta.days) {
      AddDays(row, days, count);
    }
    if (IsEmpty(row)) {
      view.Delete(key);
    } else {
      view.Put(key, row.SerializeAsString());
    }
  }
  return absl::OkStatus();
}

bool IsEmpty(const RequestRow& row) {
  return !row.received() && row.updates().empty() &&
         row.completion_event().empty();
}

// Writes `row` for the request and moves its contribution in the month rows
// from what `old` contributed.
absl::Status Store(ViewWriter& view, absl::string_view district,
                   const std::string& key, const RequestRow& old,
                   const RequestRow& row) {
  if (IsEmpty(row)) {
    view.Delete(key);
  } else {
    view.Put(key, row.SerializeAsString());
  }
  const Contribution before = ContributionOf(old);
  const Contribution after = ContributionOf(row);
  if (before == after) {
    return absl::OkStatus();
  }
  return Recount(view, district, before, after);
}

int64_t Seconds(const google::protobuf::Timestamp& t) { return t.seconds(); }

// Applies a service-request event (or the replacement of one, `replacing`)
// whose id is `event_id`.
absl::Status ApplyFact(ViewWriter& view, absl::string_view district,
                       absl::string_view event_id, const v1::Event& event,
                       bool replacing) {
  const absl::string_view request_id = RequestIdOf(event);
  const std::string key = RequestKey(district, request_id);
  ASSIGN_OR_RETURN(std::optional<RequestRow> stored,
                   ReadRow<RequestRow>(view, key));
  const RequestRow old = stored.value_or(RequestRow());
  RequestRow row = old;
  const std::string id = EventBytes(event_id);
  FactKind kind = FactKind::kReceived;
  switch (event.payload_case()) {
    case v1::Event::kServiceRequestReceived: {
      const v1::ServiceRequestReceived& p = event.service_request_received();
      row.set_received(true);
      row.set_service_code(p.service_code());
      row.set_channel(p.channel());
      row.set_requested(Seconds(p.requested_at()));
      row.set_expected(p.has_expected_at() ? Seconds(p.expected_at()) : 0);
      row.set_receipt_event(id);
      break;
    }
    case v1::Event::kServiceRequestStatusChanged: {
      const v1::ServiceRequestStatusChanged& p =
          event.service_request_status_changed();
      kind = FactKind::kStatus;
      StatusFact* fact = nullptr;
      if (replacing) {
        for (StatusFact& f : *row.mutable_updates()) {
          if (f.event() == id) {
            fact = &f;
          }
        }
      }
      if (fact == nullptr) {
        fact = row.add_updates();
      }
      fact->set_event(id);
      fact->set_status(p.status());
      fact->set_updated(Seconds(p.updated_at()));
      break;
    }
    case v1::Event::kServiceRequestCompleted:
      kind = FactKind::kCompleted;
      row.set_completion_event(id);
      row.set_completed(
          Seconds(event.service_request_completed().completed_at()));
      break;
    default:
      return absl::OkStatus();
  }
  RETURN_IF_ERROR(Store(view, district, key, old, row));
  view.Put(
      EventKey(district, event_id),
      absl::StrCat(absl::string_view(reinterpret_cast<const char*>(&kind), 1),
                   request_id));
  return absl::OkStatus();
}

absl::Status Retract(ViewWriter& view, absl::string_view district,
                     absl::string_view event_id) {
  const std::string locator = EventKey(district, event_id);
  ASSIGN_OR_RETURN(std::optional<std::string> target, view.Get(locator));
  if (!target.has_value() || target->empty()) {
    return absl::OkStatus();
  }
  const auto kind = static_cast<FactKind>((*target)[0]);
  const std::string key = RequestKey(district, target->substr(1));
  ASSIGN_OR_RETURN(std::optional<RequestRow> stored,
                   ReadRow<RequestRow>(view, key));
  view.Delete(locator);
  if (!stored.has_value()) {
    return absl::OkStatus();
  }
  RequestRow row = *stored;
  const std::string id = EventBytes(event_id);
  switch (kind) {
    case FactKind::kReceived:
      if (row.receipt_event() == id) {
        row.set_received(false);
        row.clear_receipt_event();
        row.clear_service_code();
        row.clear_channel();
        row.clear_requested();
        row.clear_expected();
      }
      break;
    case FactKind::kStatus: {
      auto* updates = row.mutable_updates();
      for (int i = 0; i < updates->size(); ++i) {
        if (updates->Get(i).event() == id) {
          updates->DeleteSubrange(i, 1);
          break;
        }
      }
      break;
    }
    case FactKind::kCompleted:
      if (row.completion_event() == id) {
        row.clear_completion_event();
        row.clear_completed();
      }
      break;
  }
  return Store(view, district, key, *stored, row);
}

bool IsDistrictStream(absl::string_view stream) {
  return stream.size() == kDistrictWidth && stream != domain::kCityStream;
}

}  // namespace

bool ServiceSlaProjection::Wants(const v1::Record& record) const {
  const v1::Event& event = record.event();
  switch (event.payload_case()) {
    case v1::Event::kEventCorrected:
      return IsServiceEvent(
          event.event_corrected().replacement().payload_case());
    case v1::Event::kEventRetracted:
      // Whether it retracts a service-request event shows from the locator.
      return true;
    default:
      return IsServiceEvent(event.payload_case());
  }
}

absl::Status ServiceSlaProjection::Apply(const AppliedRecord& record,
                                         ViewWriter& view) {
  const absl::string_view district = record.record.stream();
  if (!IsDistrictStream(district)) {
    return absl::OkStatus();
  }
  const v1::Event& event = record.record.event();
  switch (event.payload_case()) {
    case v1::Event::kEventCorrected: {
      const v1::EventCorrected& correction = event.event_corrected();
      if (!IsServiceEvent(correction.replacement().payload_case())) {
        return absl::OkStatus();
      }
      ASSIGN_OR_RETURN(
          std::optional<std::string> target,
          view.Get(EventKey(district, correction.corrected_event_id())));
      if (!target.has_value()) {
        // Not an event of this view, or retracted.
        return absl::OkStatus();
      }
      return ApplyFact(view, district, correction.corrected_event_id(),
                       correction.replacement(), true);
    }
    case v1::Event::kEventRetracted:
      return Retract(view, district,
                     event.event_retracted().retracted_event_id());
    default:
      if (!IsServiceEvent(event.payload_case())) {
        return absl::OkStatus();
      }
      return ApplyFact(view, district, event.event_id(), event, false);
  }
}

}  // namespace prongsai::service_sla

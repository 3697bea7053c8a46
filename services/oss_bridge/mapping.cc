#include "services/oss_bridge/mapping.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"

namespace prongsai::oss {
namespace {

constexpr size_t kMaxIdBytes = 128;
constexpr size_t kMaxTextBytes = size_t{64} * 1024;
constexpr int64_t kEarliestSeconds = 946684800;  // 2000-01-01T00:00:00Z
constexpr absl::Duration kMaxAhead = absl::Hours(24);

// Lower-case ASCII, without spaces, and without the office words around a
// district's name.
std::string NameKey(absl::string_view text) {
  std::string key;
  for (char c : text) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) {
      key.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
    }
  }
  for (absl::string_view prefix : {"สำนักงานเขต", "เขต"}) {
    if (absl::StartsWith(key, prefix) && key.size() > prefix.size()) {
      key.erase(0, prefix.size());
      break;
    }
  }
  for (absl::string_view suffix : {"districtoffice", "district"}) {
    if (absl::EndsWith(key, suffix) && key.size() > suffix.size()) {
      key.erase(key.size() - suffix.size());
      break;
    }
  }
  return key;
}

absl::Status Invalid(absl::string_view field, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

absl::Status CheckId(absl::string_view field, absl::string_view id) {
  if (id.empty()) {
    return Invalid(field, "required; must not be empty");
  }
  if (id.size() > kMaxIdBytes) {
    return Invalid(field, absl::StrCat("too long for an id: ", id.size(),
                                       " bytes; at most ", kMaxIdBytes));
  }
  for (char c : id) {
    const auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f) {
      return Invalid(field, absl::StrCat("\"", id,
                                         "\" contains a space or control "
                                         "character"));
    }
  }
  if (!IsValidUtf8(id)) {
    return Invalid(field, "not valid UTF-8");
  }
  return absl::OkStatus();
}

absl::Status CheckText(absl::string_view field, absl::string_view text) {
  if (text.size() > kMaxTextBytes) {
    return Invalid(field, absl::StrCat("too long: ", text.size(),
                                       " bytes; at most ", kMaxTextBytes));
  }
  if (!IsValidUtf8(text)) {
    return Invalid(field, "not valid UTF-8");
  }
  return absl::OkStatus();
}

// A time of the request's life: parsed, not before 2000, not in the future.
absl::StatusOr<absl::Time> FactTime(absl::string_view field,
                                    absl::string_view text, absl::Time now) {
  absl::StatusOr<absl::Time> t = ParseIsoTime(text);
  if (!t.ok()) {
    return Invalid(field, t.status().message());
  }
  if (*t < absl::FromUnixSeconds(kEarliestSeconds)) {
    return Invalid(field,
                   absl::StrCat("\"", text, "\" is before 1 January 2000"));
  }
  if (*t > now + kMaxAhead) {
    return Invalid(
        field, absl::StrCat("\"", text, "\" is more than a day in the future"));
  }
  return *t;
}

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  const int64_t seconds = absl::ToUnixSeconds(t);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(seconds))));
}

std::optional<v1::ServiceChannel> ChannelOf(absl::string_view text) {
  const std::string c = absl::AsciiStrToLower(text);
  if (c.empty() || c == "online") {
    return v1::SERVICE_CHANNEL_ONLINE;
  }
  if (c == "counter") {
    return v1::SERVICE_CHANNEL_COUNTER;
  }
  if (c == "phone") {
    return v1::SERVICE_CHANNEL_PHONE;
  }
  if (c == "other") {
    return v1::SERVICE_CHANNEL_OTHER;
  }
  return std::nullopt;
}

v1::Event NewEvent(absl::string_view name, absl::Time occurred) {
  v1::Event event;
  event.set_event_id(domain::NameBasedUuid(name));
  SetTime(occurred, event.mutable_occurred_at());
  event.mutable_actor()->set_id(std::string(kBridgeActor));
  return event;
}

}  // namespace

const domain::District* ResolveDistrict(absl::string_view text) {
  static const auto* const index = [] {
    auto* map = new absl::flat_hash_map<std::string, const domain::District*>();
    for (const domain::District& d : domain::Districts()) {
      (*map)[d.code] = &d;
      (*map)[NameKey(d.name_th)] = &d;
      (*map)[NameKey(d.name_en)] = &d;
    }
    return map;
  }();
  auto it = index->find(NameKey(text));
  return it == index->end() ? nullptr : it->second;
}

absl::StatusOr<MappedRecord> MapRecord(const OssRecord& r,
                                       const ServiceCatalog& catalog,
                                       absl::Time now) {
  RETURN_IF_ERROR(CheckId("service_request_id", r.service_request_id));
  const std::string status = absl::AsciiStrToLower(r.status);
  if (status != "open" && status != "closed") {
    return Invalid("status",
                   r.status.empty()
                       ? std::string("required; \"open\" or \"closed\"")
                       : absl::StrCat("must be \"open\" or \"closed\", got \"",
                                      r.status, "\""));
  }
  RETURN_IF_ERROR(CheckText("status_notes", r.status_notes));
  if (r.service_code.empty()) {
    return Invalid("service_code", "required");
  }
  const CatalogService* service = catalog.Find(r.service_code);
  if (service == nullptr) {
    return Invalid(
        "service_code",
        absl::StrCat("\"", r.service_code, "\" is not in the service catalog"));
  }
  if (r.agency_responsible.empty()) {
    return Invalid("agency_responsible",
                   "required; give the district code (1001-1050) or name");
  }
  const domain::District* district = ResolveDistrict(r.agency_responsible);
  if (district == nullptr) {
    return Invalid("agency_responsible",
                   absl::StrCat("unknown district \"", r.agency_responsible,
                                "\"; give a district code 1001-1050 or its "
                                "Thai or English name"));
  }
  const std::optional<v1::ServiceChannel> channel = ChannelOf(r.channel);
  if (!channel.has_value()) {
    return Invalid("channel",
                   absl::StrCat("must be online, counter, phone or other, "
                                "got \"",
                                r.channel, "\""));
  }
  if (r.requested_datetime.empty()) {
    return Invalid("requested_datetime", "required");
  }
  ASSIGN_OR_RETURN(absl::Time requested,
                   FactTime("requested_datetime", r.requested_datetime, now));
  std::optional<absl::Time> completed;
  if (!r.completed_datetime.empty()) {
    if (status != "closed") {
      return Invalid("completed_datetime",
                     "given, but the status is \"open\"; a completed request "
                     "is \"closed\"");
    }
    ASSIGN_OR_RETURN(completed,
                     FactTime("completed_datetime", r.completed_datetime, now));
    if (*completed < requested) {
      return Invalid("completed_datetime", "is before requested_datetime");
    }
  }
  absl::Time updated = completed.value_or(requested);
  if (!r.updated_datetime.empty()) {
    ASSIGN_OR_RETURN(updated,
                     FactTime("updated_datetime", r.updated_datetime, now));
    if (updated < requested) {
      return Invalid("updated_datetime", "is before requested_datetime");
    }
  }
  absl::Time expected;
  if (!r.expected_datetime.empty()) {
    absl::StatusOr<absl::Time> t = ParseIsoTime(r.expected_datetime);
    if (!t.ok()) {
      return Invalid("expected_datetime", t.status().message());
    }
    expected = *t;
    if (expected < requested) {
      return Invalid("expected_datetime", "is before requested_datetime");
    }
  } else {
    expected = Deadline(*service, requested);
  }

  MappedRecord m;
  m.district = district->code;
  m.request_id = r.service_request_id;
  m.updated = updated;
  const std::string base =
      absl::StrCat("bma-oss\n", district->code, "\n", r.service_request_id);

  m.received = NewEvent(absl::StrCat(base, "\nreceived"), requested);
  v1::ServiceRequestReceived* received =
      m.received.mutable_service_request_received();
  received->set_request_id(r.service_request_id);
  received->set_service_code(service->code);
  received->set_service_name(service->name_th);
  received->set_channel(*channel);
  SetTime(requested, received->mutable_requested_at());
  SetTime(expected, received->mutable_expected_at());

  if (completed.has_value()) {
    v1::Event event = NewEvent(absl::StrCat(base, "\ncompleted"), *completed);
    v1::ServiceRequestCompleted* done =
        event.mutable_service_request_completed();
    done->set_request_id(r.service_request_id);
    SetTime(*completed, done->mutable_completed_at());
    done->set_status_notes(r.status_notes);
    m.change = std::move(event);
  } else if (status != "open" || updated != requested ||
             !r.status_notes.empty()) {
    v1::Event event = NewEvent(
        absl::StrCat(base, "\nstatus\n", status, "\n", FormatUtc(updated)),
        updated);
    v1::ServiceRequestStatusChanged* change =
        event.mutable_service_request_status_changed();
    change->set_request_id(r.service_request_id);
    change->set_status(status);
    change->set_status_notes(r.status_notes);
    SetTime(updated, change->mutable_updated_at());
    m.change = std::move(event);
  }
  return m;
}

}  // namespace prongsai::oss

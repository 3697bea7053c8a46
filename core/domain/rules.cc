#include "core/domain/rules.h"

#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/domain/reference.h"

namespace prongsai::domain {

struct Rules::State {};

Rules::Rules() : state_(std::make_unique<State>()) {}
Rules::~Rules() = default;

absl::Status Rules::CheckStream(absl::string_view stream) const {
  if (stream == kCityStream || FindDistrict(stream) != nullptr) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "stream: unknown stream \"", stream,
      "\"; expected a district code 1001-1050 or \"city\""));
}

absl::Status Rules::Admit(
    absl::string_view stream,
    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  for (int i = 0; i < events.size(); ++i) {
    const v1::Event& event = events[i];
    if (!IsUuid(event.event_id())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].event_id: must be a UUID, got \"",
          event.event_id(), "\""));
    }
    if (event.payload_case() == v1::Event::PAYLOAD_NOT_SET) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i, "].payload: missing; set one event type"));
    }
  }
  return absl::OkStatus();
}

void Rules::Replay(absl::string_view stream, const v1::Event& event) {}

}  // namespace prongsai::domain

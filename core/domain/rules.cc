#include "core/domain/rules.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/domain/event_checks.h"
#include "core/domain/reference.h"
#include "core/domain/write_model.h"

namespace prongsai::domain {

struct Rules::State {
  Clock clock;
  internal::WriteModel model;
};

Rules::Rules() : Rules([] { return absl::Now(); }) {}

Rules::Rules(Clock clock) : state_(std::make_unique<State>()) {
  state_->clock = std::move(clock);
}

Rules::~Rules() = default;

absl::Status Rules::CheckStream(absl::string_view stream) const {
  if (stream == kCityStream || FindDistrict(stream) != nullptr) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("stream: unknown stream ", internal::Quote(stream),
                   "; expected a district code 1001-1050 or \"city\""));
}

absl::Status Rules::Admit(
    absl::string_view stream,
    const google::protobuf::RepeatedPtrField<v1::Event>& events) {
  RETURN_IF_ERROR(CheckStream(stream));
  internal::WriteModel& model = state_->model;
  internal::StreamModel& stream_model = model.streams[stream];
  const internal::BatchContext batch{.model = model,
                                     .stream = stream_model,
                                     .city = stream == kCityStream,
                                     .now = state_->clock()};
  // Each event is checked against the model as the events before it left
  // it; the first refusal rolls the whole batch back.
  std::vector<internal::Undo> undo;
  internal::Mutator mutator(model, stream_model, &undo);
  for (int i = 0; i < events.size(); ++i) {
    if (absl::Status status = internal::CheckEvent(batch, i, events[i]);
        !status.ok()) {
      internal::Rollback(model, stream_model, undo);
      return status;
    }
    internal::Apply(mutator, events[i]);
  }
  return absl::OkStatus();
}

void Rules::Replay(absl::string_view stream, const v1::Event& event) {
  internal::WriteModel& model = state_->model;
  internal::Mutator mutator(model, model.streams[stream], nullptr);
  internal::Apply(mutator, event);
}

std::string Rules::SaveState() const {
  std::string out;
  internal::EncodeModel(state_->model, &out);
  return out;
}

absl::Status Rules::LoadState(absl::string_view bytes) {
  return internal::DecodeModel(bytes, &state_->model);
}

size_t Rules::MemoryUsage() const {
  return internal::MemoryUsage(state_->model);
}

}  // namespace prongsai::domain

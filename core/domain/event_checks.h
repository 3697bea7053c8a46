// The rules each event must pass before it is stored (internal to
// core/domain): the envelope (id, time, actor, the stream its type belongs
// on), then the rules of its type against the write model. Rules::Admit calls
// CheckEvent for each event of a batch and applies it before checking the
// next, so an event sees the ones before it.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/domain/write_model.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain::internal {

// What CheckEvent checks against.
struct BatchContext {
  const WriteModel& model;
  const StreamModel& stream;
  bool city = false;  // the stream is the city stream
  absl::Time now;
};

// OK, or INVALID_ARGUMENT "events[index].<field path>: <rule>".
absl::Status CheckEvent(const BatchContext& batch, int index,
                        const v1::Event& event);

// A client value inside an error message: quoted, cut to 64 bytes, control
// characters escaped.
std::string Quote(absl::string_view value);

}  // namespace prongsai::domain::internal

// The domain rules of the ingest path: which streams exist, and which events a
// stream may accept given what it already holds.
//
// Rules keeps the write model of every stream (known measures, complaint
// states, the frameworks published on the city stream, ...). It is rebuilt by
// Replay of the stored records when the ingest starts, and advanced by Admit,
// which is called by the single writer only.
//
// Example:
//   Rules rules;
//   for (const Record& r : stored) rules.Replay(r.stream(), r.event());
//   RETURN_IF_ERROR(rules.CheckStream(request.stream()));
//   RETURN_IF_ERROR(rules.Admit(request.stream(), request.events()));
#pragma once

#include <memory>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain {

class Rules {
 public:
  Rules();
  ~Rules();
  Rules(const Rules&) = delete;
  Rules& operator=(const Rules&) = delete;

  // OK for a district code "1001".."1050" or "city"; INVALID_ARGUMENT naming
  // `stream` otherwise.
  absl::Status CheckStream(absl::string_view stream) const;

  // Checks each event of a batch for `stream`, in order, against the state
  // left by the stored events and by those before it in the batch. When all
  // pass, applies them and returns OK; otherwise applies none and returns
  // INVALID_ARGUMENT naming `events[i].<field path>` and the rule broken.
  absl::Status Admit(
      absl::string_view stream,
      const google::protobuf::RepeatedPtrField<v1::Event>& events);

  // Applies an event that is already stored, without checking it.
  void Replay(absl::string_view stream, const v1::Event& event);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace prongsai::domain

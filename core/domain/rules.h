// The domain rules of the ingest path: which streams exist, and which events a
// stream may accept given what it already holds.
//
// Rules keeps the write model of every stream: the event ids with their type
// and whether they were retracted, the identities the events created
// (measures, meetings, complaints, gift reports, ...) with a small state each,
// and the ITA frameworks published on the city stream. It stores no text:
// each event and each identity takes one 17-byte hash-table slot, 20-40 bytes
// with the tables' spare room, so ten million events fit in a few hundred
// megabytes. It is rebuilt by Replay of the stored records when the ingest
// starts, and advanced by Admit, which is called by the single writer only.
//
// What Admit checks, per event: the event id is a UUID not used before in the
// stream; occurred_at is set, not before 2000 and at most a day ahead of the
// clock; the actor is named; the event type is allowed on the stream
// (framework and district registrations on "city" only, policies and
// corrections on both, everything else on district streams only); then the
// rules of its type: required fields, enums set to a known value, ids, money
// as non-negative satang, real calendar dates in sane ranges and inside the
// fiscal year and round they belong to, item codes of the fiscal year's
// framework, references to what the stream already holds, the complaint and
// service-request life cycles, and corrections and retractions of existing
// events. The first broken rule is returned as INVALID_ARGUMENT
// "events[i].<field path>: <rule in plain words>".
//
// Example:
//   Rules rules;
//   for (const Record& r : stored) rules.Replay(r.stream(), r.event());
//   RETURN_IF_ERROR(rules.CheckStream(request.stream()));
//   RETURN_IF_ERROR(rules.Admit(request.stream(), request.events()));
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain {

class Rules {
 public:
  // The current time, for "not in the future" rules.
  using Clock = std::function<absl::Time()>;

  // Uses the system clock.
  Rules();
  explicit Rules(Clock clock);
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

  // Applies an event that is already stored, without checking it. A
  // correction applies its replacement as the event's current value; a
  // retraction undoes what the retracted event did.
  void Replay(absl::string_view stream, const v1::Event& event);

  // The write model as bytes (to keep beside the log position it reflects),
  // and back. LoadState refuses bytes that are not a state of this version
  // and leaves the model as it was.
  std::string SaveState() const;
  absl::Status LoadState(absl::string_view bytes);

  // Approximate heap bytes held by the write model.
  size_t MemoryUsage() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace prongsai::domain

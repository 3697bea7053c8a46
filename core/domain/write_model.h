// The write model behind Rules (internal to core/domain): per stream, every
// event id with its type and whether it was retracted, the identities the
// events created (measures, complaints, ...) with a small state each, and the
// frameworks published on the city stream; how each event changes the model;
// and an undo log, so that a refused batch leaves no trace.
//
// Nothing here stores text. Events and identities are keyed by 64-bit
// fingerprints (a mix of the event's UUID; 56 bits of SHA-256 over an
// identity's namespace and id). Within one stream the chance that two of a
// million fingerprints meet is about 1e-5; a new event or identity that meets
// one is refused as a duplicate, so none is mistaken for another once stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/node_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain::internal {

using Kind = v1::Event::PayloadCase;

// An event's entry: bits 0-6 its payload kind (a field number below 128),
// bit 7 set once it is retracted, bits 8-63 the identity it created or whose
// state it changed (0 for none).
inline constexpr uint64_t kKindBits = 0x7f;
inline constexpr uint64_t kRetractedBit = 0x80;
inline constexpr uint64_t kTargetMask = ~uint64_t{0xff};

inline uint64_t PackEvent(Kind kind, uint64_t target) {
  return (target & kTargetMask) | (static_cast<uint64_t>(kind) & kKindBits);
}
inline Kind KindOf(uint64_t entry) {
  return static_cast<Kind>(entry & kKindBits);
}
inline uint64_t TargetOf(uint64_t entry) { return entry & kTargetMask; }
inline bool IsRetracted(uint64_t entry) { return (entry & kRetractedBit) != 0; }

// An identity's entry: bits 0-7 its state, bits 8-31 a detail the rules need
// later (a measure's fiscal year, the day a gift was received).
enum IdStateValue : uint32_t {
  kExists = 1,
  kOpen = 1,
  kClosed = 2,     // a complaint
  kCompleted = 2,  // a service request
};
inline uint32_t PackId(uint32_t state, uint32_t detail) {
  return (state & 0xff) | ((detail & 0xffffff) << 8);
}
inline uint32_t StateOf(uint32_t entry) { return entry & 0xff; }
inline uint32_t DetailOf(uint32_t entry) { return entry >> 8; }

// Days since 1 January 1970, as an identity's detail.
uint32_t DayNumber(absl::CivilDay day);
// The Bangkok day of a timestamp, as a DayNumber (0 before 1970).
uint32_t BangkokDayNumber(const google::protobuf::Timestamp& t);
absl::CivilDay DayFromNumber(uint32_t number);

// The key of an event id (any text; UUIDs compare case-insensitively).
uint64_t EventKey(absl::string_view event_id);
// The key of identity `id` in the namespace of the event kind that creates
// it; never 0, low 8 bits clear.
uint64_t IdKey(Kind space, absl::string_view id);

struct FrameworkEntry {
  std::string code;
  v1::Tool tool = v1::TOOL_UNSPECIFIED;
};

struct Framework {
  uint64_t key = 0;  // identity key of its FrameworkPublished
  std::vector<FrameworkEntry> items;
};

struct StreamModel {
  absl::flat_hash_map<uint64_t, uint64_t> events;
  absl::flat_hash_map<uint64_t, uint32_t> ids;
  // Per complaint, its closes and reopens that are not retracted, in order.
  absl::flat_hash_map<uint64_t, std::vector<uint64_t>> complaint_transitions;
};

struct WriteModel {
  // node_hash_map: a StreamModel stays where it is while others are added.
  absl::node_hash_map<std::string, StreamModel> streams;
  // By fiscal year; published on the city stream, read by every stream.
  std::map<int, Framework> frameworks;
};

// One change to the model, with what it replaced.
struct Undo {
  enum class Table { kEvents, kIds, kTransitions, kFrameworks };
  Table table;
  uint64_t key = 0;
  bool existed = false;
  uint64_t old_value = 0;
  std::vector<uint64_t> old_transitions;
  std::optional<Framework> old_framework;
};

// Changes one stream's model (and the frameworks), logging each change in
// `undo` when it is given.
class Mutator {
 public:
  Mutator(WriteModel& model, StreamModel& stream, std::vector<Undo>* undo)
      : model_(model), stream_(stream), undo_(undo) {}

  void SetEvent(uint64_t key, uint64_t value);
  void SetId(uint64_t key, uint32_t value);
  void EraseId(uint64_t key);
  // An empty `value` removes the entry.
  void SetTransitions(uint64_t key, std::vector<uint64_t> value);
  // nullopt removes the framework.
  void SetFramework(int fiscal_year, std::optional<Framework> value);

  WriteModel& model() { return model_; }
  StreamModel& stream() { return stream_; }

 private:
  WriteModel& model_;
  StreamModel& stream_;
  std::vector<Undo>* undo_;
};

// Reverts the changes in `log`, newest first, and clears it.
void Rollback(WriteModel& model, StreamModel& stream, std::vector<Undo>& log);

// Applies `event` to the mutator's stream: records its id and kind, creates
// or changes the identity it names, applies a correction's replacement as the
// current value, undoes what a retracted event did. Never checks anything, so
// it is safe on any input; Admit calls it only after the checks passed.
void Apply(Mutator& mu, const v1::Event& event);

// Approximate heap bytes held by `model`.
size_t MemoryUsage(const WriteModel& model);

// The whole model as bytes, and back: what a restart loads instead of
// replaying the log. Decode refuses (INVALID_ARGUMENT) bytes that are not an
// encoding of this version, and leaves `model` untouched then.
void EncodeModel(const WriteModel& model, std::string* out);
absl::Status DecodeModel(absl::string_view bytes, WriteModel* model);

}  // namespace prongsai::domain::internal

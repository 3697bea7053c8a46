// Sealing and opening of the fields marked (prongsai.v1.personal).
//
// The ingest seals an admitted event before it is chained and stored, so the
// hash chain covers the ciphertext. Each set personal string becomes
//   pdpa:v1:<subject id>:<key id>:<base64url(nonce | ciphertext | tag)>
// (valid UTF-8, as proto3 strings must be), sealed with AES-256-GCM under the
// subject's key, with associated data binding it to the field (by its full
// name, e.g. prongsai.v1.Person.name), the subject and the key id: a value
// moved to another field or relabelled with another subject does not open.
//
// The data subject of a personal field is the `subject_id` of the message
// that holds it (Person); for Actor.name it is the actor's `id`. A personal
// field set without a subject is refused with INVALID_ARGUMENT naming the
// field. Every personal field of the catalog must be a string in a message
// with a subject: PersonalFieldSealer::Create fails otherwise.
//
// Answers open sealed values for readers allowed to see personal data: the
// plaintext, or kErasedMarker once the subject's key is destroyed, or
// kUnavailableMarker when this process holds no such key (or the value does
// not authenticate).
//
// Example:
//   ASSIGN_OR_RETURN(auto sealer, PersonalFieldSealer::Create(key_store));
//   ingest_options.seal = [s = sealer.get()](const v1::Event& e) {
//     return s->Seal(e);
//   };
//   PersonalFieldOpener opener(key_store);
//   opener.Open(&gift_register);
#pragma once

#include <bitset>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "core/privacy/key_store.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::privacy {

inline constexpr absl::string_view kSealedPrefix = "pdpa:v1:";
// What an allowed reader sees in place of a field whose key was destroyed.
inline constexpr absl::string_view kErasedMarker = "[erased]";
// ... and when this process cannot open it (no such key here, or changed
// bytes).
inline constexpr absl::string_view kUnavailableMarker = "[unavailable]";

struct SealedValue {
  std::string subject;
  std::string key_id;
  std::string box;  // nonce | ciphertext | tag
};

// True when `value` has the form of a sealed value (starts with the prefix).
inline bool IsSealed(absl::string_view value) {
  return absl::StartsWith(value, kSealedPrefix);
}
std::string FormatSealed(absl::string_view subject, absl::string_view key_id,
                         absl::string_view box);
// INVALID_ARGUMENT when `text` is not a well-formed sealed value.
absl::StatusOr<SealedValue> ParseSealed(absl::string_view text);
// The associated data of a sealed value of `field` (its full name).
std::string AssociatedData(absl::string_view field, absl::string_view subject,
                           absl::string_view key_id);

class PersonalFieldSealer {
 public:
  // Precomputes, for every message type an Event can hold, which fields are
  // personal and which lead to personal fields. `keys` must outlive it.
  static absl::StatusOr<std::unique_ptr<PersonalFieldSealer>> Create(
      SubjectKeys* keys);

  // The bytes to store for `event`: its serialization with every set
  // personal field sealed. An event without personal data costs one
  // serialization and a few field checks.
  absl::StatusOr<std::string> Seal(const v1::Event& event) const;

  // Whether `event` may hold a set personal field (cheap; no reflection).
  bool MayHoldPersonalData(const v1::Event& event) const;

 private:
  struct Plan {
    std::vector<const google::protobuf::FieldDescriptor*> personal;
    // Message fields whose type holds personal fields, at any depth.
    std::vector<const google::protobuf::FieldDescriptor*> descend;
    // Where the subject id is: Person.subject_id, Actor.id.
    const google::protobuf::FieldDescriptor* subject = nullptr;
  };

  explicit PersonalFieldSealer(SubjectKeys* keys) : keys_(keys) {}
  absl::Status Build();
  absl::Status SealMessage(google::protobuf::Message* message,
                           std::string& path) const;

  SubjectKeys* const keys_;
  absl::flat_hash_map<const google::protobuf::Descriptor*, Plan> plans_;
  // By Event payload field number: whether that payload holds personal
  // fields at any depth.
  std::bitset<256> personal_payloads_;
};

class PersonalFieldOpener {
 public:
  // `keys` must outlive the opener.
  explicit PersonalFieldOpener(SubjectKeys* keys) : keys_(keys) {}

  // Replaces every sealed value of a personal field in `message` (at any
  // depth) by its plaintext, kErasedMarker or kUnavailableMarker. Values that
  // are not sealed (stored before sealing was on) stay as they are.
  void Open(google::protobuf::Message* message) const;

  // The plaintext of one sealed value of `field`, or a marker.
  std::string OpenValue(const google::protobuf::FieldDescriptor& field,
                        absl::string_view value) const;

 private:
  void OpenMessage(google::protobuf::Message* message, int depth) const;

  SubjectKeys* const keys_;
};

}  // namespace prongsai::privacy

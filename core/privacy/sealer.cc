#include "core/privacy/sealer.h"

#include <deque>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "prongsai/v1/options.pb.h"

namespace prongsai::privacy {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 32;

bool IsMessage(const FieldDescriptor* field) {
  return field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE;
}

bool IsPersonal(const FieldDescriptor* field) {
  return field->options().GetExtension(v1::personal);
}

std::string Join(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

}  // namespace

std::string FormatSealed(absl::string_view subject, absl::string_view key_id,
                         absl::string_view box) {
  return absl::StrCat(kSealedPrefix, subject, ":", key_id, ":",
                      absl::WebSafeBase64Escape(box));
}

absl::StatusOr<SealedValue> ParseSealed(absl::string_view text) {
  if (!IsSealed(text)) {
    return absl::InvalidArgumentError("not a sealed value");
  }
  text.remove_prefix(kSealedPrefix.size());
  // The subject id may hold ':'; the key id and base64url never do.
  const size_t box_at = text.rfind(':');
  if (box_at == absl::string_view::npos || box_at == 0) {
    return absl::InvalidArgumentError("sealed value without a key id");
  }
  const size_t key_at = text.rfind(':', box_at - 1);
  if (key_at == absl::string_view::npos || key_at == 0) {
    return absl::InvalidArgumentError("sealed value without a subject");
  }
  SealedValue value;
  value.subject = std::string(text.substr(0, key_at));
  value.key_id = std::string(text.substr(key_at + 1, box_at - key_at - 1));
  if (value.key_id.empty() ||
      !absl::WebSafeBase64Unescape(text.substr(box_at + 1), &value.box)) {
    return absl::InvalidArgumentError("sealed value with a malformed box");
  }
  return value;
}

std::string AssociatedData(absl::string_view field, absl::string_view subject,
                           absl::string_view key_id) {
  std::string aad(kSealedPrefix);
  absl::StrAppend(&aad, field);
  aad.push_back('\0');
  absl::StrAppend(&aad, subject);
  aad.push_back('\0');
  absl::StrAppend(&aad, key_id);
  return aad;
}

absl::StatusOr<std::unique_ptr<PersonalFieldSealer>>
PersonalFieldSealer::Create(SubjectKeys* keys) {
  auto sealer =
      std::unique_ptr<PersonalFieldSealer>(new PersonalFieldSealer(keys));
  RETURN_IF_ERROR(sealer->Build());
  return sealer;
}

absl::Status PersonalFieldSealer::Build() {
  // Every message type an Event can hold (Event itself again through
  // EventCorrected.replacement).
  std::vector<const Descriptor*> types;
  absl::flat_hash_map<const Descriptor*, bool> holds;
  std::deque<const Descriptor*> queue = {v1::Event::descriptor()};
  holds[v1::Event::descriptor()] = false;
  while (!queue.empty()) {
    const Descriptor* type = queue.front();
    queue.pop_front();
    types.push_back(type);
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (IsMessage(field) &&
          holds.emplace(field->message_type(), false).second) {
        queue.push_back(field->message_type());
      }
    }
  }
  for (const Descriptor* type : types) {
    Plan plan;
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (!IsPersonal(field)) {
        continue;
      }
      if (field->type() != FieldDescriptor::TYPE_STRING) {
        return absl::InternalError(absl::StrCat(
            field->full_name(),
            ": marked personal, but only string fields can be sealed"));
      }
      plan.personal.push_back(field);
    }
    if (plan.personal.empty()) {
      continue;
    }
    plan.subject = type->FindFieldByName(
        type == v1::Actor::descriptor() ? "id" : "subject_id");
    if (plan.subject == nullptr ||
        plan.subject->type() != FieldDescriptor::TYPE_STRING ||
        plan.subject->is_repeated()) {
      return absl::InternalError(absl::StrCat(
          type->full_name(),
          " holds personal fields but no string subject_id naming their data "
          "subject"));
    }
    holds[type] = true;
    plans_[type] = std::move(plan);
  }
  // A type holds personal data when one of its message fields does.
  for (bool changed = true; changed;) {
    changed = false;
    for (const Descriptor* type : types) {
      if (holds[type]) {
        continue;
      }
      for (int i = 0; i < type->field_count(); ++i) {
        const FieldDescriptor* field = type->field(i);
        if (IsMessage(field) && holds[field->message_type()]) {
          holds[type] = true;
          changed = true;
          break;
        }
      }
    }
  }
  for (const Descriptor* type : types) {
    if (!holds[type]) {
      continue;
    }
    Plan& plan = plans_[type];
    for (int i = 0; i < type->field_count(); ++i) {
      const FieldDescriptor* field = type->field(i);
      if (IsMessage(field) && holds[field->message_type()]) {
        plan.descend.push_back(field);
      }
    }
  }
  // The quick check of MayHoldPersonalData knows only the actor and the
  // payloads: Event must hold personal data nowhere else.
  const Descriptor* event = v1::Event::descriptor();
  const Plan& event_plan = plans_[event];
  if (!event_plan.personal.empty()) {
    return absl::InternalError(
        "prongsai.v1.Event: personal fields directly on the event are not "
        "supported; put them in a Person");
  }
  for (const FieldDescriptor* field : event_plan.descend) {
    if (field->containing_oneof() != nullptr &&
        field->containing_oneof()->name() == "payload") {
      if (field->number() >= static_cast<int>(personal_payloads_.size())) {
        return absl::InternalError(absl::StrCat(
            field->full_name(), ": payload field number too large"));
      }
      personal_payloads_.set(field->number());
    } else if (field->name() != "actor") {
      return absl::InternalError(absl::StrCat(
          field->full_name(),
          ": holds personal data outside the actor and the payload"));
    }
  }
  const auto actor = plans_.find(v1::Actor::descriptor());
  if (actor == plans_.end() || actor->second.personal.size() != 1 ||
      actor->second.personal[0]->name() != "name" ||
      !actor->second.descend.empty()) {
    return absl::InternalError(
        "prongsai.v1.Actor: the quick check expects name as its only "
        "personal field");
  }
  return absl::OkStatus();
}

bool PersonalFieldSealer::MayHoldPersonalData(const v1::Event& event) const {
  return (event.has_actor() && !event.actor().name().empty()) ||
         personal_payloads_.test(static_cast<size_t>(event.payload_case()));
}

absl::StatusOr<std::string> PersonalFieldSealer::Seal(
    const v1::Event& event) const {
  if (!MayHoldPersonalData(event)) {
    return event.SerializeAsString();
  }
  v1::Event sealed = event;
  std::string path;
  RETURN_IF_ERROR(SealMessage(&sealed, path));
  return sealed.SerializeAsString();
}

absl::Status PersonalFieldSealer::SealMessage(Message* message,
                                              std::string& path) const {
  if (path.size() > 4096) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.substr(0, 200), "...: nested too deeply"));
  }
  const auto found = plans_.find(message->GetDescriptor());
  if (found == plans_.end()) {
    return absl::OkStatus();
  }
  const Plan& plan = found->second;
  const Reflection* reflection = message->GetReflection();
  std::string subject;
  SubjectKey key;
  bool have_key = false;
  auto seal = [&](const FieldDescriptor* field,
                  const std::string& value) -> absl::StatusOr<std::string> {
    if (!have_key) {
      subject = reflection->GetString(*message, plan.subject);
      const std::string subject_path = Join(path, plan.subject->name());
      if (subject.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(
            subject_path, ": required when ", Join(path, field->name()),
            " is set; personal data is sealed under the key of its data "
            "subject"));
      }
      if (absl::Status valid = CheckSubjectId(subject); !valid.ok()) {
        return Annotate(valid, subject_path);
      }
      absl::StatusOr<SubjectKey> got = keys_->KeyFor(subject);
      if (!got.ok()) {
        return Annotate(got.status(), subject_path);
      }
      key = *std::move(got);
      have_key = true;
    }
    ASSIGN_OR_RETURN(
        std::string box,
        SealBox(key.key, value,
                AssociatedData(field->full_name(), subject, key.key_id)));
    return FormatSealed(subject, key.key_id, box);
  };
  for (const FieldDescriptor* field : plan.personal) {
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(*message, field);
      for (int i = 0; i < n; ++i) {
        const std::string value =
            reflection->GetRepeatedString(*message, field, i);
        if (value.empty()) {
          continue;
        }
        ASSIGN_OR_RETURN(std::string sealed, seal(field, value));
        reflection->SetRepeatedString(message, field, i, std::move(sealed));
      }
      continue;
    }
    const std::string value = reflection->GetString(*message, field);
    if (value.empty()) {
      continue;
    }
    ASSIGN_OR_RETURN(std::string sealed, seal(field, value));
    reflection->SetString(message, field, std::move(sealed));
  }
  if (have_key) {
    Wipe(key.key);
  }
  const size_t mark = path.size();
  for (const FieldDescriptor* field : plan.descend) {
    if (field->is_repeated()) {
      const int n = reflection->FieldSize(*message, field);
      for (int i = 0; i < n; ++i) {
        path.resize(mark);
        path = absl::StrCat(Join(path, field->name()), "[", i, "]");
        RETURN_IF_ERROR(SealMessage(
            reflection->MutableRepeatedMessage(message, field, i), path));
      }
    } else if (reflection->HasField(*message, field)) {
      path = Join(path.substr(0, mark), field->name());
      RETURN_IF_ERROR(
          SealMessage(reflection->MutableMessage(message, field), path));
    }
    path.resize(mark);
  }
  return absl::OkStatus();
}

void PersonalFieldOpener::Open(Message* message) const {
  OpenMessage(message, 0);
}

std::string PersonalFieldOpener::OpenValue(const FieldDescriptor& field,
                                           absl::string_view value) const {
  if (!IsSealed(value)) {
    return std::string(value);
  }
  absl::StatusOr<SealedValue> sealed = ParseSealed(value);
  if (!sealed.ok()) {
    return std::string(kUnavailableMarker);
  }
  absl::StatusOr<KeyLookup> lookup =
      keys_->Find(sealed->subject, sealed->key_id);
  if (!lookup.ok()) {
    return std::string(kUnavailableMarker);
  }
  switch (lookup->state) {
    case KeyState::kErased:
      return std::string(kErasedMarker);
    case KeyState::kUnknown:
      return std::string(kUnavailableMarker);
    case KeyState::kLive:
      break;
  }
  absl::StatusOr<std::string> plain = OpenBox(
      lookup->key, sealed->box,
      AssociatedData(field.full_name(), sealed->subject, sealed->key_id));
  Wipe(lookup->key);
  if (!plain.ok()) {
    return std::string(kUnavailableMarker);
  }
  return *std::move(plain);
}

void PersonalFieldOpener::OpenMessage(Message* message, int depth) const {
  if (depth > kMaxDepth) {
    return;
  }
  const Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (IsPersonal(field) &&
        field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          reflection->SetRepeatedString(
              message, field, i,
              OpenValue(*field,
                        reflection->GetRepeatedString(*message, field, i)));
        }
      } else {
        reflection->SetString(
            message, field,
            OpenValue(*field, reflection->GetString(*message, field)));
      }
      continue;
    }
    if (!IsMessage(field)) {
      continue;
    }
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        OpenMessage(reflection->MutableRepeatedMessage(message, field, i),
                    depth + 1);
      }
    } else {
      OpenMessage(reflection->MutableMessage(message, field), depth + 1);
    }
  }
}

}  // namespace prongsai::privacy

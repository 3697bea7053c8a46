#include "core/domain/write_model.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "core/domain/calendar.h"

namespace prongsai::domain::internal {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

int HexValue(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  c = absl::ascii_tolower(c);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

Framework BuildFramework(uint64_t key,
                         const v1::FrameworkPublished& published) {
  Framework framework;
  framework.key = key;
  for (const v1::FrameworkItem& item : published.items()) {
    framework.items.push_back({item.code(), item.tool()});
  }
  return framework;
}

// The identity an event creates: the namespace it lives in and its id.
struct Created {
  Kind space;
  std::string id;
};

std::optional<Created> CreatedBy(const v1::Event& e) {
  const Kind k = e.payload_case();
  switch (k) {
    case v1::Event::kFrameworkPublished:
      return Created{k, absl::StrCat(e.framework_published().fiscal_year())};
    case v1::Event::kDistrictRegistered:
      return Created{k, e.district_registered().code()};
    case v1::Event::kImprovementIssueIdentified:
      return Created{k, e.improvement_issue_identified().issue_id()};
    case v1::Event::kMeasurePlanned:
      return Created{k, e.measure_planned().measure_id()};
    case v1::Event::kEvidenceAttached:
      return Created{k, e.evidence_attached().evidence_id()};
    case v1::Event::kMeetingHeld:
      return Created{k, e.meeting_held().meeting_id()};
    case v1::Event::kPolicyAnnounced:
      return Created{k, e.policy_announced().policy_id()};
    case v1::Event::kWorkingGroupAppointed:
      return Created{k, e.working_group_appointed().group_id()};
    case v1::Event::kDisclosurePublished:
      return Created{k, e.disclosure_published().disclosure_id()};
    case v1::Event::kGiftReportFiled:
      return Created{k, e.gift_report_filed().report_id()};
    case v1::Event::kGiftReportsSubmitted:
      return Created{k, e.gift_reports_submitted().submission_id()};
    case v1::Event::kComplaintReceived:
      return Created{k, e.complaint_received().complaint_id()};
    case v1::Event::kDisciplinaryReportMade:
      return Created{k, e.disciplinary_report_made().report_id()};
    case v1::Event::kAssetInspectionCompleted:
      return Created{k, e.asset_inspection_completed().inspection_id()};
    case v1::Event::kBudgetReviewHeld:
      return Created{k, e.budget_review_held().review_id()};
    case v1::Event::kCommunityProjectApproved:
      return Created{k, e.community_project_approved().project_id()};
    case v1::Event::kServiceRequestReceived:
      return Created{k, e.service_request_received().request_id()};
    default:
      return std::nullopt;
  }
}

// The detail kept with a created identity.
uint32_t InitialIdEntry(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kMeasurePlanned:
      return PackId(kExists,
                    static_cast<uint32_t>(e.measure_planned().fiscal_year()));
    case v1::Event::kGiftReportFiled: {
      const v1::Date& d = e.gift_report_filed().received_on();
      return PackId(kExists, IsValidDate(d) ? DayNumber(ToCivilDay(d)) : 0);
    }
    default:
      return PackId(kExists, 0);
  }
}

// The identity whose state an event changes (close, reopen, completion).
std::optional<uint64_t> StateTargetOf(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kComplaintClosed:
      return IdKey(v1::Event::kComplaintReceived,
                   e.complaint_closed().complaint_id());
    case v1::Event::kComplaintReopened:
      return IdKey(v1::Event::kComplaintReceived,
                   e.complaint_reopened().complaint_id());
    case v1::Event::kServiceRequestCompleted:
      return IdKey(v1::Event::kServiceRequestReceived,
                   e.service_request_completed().request_id());
    default:
      return std::nullopt;
  }
}

void ApplyCorrection(Mutator& mu, const v1::EventCorrected& correction) {
  StreamModel& stream = mu.stream();
  auto it = stream.events.find(EventKey(correction.corrected_event_id()));
  if (it == stream.events.end() || IsRetracted(it->second)) {
    return;
  }
  const Kind kind = KindOf(it->second);
  const uint64_t target = TargetOf(it->second);
  const v1::Event& replacement = correction.replacement();
  if (replacement.payload_case() != kind) {
    return;
  }
  switch (kind) {
    case v1::Event::kMeasurePlanned:
    case v1::Event::kGiftReportFiled:
      if (stream.ids.contains(target)) {
        mu.SetId(target, InitialIdEntry(replacement));
      }
      break;
    case v1::Event::kFrameworkPublished: {
      const int year = replacement.framework_published().fiscal_year();
      if (IdKey(kind, absl::StrCat(year)) == target) {
        mu.SetFramework(
            year, BuildFramework(target, replacement.framework_published()));
      }
      break;
    }
    default:
      break;
  }
}

// The state a complaint is in after its remaining closes and reopens.
uint32_t ComplaintStateAfter(const StreamModel& stream,
                             const std::vector<uint64_t>& transitions) {
  if (transitions.empty()) {
    return kOpen;
  }
  auto it = stream.events.find(transitions.back());
  return it != stream.events.end() &&
                 KindOf(it->second) == v1::Event::kComplaintClosed
             ? kClosed
             : kOpen;
}

void ApplyRetraction(Mutator& mu, const v1::EventRetracted& retraction) {
  StreamModel& stream = mu.stream();
  const uint64_t key = EventKey(retraction.retracted_event_id());
  auto it = stream.events.find(key);
  if (it == stream.events.end() || IsRetracted(it->second)) {
    return;
  }
  const uint64_t entry = it->second;
  const Kind kind = KindOf(entry);
  const uint64_t target = TargetOf(entry);
  mu.SetEvent(key, entry | kRetractedBit);
  switch (kind) {
    case v1::Event::kComplaintClosed:
    case v1::Event::kComplaintReopened: {
      auto t = stream.complaint_transitions.find(target);
      if (t == stream.complaint_transitions.end() || t->second.empty() ||
          t->second.back() != key) {
        return;
      }
      std::vector<uint64_t> rest = t->second;
      rest.pop_back();
      const uint32_t state = ComplaintStateAfter(stream, rest);
      mu.SetTransitions(target, std::move(rest));
      if (stream.ids.contains(target)) {
        mu.SetId(target, PackId(state, 0));
      }
      return;
    }
    case v1::Event::kServiceRequestCompleted:
      if (stream.ids.contains(target)) {
        mu.SetId(target, PackId(kOpen, 0));
      }
      return;
    case v1::Event::kFrameworkPublished:
      for (const auto& [year, framework] : mu.model().frameworks) {
        if (framework.key == target) {
          mu.SetFramework(year, std::nullopt);
          break;
        }
      }
      mu.EraseId(target);
      return;
    case v1::Event::kComplaintReceived:
      mu.SetTransitions(target, {});
      mu.EraseId(target);
      return;
    default:
      if (target != 0) {
        mu.EraseId(target);
      }
      return;
  }
}

size_t MapBytes(size_t capacity, size_t slot) {
  // One control byte per slot besides the slot itself.
  return capacity * (slot + 1);
}

}  // namespace

uint32_t DayNumber(absl::CivilDay day) {
  return static_cast<uint32_t>(day - kEpochDay);
}

absl::CivilDay DayFromNumber(uint32_t number) { return kEpochDay + number; }

uint32_t BangkokDayNumber(const google::protobuf::Timestamp& t) {
  return t.seconds() <= 0
             ? 0
             : DayNumber(BangkokDay(absl::FromUnixSeconds(t.seconds())));
}

uint64_t EventKey(absl::string_view event_id) {
  if (IsUuid(event_id)) {
    uint64_t hi = 0;
    uint64_t lo = 0;
    int digits = 0;
    for (char c : event_id) {
      const int v = HexValue(c);
      if (v < 0) {
        continue;
      }
      uint64_t& half = digits < 16 ? hi : lo;
      half = (half << 4) | static_cast<uint64_t>(v);
      ++digits;
    }
    return Mix64(hi ^ Mix64(lo));
  }
  // Stored events always carry UUIDs; anything else still gets a key.
  const Hash h = Sha256(event_id);
  return ReadBigEndian64(reinterpret_cast<const char*>(h.data()));
}

uint64_t IdKey(Kind space, absl::string_view id) {
  const char tag = static_cast<char>(space);
  const Hash h = Sha256(absl::string_view(&tag, 1), id);
  const uint64_t key =
      ReadBigEndian64(reinterpret_cast<const char*>(h.data())) & kTargetMask;
  return key == 0 ? uint64_t{0x100} : key;
}

void Mutator::SetEvent(uint64_t key, uint64_t value) {
  auto [it, inserted] = stream_.events.try_emplace(key, value);
  if (undo_ != nullptr) {
    undo_->push_back({Undo::Table::kEvents,
                      key,
                      !inserted,
                      inserted ? 0 : it->second,
                      {},
                      std::nullopt});
  }
  it->second = value;
}

void Mutator::SetId(uint64_t key, uint32_t value) {
  auto [it, inserted] = stream_.ids.try_emplace(key, value);
  if (undo_ != nullptr) {
    undo_->push_back({Undo::Table::kIds,
                      key,
                      !inserted,
                      inserted ? 0 : it->second,
                      {},
                      std::nullopt});
  }
  it->second = value;
}

void Mutator::EraseId(uint64_t key) {
  auto it = stream_.ids.find(key);
  if (it == stream_.ids.end()) {
    return;
  }
  if (undo_ != nullptr) {
    undo_->push_back(
        {Undo::Table::kIds, key, true, it->second, {}, std::nullopt});
  }
  stream_.ids.erase(it);
}

void Mutator::SetTransitions(uint64_t key, std::vector<uint64_t> value) {
  auto it = stream_.complaint_transitions.find(key);
  const bool existed = it != stream_.complaint_transitions.end();
  if (undo_ != nullptr) {
    undo_->push_back({Undo::Table::kTransitions, key, existed, 0,
                      existed ? it->second : std::vector<uint64_t>{},
                      std::nullopt});
  }
  if (value.empty()) {
    if (existed) {
      stream_.complaint_transitions.erase(it);
    }
  } else {
    stream_.complaint_transitions[key] = std::move(value);
  }
}

void Mutator::SetFramework(int fiscal_year, std::optional<Framework> value) {
  auto it = model_.frameworks.find(fiscal_year);
  const bool existed = it != model_.frameworks.end();
  if (undo_ != nullptr) {
    Undo undo{Undo::Table::kFrameworks,
              static_cast<uint64_t>(fiscal_year),
              existed,
              0,
              {},
              std::nullopt};
    if (existed) {
      undo.old_framework = it->second;
    }
    undo_->push_back(std::move(undo));
  }
  if (value.has_value()) {
    model_.frameworks[fiscal_year] = *std::move(value);
  } else if (existed) {
    model_.frameworks.erase(it);
  }
}

void Rollback(WriteModel& model, StreamModel& stream, std::vector<Undo>& log) {
  for (size_t i = log.size(); i-- > 0;) {
    Undo& undo = log[i];
    switch (undo.table) {
      case Undo::Table::kEvents:
        if (undo.existed) {
          stream.events[undo.key] = undo.old_value;
        } else {
          stream.events.erase(undo.key);
        }
        break;
      case Undo::Table::kIds:
        if (undo.existed) {
          stream.ids[undo.key] = static_cast<uint32_t>(undo.old_value);
        } else {
          stream.ids.erase(undo.key);
        }
        break;
      case Undo::Table::kTransitions:
        if (undo.existed) {
          stream.complaint_transitions[undo.key] =
              std::move(undo.old_transitions);
        } else {
          stream.complaint_transitions.erase(undo.key);
        }
        break;
      case Undo::Table::kFrameworks: {
        const int year = static_cast<int>(undo.key);
        if (undo.existed) {
          model.frameworks[year] = *std::move(undo.old_framework);
        } else {
          model.frameworks.erase(year);
        }
        break;
      }
    }
  }
  log.clear();
}

void Apply(Mutator& mu, const v1::Event& e) {
  StreamModel& stream = mu.stream();
  const uint64_t key = EventKey(e.event_id());
  uint64_t target = 0;
  if (std::optional<Created> created = CreatedBy(e); created.has_value()) {
    target = IdKey(created->space, created->id);
    uint32_t entry = InitialIdEntry(e);
    if (e.has_complaint_received()) {
      mu.SetTransitions(target, {});
    }
    mu.SetId(target, entry);
    if (e.has_framework_published()) {
      mu.SetFramework(e.framework_published().fiscal_year(),
                      BuildFramework(target, e.framework_published()));
    }
  } else if (std::optional<uint64_t> changed = StateTargetOf(e);
             changed.has_value()) {
    target = *changed;
    if (stream.ids.contains(target)) {
      if (e.has_service_request_completed()) {
        // The detail keeps the completion's day, so that an update made
        // before it that arrives late can still be recorded.
        mu.SetId(target,
                 PackId(kCompleted,
                        BangkokDayNumber(
                            e.service_request_completed().completed_at())));
      } else {
        mu.SetId(target, PackId(e.has_complaint_closed() ? kClosed : kOpen, 0));
        std::vector<uint64_t> transitions;
        if (auto t = stream.complaint_transitions.find(target);
            t != stream.complaint_transitions.end()) {
          transitions = t->second;
        }
        transitions.push_back(key);
        mu.SetTransitions(target, std::move(transitions));
      }
    }
  } else if (e.has_event_corrected()) {
    ApplyCorrection(mu, e.event_corrected());
  } else if (e.has_event_retracted()) {
    ApplyRetraction(mu, e.event_retracted());
  }
  mu.SetEvent(key, PackEvent(e.payload_case(), target));
}

size_t MemoryUsage(const WriteModel& model) {
  size_t bytes = 0;
  for (const auto& [name, stream] : model.streams) {
    bytes += sizeof(StreamModel) + name.capacity();
    bytes += MapBytes(stream.events.capacity(),
                      sizeof(std::pair<const uint64_t, uint64_t>));
    bytes += MapBytes(stream.ids.capacity(),
                      sizeof(std::pair<const uint64_t, uint32_t>));
    bytes += MapBytes(stream.complaint_transitions.capacity(),
                      sizeof(std::pair<const uint64_t, std::vector<uint64_t>>));
    for (const auto& [key, transitions] : stream.complaint_transitions) {
      bytes += transitions.capacity() * sizeof(uint64_t);
    }
  }
  for (const auto& [year, framework] : model.frameworks) {
    bytes += sizeof(Framework);
    for (const FrameworkEntry& item : framework.items) {
      bytes += sizeof(FrameworkEntry) + item.code.capacity();
    }
  }
  return bytes;
}

namespace {

constexpr absl::string_view kModelMagic = "prongsai write model 1\n";

void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutString(absl::string_view text, std::string* out) {
  PutVarint(text.size(), out);
  out->append(text.data(), text.size());
}

// Reads what PutVarint and PutString wrote; any overrun makes ok() false.
class Reader {
 public:
  explicit Reader(absl::string_view bytes) : rest_(bytes) {}
  uint64_t Varint() {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (rest_.empty()) {
        ok_ = false;
        return 0;
      }
      const auto byte = static_cast<unsigned char>(rest_.front());
      rest_.remove_prefix(1);
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        return value;
      }
    }
    ok_ = false;
    return 0;
  }
  absl::string_view String() {
    const uint64_t size = Varint();
    if (size > rest_.size()) {
      ok_ = false;
      return {};
    }
    absl::string_view out = rest_.substr(0, size);
    rest_.remove_prefix(size);
    return out;
  }
  // A count of items each at least `min_bytes` long: never more than the
  // bytes left could hold, so a corrupt count cannot ask for huge memory.
  uint64_t Count(size_t min_bytes) {
    const uint64_t n = Varint();
    if (n > rest_.size() / min_bytes) {
      ok_ = false;
      return 0;
    }
    return n;
  }
  bool ok() const { return ok_; }
  bool done() const { return rest_.empty(); }

 private:
  absl::string_view rest_;
  bool ok_ = true;
};

}  // namespace

void EncodeModel(const WriteModel& model, std::string* out) {
  out->append(kModelMagic.data(), kModelMagic.size());
  PutVarint(model.streams.size(), out);
  for (const auto& [name, stream] : model.streams) {
    PutString(name, out);
    PutVarint(stream.events.size(), out);
    for (const auto& [key, value] : stream.events) {
      PutVarint(key, out);
      PutVarint(value, out);
    }
    PutVarint(stream.ids.size(), out);
    for (const auto& [key, value] : stream.ids) {
      PutVarint(key, out);
      PutVarint(value, out);
    }
    PutVarint(stream.complaint_transitions.size(), out);
    for (const auto& [key, transitions] : stream.complaint_transitions) {
      PutVarint(key, out);
      PutVarint(transitions.size(), out);
      for (uint64_t t : transitions) {
        PutVarint(t, out);
      }
    }
  }
  PutVarint(model.frameworks.size(), out);
  for (const auto& [year, framework] : model.frameworks) {
    PutVarint(static_cast<uint64_t>(year), out);
    PutVarint(framework.key, out);
    PutVarint(framework.items.size(), out);
    for (const FrameworkEntry& item : framework.items) {
      PutString(item.code, out);
      PutVarint(static_cast<uint64_t>(item.tool), out);
    }
  }
}

absl::Status DecodeModel(absl::string_view bytes, WriteModel* model) {
  if (!absl::StartsWith(bytes, kModelMagic)) {
    return absl::InvalidArgumentError("not a write model of this version");
  }
  Reader in(bytes.substr(kModelMagic.size()));
  WriteModel decoded;
  for (uint64_t s = in.Count(4); s > 0 && in.ok(); --s) {
    StreamModel& stream = decoded.streams[in.String()];
    // Sized once: growing a table of millions by doubling rehashes it over
    // and over.
    uint64_t n = in.Count(2);
    stream.events.reserve(n);
    for (; n > 0 && in.ok(); --n) {
      const uint64_t key = in.Varint();
      stream.events[key] = in.Varint();
    }
    n = in.Count(2);
    stream.ids.reserve(n);
    for (; n > 0 && in.ok(); --n) {
      const uint64_t key = in.Varint();
      stream.ids[key] = static_cast<uint32_t>(in.Varint());
    }
    for (uint64_t n = in.Count(2); n > 0 && in.ok(); --n) {
      std::vector<uint64_t>& transitions =
          stream.complaint_transitions[in.Varint()];
      for (uint64_t t = in.Count(1); t > 0 && in.ok(); --t) {
        transitions.push_back(in.Varint());
      }
    }
  }
  for (uint64_t f = in.Count(3); f > 0 && in.ok(); --f) {
    const int year = static_cast<int>(in.Varint());
    Framework& framework = decoded.frameworks[year];
    framework.key = in.Varint();
    for (uint64_t i = in.Count(2); i > 0 && in.ok(); --i) {
      FrameworkEntry& item = framework.items.emplace_back();
      item.code = std::string(in.String());
      item.tool = static_cast<v1::Tool>(in.Varint());
    }
  }
  if (!in.ok() || !in.done()) {
    return absl::InvalidArgumentError("the write model's bytes are damaged");
  }
  *model = std::move(decoded);
  return absl::OkStatus();
}

}  // namespace prongsai::domain::internal

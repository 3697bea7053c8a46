#include "services/ingest/ingestor.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <future>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/bytes.h"
#include "core/base/files.h"
#include "core/base/status.h"
#include "core/domain/reference.h"
#include "google/protobuf/wire_format_lite.h"

namespace prongsai::ingest {
namespace {

void SetTimestamp(absl::Time t, google::protobuf::Timestamp* out) {
  const absl::Duration since_epoch = t - absl::UnixEpoch();
  const int64_t seconds = absl::ToInt64Seconds(since_epoch);
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(
      absl::ToInt64Nanoseconds(since_epoch - absl::Seconds(seconds))));
}

std::string SerializeOrDie(const google::protobuf::Message& message) {
  std::string out;
  // Serialization of a valid in-memory message cannot fail short of running
  // out of memory.
  message.SerializeToString(&out);
  return out;
}

void AppendVarint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

void AppendTag(int field,
               google::protobuf::internal::WireFormatLite::WireType type,
               std::string& out) {
  out.push_back(static_cast<char>((field << 3) | type));
}

// Encodes a Record around an already serialized Event: the exact encoding
// protobuf gives the same Record (fields in number order, proto3 defaults
// left out; a test holds the two equal), made without building a Record and
// copying the event into it.
std::string EncodeRecord(const std::string& stream, uint64_t sequence,
                         const Hash& prev_hash,
                         const google::protobuf::Timestamp& recorded_at,
                         const std::string& event_bytes) {
  using google::protobuf::internal::WireFormatLite;
  constexpr auto kVarint = WireFormatLite::WIRETYPE_VARINT;
  constexpr auto kBytes = WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
  std::string out;
  out.reserve(stream.size() + kHashSize + event_bytes.size() + 40);
  if (!stream.empty()) {
    AppendTag(v1::Record::kStreamFieldNumber, kBytes, out);
    AppendVarint(stream.size(), out);
    out.append(stream);
  }
  if (sequence != 0) {
    AppendTag(v1::Record::kSequenceFieldNumber, kVarint, out);
    AppendVarint(sequence, out);
  }
  AppendTag(v1::Record::kPrevHashFieldNumber, kBytes, out);
  AppendVarint(kHashSize, out);
  out.append(reinterpret_cast<const char*>(prev_hash.data()), kHashSize);
  std::string timestamp;
  if (recorded_at.seconds() != 0) {
    AppendTag(google::protobuf::Timestamp::kSecondsFieldNumber, kVarint,
              timestamp);
    AppendVarint(static_cast<uint64_t>(recorded_at.seconds()), timestamp);
  }
  if (recorded_at.nanos() != 0) {
    AppendTag(google::protobuf::Timestamp::kNanosFieldNumber, kVarint,
              timestamp);
    AppendVarint(
        static_cast<uint64_t>(static_cast<int64_t>(recorded_at.nanos())),
        timestamp);
  }
  AppendTag(v1::Record::kRecordedAtFieldNumber, kBytes, out);
  AppendVarint(timestamp.size(), out);
  out.append(timestamp);
  AppendTag(v1::Record::kEventFieldNumber, kBytes, out);
  AppendVarint(event_bytes.size(), out);
  out.append(event_bytes);
  return out;
}

}  // namespace

// The appends taken by one staging pass, stored by one log write.
struct Ingestor::Group {
  std::vector<Pending> pending;
  std::vector<absl::Status> statuses;
  std::vector<v1::AppendResponse> responses;
  std::vector<log::PendingRecord> records;
  uint64_t first_position = 0;
};

Ingestor::Ingestor(log::EventLog* log, IngestOptions options)
    : log_(log), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Ingestor>> Ingestor::Start(
    log::EventLog* log, IngestOptions options) {
  if (!options.state_path.empty() && options.check_owner) {
    // The write model then holds the owned streams only, and a later start
    // may own others.
    return absl::InvalidArgumentError(
        "a saved ingest state (state_path) cannot be used with stream "
        "ownership (check_owner)");
  }
  std::unique_ptr<Ingestor> ingestor(new Ingestor(log, std::move(options)));
  RETURN_IF_ERROR(ingestor->Recover());
  ingestor->stager_ = std::thread([raw = ingestor.get()] {
    pthread_setname_np(pthread_self(), "prongsai-stage");
    raw->StageLoop();
  });
  ingestor->committer_ = std::thread([raw = ingestor.get()] {
    pthread_setname_np(pthread_self(), "prongsai-commit");
    raw->CommitLoop();
  });
  return ingestor;
}

Ingestor::~Ingestor() { Stop(); }

namespace {

constexpr absl::string_view kStateMagic = "prongsai ingest state 1\n";

// The saved state: magic, the position it reflects, the stream heads, the
// write model, then SHA-256 of all that.
std::string EncodeState(
    uint64_t position,
    const absl::flat_hash_map<std::string, log::StreamHead>& heads,
    const std::string& model) {
  std::string out(kStateMagic);
  AppendBigEndian64(position, &out);
  AppendBigEndian64(heads.size(), &out);
  for (const auto& [stream, head] : heads) {
    AppendBigEndian64(stream.size(), &out);
    out += stream;
    AppendBigEndian64(head.sequence, &out);
    AppendBigEndian64(head.position, &out);
    out.append(AsBytes(head.hash).data(), kHashSize);
  }
  AppendBigEndian64(model.size(), &out);
  out += model;
  const Hash sum = Sha256(out);
  out.append(AsBytes(sum).data(), kHashSize);
  return out;
}

struct SavedState {
  uint64_t position = 0;
  absl::flat_hash_map<std::string, log::StreamHead> heads;
  absl::string_view model;
};

absl::StatusOr<SavedState> DecodeState(absl::string_view bytes) {
  const absl::Status damaged =
      absl::DataLossError("the saved ingest state is damaged");
  if (!absl::StartsWith(bytes, kStateMagic) ||
      bytes.size() < kStateMagic.size() + 24 + kHashSize) {
    return damaged;
  }
  const absl::string_view body = bytes.substr(0, bytes.size() - kHashSize);
  if (AsBytes(Sha256(body)) != bytes.substr(body.size())) {
    return damaged;
  }
  absl::string_view in = body.substr(kStateMagic.size());
  auto u64 = [&](uint64_t* value) {
    if (in.size() < 8) {
      return false;
    }
    *value = ReadBigEndian64(in.data());
    in.remove_prefix(8);
    return true;
  };
  SavedState state;
  uint64_t count = 0;
  if (!u64(&state.position) || !u64(&count)) {
    return damaged;
  }
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t size = 0;
    if (!u64(&size) || size > in.size()) {
      return damaged;
    }
    log::StreamHead& head = state.heads[std::string(in.substr(0, size))];
    in.remove_prefix(size);
    if (!u64(&head.sequence) || !u64(&head.position) || in.size() < kHashSize) {
      return damaged;
    }
    HashFromBytes(in.substr(0, kHashSize), &head.hash);
    in.remove_prefix(kHashSize);
  }
  uint64_t size = 0;
  if (!u64(&size) || size != in.size()) {
    return damaged;
  }
  state.model = in;
  return state;
}

void Warn(absl::string_view what) {
  std::fprintf(stderr, "prongsai ingest: %.*s\n", static_cast<int>(what.size()),
               what.data());
}

}  // namespace

uint64_t Ingestor::LoadState() {
  if (options_.state_path.empty()) {
    return 0;
  }
  auto ignore = [&](absl::string_view why) {
    Warn(absl::StrCat("not using the saved state ", options_.state_path, ": ",
                      why, "; replaying the whole log"));
    return uint64_t{0};
  };
  const absl::StatusOr<std::string> bytes = ReadWholeFile(options_.state_path);
  if (absl::IsNotFound(bytes.status())) {
    return 0;
  }
  if (!bytes.ok()) {
    return ignore(bytes.status().message());
  }
  absl::StatusOr<SavedState> state = DecodeState(*bytes);
  if (!state.ok()) {
    return ignore(state.status().message());
  }
  if (state->position > log_->LastPosition()) {
    return ignore(absl::StrCat("it reflects position ", state->position,
                               ", past the log's end at ",
                               log_->LastPosition()));
  }
  // Each head it names must be the record the log holds there.
  for (const auto& [stream, head] : state->heads) {
    bool same = false;
    absl::Status read = log_->ReadStream(
        stream, head.sequence, [&](const log::LogEntry& entry) {
          same = entry.sequence == head.sequence &&
                 entry.position == head.position &&
                 entry.hash == AsBytes(head.hash);
          return false;
        });
    if (!read.ok() || !same) {
      return ignore(
          absl::StrCat("the head of stream ", stream, " differs from the log"));
    }
  }
  if (absl::Status loaded = rules_.LoadState(state->model); !loaded.ok()) {
    return ignore(loaded.message());
  }
  working_heads_ = std::move(state->heads);
  return state->position;
}

absl::Status Ingestor::SaveState() {
  const std::string bytes =
      EncodeState(next_position_ - 1, working_heads_, rules_.SaveState());
  const std::string temp = options_.state_path + ".new";
  {
    std::ofstream file(temp, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    file.flush();
    if (!file) {
      return absl::InternalError(absl::StrCat("could not write ", temp));
    }
  }
  // Durable before it replaces the previous state.
  if (int fd = ::open(temp.c_str(), O_RDONLY); fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  if (std::rename(temp.c_str(), options_.state_path.c_str()) != 0) {
    return absl::InternalError(
        absl::StrCat("could not replace ", options_.state_path));
  }
  return absl::OkStatus();
}

absl::Status Ingestor::Recover() {
  const uint64_t from = LoadState();
  recovered_from_ = from;
  v1::Record record;
  absl::Status decode_error;
  // Whether each stream is replayed: decided once per stream.
  absl::flat_hash_map<std::string, bool> replayed;
  RETURN_IF_ERROR(log_->Scan(from + 1, [&](const log::LogEntry& entry) {
    auto [it, added] = replayed.try_emplace(entry.stream, true);
    if (added) {
      // Another ingest writes a stream it does not own. The city stream's
      // frameworks are read by every stream's rules, so it is replayed
      // wherever it is written.
      it->second = Owns(entry.stream) || entry.stream == domain::kCityStream;
    }
    if (!it->second) {
      return true;
    }
    if (!record.ParseFromArray(entry.record_bytes.data(),
                               static_cast<int>(entry.record_bytes.size()))) {
      decode_error = absl::DataLossError(absl::StrCat(
          "record at position ", entry.position, " does not decode"));
      return false;
    }
    rules_.Replay(entry.stream, record.event());
    log::StreamHead& head = working_heads_[entry.stream];
    head.sequence = entry.sequence;
    HashFromBytes(entry.hash, &head.hash);
    head.position = entry.position;
    ++recovered_records_;
    return true;
  }));
  RETURN_IF_ERROR(decode_error);
  next_position_ = log_->LastPosition() + 1;
  recovered_ = true;
  recovered_model_bytes_ = rules_.MemoryUsage();
  absl::MutexLock lock(&mu_);
  heads_ = working_heads_;
  return absl::OkStatus();
}

void Ingestor::Stop() {
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      return;
    }
    stopping_ = true;
    // Appends written on their callers' threads are answered first.
    mu_.Await(absl::Condition(
        +[](int* calls) { return *calls == 0; }, &inline_calls_));
  }
  if (stager_.joinable()) {
    stager_.join();
  }
  if (committer_.joinable()) {
    committer_.join();
  }
  // Both threads are done: the state is the log's, unless a write failed.
  bool clean = false;
  {
    absl::MutexLock lock(&mu_);
    clean = failed_.ok();
  }
  if (clean && recovered_ && !options_.state_path.empty()) {
    if (absl::Status saved = SaveState(); !saved.ok()) {
      Warn(absl::StrCat(saved.message(),
                        "; the next start replays the whole log"));
    }
  }
}

void Ingestor::Prepare(Pending& pending) const {
  const auto& events = pending.request->events();
  // Past the limit the append is refused before any of this is used.
  if (events.size() > options_.max_events_per_append) {
    return;
  }
  pending.event_bytes.resize(events.size());
  pending.fingerprints.resize(events.size());
  for (int i = 0; i < events.size(); ++i) {
    pending.event_bytes[i] = SerializeOrDie(events[i]);
    pending.fingerprints[i] = Sha256(pending.event_bytes[i]);
  }
  if (options_.seal) {
    for (int i = 0; i < events.size(); ++i) {
      absl::StatusOr<std::optional<std::string>> sealed =
          options_.seal(events[i]);
      if (!sealed.ok()) {
        // Named like every refusal of an event: events[i].<field path>.
        pending.seal_status = absl::Status(
            sealed.status().code(),
            absl::StrCat("events[", i, "].", sealed.status().message()));
        pending.sealed.clear();
        return;
      }
      if (sealed->has_value()) {
        pending.sealed.resize(events.size());
        pending.sealed[i] = **std::move(sealed);
      }
    }
  }
}

void Ingestor::AppendAsync(const v1::AppendRequest* request, Done done) {
  Pending pending;
  pending.request = request;
  pending.done = std::move(done);
  Prepare(pending);
  if (AppendInline(pending)) {
    return;
  }
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the ingest is shutting down; retry");
    } else if (!failed_.ok()) {
      refused = failed_;
    } else {
      queue_.push_back(std::move(pending));
      return;
    }
  }
  done = std::move(pending.done);
  CountRefused(refused, request->events_size());
  done(refused);
}

void Ingestor::CountRefused(const absl::Status& status, int events) {
  const size_t code = std::min<size_t>(static_cast<size_t>(status.code()),
                                       IngestCounters::kCodes - 1);
  counters_.appends_rejected[code].fetch_add(1, std::memory_order_relaxed);
  counters_.events_rejected[code].fetch_add(static_cast<uint64_t>(events),
                                            std::memory_order_relaxed);
}

void Ingestor::Finish(Pending& pending,
                      absl::StatusOr<v1::AppendResponse> result) {
  if (result.ok()) {
    counters_.appends_accepted.fetch_add(1, std::memory_order_relaxed);
    counters_.events_accepted.fetch_add(
        static_cast<uint64_t>(pending.request->events_size()),
        std::memory_order_relaxed);
  } else {
    CountRefused(result.status(), pending.request->events_size());
  }
  pending.done(std::move(result));
}

IngestCounters Ingestor::Counters() {
  IngestCounters out;
  constexpr auto kRelaxed = std::memory_order_relaxed;
  out.appends_accepted = counters_.appends_accepted.load(kRelaxed);
  out.events_accepted = counters_.events_accepted.load(kRelaxed);
  for (int i = 0; i < IngestCounters::kCodes; ++i) {
    out.appends_rejected[i] = counters_.appends_rejected[i].load(kRelaxed);
    out.events_rejected[i] = counters_.events_rejected[i].load(kRelaxed);
  }
  out.records_written = counters_.records_written.load(kRelaxed);
  out.log_writes = counters_.log_writes.load(kRelaxed);
  out.log_write_failures = counters_.log_write_failures.load(kRelaxed);
  out.log_write_seconds =
      static_cast<double>(counters_.log_write_nanos.load(kRelaxed)) / 1e9;
  absl::MutexLock lock(&mu_);
  out.stopped_after_failure = !failed_.ok();
  return out;
}

absl::StatusOr<v1::AppendResponse> Ingestor::Append(
    const v1::AppendRequest& request) {
  std::promise<absl::StatusOr<v1::AppendResponse>> promise;
  auto future = promise.get_future();
  AppendAsync(&request, [&promise](absl::StatusOr<v1::AppendResponse> result) {
    promise.set_value(std::move(result));
  });
  return future.get();
}

bool Ingestor::Owns(absl::string_view stream) const {
  return !options_.check_owner || options_.check_owner(stream).ok();
}

absl::StatusOr<log::StreamHead> Ingestor::Head(absl::string_view stream) {
  RETURN_IF_ERROR(rules_.CheckStream(stream));
  if (!Owns(stream)) {
    return log_->LoadHead(stream);  // written by another ingest
  }
  absl::MutexLock lock(&mu_);
  auto it = heads_.find(stream);
  return it == heads_.end() ? log::StreamHead{} : it->second;
}

void Ingestor::StageLoop() {
  std::deque<Pending> refused;
  while (true) {
    auto group = std::make_unique<Group>();
    {
      absl::MutexLock lock(&mu_);
      // Stage the next group while the previous one is written, but no
      // further ahead: its callers are better served by a bigger group.
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ ||
               (!queue_.empty() && staged_.size() < 2 && !inline_);
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) {
        staging_done_ = true;
        refused.swap(queue_);
        break;
      }
      int events = 0;
      while (!queue_.empty() &&
             (group->pending.empty() ||
              events + queue_.front().request->events_size() <=
                  options_.max_events_per_write)) {
        events += queue_.front().request->events_size();
        group->pending.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      if (!failed_.ok()) {
        for (Pending& pending : group->pending) {
          Finish(pending, failed_);
        }
        continue;
      }
      staging_ = true;
    }
    StageGroup(*group);
    absl::MutexLock lock(&mu_);
    staged_.push_back(std::move(group));
    staging_ = false;
  }
  for (Pending& pending : refused) {
    Finish(pending,
           absl::UnavailableError("the ingest is shutting down; retry"));
  }
}

void Ingestor::CommitLoop() {
  while (true) {
    std::unique_ptr<Group> group;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !staged_.empty() || staging_done_;
      };
      mu_.Await(absl::Condition(&ready));
      if (staged_.empty()) {
        return;  // staging has ended and everything staged is answered
      }
      group = std::move(staged_.front());
      staged_.pop_front();
      committing_ = true;
    }
    const absl::Status write_status = WriteGroup(*group);
    {
      absl::MutexLock lock(&mu_);
      committing_ = false;
    }
    AnswerGroup(*group, write_status);
  }
}

void Ingestor::StageGroup(Group& group) {
  const size_t n = group.pending.size();
  group.statuses.resize(n);
  group.responses.resize(n);
  group.first_position = next_position_;
  for (size_t i = 0; i < n; ++i) {
    group.statuses[i] = Stage(group.pending[i], group, group.responses[i]);
  }
}

bool Ingestor::AppendInline(Pending& pending) {
  // A bigger append gains little from it and would hold its caller's
  // thread (a gRPC thread) for its whole staging.
  constexpr int kMaxInlineEvents = 16;
  if (pending.request->events_size() > kMaxInlineEvents) {
    return false;
  }
  {
    absl::MutexLock lock(&mu_);
    if (stopping_ || !failed_.ok() || !queue_.empty() || !staged_.empty() ||
        staging_ || committing_ || inline_) {
      return false;
    }
    inline_ = true;
    ++inline_calls_;
  }
  // The staging and commit threads are idle and stay so while inline_ is
  // set: this thread owns the staging state until it clears it.
  Group group;
  group.pending.push_back(std::move(pending));
  StageGroup(group);
  const absl::Status write_status = WriteGroup(group);
  {
    absl::MutexLock lock(&mu_);
    inline_ = false;
  }
  AnswerGroup(group, write_status);
  absl::MutexLock lock(&mu_);
  --inline_calls_;
  return true;
}

absl::Status Ingestor::WriteGroup(Group& group) {
  absl::Status write_status;
  {
    absl::MutexLock lock(&mu_);
    write_status = failed_;
  }
  if (write_status.ok() && !group.records.empty()) {
    const absl::Time write_start = absl::Now();
    absl::StatusOr<uint64_t> written = log_->Write(group.records);
    counters_.log_writes.fetch_add(1, std::memory_order_relaxed);
    counters_.log_write_nanos.fetch_add(
        absl::ToInt64Nanoseconds(absl::Now() - write_start),
        std::memory_order_relaxed);
    if (written.ok()) {
      counters_.records_written.fetch_add(group.records.size(),
                                          std::memory_order_relaxed);
    } else {
      counters_.log_write_failures.fetch_add(1, std::memory_order_relaxed);
    }
    if (written.ok() && *written != group.first_position) {
      written = absl::InternalError(
          absl::StrCat("the log stored the group at position ", *written,
                       ", not ", group.first_position, " as staged"));
    }
    if (!written.ok()) {
      write_status = absl::UnavailableError(absl::StrCat(
          "the event log did not accept the write; nothing was appended: ",
          written.status().message()));
    }
  }
  absl::MutexLock lock(&mu_);
  if (write_status.ok()) {
    for (const log::PendingRecord& record : group.records) {
      log::StreamHead& head = heads_[record.stream];
      head.sequence = record.sequence;
      head.hash = record.hash;
      head.position = group.first_position +
                      static_cast<uint64_t>(&record - group.records.data());
    }
  } else if (failed_.ok()) {
    failed_ = absl::UnavailableError(absl::StrCat(
        "the ingest stopped after a failed log write (", write_status.message(),
        "); restart it to recover from the log"));
  }
  for (const log::PendingRecord& record : group.records) {
    in_flight_.erase(record.event_id);
  }
  return write_status;
}

void Ingestor::AnswerGroup(Group& group, const absl::Status& write_status) {
  for (size_t i = 0; i < group.pending.size(); ++i) {
    Pending& pending = group.pending[i];
    if (!group.statuses[i].ok()) {
      Finish(pending, group.statuses[i]);
    } else if (!write_status.ok()) {
      Finish(pending, write_status);
    } else {
      Finish(pending, std::move(group.responses[i]));
    }
  }
}

absl::Status Ingestor::Stage(const Pending& pending, Group& group,
                             v1::AppendResponse& response) {
  const v1::AppendRequest& request = *pending.request;
  const std::string& stream = request.stream();
  RETURN_IF_ERROR(rules_.CheckStream(stream));
  if (options_.check_owner) {
    RETURN_IF_ERROR(options_.check_owner(stream));
  }
  if (request.events().empty()) {
    return absl::InvalidArgumentError("events: empty; send at least one event");
  }
  if (request.events_size() > options_.max_events_per_append) {
    return absl::ResourceExhaustedError(
        absl::StrCat("events: ", request.events_size(),
                     " events in one append; the maximum is ",
                     options_.max_events_per_append));
  }

  // Idempotency: every event id is either new, or was appended before with
  // the same content. A batch that is wholly a retry returns the original
  // result; a batch that is partly a retry is refused whole.
  const int n = request.events_size();
  const std::vector<std::string>& event_bytes = pending.event_bytes;
  std::vector<std::optional<log::EventRef>> refs(n);
  absl::flat_hash_set<absl::string_view> ids_in_request;
  ids_in_request.reserve(n);
  for (int i = 0; i < n; ++i) {
    const v1::Event& event = request.events(i);
    if (!ids_in_request.insert(event.event_id()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("events[", i, "].event_id: \"", event.event_id(),
                       "\" appears more than once in this append"));
    }
  }
  // Ids staged in groups not yet durable, then the log, in one look-up.
  std::vector<absl::string_view> to_find;
  std::vector<int> to_find_at;
  {
    absl::MutexLock lock(&mu_);
    for (int i = 0; i < n; ++i) {
      const std::string& id = request.events(i).event_id();
      if (auto it = in_flight_.find(id); it != in_flight_.end()) {
        refs[i] = log::EventRef{it->second.stream, it->second.sequence,
                                it->second.position, it->second.fingerprint};
      } else if (!id.empty()) {
        to_find.push_back(id);
        to_find_at.push_back(i);
      }
    }
  }
  if (!to_find.empty()) {
    ASSIGN_OR_RETURN(std::vector<std::optional<log::EventRef>> found,
                     log_->FindEvents(to_find));
    for (size_t j = 0; j < found.size(); ++j) {
      refs[to_find_at[j]] = std::move(found[j]);
    }
  }
  std::vector<std::string> seen_before;
  for (int i = 0; i < n; ++i) {
    if (!refs[i].has_value()) {
      continue;
    }
    const v1::Event& event = request.events(i);
    if (refs[i]->stream != stream ||
        refs[i]->fingerprint != pending.fingerprints[i]) {
      return absl::AlreadyExistsError(absl::StrCat(
          "events[", i, "].event_id: \"", event.event_id(),
          "\" was already used for a different event (stream ", refs[i]->stream,
          ", sequence ", refs[i]->sequence, "); choose a new event id"));
    }
    seen_before.push_back(event.event_id());
  }

  log::StreamHead& head = working_heads_[stream];
  if (!seen_before.empty()) {
    if (static_cast<int>(seen_before.size()) != n) {
      return absl::AlreadyExistsError(absl::StrCat(
          seen_before.size(), " of the ", n, " events were appended before (",
          absl::StrJoin(seen_before, ", "),
          "); nothing was appended. Re-send exactly the original batch, or "
          "only the new events"));
    }
    response.set_duplicate(true);
    for (const auto& ref : refs) {
      response.add_sequences(ref->sequence);
    }
    response.set_first_position(refs.front()->position);
    response.set_last_position(refs.back()->position);
    response.set_head_sequence(head.sequence);
    response.set_head_hash(std::string(AsBytes(head.hash)));
    return absl::OkStatus();
  }

  switch (request.expected_version_case()) {
    case v1::AppendRequest::kNoStream:
      if (head.sequence != 0) {
        return absl::FailedPreconditionError(absl::StrCat(
            "expected_version: stream ", stream, " is at version ",
            head.sequence, ", but the append expected no stream yet"));
      }
      break;
    case v1::AppendRequest::kExact:
      if (head.sequence != request.exact()) {
        return absl::FailedPreconditionError(
            absl::StrCat("expected_version: stream ", stream, " is at version ",
                         head.sequence, ", not ", request.exact(),
                         "; read the new events and retry"));
      }
      break;
    case v1::AppendRequest::EXPECTED_VERSION_NOT_SET:
      break;
  }

  // Sealing failed before Admit, which advances the domain state.
  RETURN_IF_ERROR(pending.seal_status);
  RETURN_IF_ERROR(rules_.Admit(stream, request.events()));

  google::protobuf::Timestamp recorded_at;
  SetTimestamp(options_.clock(), &recorded_at);
  response.set_first_position(next_position_);
  for (int i = 0; i < n; ++i) {
    log::PendingRecord record;
    record.stream = stream;
    record.sequence = head.sequence + 1;
    record.event_id = request.events(i).event_id();
    record.fingerprint = pending.fingerprints[i];
    record.bytes =
        EncodeRecord(stream, record.sequence, head.hash, recorded_at,
                     pending.sealed.empty() || pending.sealed[i].empty()
                         ? event_bytes[i]
                         : pending.sealed[i]);
    record.hash = Sha256(record.bytes);
    head.sequence = record.sequence;
    head.hash = record.hash;
    head.position = next_position_++;
    response.add_sequences(record.sequence);
    group.records.push_back(std::move(record));
  }
  response.set_last_position(next_position_ - 1);
  response.set_head_sequence(head.sequence);
  response.set_head_hash(std::string(AsBytes(head.hash)));

  absl::MutexLock lock(&mu_);
  for (auto it = group.records.end() - n; it != group.records.end(); ++it) {
    in_flight_[it->event_id] = {it->stream, it->sequence,
                                head.position - (group.records.end() - 1 - it),
                                it->fingerprint};
  }
  return absl::OkStatus();
}

}  // namespace prongsai::ingest

#include "services/ingest/ingestor.h"

#include <future>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status.h"
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

// Encodes a Record around an already serialized Event. The result is the
// exact encoding protobuf gives the same Record (fields in number order), made
// without copying the event into a Record and encoding it again.
std::string EncodeRecord(const std::string& stream, uint64_t sequence,
                         const Hash& prev_hash,
                         const google::protobuf::Timestamp& recorded_at,
                         const std::string& event_bytes) {
  v1::Record header;
  header.set_stream(stream);
  header.set_sequence(sequence);
  header.set_prev_hash(std::string(AsBytes(prev_hash)));
  *header.mutable_recorded_at() = recorded_at;
  std::string out;
  out.reserve(header.ByteSizeLong() + event_bytes.size() + 8);
  header.AppendToString(&out);
  out.push_back(static_cast<char>(
      (v1::Record::kEventFieldNumber << 3) |
      google::protobuf::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  uint64_t len = event_bytes.size();
  while (len >= 0x80) {
    out.push_back(static_cast<char>((len & 0x7f) | 0x80));
    len >>= 7;
  }
  out.push_back(static_cast<char>(len));
  out.append(event_bytes);
  return out;
}

}  // namespace

// The appends taken by one writer pass, staged into one log write.
struct Ingestor::Group {
  std::vector<log::PendingRecord> records;
  // Event ids staged in this group, with their index in `records`.
  absl::flat_hash_map<std::string, size_t> staged_ids;
  struct Outcome {
    absl::Status status;
    v1::AppendResponse response;
    // Indexes into `records` whose positions fill `response` after the write.
    std::vector<size_t> record_indexes;
  };
  std::vector<Outcome> outcomes;
};

Ingestor::Ingestor(log::EventLog* log, IngestOptions options)
    : log_(log), options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<Ingestor>> Ingestor::Start(
    log::EventLog* log, IngestOptions options) {
  std::unique_ptr<Ingestor> ingestor(new Ingestor(log, std::move(options)));
  RETURN_IF_ERROR(ingestor->Recover());
  ingestor->writer_ = std::thread([raw = ingestor.get()] { raw->Run(); });
  return ingestor;
}

Ingestor::~Ingestor() { Stop(); }

absl::Status Ingestor::Recover() {
  v1::Record record;
  absl::Status decode_error;
  RETURN_IF_ERROR(log_->Scan(1, [&](const log::LogEntry& entry) {
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
    return true;
  }));
  RETURN_IF_ERROR(decode_error);
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
  }
  if (writer_.joinable()) {
    writer_.join();
  }
}

void Ingestor::AppendAsync(const v1::AppendRequest* request, Done done) {
  absl::Status refused;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) {
      refused = absl::UnavailableError("the ingest is shutting down; retry");
    } else if (!failed_.ok()) {
      refused = failed_;
    } else {
      queue_.push_back({request, std::move(done)});
      return;
    }
  }
  done(refused);
}

absl::StatusOr<v1::AppendResponse> Ingestor::Append(
    const v1::AppendRequest& request) {
  std::promise<absl::StatusOr<v1::AppendResponse>> promise;
  auto future = promise.get_future();
  AppendAsync(&request,
              [&promise](absl::StatusOr<v1::AppendResponse> result) {
                promise.set_value(std::move(result));
              });
  return future.get();
}

absl::StatusOr<log::StreamHead> Ingestor::Head(absl::string_view stream) {
  RETURN_IF_ERROR(rules_.CheckStream(stream));
  absl::MutexLock lock(&mu_);
  auto it = heads_.find(stream);
  return it == heads_.end() ? log::StreamHead{} : it->second;
}

void Ingestor::Run() {
  while (true) {
    std::deque<Pending> batch;
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return stopping_ || !queue_.empty();
      };
      mu_.Await(absl::Condition(&ready));
      if (queue_.empty()) {
        return;  // stopping, and nothing left to do
      }
      // Take waiting appends up to the size of one log write.
      int events = 0;
      while (!queue_.empty() &&
             (batch.empty() ||
              events + queue_.front().request->events_size() <=
                  options_.max_events_per_write)) {
        events += queue_.front().request->events_size();
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    Process(batch);
  }
}

void Ingestor::Process(std::deque<Pending>& batch) {
  Group group;
  group.outcomes.resize(batch.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    group.outcomes[i].status = Stage(batch[i], group, static_cast<int>(i));
  }

  absl::Status write_status;
  uint64_t first_position = 0;
  if (!group.records.empty()) {
    absl::StatusOr<uint64_t> written = log_->Write(group.records);
    if (written.ok()) {
      first_position = *written;
      absl::MutexLock lock(&mu_);
      for (const log::PendingRecord& record : group.records) {
        heads_[record.stream] = working_heads_[record.stream];
      }
    } else {
      write_status = absl::UnavailableError(absl::StrCat(
          "the event log did not accept the write; nothing was appended: ",
          written.status().message()));
      absl::MutexLock lock(&mu_);
      failed_ = absl::UnavailableError(absl::StrCat(
          "the ingest stopped after a failed log write (",
          written.status().message(), "); restart it to recover from the log"));
    }
  }

  for (size_t i = 0; i < batch.size(); ++i) {
    Group::Outcome& outcome = group.outcomes[i];
    if (!outcome.status.ok()) {
      batch[i].done(outcome.status);
      continue;
    }
    if (!outcome.record_indexes.empty() && !write_status.ok()) {
      batch[i].done(write_status);
      continue;
    }
    v1::AppendResponse& response = outcome.response;
    // Fill positions of records staged in this group (fresh appends, and
    // retries of events staged earlier in the same group).
    for (size_t k = 0; k < outcome.record_indexes.size(); ++k) {
      const uint64_t position = first_position + outcome.record_indexes[k];
      if (k == 0 && response.first_position() == 0) {
        response.set_first_position(position);
      }
      response.set_last_position(position);
    }
    batch[i].done(std::move(response));
  }
}

absl::Status Ingestor::Stage(Pending& pending, Group& group, int index) {
  const v1::AppendRequest& request = *pending.request;
  Group::Outcome& outcome = group.outcomes[index];
  const std::string& stream = request.stream();
  RETURN_IF_ERROR(rules_.CheckStream(stream));
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
  std::vector<std::string> event_bytes(n);
  std::vector<Hash> fingerprints(n);
  absl::flat_hash_set<absl::string_view> ids_in_request;
  std::vector<std::string> seen_before;
  struct Prior {
    uint64_t sequence;
    uint64_t position;  // 0 when staged in this group
    size_t group_index;
  };
  std::vector<Prior> priors;
  for (int i = 0; i < n; ++i) {
    const v1::Event& event = request.events(i);
    if (!ids_in_request.insert(event.event_id()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "events[", i, "].event_id: \"", event.event_id(),
          "\" appears more than once in this append"));
    }
    event_bytes[i] = SerializeOrDie(event);
    fingerprints[i] = Sha256(event_bytes[i]);
    std::optional<log::EventRef> ref;
    size_t group_index = 0;
    if (auto staged = group.staged_ids.find(event.event_id());
        staged != group.staged_ids.end()) {
      group_index = staged->second;
      const log::PendingRecord& record = group.records[group_index];
      ref = log::EventRef{record.stream, record.sequence, 0, record.fingerprint};
    } else if (!event.event_id().empty()) {
      ASSIGN_OR_RETURN(ref, log_->FindEvent(event.event_id()));
    }
    if (!ref.has_value()) {
      continue;
    }
    if (ref->stream != stream || ref->fingerprint != fingerprints[i]) {
      return absl::AlreadyExistsError(absl::StrCat(
          "events[", i, "].event_id: \"", event.event_id(),
          "\" was already used for a different event (stream ", ref->stream,
          ", sequence ", ref->sequence, "); choose a new event id"));
    }
    seen_before.push_back(event.event_id());
    priors.push_back({ref->sequence, ref->position, group_index});
  }

  log::StreamHead& head = working_heads_[stream];
  if (!seen_before.empty()) {
    if (static_cast<int>(seen_before.size()) != n) {
      return absl::AlreadyExistsError(absl::StrCat(
          seen_before.size(), " of the ", n,
          " events were appended before (", absl::StrJoin(seen_before, ", "),
          "); nothing was appended. Re-send exactly the original batch, or "
          "only the new events"));
    }
    v1::AppendResponse& response = outcome.response;
    response.set_duplicate(true);
    for (const Prior& prior : priors) {
      response.add_sequences(prior.sequence);
      if (prior.position == 0) {
        outcome.record_indexes.push_back(prior.group_index);
      } else {
        if (response.first_position() == 0) {
          response.set_first_position(prior.position);
        }
        response.set_last_position(prior.position);
      }
    }
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
        return absl::FailedPreconditionError(absl::StrCat(
            "expected_version: stream ", stream, " is at version ",
            head.sequence, ", not ", request.exact(),
            "; read the new events and retry"));
      }
      break;
    case v1::AppendRequest::EXPECTED_VERSION_NOT_SET:
      break;
  }

  RETURN_IF_ERROR(rules_.Admit(stream, request.events()));

  google::protobuf::Timestamp recorded_at;
  SetTimestamp(options_.clock(), &recorded_at);
  v1::AppendResponse& response = outcome.response;
  for (int i = 0; i < n; ++i) {
    log::PendingRecord pending_record;
    pending_record.stream = stream;
    pending_record.sequence = head.sequence + 1;
    pending_record.event_id = request.events(i).event_id();
    pending_record.fingerprint = fingerprints[i];
    pending_record.bytes = EncodeRecord(stream, pending_record.sequence,
                                        head.hash, recorded_at, event_bytes[i]);
    pending_record.hash = Sha256(pending_record.bytes);

    head.sequence = pending_record.sequence;
    head.hash = pending_record.hash;
    head.position = log_->LastPosition() + 1 + group.records.size();
    response.add_sequences(pending_record.sequence);
    outcome.record_indexes.push_back(group.records.size());
    group.staged_ids.emplace(pending_record.event_id, group.records.size());
    group.records.push_back(std::move(pending_record));
  }
  response.set_head_sequence(head.sequence);
  response.set_head_hash(std::string(AsBytes(head.hash)));
  return absl::OkStatus();
}

}  // namespace prongsai::ingest

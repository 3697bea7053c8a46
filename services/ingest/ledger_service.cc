#include "services/ingest/ledger_service.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "core/security/grpc_security.h"
#include "core/security/policy.h"
#include "services/ingest/wire_check.h"

namespace prongsai::ingest {
namespace {

// How often a waiting Subscribe checks whether its caller went away.
constexpr absl::Duration kSubscribePoll = absl::Milliseconds(200);

constexpr absl::string_view kAppend = "/prongsai.v1.Ledger/Append";
constexpr absl::string_view kRead = "/prongsai.v1.Ledger/Read";
constexpr absl::string_view kSubscribe = "/prongsai.v1.Ledger/Subscribe";
constexpr absl::string_view kGetHead = "/prongsai.v1.Ledger/GetHead";

// The payload field names of a batch, for the policy.
std::vector<std::string> PayloadNames(const v1::AppendRequest& request) {
  std::vector<std::string> names;
  names.reserve(request.events_size());
  for (const v1::Event& event : request.events()) {
    const google::protobuf::FieldDescriptor* field =
        v1::Event::descriptor()->FindFieldByNumber(event.payload_case());
    names.push_back(field == nullptr ? std::string() : field->name());
  }
  return names;
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

absl::Status ToEntry(const log::LogEntry& entry, v1::Entry* out) {
  out->Clear();
  out->set_position(entry.position);
  out->set_hash(std::string(entry.hash));
  out->set_record_bytes(std::string(entry.record_bytes));
  if (!out->mutable_record()->ParseFromArray(
          entry.record_bytes.data(),
          static_cast<int>(entry.record_bytes.size()))) {
    return absl::DataLossError(absl::StrCat(
        "record at position ", entry.position, " does not decode"));
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* LedgerService::Append(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
    grpc::ByteBuffer* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // Who may append at all is known before decoding; the stream and the
  // payloads are checked after.
  absl::StatusOr<security::Principal> who =
      security::CheckCallRole(*guard_, *context, kAppend);
  if (!who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  std::vector<grpc::Slice> slices;
  if (grpc::Status dumped = request->Dump(&slices); !dumped.ok()) {
    reactor->Finish(dumped);
    return reactor;
  }
  std::string bytes;
  bytes.reserve(request->Length());
  for (const grpc::Slice& slice : slices) {
    bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
  // One arena per request: a batch of a thousand events is a few thousand
  // small objects, freed together when the answer is sent.
  google::protobuf::ArenaOptions arena_options;
  arena_options.start_block_size = std::max<size_t>(4096, bytes.size() * 2);
  arena_options.max_block_size = arena_options.start_block_size;
  auto arena = std::make_shared<google::protobuf::Arena>(arena_options);
  v1::AppendRequest* parsed =
      google::protobuf::Arena::CreateMessage<v1::AppendRequest>(arena.get());
  if (!parsed->ParseFromString(bytes)) {
    absl::Status why =
        ExplainParseFailure(*v1::AppendRequest::descriptor(), bytes);
    if (why.ok()) {
      why = absl::InvalidArgumentError(
          "request is not a valid prongsai.v1.AppendRequest");
    }
    // Its events are unknown: it counts as a refused append of none.
    ingestor_->CountRefused(why, 0);
    reactor->Finish(ToGrpcStatus(why));
    return reactor;
  }
  const security::Call call{.operation = kAppend,
                            .districts = {parsed->stream()}};
  absl::Status allowed = guard_->AuthorizeScope(*who, call);
  if (allowed.ok()) {
    allowed = security::AuthorizePayloads(*who, PayloadNames(*parsed));
    if (!allowed.ok()) {
      guard_->LogDenial(*who, call, allowed);
    }
  }
  if (!allowed.ok()) {
    reactor->Finish(ToGrpcStatus(allowed));
    return reactor;
  }
  ingestor_->AppendAsync(
      parsed, [arena, reactor, response](
                        absl::StatusOr<v1::AppendResponse> result) {
        if (!result.ok()) {
          reactor->Finish(ToGrpcStatus(result.status()));
          return;
        }
        const std::string out = result->SerializeAsString();
        grpc::Slice slice(out);
        *response = grpc::ByteBuffer(&slice, 1);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::Status LedgerService::Read(grpc::ServerContext* context,
                                 const v1::ReadRequest* request,
                                 grpc::ServerWriter<v1::Entry>* writer) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, kRead, {request->stream()});
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  // An unknown stream is an error, not an empty answer.
  absl::StatusOr<log::StreamHead> head = ingestor_->Head(request->stream());
  if (!head.ok()) {
    return ToGrpcStatus(head.status());
  }
  v1::Entry out;
  uint64_t sent = 0;
  absl::Status status;
  const absl::Time deadline = security::CallDeadline(*guard_, *context);
  absl::Status read = log_->ReadStream(
      request->stream(), std::max<uint64_t>(request->from_sequence(), 1),
      [&](const log::LogEntry& entry) {
        if (context->IsCancelled()) {
          status = absl::CancelledError("the caller cancelled the read");
          return false;
        }
        if (sent % 1024 == 0 && absl::Now() > deadline) {
          status = absl::DeadlineExceededError(absl::StrCat(
              "the read ran past its deadline after ", sent,
              " records; continue with from_sequence ", entry.sequence));
          return false;
        }
        status = ToEntry(entry, &out);
        if (!status.ok() || !writer->Write(out)) {
          return false;
        }
        ++sent;
        return request->limit() == 0 || sent < request->limit();
      });
  return ToGrpcStatus(read.ok() ? status : read);
}

grpc::Status LedgerService::Subscribe(grpc::ServerContext* context,
                                      const v1::SubscribeRequest* request,
                                      grpc::ServerWriter<v1::Entry>* writer) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, kSubscribe,
          {request->streams().begin(), request->streams().end()});
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  absl::flat_hash_set<std::string> streams(request->streams().begin(),
                                           request->streams().end());
  for (const std::string& stream : streams) {
    if (absl::StatusOr<log::StreamHead> head = ingestor_->Head(stream);
        !head.ok()) {
      return ToGrpcStatus(head.status());
    }
  }
  uint64_t next = std::max<uint64_t>(request->from_position(), 1);
  v1::Entry out;
  absl::Status status;
  bool open = true;
  while (open && !context->IsCancelled()) {
    absl::Status scan = log_->Scan(next, [&](const log::LogEntry& entry) {
      next = entry.position + 1;
      if (!streams.empty() && !streams.contains(entry.stream)) {
        return true;
      }
      status = ToEntry(entry, &out);
      open = status.ok() && writer->Write(out);
      return open;
    });
    if (!scan.ok()) {
      return ToGrpcStatus(scan);
    }
    if (!status.ok()) {
      return ToGrpcStatus(status);
    }
    // Caught up: wait for the next record, checking for cancellation.
    while (open && !context->IsCancelled() &&
           log_->WaitForPosition(next, absl::Now() + kSubscribePoll) < next) {
    }
  }
  return grpc::Status::OK;
}

grpc::Status LedgerService::GetHead(grpc::ServerContext* context,
                                    const v1::GetHeadRequest* request,
                                    v1::Head* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, kGetHead, {request->stream()});
      !who.ok()) {
    return ToGrpcStatus(who.status());
  }
  absl::StatusOr<log::StreamHead> head = ingestor_->Head(request->stream());
  if (!head.ok()) {
    return ToGrpcStatus(head.status());
  }
  response->set_stream(request->stream());
  response->set_sequence(head->sequence);
  if (head->sequence > 0) {
    response->set_hash(std::string(AsBytes(head->hash)));
  }
  response->set_position(head->position);
  response->set_log_position(log_->LastPosition());
  return grpc::Status::OK;
}

}  // namespace prongsai::ingest

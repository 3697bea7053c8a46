#include "services/audit/audit_service.h"

#include "absl/strings/str_cat.h"
#include "core/audit/checkpoint.h"
#include "core/audit/merkle.h"
#include "core/base/status.h"
#include "core/security/grpc_security.h"
#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"

namespace prongsai::audit_service {
namespace {

// Nodes of at least 2^kCachedLevel leaves are kept in memory, up to
// kCachedNodes of them (about 6 MB). The view's reader hashes the lower ones
// from one scan of their leaf block.
constexpr int kCachedLevel = projections::kLeafBlockLevel;
constexpr size_t kCachedNodes = 1 << 16;

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) {
    return grpc::Status::OK;
  }
  // absl and gRPC share the canonical code numbering.
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()),
                      std::string(status.message()));
}

void AddHashes(const std::vector<Hash>& hashes,
               google::protobuf::RepeatedPtrField<std::string>* out) {
  for (const Hash& hash : hashes) {
    out->Add(std::string(AsBytes(hash)));
  }
}

absl::Status RequireStream(absl::string_view stream) {
  if (stream.empty()) {
    return absl::InvalidArgumentError("stream is required");
  }
  return absl::OkStatus();
}

// The stream part of an origin "<log name>/<stream>".
std::string StreamOfOrigin(absl::string_view origin) {
  const size_t slash = origin.rfind('/');
  return std::string(
      slash == absl::string_view::npos ? origin : origin.substr(slash + 1));
}

}  // namespace

void ToProto(const SignedCheckpoint& checkpoint, v1::Checkpoint* out) {
  out->set_stream(checkpoint.stream);
  out->set_origin(checkpoint.checkpoint.origin);
  out->set_tree_size(checkpoint.checkpoint.size);
  out->set_root_hash(std::string(AsBytes(checkpoint.checkpoint.root)));
  out->set_note(checkpoint.note);
}

absl::StatusOr<std::optional<SignedCheckpoint>> AuditService::SignedAt(
    absl::string_view stream, uint64_t size,
    const std::optional<SignedCheckpoint>& latest) {
  if (latest.has_value() && latest->checkpoint.size == size) {
    return latest;
  }
  if (!latest.has_value() || size > latest->checkpoint.size) {
    return std::nullopt;
  }
  return checkpointer_->AtSize(stream, size);
}

audit::NodeReader AuditService::Reader(const projections::MerkleView& tree,
                                       absl::string_view stream) {
  return [this, from_view = tree.Reader(stream), stream = std::string(stream)](
             int level, uint64_t index) -> absl::StatusOr<Hash> {
    if (level < kCachedLevel) {
      return from_view(level, index);
    }
    const std::string key = projections::MerkleNodeKey(stream, level, index);
    {
      absl::MutexLock lock(&cache_mu_);
      if (auto it = cache_.find(key); it != cache_.end()) {
        return it->second;
      }
    }
    ASSIGN_OR_RETURN(Hash hash, from_view(level, index));
    absl::MutexLock lock(&cache_mu_);
    if (cache_.size() >= kCachedNodes) {
      cache_.clear();
    }
    cache_.emplace(key, hash);
    return hash;
  };
}

absl::Status AuditService::CheckReached(absl::string_view stream, uint64_t size,
                                        uint64_t current) {
  if (size > current) {
    return absl::FailedPreconditionError(absl::StrCat(
        "stream ", stream, " has ", current,
        " records in its tree so far, fewer than the ", size, " asked for"));
  }
  return absl::OkStatus();
}

absl::Status AuditService::Checkpoint(const v1::GetCheckpointRequest& request,
                                      v1::GetCheckpointResponse* response) {
  response->set_verifier_key(checkpointer_->VerifierKey());
  switch (request.scope_case()) {
    case v1::GetCheckpointRequest::kStream: {
      const std::string& stream = request.stream();
      RETURN_IF_ERROR(RequireStream(stream));
      std::optional<SignedCheckpoint> latest;
      if (request.refresh()) {
        ASSIGN_OR_RETURN(latest, checkpointer_->CheckpointStream(stream));
      } else {
        ASSIGN_OR_RETURN(latest, checkpointer_->Latest(stream));
      }
      if (!latest.has_value()) {
        return absl::NotFoundError(
            absl::StrCat("no checkpoint of stream ", stream,
                         " was signed yet; ask with refresh to sign one"));
      }
      response->set_note(latest->note);
      if (request.earlier() > 0) {
        ASSIGN_OR_RETURN(
            std::vector<SignedCheckpoint> history,
            checkpointer_->History(stream, size_t{request.earlier()} + 1));
        for (const SignedCheckpoint& c : history) {
          if (c.checkpoint.size < latest->checkpoint.size) {
            ToProto(c, response->add_checkpoints());
          }
        }
      }
      ToProto(*latest, response->add_checkpoints());
      return absl::OkStatus();
    }
    case v1::GetCheckpointRequest::kAllStreams: {
      if (request.refresh()) {
        RETURN_IF_ERROR(checkpointer_->CheckpointAll().status());
      }
      ASSIGN_OR_RETURN(std::optional<std::string> note,
                       checkpointer_->LatestCity());
      if (!note.has_value()) {
        return absl::NotFoundError(
            "no city checkpoint was signed yet; ask with refresh to sign one");
      }
      // The note was signed by this server's key; its text is what it lists.
      const size_t split = note->rfind("\n\n");
      ASSIGN_OR_RETURN(audit::CityCheckpoint city,
                       audit::ParseCityCheckpoint(note->substr(0, split + 1)));
      response->set_note(*note);
      for (const audit::Checkpoint& listed : city.streams) {
        const std::string stream = StreamOfOrigin(listed.origin);
        ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> at,
                         checkpointer_->AtSize(stream, listed.size));
        v1::Checkpoint* out = response->add_checkpoints();
        if (at.has_value()) {
          ToProto(*at, out);
        } else {
          out->set_stream(stream);
          out->set_origin(listed.origin);
          out->set_tree_size(listed.size);
          out->set_root_hash(std::string(AsBytes(listed.root)));
        }
      }
      return absl::OkStatus();
    }
    case v1::GetCheckpointRequest::SCOPE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("scope: set stream or all_streams");
}

absl::Status AuditService::Inclusion(
    const v1::GetInclusionProofRequest& request, v1::InclusionProof* response) {
  std::string stream = request.stream();
  uint64_t sequence = 0;
  switch (request.record_case()) {
    case v1::GetInclusionProofRequest::kEventId: {
      ASSIGN_OR_RETURN(std::optional<log::EventRef> ref,
                       log_->FindEvent(request.event_id()));
      if (!ref.has_value()) {
        return absl::NotFoundError(
            absl::StrCat("no event ", request.event_id(), " in the log"));
      }
      if (!stream.empty() && stream != ref->stream) {
        return absl::InvalidArgumentError(
            absl::StrCat("event ", request.event_id(), " is in stream ",
                         ref->stream, ", not ", stream));
      }
      stream = ref->stream;
      sequence = ref->sequence;
      break;
    }
    case v1::GetInclusionProofRequest::kSequence:
      RETURN_IF_ERROR(RequireStream(stream));
      if (request.sequence() == 0) {
        return absl::InvalidArgumentError("sequence: sequences start at 1");
      }
      sequence = request.sequence();
      break;
    case v1::GetInclusionProofRequest::RECORD_NOT_SET:
      return absl::InvalidArgumentError("record: set event_id or sequence");
  }

  ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                   snapshots_());
  projections::MerkleView tree(snapshot->view(projections::kMerkleProjection));
  ASSIGN_OR_RETURN(uint64_t current, tree.Size(stream));
  ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> latest,
                   checkpointer_->Latest(stream));
  uint64_t size = request.tree_size();
  if (size == 0) {
    size = latest.has_value() ? latest->checkpoint.size : current;
  }
  if (sequence > size) {
    return absl::FailedPreconditionError(
        absl::StrCat("sequence ", sequence, " of stream ", stream,
                     " is not in its tree of size ", size,
                     "; ask for a larger tree_size or a newer checkpoint"));
  }
  RETURN_IF_ERROR(CheckReached(stream, size, current));
  ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> signed_at,
                   SignedAt(stream, size, latest));
  const audit::NodeReader reader = Reader(tree, stream);
  ASSIGN_OR_RETURN(std::vector<Hash> proof,
                   audit::InclusionProof(sequence - 1, size, reader));
  Hash root;
  if (signed_at.has_value()) {
    root = signed_at->checkpoint.root;
  } else {
    ASSIGN_OR_RETURN(root, audit::RootAt(size, reader));
  }

  v1::RawRecord* record = response->mutable_record();
  bool found = false;
  RETURN_IF_ERROR(
      log_->ReadStream(stream, sequence, [&](const log::LogEntry& entry) {
        found = entry.sequence == sequence;
        if (found) {
          record->set_position(entry.position);
          record->set_stream(std::string(entry.stream));
          record->set_sequence(entry.sequence);
          record->set_hash(std::string(entry.hash));
          record->set_record_bytes(std::string(entry.record_bytes));
        }
        return false;
      }));
  if (!found) {
    return absl::DataLossError(absl::StrCat("the tree of stream ", stream,
                                            " has sequence ", sequence,
                                            " but the log has no such record"));
  }
  // Never serve a proof that does not check: the record as stored, the tree
  // and the root must agree.
  const Hash leaf = audit::LeafHash(record->record_bytes());
  if (absl::Status checked =
          audit::VerifyInclusion(sequence - 1, size, leaf, proof, root);
      !checked.ok()) {
    return absl::DataLossError(
        absl::StrCat("the stored record ", stream, "/", sequence,
                     " does not prove against the tree of size ", size, ": ",
                     checked.message()));
  }
  response->set_stream(stream);
  response->set_sequence(sequence);
  response->set_leaf_index(sequence - 1);
  response->set_tree_size(size);
  response->set_root_hash(std::string(AsBytes(root)));
  response->set_leaf_hash(std::string(AsBytes(leaf)));
  AddHashes(proof, response->mutable_hashes());
  if (signed_at.has_value()) {
    ToProto(*signed_at, response->mutable_checkpoint());
  }
  return absl::OkStatus();
}

absl::Status AuditService::Consistency(
    const v1::GetConsistencyProofRequest& request,
    v1::ConsistencyProof* response) {
  const std::string& stream = request.stream();
  RETURN_IF_ERROR(RequireStream(stream));
  if (request.from_size() == 0) {
    return absl::InvalidArgumentError("from_size must be at least 1");
  }
  ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                   snapshots_());
  projections::MerkleView tree(snapshot->view(projections::kMerkleProjection));
  ASSIGN_OR_RETURN(uint64_t current, tree.Size(stream));
  ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> latest,
                   checkpointer_->Latest(stream));
  uint64_t to = request.to_size();
  if (to == 0) {
    to = latest.has_value() ? latest->checkpoint.size : current;
  }
  const uint64_t from = request.from_size();
  if (from > to) {
    return absl::InvalidArgumentError(
        absl::StrCat("from_size ", from, " is larger than to_size ", to));
  }
  RETURN_IF_ERROR(CheckReached(stream, to, current));
  const audit::NodeReader reader = Reader(tree, stream);
  ASSIGN_OR_RETURN(std::vector<Hash> proof,
                   audit::ConsistencyProof(from, to, reader));
  ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> from_signed,
                   SignedAt(stream, from, latest));
  ASSIGN_OR_RETURN(std::optional<SignedCheckpoint> to_signed,
                   SignedAt(stream, to, latest));
  Hash from_root;
  Hash to_root;
  if (from_signed.has_value()) {
    from_root = from_signed->checkpoint.root;
  } else {
    ASSIGN_OR_RETURN(from_root, audit::RootAt(from, reader));
  }
  if (to_signed.has_value()) {
    to_root = to_signed->checkpoint.root;
  } else {
    ASSIGN_OR_RETURN(to_root, audit::RootAt(to, reader));
  }
  if (absl::Status checked =
          audit::VerifyConsistency(from, to, from_root, to_root, proof);
      !checked.ok()) {
    return absl::DataLossError(
        absl::StrCat("the tree of stream ", stream, " does not prove size ", to,
                     " consistent with size ", from, ": ", checked.message()));
  }
  response->set_stream(stream);
  response->set_from_size(from);
  response->set_to_size(to);
  response->set_from_root(std::string(AsBytes(from_root)));
  response->set_to_root(std::string(AsBytes(to_root)));
  AddHashes(proof, response->mutable_hashes());
  if (from_signed.has_value()) {
    ToProto(*from_signed, response->mutable_from_checkpoint());
  }
  if (to_signed.has_value()) {
    ToProto(*to_signed, response->mutable_to_checkpoint());
  }
  return absl::OkStatus();
}

absl::Status AuditService::Trail(const v1::GetTrailRequest& request,
                                 v1::Trail* response) {
  ASSIGN_OR_RETURN(std::unique_ptr<projections::ViewSnapshot> snapshot,
                   snapshots_());
  projections::AuditTrailView trail(
      snapshot->view(projections::kAuditTrailProjection));
  switch (request.query_case()) {
    case v1::GetTrailRequest::kSubject: {
      ASSIGN_OR_RETURN(
          *response, trail.ForSubject(request.subject().kind(),
                                      request.subject().id(), request.limit()));
      return absl::OkStatus();
    }
    case v1::GetTrailRequest::kActorId: {
      ASSIGN_OR_RETURN(*response,
                       trail.ForActor(request.actor_id(), request.limit()));
      return absl::OkStatus();
    }
    case v1::GetTrailRequest::kEventId: {
      ASSIGN_OR_RETURN(*response->add_entries(),
                       trail.Event(request.event_id()));
      return absl::OkStatus();
    }
    case v1::GetTrailRequest::QUERY_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("query: set subject, actor_id or event_id");
}

grpc::Status AuditService::GetCheckpoint(
    grpc::ServerContext* context, const v1::GetCheckpointRequest* request,
    v1::GetCheckpointResponse* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Audit/GetCheckpoint", {request->stream()});
      !who.ok()) {
    return ToGrpc(who.status());
  }
  return ToGrpc(Checkpoint(*request, response));
}

grpc::Status AuditService::GetInclusionProof(
    grpc::ServerContext* context, const v1::GetInclusionProofRequest* request,
    v1::InclusionProof* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Audit/GetInclusionProof", {request->stream()});
      !who.ok()) {
    return ToGrpc(who.status());
  }
  return ToGrpc(Inclusion(*request, response));
}

grpc::Status AuditService::GetConsistencyProof(
    grpc::ServerContext* context, const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Audit/GetConsistencyProof", {request->stream()});
      !who.ok()) {
    return ToGrpc(who.status());
  }
  return ToGrpc(Consistency(*request, response));
}

grpc::Status AuditService::GetTrail(grpc::ServerContext* context,
                                    const v1::GetTrailRequest* request,
                                    v1::Trail* response) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Audit/GetTrail", {});
      !who.ok()) {
    return ToGrpc(who.status());
  }
  return ToGrpc(Trail(*request, response));
}

grpc::Status AuditService::ReadRecords(
    grpc::ServerContext* context, const v1::ReadRecordsRequest* request,
    grpc::ServerWriter<v1::RawRecord>* writer) {
  if (absl::StatusOr<security::Principal> who = security::CheckCall(
          *guard_, *context, "/prongsai.v1.Audit/ReadRecords", {request->stream()});
      !who.ok()) {
    return ToGrpc(who.status());
  }
  const std::string& stream = request->stream();
  if (absl::Status status = RequireStream(stream); !status.ok()) {
    return ToGrpc(status);
  }
  const uint64_t from = std::max<uint64_t>(request->from_sequence(), 1);
  const uint64_t to = request->to_sequence();
  if (to != 0 && to < from) {
    return ToGrpc(absl::InvalidArgumentError(
        absl::StrCat("to_sequence ", to, " is before from_sequence ", from)));
  }
  absl::StatusOr<log::StreamHead> head = log_->LoadHead(stream);
  if (!head.ok()) {
    return ToGrpc(head.status());
  }
  if (head->sequence == 0) {
    return ToGrpc(absl::NotFoundError(
        absl::StrCat("stream ", stream, " has no records")));
  }
  v1::RawRecord out;
  absl::Status failure;
  const absl::Time deadline = security::CallDeadline(*guard_, *context);
  uint64_t sent = 0;
  absl::Status read =
      log_->ReadStream(stream, from, [&](const log::LogEntry& entry) {
        // The log's own index decides what belongs to the range, as stored:
        // the verifier must see the records exactly as the log gives them.
        if (context->IsCancelled()) {
          failure = absl::CancelledError("the caller cancelled the read");
          return false;
        }
        if (++sent % 1024 == 0 && absl::Now() > deadline) {
          failure = absl::DeadlineExceededError(absl::StrCat(
              "the read ran past its deadline; continue with from_sequence ",
              entry.sequence));
          return false;
        }
        if (to != 0 && entry.sequence > to) {
          return false;
        }
        out.set_position(entry.position);
        out.set_stream(std::string(entry.stream));
        out.set_sequence(entry.sequence);
        out.set_hash(std::string(entry.hash));
        out.set_record_bytes(std::string(entry.record_bytes));
        return writer->Write(out);
      });
  return ToGrpc(read.ok() ? failure : read);
}

}  // namespace prongsai::audit_service

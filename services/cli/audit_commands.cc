#include "services/cli/audit_commands.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/audit/checkpoint.h"
#include "core/audit/export.h"
#include "core/audit/merkle.h"
#include "core/audit/note.h"
#include "core/audit/verify.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

const FlagSpec kServerFlag{"server", "HOST:PORT", "127.0.0.1:50051",
                           "address of a running `prongsai serve`"};
const FlagSpec kKeyFlag{
    "key", "KEY|FILE", "",
    "verifier key \"<name>+<hex8>+<base64>\", or a file of them, one a line "
    "(such as the server's <signing key>.pub)"};

int Fail(const grpc::Status& status, absl::string_view what) {
  std::cerr << "error: " << what << ": " << status.error_message() << " (gRPC "
            << static_cast<int>(status.error_code()) << ")\n";
  return kExitError;
}

int Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                             : kExitError;
}

std::unique_ptr<v1::Audit::Stub> Connect(const Args& args) {
  return v1::Audit::NewStub(Dial(args));
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  std::stringstream text;
  text << in.rdbuf();
  if (in.bad()) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  return text.str();
}

// A key, or a file of keys one a line ('#' starts a comment line).
absl::StatusOr<std::vector<audit::NoteVerifier>> LoadKeys(
    const std::string& value) {
  if (value.empty()) {
    return absl::InvalidArgumentError(
        "--key is required: the verifier key of the server that signed");
  }
  std::vector<std::string> lines;
  std::string source = "--key";
  std::error_code error;
  if (std::filesystem::is_regular_file(value, error)) {
    absl::StatusOr<std::string> text = ReadFile(value);
    if (!text.ok()) {
      return text.status();
    }
    lines = absl::StrSplit(*text, '\n');
    source = value;
  } else {
    lines.push_back(value);
  }
  std::vector<audit::NoteVerifier> keys;
  for (size_t i = 0; i < lines.size(); ++i) {
    absl::string_view line = absl::StripAsciiWhitespace(lines[i]);
    if (line.empty() || line[0] == '#') {
      continue;
    }
    absl::StatusOr<audit::NoteVerifier> key = audit::NoteVerifier::Parse(line);
    if (!key.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, lines.size() > 1 ? absl::StrCat(":", i + 1) : "",
                       ": ", key.status().message()));
    }
    keys.push_back(*std::move(key));
  }
  if (keys.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, " holds no verifier key"));
  }
  return keys;
}

std::vector<Hash> ToHashes(
    const google::protobuf::RepeatedPtrField<std::string>& bytes, bool* ok) {
  std::vector<Hash> out;
  *ok = true;
  for (const std::string& b : bytes) {
    Hash hash;
    *ok = *ok && HashFromBytes(b, &hash);
    out.push_back(hash);
  }
  return out;
}

std::string Root64(const Hash& root) {
  return audit::Base64Encode(AsBytes(root));
}

// The stream part of an origin "<log name>/<stream>".
std::string StreamOfOrigin(absl::string_view origin) {
  const size_t slash = origin.rfind('/');
  return std::string(
      slash == absl::string_view::npos ? origin : origin.substr(slash + 1));
}

struct TrustedCheckpoint {
  audit::Checkpoint checkpoint;
  std::string note;
};

// Opens a signed checkpoint note with `keys`; on failure prints why and sets
// the exit code.
std::optional<TrustedCheckpoint> OpenCheckpoint(
    absl::string_view note, absl::Span<const audit::NoteVerifier> keys,
    absl::string_view what, int* exit_code) {
  absl::StatusOr<audit::Note> opened = audit::OpenNote(note, keys);
  if (!opened.ok()) {
    std::cerr << "bad signature: " << what << ": " << opened.status().message()
              << "\n";
    *exit_code = audit::ExitCode(audit::Finding::kBadSignature);
    return std::nullopt;
  }
  absl::StatusOr<audit::Checkpoint> checkpoint =
      audit::ParseCheckpoint(opened->text);
  if (!checkpoint.ok()) {
    std::cerr << "malformed: " << what << ": " << checkpoint.status().message()
              << "\n";
    *exit_code = audit::ExitCode(audit::Finding::kMalformed);
    return std::nullopt;
  }
  return TrustedCheckpoint{*std::move(checkpoint), std::string(note)};
}

int ProveInclusion(const Args& args, const TrustedCheckpoint& trusted,
                   const std::string& stream) {
  v1::GetInclusionProofRequest request;
  request.set_stream(stream);
  if (args.has("event")) {
    request.set_event_id(args.get("event"));
  } else if (args.has("sequence")) {
    absl::StatusOr<uint64_t> sequence = args.GetUint("sequence");
    if (!sequence.ok()) {
      return Fail(sequence.status());
    }
    request.set_sequence(*sequence);
  } else {
    std::cerr << "error: prove inclusion needs --event ID or --sequence N\n";
    return kExitUsage;
  }
  request.set_tree_size(trusted.checkpoint.size);
  auto stub = Connect(args);
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(30));
  v1::InclusionProof proof;
  if (grpc::Status status = stub->GetInclusionProof(&context, request, &proof);
      !status.ok()) {
    return Fail(status, "fetching the inclusion proof");
  }

  // Everything below is recomputed here; the server's claims are not used.
  const v1::RawRecord& record = proof.record();
  std::string problem;
  audit::RecordHeader header;
  bool hashes_ok = false;
  const std::vector<Hash> path = ToHashes(proof.hashes(), &hashes_ok);
  if (AsBytes(audit::FastSha256(record.record_bytes())) != record.hash()) {
    problem = "the record's bytes do not hash to its stored hash";
  } else if (!audit::ReadRecordHeader(record.record_bytes(), &header) ||
             header.stream != stream || header.sequence == 0) {
    problem = "the record is not a record of stream " + stream;
  } else if (request.has_sequence() && header.sequence != request.sequence()) {
    problem = absl::StrCat("the record is sequence ", header.sequence, ", not ",
                           request.sequence());
  } else if (!hashes_ok) {
    problem = "the proof holds a hash that is not 32 bytes";
  } else if (absl::Status included = audit::VerifyInclusion(
                 header.sequence - 1, trusted.checkpoint.size,
                 audit::LeafHash(record.record_bytes()), path,
                 trusted.checkpoint.root);
             !included.ok()) {
    problem = std::string(included.message());
  }
  if (!problem.empty()) {
    std::cout << "NOT PROVEN: " << problem << "\n";
    return audit::ExitCode(audit::Finding::kModified);
  }
  std::cout << "OK sequence " << header.sequence << " of stream " << stream
            << " (log position " << record.position()
            << ") is in the checkpoint of size " << trusted.checkpoint.size
            << " root " << Root64(trusted.checkpoint.root) << "\n";
  return 0;
}

int ProveConsistency(const Args& args,
                     absl::Span<const audit::NoteVerifier> keys,
                     const TrustedCheckpoint& trusted,
                     const std::string& stream) {
  auto stub = Connect(args);
  v1::GetCheckpointRequest latest_request;
  latest_request.set_stream(stream);
  latest_request.set_refresh(args.get("refresh") == "true");
  v1::GetCheckpointResponse latest_response;
  {
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(30));
    if (grpc::Status status =
            stub->GetCheckpoint(&context, latest_request, &latest_response);
        !status.ok()) {
      return Fail(status, "fetching the latest checkpoint");
    }
  }
  int exit_code = 0;
  std::optional<TrustedCheckpoint> latest =
      OpenCheckpoint(latest_response.note(), keys,
                     "the server's latest checkpoint", &exit_code);
  if (!latest.has_value()) {
    return exit_code;
  }
  if (latest->checkpoint.origin != trusted.checkpoint.origin) {
    std::cerr << "error: the server's checkpoint is for "
              << latest->checkpoint.origin << ", the trusted one for "
              << trusted.checkpoint.origin << "\n";
    return kExitError;
  }
  const audit::Checkpoint& older =
      latest->checkpoint.size < trusted.checkpoint.size ? latest->checkpoint
                                                        : trusted.checkpoint;
  const audit::Checkpoint& newer =
      latest->checkpoint.size < trusted.checkpoint.size ? trusted.checkpoint
                                                        : latest->checkpoint;
  std::vector<Hash> path;
  if (older.size < newer.size) {
    v1::GetConsistencyProofRequest request;
    request.set_stream(stream);
    request.set_from_size(older.size);
    request.set_to_size(newer.size);
    v1::ConsistencyProof proof;
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(30));
    if (grpc::Status status =
            stub->GetConsistencyProof(&context, request, &proof);
        !status.ok()) {
      return Fail(status, "fetching the consistency proof");
    }
    bool hashes_ok = false;
    path = ToHashes(proof.hashes(), &hashes_ok);
    if (!hashes_ok) {
      std::cout << "FORK: the proof holds a hash that is not 32 bytes\n";
      return audit::ExitCode(audit::Finding::kFork);
    }
  }
  if (absl::Status consistent = audit::VerifyConsistency(
          older.size, newer.size, older.root, newer.root, path);
      !consistent.ok()) {
    std::cout << "FORK: the signed checkpoints of size " << older.size
              << " and " << newer.size << " of stream " << stream
              << " are not one history: " << consistent.message() << "\n";
    return audit::ExitCode(audit::Finding::kFork);
  }
  std::cout << "OK stream " << stream << ": the checkpoint of size "
            << newer.size << " root " << Root64(newer.root)
            << " extends the checkpoint of size " << older.size << " root "
            << Root64(older.root) << "\n";
  if (args.has("out")) {
    std::ofstream out(args.get("out"), std::ios::binary | std::ios::trunc);
    out << latest->note;
    if (!out.flush()) {
      std::cerr << "error: cannot write " << args.get("out") << "\n";
      return kExitError;
    }
  }
  return 0;
}

}  // namespace

const CommandSpec kExportCommand{
    "export",
    "Write a stream's raw stored records and its latest signed checkpoint to\n"
    "one file, for `prongsai verify` to check offline. The records are the\n"
    "exact stored bytes, up to the checkpoint's tree size.",
    "prongsai export --stream CODE --out FILE [--server HOST:PORT]",
    {kServerFlag,
     {"stream", "CODE", "", "district code 1001-1050, or city"},
     {"out", "FILE", "", "the export file to write"},
     {"refresh", "", "true",
      "ask the server to sign a checkpoint of the current tree first "
      "(--refresh=false: use the latest signed one)"},
     {"earlier", "N", "0", "also include up to N earlier checkpoints"}}};

const CommandSpec kVerifyCommand{
    "verify",
    "Verify an export file offline, trusting only the verifier key: the\n"
    "checkpoint signatures, the hash chain (dense sequences, each hash the\n"
    "SHA-256 of the stored bytes, each prev_hash the previous hash), and the\n"
    "RFC 6962 Merkle root of the records against every signed checkpoint.\n"
    "Prints \"OK <stream> size <n> root <base64>\", or the first problem: its\n"
    "class, the sequence and log position, and what is wrong.\n"
    "\n"
    "Exit codes:\n"
    "   0  OK\n"
    "   1  the file or key could not be read\n"
    "   2  usage error\n"
    "  10  modified: a record's bytes, hash or fields differ from what was "
    "signed\n"
    "  11  missing: a sequence is absent\n"
    "  12  inserted: a record that is not part of the chain, or past the "
    "checkpoint\n"
    "  13  reordered: records out of sequence order\n"
    "  14  truncated: fewer records than the checkpoint signs, or the file is "
    "cut\n"
    "  15  bad signature: a checkpoint not validly signed by a given key\n"
    "  16  fork: two signed checkpoints that no one history satisfies\n"
    "  17  malformed: not an export file",
    "prongsai verify FILE --key VERIFIER_KEY [--threads N]",
    {kKeyFlag,
     {"threads", "N", "0", "threads that hash records; 0 = one per core"}}};

const CommandSpec kProveCommand{
    "prove",
    "Check a proof from the server against a checkpoint you already trust\n"
    "(a signed note saved earlier, e.g. with `prove consistency --out`).\n"
    "  inclusion: the record (by --event or --sequence) is in that tree.\n"
    "  consistency: the server's latest checkpoint extends that tree.\n"
    "Exit codes: 0 proven, 1 error, 2 usage, 10 the record is not in the\n"
    "trusted tree, 15 a checkpoint's signature does not verify, 16 fork.",
    "prongsai prove inclusion|consistency --checkpoint FILE --key KEY "
    "[--event ID | --sequence N] [--stream CODE] [--server HOST:PORT]",
    {kServerFlag,
     kKeyFlag,
     {"checkpoint", "FILE", "", "the trusted signed checkpoint note"},
     {"stream", "CODE", "", "the stream (default: from the checkpoint)"},
     {"event", "ID", "", "inclusion: the event id"},
     {"sequence", "N", "", "inclusion: the stream sequence"},
     {"refresh", "", "false",
      "consistency: ask the server to sign a fresh checkpoint first"},
     {"out", "FILE", "",
      "consistency: save the newer checkpoint once proven"}}};

const CommandSpec kKeygenCommand{
    "keygen",
    "Make an Ed25519 key pair for signing checkpoints: the signer key in the\n"
    "Go note format (written with mode 0600; an existing file is never\n"
    "overwritten) and the verifier key, printed and written to FILE.pub.",
    "prongsai keygen --out FILE [--name NAME]",
    {{"out", "FILE", "", "where to write the signer key"},
     {"name", "NAME", std::string(audit::kDefaultLogName),
      "the key name, normally the log name"}}};

int RunExport(const Args& args) {
  const std::string& stream = args.get("stream");
  const std::string& path = args.get("out");
  if (stream.empty() || path.empty()) {
    std::cerr << "error: --stream and --out are required\n\n"
              << HelpText(kExportCommand);
    return kExitUsage;
  }
  absl::StatusOr<uint64_t> earlier = args.GetUint("earlier");
  if (!earlier.ok()) {
    return Fail(earlier.status());
  }
  auto stub = Connect(args);
  v1::GetCheckpointRequest request;
  request.set_stream(stream);
  request.set_refresh(args.get("refresh") != "false");
  request.set_earlier(
      static_cast<uint32_t>(std::min<uint64_t>(*earlier, 1u << 20)));
  v1::GetCheckpointResponse checkpoint;
  {
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(60));
    if (grpc::Status status =
            stub->GetCheckpoint(&context, request, &checkpoint);
        !status.ok()) {
      return Fail(status, "fetching the checkpoint");
    }
  }
  if (checkpoint.checkpoints().empty()) {
    std::cerr << "error: the server returned no checkpoint\n";
    return kExitError;
  }
  const v1::Checkpoint& latest = *checkpoint.checkpoints().rbegin();

  absl::StatusOr<std::unique_ptr<audit::ExportWriter>> writer =
      audit::ExportWriter::Create(path, stream);
  if (!writer.ok()) {
    return Fail(writer.status());
  }
  for (const v1::Checkpoint& c : checkpoint.checkpoints()) {
    if (absl::Status status = (*writer)->AddCheckpoint(c.note());
        !status.ok()) {
      return Fail(status);
    }
  }
  v1::ReadRecordsRequest read;
  read.set_stream(stream);
  read.set_from_sequence(1);
  read.set_to_sequence(latest.tree_size());
  grpc::ClientContext context;
  auto reader = stub->ReadRecords(&context, read);
  v1::RawRecord record;
  while (reader->Read(&record)) {
    if (absl::Status status =
            (*writer)->AddRecord(record.position(), record.sequence(),
                                 record.hash(), record.record_bytes());
        !status.ok()) {
      context.TryCancel();
      reader->Finish();
      return Fail(status);
    }
  }
  if (grpc::Status status = reader->Finish(); !status.ok()) {
    return Fail(status, "reading the records");
  }
  const uint64_t records = (*writer)->records();
  if (absl::Status status = (*writer)->Finish(); !status.ok()) {
    return Fail(status);
  }
  if (records != latest.tree_size()) {
    std::cerr << "note: the server returned " << records
              << " records for a checkpoint of " << latest.tree_size()
              << "; `prongsai verify` will say what is wrong\n";
  }
  Hash root{};
  HashFromBytes(latest.root_hash(), &root);
  std::cout << "exported " << records << " records of stream " << stream
            << " with the checkpoint of size " << latest.tree_size() << " root "
            << Root64(root) << " to " << path << "\n";
  return 0;
}

int RunVerify(const Args& args) {
  if (args.positional().size() != 1) {
    std::cerr << "error: name exactly one export file\n\n"
              << HelpText(kVerifyCommand);
    return kExitUsage;
  }
  absl::StatusOr<std::vector<audit::NoteVerifier>> keys =
      LoadKeys(args.get("key"));
  if (!keys.ok()) {
    return Fail(keys.status());
  }
  absl::StatusOr<uint64_t> threads = args.GetUint("threads");
  if (!threads.ok()) {
    return Fail(threads.status());
  }
  absl::StatusOr<audit::VerifyReport> report = audit::VerifyExportFile(
      args.positional()[0], *keys,
      {.threads = static_cast<int>(std::min<uint64_t>(*threads, 256))});
  if (!report.ok()) {
    std::cerr << "error: " << report.status().message() << "\n";
    return kExitError;
  }
  std::cout << audit::FormatReport(*report) << "\n";
  return audit::ExitCode(report->finding);
}

int RunProve(const Args& args) {
  if (args.positional().size() != 1 ||
      (args.positional()[0] != "inclusion" &&
       args.positional()[0] != "consistency")) {
    std::cerr << "error: say what to prove: inclusion or consistency\n\n"
              << HelpText(kProveCommand);
    return kExitUsage;
  }
  if (args.get("checkpoint").empty()) {
    std::cerr << "error: --checkpoint FILE (a checkpoint you trust) is "
                 "required\n";
    return kExitUsage;
  }
  absl::StatusOr<std::vector<audit::NoteVerifier>> keys =
      LoadKeys(args.get("key"));
  if (!keys.ok()) {
    return Fail(keys.status());
  }
  absl::StatusOr<std::string> note = ReadFile(args.get("checkpoint"));
  if (!note.ok()) {
    return Fail(note.status());
  }
  int exit_code = 0;
  std::optional<TrustedCheckpoint> trusted = OpenCheckpoint(
      *note, *keys, absl::StrCat("the checkpoint in ", args.get("checkpoint")),
      &exit_code);
  if (!trusted.has_value()) {
    return exit_code;
  }
  std::string stream = StreamOfOrigin(trusted->checkpoint.origin);
  if (args.has("stream") && args.get("stream") != stream) {
    std::cerr << "error: the trusted checkpoint is for "
              << trusted->checkpoint.origin << ", not stream "
              << args.get("stream") << "\n";
    return kExitUsage;
  }
  if (args.positional()[0] == "inclusion") {
    return ProveInclusion(args, *trusted, stream);
  }
  return ProveConsistency(args, *keys, *trusted, stream);
}

int RunKeygen(const Args& args) {
  const std::string& path = args.get("out");
  if (path.empty()) {
    std::cerr << "error: --out FILE is required\n\n"
              << HelpText(kKeygenCommand);
    return kExitUsage;
  }
  absl::StatusOr<audit::NoteSigner> signer =
      audit::NoteSigner::Generate(args.get("name"));
  if (!signer.ok()) {
    return Fail(signer.status());
  }
  if (absl::Status written = audit::WriteSignerKeyFile(path, *signer);
      !written.ok()) {
    std::cerr << "error: " << written.message() << "\n";
    return kExitError;
  }
  std::cout << "wrote the signer key to " << path
            << " (mode 0600) and the verifier key to " << path << ".pub\n"
            << "verifier key: " << signer->VerifierKey() << "\n";
  return 0;
}

}  // namespace prongsai::cli

#include "services/cli/client_commands.h"

#include <grpcpp/grpcpp.h>

#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "google/protobuf/util/json_util.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// Events per Append when a file is too large for one.
constexpr int kChunkEvents = 5'000;

const FlagSpec kServerFlag{"server", "HOST:PORT", "127.0.0.1:50051",
                           "address of a running `prongsai serve`"};
const FlagSpec kStreamFlag{"stream", "CODE", "",
                           "district code 1001-1050, or city"};

std::string CodeName(grpc::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",           "CANCELLED",          "UNKNOWN",
      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
      "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
      "FAILED_PRECONDITION", "ABORTED",     "OUT_OF_RANGE",
      "UNIMPLEMENTED", "INTERNAL",          "UNAVAILABLE",
      "DATA_LOSS",    "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index <= 16 ? kNames[index] : absl::StrCat(index);
}

int Fail(const grpc::Status& status) {
  std::cerr << "error: " << CodeName(status.error_code()) << ": "
            << status.error_message() << "\n";
  return kExitError;
}

int Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                             : kExitError;
}

std::unique_ptr<v1::Ledger::Stub> Connect(const Args& args) {
  return v1::Ledger::NewStub(Dial(args));
}

// 1-based column of byte offset `byte` in `line`, counting UTF-8 characters.
size_t ColumnOf(absl::string_view line, size_t byte) {
  size_t column = 1;
  for (size_t i = 0; i < byte && i < line.size(); ++i) {
    if ((static_cast<unsigned char>(line[i]) & 0xc0) != 0x80) {
      ++column;
    }
  }
  return column;
}

// A name-based UUID (RFC 9562 version 8, from SHA-256) for `name`.
std::string DerivedUuid(absl::string_view name) {
  Hash h = Sha256("prongsai-event-id\n", name);
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  const std::string hex = HexEncode(absl::string_view(
      reinterpret_cast<const char*>(h.data()), 16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20, 12));
}

void SetTimeout(grpc::ClientContext& context, absl::Duration timeout) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(timeout));
}

std::string EntryJson(const v1::Entry& entry) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string record;
  // Printing a message that was just decoded cannot fail.
  google::protobuf::util::MessageToJsonString(entry.record(), &record,
                                              options);
  return absl::StrCat("{\"position\":", entry.position(), ",\"hash\":\"",
                      HexEncode(entry.hash()), "\",\"record\":", record, "}");
}

}  // namespace

const CommandSpec kAppendCommand{
    "append",
    "Append events to one stream from a JSON Lines file: one prongsai.v1.Event\n"
    "per line, in the proto3 JSON mapping. The file is checked whole first: a\n"
    "malformed line is reported with its line and column and nothing is\n"
    "appended. A file of up to 10,000 events is appended atomically; a larger\n"
    "one in chunks, each checked against the version the previous left.\n"
    "An event without event_id gets one derived from the stream and its line,\n"
    "so appending the same file again appends nothing new.",
    "prongsai append --stream CODE --file events.jsonl [--server HOST:PORT]",
    {kServerFlag, kStreamFlag,
     {"file", "PATH", "", "JSON Lines file of events; - reads standard input"},
     {"expect", "VERSION", "any",
      "expected stream version: any, none (stream must be new), or a number"}}};

const CommandSpec kReadCommand{
    "read",
    "Print a stream's records as JSON Lines: position, hash (hex) and the\n"
    "record in the proto3 JSON mapping.",
    "prongsai read --stream CODE [--from N] [--limit N] [--server HOST:PORT]",
    {kServerFlag, kStreamFlag,
     {"from", "N", "1", "first sequence to print"},
     {"limit", "N", "0", "most records to print; 0 = all"}}};

const CommandSpec kHeadCommand{
    "head",
    "Print a stream's head: last sequence, its hash and log position.",
    "prongsai head --stream CODE [--server HOST:PORT]",
    {kServerFlag, kStreamFlag}};

absl::StatusOr<std::vector<v1::Event>> ParseEventLines(
    std::istream& in, const std::string& source, const std::string& stream) {
  std::vector<v1::Event> events;
  google::protobuf::util::JsonParseOptions options;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    if (line.find_first_not_of(" \t") == std::string::npos) {
      continue;
    }
    const std::string where = absl::StrCat(source, ":", number);
    if (!IsValidUtf8(line)) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": the line is not valid UTF-8"));
    }
    try {
      nlohmann::json parsed = nlohmann::json::parse(line);
      if (!parsed.is_object()) {
        return absl::InvalidArgumentError(absl::StrCat(
            where, ":1: expected a JSON object (one event per line)"));
      }
    } catch (const nlohmann::json::parse_error& e) {
      const size_t byte = e.byte > 0 ? e.byte - 1 : 0;
      // nlohmann's message reads "[json.exception...] parse error at line
      // 1, column 7: <reason>"; keep the reason.
      std::string reason = e.what();
      if (size_t column = reason.find("column ");
          column != std::string::npos) {
        if (size_t colon = reason.find(": ", column);
            colon != std::string::npos) {
          reason = reason.substr(colon + 2);
        }
      }
      return absl::InvalidArgumentError(absl::StrCat(
          where, ":", ColumnOf(line, byte), ": malformed JSON: ", reason));
    }
    v1::Event event;
    if (auto status =
            google::protobuf::util::JsonStringToMessage(line, &event, options);
        !status.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(where, ":1: not a prongsai.v1.Event: ",
                       status.message().as_string()));
    }
    if (event.event_id().empty()) {
      event.set_event_id(DerivedUuid(absl::StrCat(stream, "\n", line)));
    }
    events.push_back(std::move(event));
  }
  if (in.bad()) {
    return absl::UnavailableError(absl::StrCat("reading ", source, " failed"));
  }
  return events;
}

int RunAppend(const Args& args) {
  const std::string& stream = args.get("stream");
  const std::string& path = args.get("file");
  if (stream.empty() || path.empty()) {
    std::cerr << "error: --stream and --file are required\n\n"
              << HelpText(kAppendCommand);
    return kExitUsage;
  }
  std::ifstream file;
  if (path != "-") {
    file.open(path);
    if (!file) {
      std::cerr << "error: cannot open " << path << "\n";
      return kExitUsage;
    }
  }
  absl::StatusOr<std::vector<v1::Event>> events =
      ParseEventLines(path == "-" ? std::cin : file, path, stream);
  if (!events.ok()) {
    return Fail(events.status());
  }
  if (events->empty()) {
    std::cerr << "error: " << path << " holds no events\n";
    return kExitUsage;
  }

  v1::AppendRequest request;
  request.set_stream(stream);
  const std::string& expect = args.get("expect");
  if (expect == "none") {
    request.mutable_no_stream();
  } else if (expect != "any") {
    absl::StatusOr<uint64_t> version = args.GetUint("expect");
    if (!version.ok()) {
      return Fail(version.status());
    }
    request.set_exact(*version);
  }

  auto stub = Connect(args);
  uint64_t appended = 0;
  uint64_t already = 0;
  v1::AppendResponse response;
  for (size_t start = 0; start < events->size(); start += kChunkEvents) {
    const size_t end = std::min(events->size(), start + kChunkEvents);
    request.clear_events();
    for (size_t i = start; i < end; ++i) {
      *request.add_events() = std::move((*events)[i]);
    }
    grpc::ClientContext context;
    SetTimeout(context, absl::Seconds(60));
    if (grpc::Status status = stub->Append(&context, request, &response);
        !status.ok()) {
      if (start > 0) {
        std::cerr << "note: the first " << start
                  << " events were appended; re-running the command resumes\n";
      }
      return Fail(status);
    }
    (response.duplicate() ? already : appended) += end - start;
    // Later chunks continue from where this one left the stream.
    if (request.expected_version_case() !=
        v1::AppendRequest::EXPECTED_VERSION_NOT_SET) {
      request.set_exact(response.head_sequence());
    }
  }
  std::cout << absl::StrFormat(
      "appended %d events to stream %s (%d already present); head %d %s\n",
      appended, stream, already, response.head_sequence(),
      HexEncode(response.head_hash()));
  return 0;
}

int RunRead(const Args& args) {
  if (args.get("stream").empty()) {
    std::cerr << "error: --stream is required\n\n" << HelpText(kReadCommand);
    return kExitUsage;
  }
  absl::StatusOr<uint64_t> from = args.GetUint("from");
  absl::StatusOr<uint64_t> limit = args.GetUint("limit");
  if (!from.ok() || !limit.ok()) {
    return Fail(from.ok() ? limit.status() : from.status());
  }
  v1::ReadRequest request;
  request.set_stream(args.get("stream"));
  request.set_from_sequence(*from);
  request.set_limit(*limit);
  auto stub = Connect(args);
  grpc::ClientContext context;
  auto reader = stub->Read(&context, request);
  v1::Entry entry;
  while (reader->Read(&entry)) {
    std::cout << EntryJson(entry) << "\n";
  }
  grpc::Status status = reader->Finish();
  return status.ok() ? 0 : Fail(status);
}

int RunHead(const Args& args) {
  if (args.get("stream").empty()) {
    std::cerr << "error: --stream is required\n\n" << HelpText(kHeadCommand);
    return kExitUsage;
  }
  v1::GetHeadRequest request;
  request.set_stream(args.get("stream"));
  v1::Head head;
  auto stub = Connect(args);
  grpc::ClientContext context;
  SetTimeout(context, absl::Seconds(10));
  if (grpc::Status status = stub->GetHead(&context, request, &head);
      !status.ok()) {
    return Fail(status);
  }
  std::cout << absl::StrFormat(
      "{\"stream\":\"%s\",\"sequence\":%d,\"hash\":\"%s\",\"position\":%d,"
      "\"log_position\":%d}\n",
      head.stream(), head.sequence(), HexEncode(head.hash()), head.position(),
      head.log_position());
  return 0;
}

}  // namespace prongsai::cli

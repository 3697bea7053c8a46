#include "services/cli/ops_commands.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <iterator>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "core/audit/note.h"
#include "services/migrate/migrate.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;

// grpc.health.v1.HealthCheckResponse.ServingStatus.
constexpr const char* kServingStatus[] = {"UNKNOWN", "SERVING", "NOT_SERVING",
                                          "SERVICE_UNKNOWN"};
constexpr uint32_t kServing = 1;

// HealthCheckRequest { string service = 1; }, encoded with protobuf's coded
// stream: Debian ships the health service's server side only, and two
// copies of its generated code must not meet in one process.
std::string EncodeHealthRequest(const std::string& service) {
  std::string out;
  {
    google::protobuf::io::StringOutputStream stream(&out);
    google::protobuf::io::CodedOutputStream coded(&stream);
    if (!service.empty()) {
      coded.WriteTag((1 << 3) | 2);
      coded.WriteVarint32(static_cast<uint32_t>(service.size()));
      coded.WriteString(service);
    }
  }
  return out;
}

// HealthCheckResponse { ServingStatus status = 1; }; unknown fields skipped.
bool DecodeHealthResponse(const std::string& bytes, uint32_t& status) {
  google::protobuf::io::CodedInputStream coded(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  status = 0;
  while (true) {
    const uint32_t tag = coded.ReadTag();
    if (tag == 0) {  // the end, or a malformed tag before it
      return coded.CurrentPosition() == static_cast<int>(bytes.size());
    }
    if (tag == ((1 << 3) | 0)) {
      if (!coded.ReadVarint32(&status)) {
        return false;
      }
      continue;
    }
    // Skip any other field by its wire type.
    switch (tag & 7) {
      case 0: {
        uint64_t unused;
        if (!coded.ReadVarint64(&unused)) {
          return false;
        }
        break;
      }
      case 1:
        if (!coded.Skip(8)) {
          return false;
        }
        break;
      case 2: {
        uint32_t length;
        if (!coded.ReadVarint32(&length) ||
            !coded.Skip(static_cast<int>(length))) {
          return false;
        }
        break;
      }
      case 5:
        if (!coded.Skip(4)) {
          return false;
        }
        break;
      default:
        return false;
    }
  }
}

// Verifier keys from a key, a file of keys (one a line, '#' comments), or,
// when `value` is empty, every "*.pub" file in <data>/keys.
absl::StatusOr<std::vector<audit::NoteVerifier>> LoadVerifiers(
    const std::string& value, const std::string& data_dir) {
  std::vector<std::string> sources;
  std::error_code error;
  if (value.empty()) {
    const std::filesystem::path keys = data_dir + "/keys";
    if (std::filesystem::is_directory(keys, error)) {
      for (const auto& entry :
           std::filesystem::directory_iterator(keys, error)) {
        if (entry.path().extension() == ".pub") {
          sources.push_back(entry.path().string());
        }
      }
    }
  } else {
    sources.push_back(value);
  }
  std::vector<audit::NoteVerifier> verifiers;
  for (const std::string& source : sources) {
    std::vector<std::string> lines;
    if (std::filesystem::is_regular_file(source, error)) {
      std::ifstream in(source);
      std::stringstream text;
      text << in.rdbuf();
      if (!in) {
        return absl::NotFoundError(absl::StrCat("cannot read ", source));
      }
      lines = absl::StrSplit(text.str(), '\n');
    } else {
      lines.push_back(source);
    }
    for (const std::string& raw : lines) {
      absl::string_view line = absl::StripAsciiWhitespace(raw);
      if (line.empty() || line[0] == '#') {
        continue;
      }
      absl::StatusOr<audit::NoteVerifier> key =
          audit::NoteVerifier::Parse(line);
      if (!key.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": ", key.status().message()));
      }
      verifiers.push_back(*std::move(key));
    }
  }
  return verifiers;
}

}  // namespace

const CommandSpec kHealthCommand{
    "health",
    "Ask a running `prongsai serve` for its health (grpc.health.v1 Check),\n"
    "for container health checks. Prints the serving status.\n"
    "Exit codes: 0 SERVING, 1 NOT_SERVING, UNKNOWN or SERVICE_UNKNOWN,\n"
    "2 usage, 3 no answer (unreachable, timed out, no health service).",
    "prongsai health [--server HOST:PORT] [--service NAME] [--timeout SECONDS]",
    {{"server", "HOST:PORT", "127.0.0.1:50051",
      "address of the gRPC server to ask"},
     {"address", "HOST:PORT", "", "the same as --server"},
     {"service", "NAME", "",
      "a service to ask about (e.g. prongsai.v1.Ledger); empty: the whole "
      "server"},
     {"timeout", "SECONDS", "5", "how long to wait for the answer"}}};

int RunHealth(const Args& args) {
  const std::string address =
      args.get("address").empty() ? args.get("server") : args.get("address");
  absl::StatusOr<uint64_t> timeout = args.GetUint("timeout");
  if (!timeout.ok() || *timeout == 0) {
    std::cerr << "error: --timeout: give a positive number of seconds\n";
    return kExitUsage;
  }
  const std::string service = args.get("service");
  grpc::GenericStub stub(Dial(args, address));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(*timeout));
  context.set_wait_for_ready(false);
  const std::string request_bytes = EncodeHealthRequest(service);
  grpc::Slice slice(request_bytes);
  grpc::ByteBuffer request(&slice, 1);
  grpc::CompletionQueue queue;
  std::unique_ptr<grpc::ClientAsyncResponseReader<grpc::ByteBuffer>> call =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request,
                            &queue);
  grpc::ByteBuffer response;
  grpc::Status status;
  call->StartCall();
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  if (!queue.Next(&tag, &ok) || !ok) {
    std::cerr << "error: no answer from " << address << "\n";
    return 3;
  }
  queue.Shutdown();
  while (queue.Next(&tag, &ok)) {
  }
  const std::string what = service.empty() ? address
                                           : absl::StrCat(service, " at ",
                                                          address);
  if (!status.ok()) {
    if (status.error_code() == grpc::StatusCode::NOT_FOUND) {
      std::cout << what << ": SERVICE_UNKNOWN\n";
      return kExitError;
    }
    std::cerr << "error: asking " << what << " for its health: "
              << status.error_message() << " (gRPC "
              << static_cast<int>(status.error_code()) << ")\n";
    return 3;
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (response.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) {
      bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    }
  }
  uint32_t serving = 0;
  if (!DecodeHealthResponse(bytes, serving)) {
    std::cerr << "error: " << what
              << " answered with a malformed HealthCheckResponse\n";
    return 3;
  }
  const std::string name = serving < std::size(kServingStatus)
                               ? kServingStatus[serving]
                               : absl::StrCat("status ", serving);
  std::cout << what << ": " << name << "\n";
  return serving == kServing ? 0 : kExitError;
}

const CommandSpec kMigrateCommand{
    "migrate",
    "Copy the embedded RocksDB log of a data directory to a Kafka topic, in\n"
    "log order and byte for byte (every hash unchanged), then prove that\n"
    "nothing changed: a fresh reader rebuilds every stream from the topic\n"
    "alone and its size and RFC 6962 Merkle root must equal the embedded\n"
    "log's; each stream's latest signed checkpoint in the data directory\n"
    "must verify and match the copy. Prints one line per stream.\n"
    "Stop `prongsai serve` on that directory first. The topic must exist.\n"
    "Running it again resumes: what the topic holds is checked by hash and\n"
    "skipped; a topic holding another history is refused, nothing written.\n"
    "Exit codes: 0 copied and proven, 1 error (e.g. brokers unreachable),\n"
    "2 usage, 3 the topic holds another history, 4 the proof failed.",
    "prongsai migrate --data DIR --brokers HOSTS [--topic NAME] [--key KEY|FILE]",
    {{"data", "DIR", "./prongsai-data",
      "the data directory of the embedded deployment"},
     {"brokers", "HOSTS", "", "Kafka bootstrap servers, host:port,..."},
     {"topic", "NAME", std::string(log::kDefaultEventsTopic),
      "the events topic (create it first)"},
     {"key", "KEY|FILE", "",
      "verifier key(s) of the signed checkpoints: a key or a file of them, "
      "one a line (default: every DIR/keys/*.pub)"},
     {"batch", "N", "2000", "most records per Kafka transaction"},
     {"timeout", "SECONDS", "60",
      "longest one write or reading the topic to its end may take"}}};

int RunMigrate(const Args& args) {
  migrate::MigrateOptions options;
  options.data_dir = args.get("data");
  options.brokers = args.get("brokers");
  options.topic = args.get("topic");
  if (options.brokers.empty()) {
    std::cerr << "error: --brokers is required\n\n" << HelpText(kMigrateCommand);
    return kExitUsage;
  }
  absl::StatusOr<uint64_t> batch = args.GetUint("batch");
  absl::StatusOr<uint64_t> timeout = args.GetUint("timeout");
  if (!batch.ok() || !timeout.ok() || *batch == 0 || *timeout == 0) {
    std::cerr << "error: --batch and --timeout take positive integers\n";
    return kExitUsage;
  }
  options.batch_records = static_cast<int>(std::min<uint64_t>(*batch, 100'000));
  options.timeout = absl::Seconds(static_cast<int64_t>(*timeout));
  absl::StatusOr<std::vector<audit::NoteVerifier>> verifiers =
      LoadVerifiers(args.get("key"), options.data_dir);
  if (!verifiers.ok()) {
    std::cerr << "error: --key: " << verifiers.status().message() << "\n";
    return kExitUsage;
  }
  options.verifiers = *std::move(verifiers);
  options.progress = [](absl::string_view line) {
    std::cerr << "prongsai migrate: " << line << std::endl;
  };
  absl::StatusOr<migrate::MigrateReport> report =
      migrate::MigrateToKafka(options);
  if (!report.ok()) {
    std::cerr << "error: " << report.status().message() << "\n";
    switch (report.status().code()) {
      case absl::StatusCode::kInvalidArgument:
        return kExitUsage;
      case absl::StatusCode::kFailedPrecondition:
        return 3;
      case absl::StatusCode::kDataLoss:
        return 4;
      default:
        return kExitError;
    }
  }
  std::cout << migrate::FormatReport(*report);
  return 0;
}

}  // namespace prongsai::cli

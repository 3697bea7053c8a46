#include "services/cli/oss_commands.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <httplib.h>
#include <pthread.h>
#include <unistd.h>

#include <csignal>
#include <iostream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/security/grpc_security.h"
#include "core/security/guard.h"
#include "services/cli/dial.h"
#include "services/cli/security_commands.h"
#include "services/http/listener.h"
#include "services/oss_bridge/bridge.h"
#include "services/oss_bridge/dead_letter.h"
#include "services/oss_bridge/grpc_service.h"
#include "services/oss_bridge/importer.h"
#include "services/oss_bridge/ledger_client.h"
#include "services/oss_bridge/webhook.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// Largest webhook body.
constexpr size_t kMaxBodyBytes = 64 << 20;
constexpr int kProgressWidth = 30;

const FlagSpec kLedgerFlag{"server", "HOST:PORT", "127.0.0.1:50051",
                           "the Ledger API of a running `prongsai serve`"};

int Usage(const std::string& message, const CommandSpec& spec) {
  std::cerr << "error: " << message << "\n\n" << HelpText(spec);
  return kExitUsage;
}

int Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ||
                 status.code() == absl::StatusCode::kNotFound
             ? kExitUsage
             : kExitError;
}

// "host:port" into its parts; port 0 is allowed (any free port).
bool SplitHostPort(const std::string& address, std::string* host, int* port) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return false;
  }
  *host = address.substr(0, colon);
  return absl::SimpleAtoi(address.substr(colon + 1), port) && *port >= 0 &&
         *port <= 65535;
}

const FlagSpec kDeadLetterBrokersFlag{
    "dead-letter-brokers", "LIST", "",
    "Kafka bootstrap servers: also publish dead letters to the topic"};
const FlagSpec kDeadLetterTopicFlag{"dead-letter-topic", "NAME",
                                    oss::kDefaultDeadLetterTopic,
                                    "the dead-letter topic on Kafka"};

// The dead-letter file at `path`, publishing to Kafka when the flags ask.
absl::StatusOr<std::unique_ptr<oss::DeadLetterFile>> OpenDeadLetters(
    const Args& args, std::string path) {
  std::unique_ptr<oss::DeadLetterTopic> topic;
  if (!args.get("dead-letter-brokers").empty()) {
    absl::StatusOr<std::unique_ptr<oss::DeadLetterTopic>> opened =
        oss::DeadLetterTopic::Open({.brokers = args.get("dead-letter-brokers"),
                                    .topic = args.get("dead-letter-topic")});
    if (!opened.ok()) {
      return opened.status();
    }
    topic = std::move(*opened);
  }
  return std::make_unique<oss::DeadLetterFile>(std::move(path),
                                               std::move(topic));
}

}  // namespace

const CommandSpec kOssBridgeCommand{
    "oss-bridge",
    "Run the BMA OSS bridge: service-request records posted to the webhook\n"
    "(POST /oss/v1/requests, one JSON record or an array) or sent over gRPC\n"
    "(prongsai.v1.OssBridge/ImportRequests) become service-request events in\n"
    "the ledger. Records already landed add nothing; malformed or unmappable\n"
    "ones are written with their reason to the dead-letter file, and the\n"
    "answer lists them. While the ledger is unavailable the webhook answers\n"
    "503 and acknowledges nothing. SIGTERM or SIGINT stops it.\n"
    "\n"
    "Both listeners speak TLS (--listen-tls-cert, --listen-tls-key; gRPC\n"
    "also mutual TLS with --listen-tls-client-ca) and every call needs a\n"
    "bearer token with the oss_bridge role (--jwt-issuer, --jwt-key); GET\n"
    "/metrics on the webhook listener answers without a token. Without these\n"
    "flags the bridge refuses to start, unless given --insecure-dev (loopback\n"
    "only). --tls-ca, --tls-cert, --tls-key and --token are those of the\n"
    "bridge's own calls to the ledger (--server).",
    "prongsai oss-bridge [--listen HOST:PORT] [--grpc-listen HOST:PORT] "
    "[--server LEDGER] (--listen-tls-cert PEM --listen-tls-key PEM "
    "[--listen-tls-client-ca PEM] --jwt-issuer NAME --jwt-key FILE | "
    "--insecure-dev) [--dead-letter FILE] [--dead-letter-brokers LIST "
    "[--dead-letter-topic NAME]]",
    {{"listen", "HOST:PORT", "127.0.0.1:8311",
      "HTTP(S) address of the webhook (POST /oss/v1/requests, bearer token "
      "with the oss_bridge role) and of GET /metrics (no token: the "
      "counters are unauthenticated); port 0 picks a free one"},
     {"grpc-listen", "HOST:PORT", "127.0.0.1:50061",
      "gRPC address of prongsai.v1.OssBridge; \"off\" to serve HTTP only"},
     kLedgerFlag,
     {"listen-tls-cert", "PEM", "",
      "server certificate (chain) of the bridge's listeners: the webhook "
      "speaks HTTPS, prongsai.v1.OssBridge TLS"},
     {"listen-tls-key", "PEM", "", "the private key of --listen-tls-cert"},
     {"listen-tls-client-ca", "PEM", "",
      "CA of client certificates: gRPC then requires and verifies them "
      "(mutual TLS)"},
     {"jwt-issuer", "NAME", "", "the iss that bearer tokens must carry"},
     {"jwt-key", "FILE", "",
      "key that verifies bearer tokens: an Ed25519 public key PEM (EdDSA) "
      "or a file holding an HS256 secret"},
     {"insecure-dev", "", "",
      "development only: plain TCP and HTTP on loopback; calls without a "
      "token act with every permission (tokens presented are still "
      "verified)"},
     {"dead-letter", "FILE", "oss-dead-letter.jsonl",
      "JSON Lines file of the records that could not land"},
     kDeadLetterBrokersFlag, kDeadLetterTopicFlag}};

const CommandSpec kImportCommand{
    "import",
    "Import a BMA OSS export: `prongsai import oss FILE` reads JSON Lines\n"
    "(one record object per line) or CSV (a header row naming the record\n"
    "fields), lands it in batches through the bridge, and prints a summary.\n"
    "A progress bar is drawn on stderr when it is a terminal. The position\n"
    "reached is saved after every batch (--state), so an interrupted import\n"
    "resumes where it stopped; importing a file again adds no event twice.\n"
    "Records that cannot land go to the dead-letter file with their reason.",
    "prongsai import oss FILE [--server LEDGER] [--state FILE] "
    "[--dead-letter FILE] [--format auto|jsonl|csv] [--batch N] [--limit N] "
    "[--from-start] [--dead-letter-brokers LIST [--dead-letter-topic NAME]]",
    {kLedgerFlag,
     {"state", "FILE", "",
      "resumable position (default: FILE.oss-import-state)"},
     {"dead-letter", "FILE", "",
      "where refused records go (default: FILE.dead-letter.jsonl)"},
     {"format", "FORMAT", "auto",
      "auto (by extension or content), jsonl or csv"},
     {"batch", "N", "1000", "records per batch"},
     {"limit", "N", "0", "stop after about N records (0 = to the end)"},
     {"from-start", "", "",
      "ignore a saved position and read the whole file"},
     kDeadLetterBrokersFlag, kDeadLetterTopicFlag}};

int RunOssBridge(const Args& args) {
  std::string http_host;
  int http_port = 0;
  if (!SplitHostPort(args.get("listen"), &http_host, &http_port)) {
    return Usage(absl::StrCat("--listen: expected HOST:PORT, got \"",
                              args.get("listen"), "\""),
                 kOssBridgeCommand);
  }
  const std::string& grpc_listen = args.get("grpc-listen");
  const bool serve_grpc = grpc_listen != "off" && !grpc_listen.empty();

  security::SecurityOptions security;
  security.insecure_dev = args.get("insecure-dev") == "true";
  security.tls_cert = args.get("listen-tls-cert");
  security.tls_key = args.get("listen-tls-key");
  security.tls_client_ca = args.get("listen-tls-client-ca");
  security.jwt_issuer = args.get("jwt-issuer");
  security.jwt_key = args.get("jwt-key");
  std::vector<std::string> listens = {args.get("listen")};
  if (serve_grpc) {
    listens.push_back(grpc_listen);
  }
  if (absl::Status status = security::CheckListenSecurity(
          security, listens,
          {.command = "prongsai oss-bridge",
           .tls_cert = "listen-tls-cert",
           .tls_key = "listen-tls-key",
           .tls_client_ca = "listen-tls-client-ca"});
      !status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return kExitUsage;
  }
  if (security.insecure_dev) {
    WarnInsecureDev(std::cerr);
  }
  absl::StatusOr<std::unique_ptr<security::Guard>> guard =
      security::Guard::Create(security);
  if (!guard.ok()) {
    return Fail(guard.status());
  }
  std::shared_ptr<grpc::ServerCredentials> credentials;
  if (serve_grpc) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> made =
        security::ServerCredentials(security);
    if (!made.ok()) {
      return Fail(made.status());
    }
    credentials = *std::move(made);
  }

  // Block the shutdown signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::unique_ptr<oss::LedgerClient> ledger =
      oss::NewGrpcLedgerClient(Dial(args), {});
  absl::StatusOr<std::unique_ptr<oss::DeadLetterFile>> dead_letters =
      OpenDeadLetters(args, args.get("dead-letter"));
  if (!dead_letters.ok()) {
    return Usage(std::string(dead_letters.status().message()),
                 kOssBridgeCommand);
  }
  oss::Bridge bridge(ledger.get(), dead_letters->get());

  std::unique_ptr<httplib::Server> http =
      security.tls_cert.empty()
          ? std::make_unique<httplib::Server>()
          : std::make_unique<httplib::SSLServer>(security.tls_cert.c_str(),
                                                 security.tls_key.c_str());
  if (!http->is_valid()) {
    std::cerr << "error: HTTPS: the certificate " << security.tls_cert
              << " or the key " << security.tls_key << " does not load\n";
    return kExitUsage;
  }
  http->set_payload_max_length(kMaxBodyBytes);
  oss::RegisterWebhook(*http, &bridge, guard->get());
  if (http_port == 0) {
    http_port = http->bind_to_any_port(http_host);
  } else if (!http->bind_to_port(http_host, http_port)) {
    http_port = -1;
  }
  if (http_port <= 0) {
    std::cerr << "error: could not listen on " << args.get("listen") << "\n";
    return kExitError;
  }
  http::Listener listener;
  listener.Start(*http);

  oss::OssBridgeService service(&bridge, guard->get());
  std::unique_ptr<grpc::Server> grpc_server;
  int grpc_port = 0;
  if (serve_grpc) {
    // grpc.health.v1, for container and Kubernetes health checks.
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(grpc_listen, credentials, &grpc_port);
    builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxBodyBytes));
    builder.RegisterService(&service);
    grpc_server = builder.BuildAndStart();
    if (grpc_server == nullptr || grpc_port == 0) {
      std::cerr << "error: could not listen on " << grpc_listen << "\n";
      listener.Stop();
      return kExitError;
    }
  }

  std::cout << "prongsai oss-bridge: webhook on "
            << (security.tls_cert.empty() ? "http" : "https") << "://"
            << http_host << ":" << http_port << oss::kWebhookPath;
  if (grpc_server != nullptr) {
    std::cout << ", gRPC" << (security.tls_cert.empty() ? "" : " (TLS)")
              << " on port " << grpc_port;
  }
  std::cout << "; ledger at " << args.get("server") << "; dead letters to "
            << (*dead_letters)->path();
  if (!(*dead_letters)->topic().empty()) {
    std::cout << " and topic " << (*dead_letters)->topic();
  }
  std::cout << std::endl;
  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "prongsai oss-bridge: "
            << (signal == SIGTERM ? "SIGTERM" : "SIGINT") << ", stopping"
            << std::endl;
  listener.Stop();
  if (grpc_server != nullptr) {
    grpc_server->Shutdown(std::chrono::system_clock::now() +
                          std::chrono::seconds(5));
    grpc_server->Wait();
  }
  std::cout << "prongsai oss-bridge: stopped" << std::endl;
  return 0;
}

int RunImport(const Args& args) {
  const std::vector<std::string>& positional = args.positional();
  if (positional.empty() || positional[0] != "oss") {
    return Usage("the source to import: `prongsai import oss FILE`",
                 kImportCommand);
  }
  if (positional.size() != 2) {
    return Usage("give exactly one FILE to import", kImportCommand);
  }
  const std::string& path = positional[1];
  oss::ImportOptions options;
  options.state_path = args.get("state");
  options.from_start = args.get("from-start") == "true";
  absl::StatusOr<oss::ExportFormat> format =
      oss::ParseExportFormat(args.get("format"));
  absl::StatusOr<uint64_t> batch = args.GetUint("batch");
  absl::StatusOr<uint64_t> limit = args.GetUint("limit");
  for (const absl::Status& status :
       {format.status(), batch.status(), limit.status()}) {
    if (!status.ok()) {
      return Usage(std::string(status.message()), kImportCommand);
    }
  }
  if (*batch == 0 || *batch > 100'000) {
    return Usage("--batch: give 1-100000 records", kImportCommand);
  }
  options.format = *format;
  options.batch_records = static_cast<int>(*batch);
  options.max_records = *limit;

  const bool tty = isatty(STDERR_FILENO) == 1;
  const absl::Time started = absl::Now();
  bool drawn = false;
  if (tty) {
    options.on_batch = [&](const oss::ImportProgress& p) {
      drawn = true;
      const double fraction = p.size == 0 ? 1.0
                                          : static_cast<double>(p.offset) /
                                                static_cast<double>(p.size);
      const int filled = static_cast<int>(fraction * kProgressWidth);
      const double seconds =
          std::max(1e-3, absl::ToDoubleSeconds(absl::Now() - started));
      std::cerr << absl::StrFormat(
          "\r[%s%s] %3d%%  %s records  %s dead-lettered  %.0f records/s ",
          std::string(filled, '#'), std::string(kProgressWidth - filled, '-'),
          static_cast<int>(fraction * 100), Thousands(p.records),
          Thousands(p.dead_lettered),
          static_cast<double>(p.records_this_run) / seconds);
      std::cerr.flush();
    };
  }

  const std::string dead_letter_path = args.get("dead-letter").empty()
                                           ? path + ".dead-letter.jsonl"
                                           : args.get("dead-letter");
  std::unique_ptr<oss::LedgerClient> ledger =
      oss::NewGrpcLedgerClient(Dial(args), {});
  absl::StatusOr<std::unique_ptr<oss::DeadLetterFile>> dead_letters =
      OpenDeadLetters(args, dead_letter_path);
  if (!dead_letters.ok()) {
    return Usage(std::string(dead_letters.status().message()), kImportCommand);
  }
  oss::Bridge bridge(ledger.get(), dead_letters->get());
  absl::StatusOr<oss::ImportSummary> summary =
      oss::ImportFile(path, bridge, options);
  if (drawn) {
    std::cerr << "\n";
  }
  if (!summary.ok()) {
    return Fail(summary.status());
  }
  const oss::ImportProgress& t = summary->totals;
  const double seconds =
      std::max(1e-3, absl::ToDoubleSeconds(summary->elapsed));
  std::cout << absl::StrFormat(
      "%s %s: %s records this run in %.1f s (%.0f records/s)%s\n",
      summary->complete ? "imported" : "stopped in", path,
      Thousands(summary->records_this_run), seconds,
      static_cast<double>(summary->records_this_run) / seconds,
      summary->resumed_at == 0
          ? ""
          : absl::StrCat(", resumed at byte ", summary->resumed_at));
  std::cout << absl::StrFormat(
      "  records        %s (the whole file so far)\n"
      "  accepted       %s\n"
      "  duplicates     %s\n"
      "  dead-lettered  %s%s\n"
      "  events         %s appended\n",
      Thousands(t.records), Thousands(t.accepted), Thousands(t.duplicates),
      Thousands(t.dead_lettered),
      t.dead_lettered == 0 ? "" : absl::StrCat(" (see ", dead_letter_path, ")"),
      Thousands(t.events_appended));
  if (!summary->complete) {
    std::cout << "  run the same command again to continue from line "
              << t.line + 1 << "\n";
  }
  return 0;
}

}  // namespace prongsai::cli

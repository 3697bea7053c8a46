// prongsai: the event-sourced ITA ledger of Bangkok's district offices.
#include <csignal>
#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/status.h"
#include "core/log/kafka_dev.h"
#include "services/cli/args.h"
#include "services/cli/audit_commands.h"
#include "services/cli/oss_commands.h"
#include "services/cli/ops_commands.h"
#include "services/cli/privacy_commands.h"
#include "services/cli/projections_commands.h"
#include "services/cli/report_commands.h"
#include "services/cli/security_commands.h"
#include "services/cli/client_commands.h"
#include "services/server/server.h"

namespace prongsai::cli {
namespace {

const CommandSpec kServeCommand{
    "serve",
    "Run Prongsai. By default every role in one process on the embedded\n"
    "RocksDB log: the gRPC API (prongsai.v1.Ledger, Reports, Audit,\n"
    "grpc.health.v1, server reflection) and HTTP/JSON with the reports.\n"
    "With --log=kafka, roles can run one per process against Apache Kafka.\n"
    "SIGTERM or SIGINT shuts it down cleanly; the data survives restarts.",
    "prongsai serve [--listen HOST:PORT] [--http-listen HOST:PORT] [--data DIR]",
    {{"listen", "HOST:PORT", "127.0.0.1:50051",
      "gRPC address; port 0 picks a free one"},
     {"http-listen", "HOST:PORT", "127.0.0.1:8080",
      "HTTP address (query role); empty for none"},
     {"metrics-listen", "HOST:PORT", "",
      "address of GET /metrics (Prometheus text format), any role; empty "
      "for none (the deployments use 127.0.0.1:9464 or :9464)"},
     {"data", "DIR", "./prongsai-data", "data directory"},
     {"roles", "LIST", "ingest,projector,query",
      "roles of this process, comma-separated"},
     {"log", "KIND", "rocksdb", "event log: rocksdb (embedded) or kafka"},
     {"brokers", "HOSTS", "", "Kafka bootstrap servers (with --log=kafka)"},
     {"topic", "NAME", "prongsai.events.v1", "Kafka topic of the events"},
     {"shard", "N", "0", "the stream ownership shard this ingest writes"},
     {"shards", "N", "1", "how many ownership shards there are"},
     {"kafka-properties", "LIST", "",
      "more librdkafka properties, KEY=VALUE,... (e.g. "
      "security.protocol=ssl,ssl.ca.location=/run/secrets/kafka_ca)"},
     {"keystore", "DIR", "",
      "key store of the personal data keys, kept apart from the log "
      "(default DIR/keystore)"},
     {"signing-key", "PATH", "",
      "checkpoint signing key, made on first start (default DIR/keys/checkpoint.key)"},
     {"log-name", "NAME", "prongsai",
      "the log's name in checkpoint origins (NAME/STREAM)"},
     {"checkpoint-interval", "SECONDS", "60",
      "how often grown streams get a signed checkpoint; 0 = on demand only"},
     {"demo", "", "",
      "on an empty data directory, load the seed report of district 1045 "
      "and a generated city, marked as demo data"},
     {"max-request-bytes", "N", "16777216", "largest request accepted"},
     {"max-events-per-append", "N", "10000", "most events in one Append"},
     {"tls-cert", "PEM", "",
      "server certificate (chain); every listener speaks TLS"},
     {"tls-key", "PEM", "", "the private key of --tls-cert"},
     {"tls-client-ca", "PEM", "",
      "CA of client certificates: gRPC then requires and verifies them "
      "(mutual TLS between roles)"},
     {"jwt-issuer", "NAME", "", "the iss that bearer tokens must carry"},
     {"jwt-key", "FILE", "",
      "key that verifies bearer tokens: an Ed25519 public key PEM (EdDSA) "
      "or a file holding an HS256 secret"},
     {"insecure-dev", "", "",
      "development only: plain TCP on loopback; calls without a token act "
      "with every permission (tokens presented are still verified)"},
     {"rate-limit", "N", "200",
      "requests per second per client (token subject, or address); 0 = "
      "no limit"},
     {"rate-burst", "N", "400", "requests a client may send at once"},
     {"max-call-seconds", "N", "300",
      "the longest a call may run (Subscribe and Rebuild excepted)"}}};

absl::Status ParseServeOptions(const Args& args,
                               server::ServerOptions& options) {
  options.listen = args.get("listen");
  options.http_listen = args.get("http-listen");
  options.metrics_listen = args.get("metrics-listen");
  options.data_dir = args.get("data");
  options.roles = absl::StrSplit(args.get("roles"), ',', absl::SkipEmpty());
  options.log = args.get("log");
  options.kafka_brokers = args.get("brokers");
  options.kafka_topic = args.get("topic");
  options.signing_key = args.get("signing-key");
  options.keystore = args.get("keystore");
  options.log_name = args.get("log-name");
  options.demo = args.get("demo") == "true";
  ASSIGN_OR_RETURN(uint64_t shard, args.GetUint("shard"));
  ASSIGN_OR_RETURN(uint64_t shards, args.GetUint("shards"));
  ASSIGN_OR_RETURN(uint64_t interval, args.GetUint("checkpoint-interval"));
  ASSIGN_OR_RETURN(uint64_t max_bytes, args.GetUint("max-request-bytes"));
  ASSIGN_OR_RETURN(uint64_t max_events, args.GetUint("max-events-per-append"));
  if (shards == 0 || shard >= shards) {
    return absl::InvalidArgumentError("--shard must be below --shards");
  }
  for (absl::string_view property :
       absl::StrSplit(args.get("kafka-properties"), ',', absl::SkipEmpty())) {
    const size_t eq = property.find('=');
    if (eq == absl::string_view::npos || eq == 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--kafka-properties: \"", property, "\" is not KEY=VALUE"));
    }
    options.kafka_properties.emplace_back(property.substr(0, eq),
                                          property.substr(eq + 1));
  }
  options.security.insecure_dev = args.get("insecure-dev") == "true";
  options.security.tls_cert = args.get("tls-cert");
  options.security.tls_key = args.get("tls-key");
  options.security.tls_client_ca = args.get("tls-client-ca");
  options.security.jwt_issuer = args.get("jwt-issuer");
  options.security.jwt_key = args.get("jwt-key");
  ASSIGN_OR_RETURN(uint64_t rate, args.GetUint("rate-limit"));
  ASSIGN_OR_RETURN(uint64_t burst, args.GetUint("rate-burst"));
  ASSIGN_OR_RETURN(uint64_t max_call, args.GetUint("max-call-seconds"));
  if (max_call == 0) {
    return absl::InvalidArgumentError("--max-call-seconds must be at least 1");
  }
  options.security.rate_limit = static_cast<double>(rate);
  options.security.rate_burst = static_cast<double>(burst);
  options.security.max_call = absl::Seconds(max_call);
  options.kafka_shard = static_cast<int>(shard);
  options.kafka_shards = static_cast<int>(shards);
  options.checkpoint_interval = absl::Seconds(interval);
  options.max_request_bytes = static_cast<int>(max_bytes);
  options.max_events_per_append = static_cast<int>(max_events);
  return absl::OkStatus();
}

int RunServe(const Args& args) {
  server::ServerOptions options;
  if (absl::Status status = ParseServeOptions(args, options); !status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 2;
  }

  // Block the shutdown signals in every thread; this one waits for them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (options.security.insecure_dev) {
    WarnInsecureDev(std::cerr);
  }
  absl::StatusOr<std::unique_ptr<server::Server>> server =
      server::Server::Start(options);
  if (!server.ok()) {
    std::cerr << "error: " << server.status().message() << "\n";
    return 1;
  }
  std::cout << "prongsai serving gRPC on port " << (*server)->port()
            << " (data in " << options.data_dir << ")" << std::endl;
  if ((*server)->http_port() != 0) {
    const std::string host =
        options.http_listen.substr(0, options.http_listen.rfind(':'));
    std::cout << "prongsai serving HTTP on "
              << (options.security.tls_cert.empty() ? "http" : "https")
              << "://"
              << (host.empty() || host == "0.0.0.0" ? "127.0.0.1" : host)
              << ":" << (*server)->http_port() << "/" << std::endl;
  }
  if (!(*server)->verifier_key().empty()) {
    std::cout << "prongsai checkpoint verifier key: "
              << (*server)->verifier_key() << std::endl;
  }
  if ((*server)->metrics_port() != 0) {
    std::cout << "prongsai serving metrics on port "
              << (*server)->metrics_port() << " (GET /metrics)" << std::endl;
  }
  int signal = 0;
  sigwait(&signals, &signal);
  std::cout << "prongsai: " << (signal == SIGTERM ? "SIGTERM" : "SIGINT")
            << ", shutting down" << std::endl;
  (*server)->Shutdown();
  (*server)->Wait();
  std::cout << "prongsai: stopped" << std::endl;
  return 0;
}

struct Command {
  const CommandSpec* spec;
  int (*run)(const Args&);
};

const CommandSpec kKafkaDevCommand{
    "kafka-dev",
    "Start a development Kafka cluster (the mock cluster inside librdkafka)\n"
    "on loopback and print its bootstrap servers; run until SIGINT/SIGTERM.\n"
    "It keeps everything in memory, at most 5 MiB or 100,000 message sets per\n"
    "partition (the oldest are dropped beyond that): for development only.",
    "prongsai kafka-dev [--brokers N] [--partitions P] [--topic NAME]",
    {{"brokers", "N", "3", "number of brokers"},
     {"partitions", "P", "8", "partitions of the events topic"},
     {"topic", "NAME", "prongsai.events.v1", "the events topic"}}};

int RunKafkaDev(const Args& args) {
  absl::StatusOr<uint64_t> brokers = args.GetUint("brokers");
  absl::StatusOr<uint64_t> partitions = args.GetUint("partitions");
  if (!brokers.ok() || !partitions.ok()) {
    std::cerr << "error: "
              << (brokers.ok() ? partitions.status() : brokers.status())
                     .message()
              << "\n";
    return 2;
  }
  log::KafkaDevOptions options;
  options.brokers = static_cast<int>(*brokers);
  options.partitions = static_cast<int>(*partitions);
  options.topic = args.get("topic");
  if (absl::Status status = log::RunKafkaDev(options, std::cout);
      !status.ok()) {
    std::cerr << "error: " << status.message() << "\n";
    return 1;
  }
  return 0;
}

const Command kCommands[] = {
    {&kServeCommand, RunServe},       {&kAppendCommand, RunAppend},
    {&kReadCommand, RunRead},         {&kHeadCommand, RunHead},
    {&kReportCommand, RunReport},     {&kExportCommand, RunExport},
    {&kVerifyCommand, RunVerify},     {&kProveCommand, RunProve},
    {&kKeygenCommand, RunKeygen},     {&kKafkaDevCommand, RunKafkaDev},
    {&kOssBridgeCommand, RunOssBridge}, {&kImportCommand, RunImport},
    {&kHealthCommand, RunHealth},     {&kMigrateCommand, RunMigrate},
    {&kProjectionsCommand, RunProjections},
    {&kEraseCommand, RunErase},
    {&kCertsCommand, RunCerts},       {&kTokenCommand, RunToken},
};

void PrintUsage(std::ostream& out) {
  out << "prongsai: the event-sourced ITA ledger of Bangkok's district "
         "offices\n\nUsage: prongsai <command> [flags]\n\nCommands:\n";
  for (const Command& command : kCommands) {
    std::string summary = command.spec->summary;
    summary = summary.substr(0, summary.find('\n'));
    out << "  " << command.spec->name
        << std::string(12 - command.spec->name.size(), ' ') << summary
        << "\n";
  }
  out << "\nRun 'prongsai <command> --help' for its flags.\n";
}

}  // namespace
}  // namespace prongsai::cli

int main(int argc, char** argv) {
  using namespace prongsai::cli;
  if (argc < 2 || std::string(argv[1]) == "--help" ||
      std::string(argv[1]) == "-h" || std::string(argv[1]) == "help") {
    PrintUsage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (const Command& command : kCommands) {
    if (command.spec->name != name) {
      continue;
    }
    absl::StatusOr<Args> args = Args::Parse(
        *command.spec, std::vector<std::string>(argv + 2, argv + argc));
    if (!args.ok()) {
      std::cerr << "error: " << args.status().message() << "\n";
      return 2;
    }
    if (args->help()) {
      std::cout << HelpText(*command.spec);
      return 0;
    }
    return command.run(*args);
  }
  std::cerr << "error: unknown command '" << name << "'\n\n";
  PrintUsage(std::cerr);
  return 2;
}

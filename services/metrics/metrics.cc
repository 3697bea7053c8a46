#include "services/metrics/metrics.h"

#include <dirent.h>
#include <httplib.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/domain/reference.h"
#include "core/log/kafka_log.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/record.pb.h"
#include "services/audit/checkpointer.h"
#include "services/http/listener.h"
#include "services/ingest/ingestor.h"

#ifndef PRONGSAI_VERSION
#define PRONGSAI_VERSION "unknown"
#endif

namespace prongsai::metrics {
namespace {

// Writes metric families in the text exposition format: each family's HELP
// and TYPE once, then its samples.
class Exposition {
 public:
  void Family(absl::string_view name, absl::string_view type,
              absl::string_view help) {
    absl::StrAppend(&out_, "# HELP ", name, " ", help, "\n# TYPE ", name, " ",
                    type, "\n");
    name_ = std::string(name);
  }

  // A sample of the current family; labels are name/value pairs.
  void Sample(
      double value,
      std::initializer_list<std::pair<absl::string_view, absl::string_view>>
          labels = {}) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [label, label_value] : labels) {
        if (!first) {
          out_ += ',';
        }
        first = false;
        absl::StrAppend(&out_, label, "=\"", Escape(label_value), "\"");
      }
      out_ += '}';
    }
    absl::StrAppend(&out_, " ", Format(value), "\n");
  }

  std::string Take() { return std::move(out_); }

 private:
  static std::string Escape(absl::string_view value) {
    std::string out;
    for (char c : value) {
      if (c == '\\') {
        out += "\\\\";
      } else if (c == '"') {
        out += "\\\"";
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out;
  }

  static std::string Format(double value) {
    if (value == static_cast<double>(static_cast<int64_t>(value)) &&
        value < 9.0e15 && value > -9.0e15) {
      return absl::StrCat(static_cast<int64_t>(value));
    }
    return absl::StrFormat("%.15g", value);
  }

  std::string out_;
  std::string name_;
};

// The status code names as label values: "invalid_argument".
std::string Reason(int code) {
  return absl::AsciiStrToLower(
      absl::StatusCodeToString(static_cast<absl::StatusCode>(code)));
}

double Seconds(absl::Time t) {
  return absl::ToDoubleSeconds(t - absl::UnixEpoch());
}

// /proc/self: resident and virtual memory, CPU time, start time, open files.
void WriteProcess(Exposition& out) {
  std::ifstream stat_file("/proc/self/stat");
  std::string stat((std::istreambuf_iterator<char>(stat_file)),
                   std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces), from field 3.
  const size_t close = stat.rfind(')');
  if (close == std::string::npos) {
    return;
  }
  std::vector<std::string> fields =
      absl::StrSplit(stat.substr(close + 2), ' ', absl::SkipEmpty());
  auto field = [&](int number) -> double {
    double value = 0;
    const size_t index = static_cast<size_t>(number - 3);
    if (index < fields.size()) {
      static_cast<void>(absl::SimpleAtod(fields[index], &value));
    }
    return value;
  };
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));

  double boot_time = 0;
  std::ifstream proc_stat("/proc/stat");
  for (std::string line; std::getline(proc_stat, line);) {
    if (absl::StartsWith(line, "btime ")) {
      static_cast<void>(absl::SimpleAtod(line.substr(6), &boot_time));
      break;
    }
  }
  int open_fds = 0;
  if (DIR* dir = opendir("/proc/self/fd"); dir != nullptr) {
    while (readdir(dir) != nullptr) {
      ++open_fds;
    }
    closedir(dir);
    open_fds = std::max(0, open_fds - 3);  // ".", "..", and the DIR itself
  }

  out.Family("process_resident_memory_bytes", "gauge",
             "Resident memory size in bytes.");
  out.Sample(field(24) * page);
  out.Family("process_virtual_memory_bytes", "gauge",
             "Virtual memory size in bytes.");
  out.Sample(field(23));
  out.Family("process_cpu_seconds_total", "counter",
             "User and system CPU time spent, in seconds.");
  out.Sample((field(14) + field(15)) / ticks);
  out.Family("process_start_time_seconds", "gauge",
             "Start time of the process since the Unix epoch, in seconds.");
  out.Sample(boot_time + field(22) / ticks);
  out.Family("process_open_fds", "gauge", "Number of open file descriptors.");
  out.Sample(open_fds);
}

void WriteIngest(ingest::Ingestor& ingestor, Exposition& out) {
  const ingest::IngestCounters c = ingestor.Counters();
  out.Family("prongsai_ingest_appends_accepted_total", "counter",
             "Appends answered with success (retries of a stored batch "
             "included).");
  out.Sample(static_cast<double>(c.appends_accepted));
  out.Family("prongsai_ingest_events_accepted_total", "counter",
             "Events in the appends answered with success.");
  out.Sample(static_cast<double>(c.events_accepted));
  // Every reason is listed, so that rate() sees the first refusal of a kind.
  const int kReasons[] = {
      static_cast<int>(absl::StatusCode::kInvalidArgument),
      static_cast<int>(absl::StatusCode::kFailedPrecondition),
      static_cast<int>(absl::StatusCode::kAlreadyExists),
      static_cast<int>(absl::StatusCode::kResourceExhausted),
      static_cast<int>(absl::StatusCode::kUnavailable),
  };
  auto listed = [&](int code) {
    return std::find(std::begin(kReasons), std::end(kReasons), code) !=
           std::end(kReasons);
  };
  out.Family("prongsai_ingest_appends_rejected_total", "counter",
             "Appends refused, by reason (the gRPC status code, lower case).");
  for (int code = 0; code < ingest::IngestCounters::kCodes; ++code) {
    if (listed(code) || c.appends_rejected[code] != 0) {
      out.Sample(static_cast<double>(c.appends_rejected[code]),
                 {{"reason", Reason(code)}});
    }
  }
  out.Family("prongsai_ingest_events_rejected_total", "counter",
             "Events in refused appends, by reason.");
  for (int code = 0; code < ingest::IngestCounters::kCodes; ++code) {
    if (listed(code) || c.events_rejected[code] != 0) {
      out.Sample(static_cast<double>(c.events_rejected[code]),
                 {{"reason", Reason(code)}});
    }
  }
  out.Family("prongsai_ingest_records_written_total", "counter",
             "Records the ingest stored in the event log.");
  out.Sample(static_cast<double>(c.records_written));
  out.Family("prongsai_ingest_log_writes_total", "counter",
             "Group commits: durable log writes of one or more appends.");
  out.Sample(static_cast<double>(c.log_writes));
  out.Family("prongsai_ingest_log_write_failures_total", "counter",
             "Log writes that failed (the ingest then stops until restarted).");
  out.Sample(static_cast<double>(c.log_write_failures));
  out.Family("prongsai_ingest_log_write_seconds_total", "counter",
             "Time spent in durable log writes, in seconds.");
  out.Sample(c.log_write_seconds);
  out.Family("prongsai_ingest_up", "gauge",
             "1 while the ingest takes appends; 0 after a failed log write "
             "stopped it (restart the process).");
  out.Sample(c.stopped_after_failure ? 0 : 1);
}

void WriteProjections(projections::ProjectionRunner& runner, Exposition& out) {
  const std::vector<projections::ProjectionStatus> statuses = runner.Status();
  out.Family("prongsai_projection_position", "gauge",
             "Last log position the view consumed.");
  for (const projections::ProjectionStatus& s : statuses) {
    out.Sample(static_cast<double>(s.position), {{"projection", s.name}});
  }
  out.Family("prongsai_projection_lag_records", "gauge",
             "Records in the log the view has not consumed yet.");
  for (const projections::ProjectionStatus& s : statuses) {
    out.Sample(static_cast<double>(s.log_position > s.position
                                       ? s.log_position - s.position
                                       : 0),
               {{"projection", s.name}});
  }
  out.Family("prongsai_projection_failed", "gauge",
             "1 when the view stopped on an error (see the process log).");
  for (const projections::ProjectionStatus& s : statuses) {
    out.Sample(s.error.empty() ? 0 : 1, {{"projection", s.name}});
  }
  out.Family("prongsai_projection_rejected_records", "gauge",
             "Log records the projections refused because they do not "
             "continue their stream's chain.");
  out.Sample(static_cast<double>(runner.Rejected().size()));
  const projections::RunnerCounters c = runner.Counters();
  out.Family("prongsai_projection_batches_total", "counter",
             "View batches committed.");
  out.Sample(static_cast<double>(c.batches));
  out.Family("prongsai_projection_records_total", "counter",
             "Log records read into committed view batches.");
  out.Sample(static_cast<double>(c.records));
  out.Family("prongsai_projection_batch_seconds_total", "counter",
             "Time spent building and committing view batches, in seconds.");
  out.Sample(c.batch_seconds);
  if (c.last_batch != absl::InfinitePast()) {
    out.Family("prongsai_projection_last_batch_timestamp_seconds", "gauge",
               "When the last view batch committed, since the Unix epoch.");
    out.Sample(Seconds(c.last_batch));
  }
}

struct StreamState {
  std::string stream;
  uint64_t size = 0;
};

// The checkpoint age of a stream is how long its oldest record not yet
// covered by a signed checkpoint has waited (by its recorded_at); 0 when the
// latest checkpoint covers the whole stream.
void WriteCheckpoints(const MetricsSources& sources,
                      const std::vector<StreamState>& streams,
                      Exposition& out) {
  const absl::Time now = sources.clock();
  struct Row {
    const StreamState* stream;
    uint64_t signed_size;
    double age;
  };
  std::vector<Row> rows;
  for (const StreamState& s : streams) {
    absl::StatusOr<std::optional<audit_service::SignedCheckpoint>> latest =
        sources.checkpointer->Latest(s.stream);
    if (!latest.ok()) {
      continue;
    }
    const uint64_t signed_size =
        latest->has_value() ? (*latest)->checkpoint.size : 0;
    double age = 0;
    if (signed_size < s.size) {
      v1::Record record;
      absl::Status read = sources.log->ReadStream(
          s.stream, signed_size + 1, [&](const log::LogEntry& entry) {
            record.ParseFromArray(entry.record_bytes.data(),
                                  static_cast<int>(entry.record_bytes.size()));
            return false;
          });
      if (read.ok() && record.has_recorded_at()) {
        const absl::Time recorded =
            absl::FromUnixSeconds(record.recorded_at().seconds()) +
            absl::Nanoseconds(record.recorded_at().nanos());
        age = std::max(0.0, absl::ToDoubleSeconds(now - recorded));
      }
    }
    rows.push_back({&s, signed_size, age});
  }
  out.Family("prongsai_checkpoint_signed_size", "gauge",
             "Tree size of the stream's latest signed checkpoint.");
  for (const Row& row : rows) {
    out.Sample(static_cast<double>(row.signed_size),
               {{"stream", row.stream->stream}});
  }
  out.Family("prongsai_checkpoint_unsigned_records", "gauge",
             "Records of the stream that no signed checkpoint covers yet.");
  for (const Row& row : rows) {
    out.Sample(static_cast<double>(row.stream->size - row.signed_size),
               {{"stream", row.stream->stream}});
  }
  out.Family("prongsai_checkpoint_age_seconds", "gauge",
             "How long the stream's oldest record without a signed "
             "checkpoint has waited; 0 when all are covered.");
  double oldest = 0;
  for (const Row& row : rows) {
    out.Sample(row.age, {{"stream", row.stream->stream}});
    oldest = std::max(oldest, row.age);
  }
  out.Family("prongsai_checkpoint_oldest_age_seconds", "gauge",
             "The largest prongsai_checkpoint_age_seconds of any stream.");
  out.Sample(oldest);
  out.Family("prongsai_checkpoint_refused_streams", "gauge",
             "Streams whose new tree head the checkpointer refused to sign "
             "(the tree shrank or forked; see the process log).");
  out.Sample(static_cast<double>(sources.checkpointer->Refusals().size()));
}

void WriteKafka(log::KafkaEventLog& kafka, Exposition& out) {
  out.Family("prongsai_kafka_writer_up", "gauge",
             "1 while this instance can write to Kafka; 0 when it is "
             "read-only, fenced, or an earlier write is unsettled.");
  out.Sample(kafka.WriterStatus().ok() ? 1 : 0);
  out.Family("prongsai_kafka_rejected_records", "gauge",
             "Topic records the local replica refused (they do not continue "
             "their stream's chain).");
  out.Sample(static_cast<double>(kafka.Rejected().size()));
}

}  // namespace

absl::string_view BuildVersion() { return PRONGSAI_VERSION; }

std::string RenderMetrics(const MetricsSources& sources) {
  Exposition out;
  out.Family("prongsai_build_info", "gauge",
             "Always 1; the labels say what runs here.");
  out.Sample(1, {{"version", BuildVersion()},
                 {"log", sources.log_kind},
                 {"roles", sources.roles}});

  std::vector<StreamState> streams;
  if (sources.log != nullptr) {
    out.Family("prongsai_log_last_position", "gauge",
               "Position of the last record in the event log (local to this "
               "instance on Kafka).");
    out.Sample(static_cast<double>(sources.log->LastPosition()));
    std::vector<std::string> names;
    for (const domain::District& district : domain::Districts()) {
      names.push_back(district.code);
    }
    names.push_back(std::string(domain::kCityStream));
    for (const std::string& name : names) {
      absl::StatusOr<log::StreamHead> head = sources.log->LoadHead(name);
      if (head.ok() && head->sequence > 0) {
        streams.push_back({name, head->sequence});
      }
    }
    out.Family("prongsai_stream_last_sequence", "gauge",
               "Last sequence (the size) of each stream that has records.");
    for (const StreamState& s : streams) {
      out.Sample(static_cast<double>(s.size), {{"stream", s.stream}});
    }
  }
  if (sources.ingestor != nullptr) {
    WriteIngest(*sources.ingestor, out);
  }
  if (sources.runner != nullptr) {
    WriteProjections(*sources.runner, out);
  }
  if (sources.checkpointer != nullptr && sources.log != nullptr) {
    WriteCheckpoints(sources, streams, out);
  }
  if (sources.kafka != nullptr) {
    WriteKafka(*sources.kafka, out);
  }
  WriteProcess(out);
  return out.Take();
}

namespace {

class MetricsServerImpl final : public MetricsServer {
 public:
  explicit MetricsServerImpl(MetricsSources sources)
      : sources_(std::move(sources)) {}
  ~MetricsServerImpl() override { Stop(); }

  absl::Status Listen(absl::string_view listen) {
    const size_t colon = listen.rfind(':');
    int port = 0;
    if (colon == absl::string_view::npos ||
        !absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 ||
        port > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat("--metrics-listen: \"", listen, "\" is not host:port"));
    }
    std::string host(listen.substr(0, colon));
    if (host.empty()) {
      host = "0.0.0.0";
    }
    server_.Get("/metrics", [this](const httplib::Request&,
                                   httplib::Response& response) {
      response.set_content(RenderMetrics(sources_),
                           "text/plain; version=0.0.4; charset=utf-8");
    });
    server_.Get("/", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("Prongsai metrics: /metrics\n", "text/plain");
    });
    // A scrape needs one thread; a few more cover a slow one.
    server_.new_task_queue = [] { return new httplib::ThreadPool(2); };
    port_ = port == 0 ? server_.bind_to_any_port(host)
                      : (server_.bind_to_port(host, port) ? port : -1);
    if (port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("could not listen for metrics on ", listen));
    }
    listener_.Start(server_);
    return absl::OkStatus();
  }

  int port() const override { return port_; }

  void Stop() override { listener_.Stop(); }

 private:
  const MetricsSources sources_;
  httplib::Server server_;
  int port_ = 0;
  http::Listener listener_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<MetricsServer>> MetricsServer::Start(
    absl::string_view listen, MetricsSources sources) {
  auto server = std::make_unique<MetricsServerImpl>(std::move(sources));
  if (absl::Status status = server->Listen(listen); !status.ok()) {
    return status;
  }
  return server;
}

}  // namespace prongsai::metrics

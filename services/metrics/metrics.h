// The metrics of a Prongsai process in the Prometheus text exposition format
// (version 0.0.4), and the small HTTP listener that serves them at
// GET /metrics, so that every role (an ingest-only process too) can be
// scraped.
//
// What is exposed depends on the roles the process runs:
//   always      prongsai_build_info, prongsai_log_last_position,
//               prongsai_stream_last_sequence{stream}, process_*
//   ingest      prongsai_ingest_* (appends and events accepted, refused by
//               reason; log writes and their time)
//   projector   prongsai_projection_* (position and lag per view, batches),
//               prongsai_checkpoint_* (unsigned records and their age per
//               stream, refused streams)
//   Kafka log   prongsai_kafka_* (writer state, records the replica refused)
//
// Example:
//   MetricsSources sources{.log = log, .ingestor = ingestor.get()};
//   ASSIGN_OR_RETURN(auto http, MetricsServer::Start("127.0.0.1:9464",
//                                                    sources));
//   // curl http://127.0.0.1:9464/metrics
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "core/log/event_log.h"

namespace prongsai {
namespace ingest {
class Ingestor;
}
namespace projections {
class ProjectionRunner;
}
namespace audit_service {
class Checkpointer;
}
namespace log {
class KafkaEventLog;
}
}  // namespace prongsai

namespace prongsai::metrics {

// Where the numbers come from; any pointer may be null (that role does not
// run here). All must outlive the MetricsServer.
struct MetricsSources {
  log::EventLog* log = nullptr;
  // The same log when it is Kafka's.
  log::KafkaEventLog* kafka = nullptr;
  ingest::Ingestor* ingestor = nullptr;
  projections::ProjectionRunner* runner = nullptr;
  audit_service::Checkpointer* checkpointer = nullptr;
  // For prongsai_build_info.
  std::string log_kind = "rocksdb";
  std::string roles;
  std::function<absl::Time()> clock = [] { return absl::Now(); };
};

// The version compiled in (the project's CMake version).
absl::string_view BuildVersion();

// Every metric, in the text exposition format.
std::string RenderMetrics(const MetricsSources& sources);

class MetricsServer {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one) and serves
  // GET /metrics from a thread of its own.
  static absl::StatusOr<std::unique_ptr<MetricsServer>> Start(
      absl::string_view listen, MetricsSources sources);
  virtual ~MetricsServer() = default;

  virtual int port() const = 0;
  virtual void Stop() = 0;
};

}  // namespace prongsai::metrics

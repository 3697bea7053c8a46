// A Kafka cluster for development and tests: the mock cluster that ships
// inside librdkafka, speaking the real Kafka protocol on loopback, with its
// fault injection.
//
// The mock keeps each partition in memory and holds at most 5 MiB or 100,000
// message sets per partition; past that it drops the oldest silently. Size
// test data and partitions to stay well below (a 300-byte record is ~350
// bytes on the wire: keep under ~10,000 records per partition). It does not
// enforce transactional fencing and does not honour read_committed (aborted
// records are visible), so nothing may rely on either.
//
// Example:
//   ASSIGN_OR_RETURN(auto cluster, KafkaDevCluster::Start(3));
//   RETURN_IF_ERROR(cluster->CreateTopic("prongsai.events.v1", 8));
//   OpenKafkaLog({.brokers = cluster->bootstrap_servers(), ...});
//   cluster->SetBrokerDown(KafkaDevCluster::kAllBrokers);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "core/log/kafka_record.h"

// The librdkafka types, declared here so that rdkafka.h stays out of this
// header.
struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace prongsai::log {

// Kafka protocol request types that tests inject errors into.
enum class KafkaApi : int16_t {
  kProduce = 0,
  kFetch = 1,
  kListOffsets = 2,
  kMetadata = 3,
  kFindCoordinator = 10,
  kInitProducerId = 22,
  kAddPartitionsToTxn = 24,
  kEndTxn = 26,
};

class KafkaDevCluster {
 public:
  static constexpr int32_t kAllBrokers = -1;

  // Starts `brokers` brokers (ids 1..brokers) on 127.0.0.1, random ports.
  static absl::StatusOr<std::unique_ptr<KafkaDevCluster>> Start(int brokers);
  KafkaDevCluster(const KafkaDevCluster&) = delete;
  KafkaDevCluster& operator=(const KafkaDevCluster&) = delete;

  // "127.0.0.1:port,..." for bootstrap.servers (kcat -b, --brokers).
  const std::string& bootstrap_servers() const { return bootstrap_; }
  int brokers() const { return brokers_; }

  // Replication factor defaults to min(3, brokers).
  absl::Status CreateTopic(absl::string_view topic, int partitions,
                           int replication_factor = 0);

  // Faults. `broker` is an id 1..brokers, or kAllBrokers.
  absl::Status SetBrokerDown(int32_t broker);
  absl::Status SetBrokerUp(int32_t broker);
  absl::Status SetRoundTripTime(int32_t broker, absl::Duration rtt);
  absl::Status SetPartitionLeader(absl::string_view topic, int32_t partition,
                                  int32_t broker);
  // The next requests of type `api`, one per entry, fail with the given Kafka
  // error codes (rd_kafka_resp_err_t values, e.g. 90 = PRODUCER_FENCED).
  void PushRequestErrors(KafkaApi api, absl::Span<const int> error_codes);
  void ClearRequestErrors(KafkaApi api);

  // For faults not wrapped here (rdkafka_mock.h).
  rd_kafka_mock_cluster_s* mock() const { return mock_.get(); }

 private:
  struct ClientDeleter {
    void operator()(rd_kafka_s* client) const;
  };
  struct MockDeleter {
    void operator()(rd_kafka_mock_cluster_s* mock) const;
  };

  KafkaDevCluster() = default;

  int brokers_ = 0;
  std::string bootstrap_;
  // The client the mock cluster lives in: declared first, destroyed last.
  std::unique_ptr<rd_kafka_s, ClientDeleter> owner_;
  std::unique_ptr<rd_kafka_mock_cluster_s, MockDeleter> mock_;
};

struct KafkaDevOptions {
  int brokers = 3;
  std::string topic = std::string(kDefaultEventsTopic);
  // Enough for 50 districts and the city to spread out, small enough that
  // each partition stays far below the mock's memory bound.
  int partitions = 8;
};

// Starts a development cluster, creates the topic, prints the bootstrap
// servers on the first line of `out` (then how to use them), and runs until
// `stop` returns true (polled every 100 ms) or, when `stop` is empty, until
// SIGINT or SIGTERM.
absl::Status RunKafkaDev(const KafkaDevOptions& options, std::ostream& out,
                         const std::function<bool()>& stop = {});

}  // namespace prongsai::log

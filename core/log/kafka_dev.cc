#include "core/log/kafka_dev.h"

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <csignal>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/base/status.h"

namespace prongsai::log {
namespace {

absl::Status FromMock(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat(what, ": ", rd_kafka_err2str(err)));
}

}  // namespace

void KafkaDevCluster::ClientDeleter::operator()(rd_kafka_s* client) const {
  rd_kafka_destroy(client);
}

void KafkaDevCluster::MockDeleter::operator()(
    rd_kafka_mock_cluster_s* mock) const {
  rd_kafka_mock_cluster_destroy(mock);
}

absl::StatusOr<std::unique_ptr<KafkaDevCluster>> KafkaDevCluster::Start(
    int brokers) {
  if (brokers < 1 || brokers > 32) {
    return absl::InvalidArgumentError(
        absl::StrCat("brokers: ", brokers, "; give 1..32"));
  }
  std::unique_ptr<KafkaDevCluster> cluster(new KafkaDevCluster());
  cluster->brokers_ = brokers;
  // The mock cluster needs a client for its bookkeeping; this one never
  // connects anywhere.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr)) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return absl::InternalError(errstr);
  }
  cluster->owner_.reset(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr)));
  if (cluster->owner_ == nullptr) {
    rd_kafka_conf_destroy(conf);  // rd_kafka_new keeps it only on success
    return absl::InternalError(
        absl::StrCat("creating the mock cluster's client: ", errstr));
  }
  cluster->mock_.reset(
      rd_kafka_mock_cluster_new(cluster->owner_.get(), brokers));
  if (cluster->mock_ == nullptr) {
    return absl::UnavailableError(
        "starting the mock Kafka cluster failed (no free loopback ports?)");
  }
  cluster->bootstrap_ = rd_kafka_mock_cluster_bootstraps(cluster->mock_.get());
  return cluster;
}

absl::Status KafkaDevCluster::CreateTopic(absl::string_view topic,
                                          int partitions,
                                          int replication_factor) {
  if (topic.empty() || partitions < 1) {
    return absl::InvalidArgumentError(
        "a topic needs a name and at least one partition");
  }
  if (replication_factor <= 0) {
    replication_factor = std::min(3, brokers_);
  }
  const std::string name(topic);
  return FromMock(rd_kafka_mock_topic_create(mock_.get(), name.c_str(),
                                             partitions, replication_factor),
                  absl::StrCat("creating topic ", topic));
}

absl::Status KafkaDevCluster::SetBrokerDown(int32_t broker) {
  return FromMock(rd_kafka_mock_broker_set_down(mock_.get(), broker),
                  absl::StrCat("taking broker ", broker, " down"));
}

absl::Status KafkaDevCluster::SetBrokerUp(int32_t broker) {
  return FromMock(rd_kafka_mock_broker_set_up(mock_.get(), broker),
                  absl::StrCat("bringing broker ", broker, " up"));
}

absl::Status KafkaDevCluster::SetRoundTripTime(int32_t broker,
                                               absl::Duration rtt) {
  return FromMock(
      rd_kafka_mock_broker_set_rtt(
          mock_.get(), broker,
          static_cast<int>(absl::ToInt64Milliseconds(rtt))),
      absl::StrCat("setting the round-trip time of broker ", broker));
}

absl::Status KafkaDevCluster::SetPartitionLeader(absl::string_view topic,
                                                 int32_t partition,
                                                 int32_t broker) {
  const std::string name(topic);
  return FromMock(rd_kafka_mock_partition_set_leader(mock_.get(), name.c_str(),
                                                     partition, broker),
                  absl::StrCat("moving the leader of ", topic, " [", partition,
                               "] to broker ", broker));
}

void KafkaDevCluster::PushRequestErrors(KafkaApi api,
                                        absl::Span<const int> error_codes) {
  std::vector<rd_kafka_resp_err_t> errors;
  errors.reserve(error_codes.size());
  for (const int code : error_codes) {
    errors.push_back(static_cast<rd_kafka_resp_err_t>(code));
  }
  rd_kafka_mock_push_request_errors_array(
      mock_.get(), static_cast<int16_t>(api), errors.size(), errors.data());
}

void KafkaDevCluster::ClearRequestErrors(KafkaApi api) {
  rd_kafka_mock_clear_request_errors(mock_.get(), static_cast<int16_t>(api));
}

absl::Status RunKafkaDev(const KafkaDevOptions& options, std::ostream& out,
                         const std::function<bool()>& stop) {
  if (options.partitions < 1 || options.partitions > 1000) {
    return absl::InvalidArgumentError(
        absl::StrCat("partitions: ", options.partitions, "; give 1..1000"));
  }
  // Without a stop condition the cluster runs until SIGINT or SIGTERM. Block
  // them before the cluster's threads start, so they inherit the mask and
  // the signal is taken by sigwait below.
  sigset_t signals;
  sigset_t previous;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  const bool until_signal = !stop;
  if (until_signal) {
    pthread_sigmask(SIG_BLOCK, &signals, &previous);
  }
  absl::Status status = [&]() -> absl::Status {
    ASSIGN_OR_RETURN(auto cluster, KafkaDevCluster::Start(options.brokers));
    RETURN_IF_ERROR(cluster->CreateTopic(options.topic, options.partitions));
    const std::string& servers = cluster->bootstrap_servers();
    out << servers << "\n"
        << "kafka-dev: " << options.brokers
        << " brokers on loopback (the librdkafka mock cluster); topic "
        << options.topic << " with " << options.partitions << " partitions\n"
        << "  serve:  prongsai serve --log=kafka --brokers=" << servers << "\n"
        << "  read:   kcat -C -b " << servers << " -t " << options.topic
        << " -f '%k %p:%o %h\\n'\n"
        << "Everything is kept in memory and is gone when this stops. Each "
           "partition keeps at most 5 MiB or 100,000 message sets and drops "
           "the oldest beyond that.\n"
        << (until_signal ? "Stop with Ctrl-C.\n" : "") << std::flush;
    if (until_signal) {
      int received = 0;
      sigwait(&signals, &received);
    } else {
      while (!stop()) {
        absl::SleepFor(absl::Milliseconds(100));
      }
    }
    return absl::OkStatus();
  }();
  if (until_signal) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  }
  return status;
}

}  // namespace prongsai::log

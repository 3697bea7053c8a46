#include "services/oss_bridge/dead_letter_topic.h"

#include <librdkafka/rdkafka.h>

#include <string_view>
#include <utility>

#include "absl/strings/str_cat.h"

namespace prongsai::oss {
namespace {

// What one Publish learns from the delivery reports of its messages.
struct Deliveries {
  size_t confirmed = 0;
  size_t failed = 0;
  std::string first_error;
};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
  auto* deliveries = static_cast<Deliveries*>(message->_private);
  if (deliveries == nullptr) {
    return;
  }
  if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    ++deliveries->confirmed;
    return;
  }
  if (deliveries->failed++ == 0) {
    deliveries->first_error = rd_kafka_err2str(message->err);
  }
}

void OnLog(const rd_kafka_t*, int, const char*, const char*) {}

}  // namespace

absl::StatusOr<std::unique_ptr<DeadLetterTopic>> DeadLetterTopic::Open(
    DeadLetterTopicOptions options) {
  if (options.brokers.empty()) {
    return absl::InvalidArgumentError(
        "the dead-letter topic needs the brokers (bootstrap servers)");
  }
  if (options.topic.empty()) {
    return absl::InvalidArgumentError("the dead-letter topic needs a name");
  }
  std::unique_ptr<DeadLetterTopic> topic(
      new DeadLetterTopic(std::move(options)));
  const DeadLetterTopicOptions& o = topic->options_;
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  const std::pair<const char*, std::string> settings[] = {
      {"bootstrap.servers", o.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "5"},
      {"message.timeout.ms",
       absl::StrCat(absl::ToInt64Milliseconds(o.timeout))},
      {"client.id", "prongsai-oss-dead-letters"},
  };
  char error[512];
  for (const auto& [name, value] : settings) {
    if (rd_kafka_conf_set(conf, name, value.c_str(), error, sizeof(error)) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return absl::InvalidArgumentError(
          absl::StrCat("dead-letter topic setting ", name, ": ", error));
    }
  }
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  // Broker trouble is reported through Publish's status, not stderr noise.
  rd_kafka_conf_set_log_cb(conf, OnLog);
  topic->producer_ =
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof(error));
  if (topic->producer_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot make the dead-letter producer: ", error));
  }
  return topic;
}

DeadLetterTopic::~DeadLetterTopic() {
  if (producer_ != nullptr) {
    rd_kafka_flush(producer_, 5000);
    rd_kafka_destroy(producer_);
  }
}

absl::Status DeadLetterTopic::Publish(
    const std::vector<DeadLetterMessage>& messages) {
  if (messages.empty()) {
    return absl::OkStatus();
  }
  Deliveries deliveries;
  constexpr std::string_view kContentType = "application/json";
  for (const DeadLetterMessage& m : messages) {
    const rd_kafka_resp_err_t err = rd_kafka_producev(
        producer_, RD_KAFKA_V_TOPIC(options_.topic.c_str()),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(m.key.data(), m.key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(m.line.data()), m.line.size()),
        RD_KAFKA_V_HEADER("content-type", kContentType.data(),
                          static_cast<ssize_t>(kContentType.size())),
        RD_KAFKA_V_HEADER("reason", m.reason.data(),
                          static_cast<ssize_t>(m.reason.size())),
        RD_KAFKA_V_OPAQUE(&deliveries), RD_KAFKA_V_END);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR && deliveries.failed++ == 0) {
      deliveries.first_error = rd_kafka_err2str(err);
    }
  }
  const int timeout_ms =
      static_cast<int>(absl::ToInt64Milliseconds(options_.timeout));
  if (rd_kafka_flush(producer_, timeout_ms) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    // Whatever is still queued fails now, so that no report outlives
    // `deliveries`.
    rd_kafka_purge(producer_, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    while (rd_kafka_outq_len(producer_) > 0) {
      rd_kafka_poll(producer_, 100);
    }
  }
  if (deliveries.failed > 0 ||
      deliveries.confirmed + deliveries.failed < messages.size()) {
    return absl::UnavailableError(absl::StrCat(
        "dead-letter topic ", options_.topic, ": ", deliveries.failed, " of ",
        messages.size(), " records not confirmed by the brokers (",
        deliveries.first_error.empty() ? "timed out" : deliveries.first_error,
        ")"));
  }
  return absl::OkStatus();
}

}  // namespace prongsai::oss

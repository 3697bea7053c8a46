// The dead-letter topic: the same JSON lines as the dead-letter file,
// published to Kafka so that operators and other systems can follow refused
// records where the events are. Keyed by the district the record named (as
// sent), with the headers content-type and reason; idempotent producer,
// acks=all.
//
// Example:
//   ASSIGN_OR_RETURN(auto topic, DeadLetterTopic::Open(
//       {.brokers = "kafka-1:9092", .topic = "prongsai.oss.dead-letter.v1"}));
//   DeadLetterFile dead_letters("oss-dead-letter.jsonl", std::move(topic));
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

struct rd_kafka_s;

namespace prongsai::oss {

inline constexpr char kDefaultDeadLetterTopic[] = "prongsai.oss.dead-letter.v1";

struct DeadLetterTopicOptions {
  std::string brokers;  // bootstrap.servers
  std::string topic = kDefaultDeadLetterTopic;
  // How long one Publish may wait for the brokers to confirm.
  absl::Duration timeout = absl::Seconds(15);
};

// One dead letter as published: its key, the reason header and the line.
struct DeadLetterMessage {
  std::string key;
  std::string reason;
  std::string line;
};

class DeadLetterTopic {
 public:
  static absl::StatusOr<std::unique_ptr<DeadLetterTopic>> Open(
      DeadLetterTopicOptions options);
  ~DeadLetterTopic();
  DeadLetterTopic(const DeadLetterTopic&) = delete;
  DeadLetterTopic& operator=(const DeadLetterTopic&) = delete;

  // Publishes the messages and waits until the brokers confirmed every one;
  // UNAVAILABLE naming the topic when any was not confirmed in time.
  absl::Status Publish(const std::vector<DeadLetterMessage>& messages);

  const std::string& topic() const { return options_.topic; }

 private:
  explicit DeadLetterTopic(DeadLetterTopicOptions options)
      : options_(std::move(options)) {}

  DeadLetterTopicOptions options_;
  rd_kafka_s* producer_ = nullptr;
};

}  // namespace prongsai::oss

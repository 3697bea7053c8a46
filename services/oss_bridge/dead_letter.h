// The dead-letter file: records the bridge could not land, one JSON object
// per line with the record as it was sent and why it was refused, so that
// nothing is dropped silently and an operator can fix and re-send them. With
// a dead-letter topic, the same lines are also published to Kafka.
//
//   {"at":"2025-01-07T03:12:09Z","source":"export.csv:17","index":17,
//    "reason":"agency_responsible: unknown district \"Bang Kapi East\"; ...",
//    "record":{"service_request_id":"OSS-2568-000123", ...}}
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/oss_bridge/dead_letter_topic.h"

namespace prongsai::oss {

struct DeadLetter {
  // Where the record came from: "webhook", "grpc", "FILE:LINE".
  std::string source;
  // Its index in the batch (webhook, gRPC) or its line (import).
  uint64_t index = 0;
  std::string reason;
  // The record as sent: an object, or the raw text when it did not parse.
  nlohmann::json record;
};

class DeadLetterFile {
 public:
  // Appends to `path` (created when missing) and, when `topic` is set,
  // publishes to it too.
  explicit DeadLetterFile(std::string path,
                          std::unique_ptr<DeadLetterTopic> topic = nullptr);

  // Appends the entries and syncs the file, then publishes them to the topic
  // and waits for the brokers; UNAVAILABLE naming the file or the topic when
  // either fails (the batch is then not acknowledged, and sending it again
  // is safe). Safe to call from several threads.
  absl::Status Write(const std::vector<DeadLetter>& entries, absl::Time at);

  const std::string& path() const { return path_; }
  // The topic's name, or "" without one.
  std::string topic() const { return topic_ ? topic_->topic() : ""; }

 private:
  const std::string path_;
  const std::unique_ptr<DeadLetterTopic> topic_;
  absl::Mutex mu_;
};

}  // namespace prongsai::oss

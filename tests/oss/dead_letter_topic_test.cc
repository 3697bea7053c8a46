// Dead letters reach the Kafka topic as well as the file: the same lines,
// keyed by the district as sent, with the reason in a header; and a topic
// the brokers do not confirm fails the write loudly, after the file has the
// lines.
#include <librdkafka/rdkafka.h>

#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "core/log/kafka_dev.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "services/oss_bridge/dead_letter.h"
#include "services/oss_bridge/dead_letter_topic.h"
#include "tests/testing/testing.h"

namespace prongsai::oss {
namespace {

using ::testing::HasSubstr;

struct Consumed {
  std::string key;
  std::string value;
  std::map<std::string, std::string> headers;
};

// Reads `count` messages of partition 0 of `topic` from the start.
std::vector<Consumed> Consume(const std::string& brokers,
                              const std::string& topic, size_t count) {
  char error[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), error,
                    sizeof(error));
  rd_kafka_conf_set(conf, "group.id", "dead-letter-test", error,
                    sizeof(error));
  rd_kafka_t* consumer =
      rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof(error));
  EXPECT_NE(consumer, nullptr) << error;
  if (consumer == nullptr) {
    return {};
  }
  rd_kafka_topic_partition_list_t* partitions =
      rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(partitions, topic.c_str(), 0)->offset =
      RD_KAFKA_OFFSET_BEGINNING;
  rd_kafka_assign(consumer, partitions);
  rd_kafka_topic_partition_list_destroy(partitions);
  std::vector<Consumed> out;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (out.size() < count && absl::Now() < deadline) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 200);
    if (m == nullptr) {
      continue;
    }
    if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      Consumed c;
      c.key.assign(static_cast<const char*>(m->key), m->key_len);
      c.value.assign(static_cast<const char*>(m->payload), m->len);
      rd_kafka_headers_t* headers = nullptr;
      if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        const char* name;
        const void* value;
        size_t size;
        for (size_t i = 0;
             rd_kafka_header_get_all(headers, i, &name, &value, &size) ==
             RD_KAFKA_RESP_ERR_NO_ERROR;
             ++i) {
          c.headers[name].assign(static_cast<const char*>(value), size);
        }
      }
      out.push_back(std::move(c));
    }
    rd_kafka_message_destroy(m);
  }
  rd_kafka_consumer_close(consumer);
  rd_kafka_destroy(consumer);
  return out;
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

std::vector<DeadLetter> TwoDeadLetters() {
  return {{.source = "webhook",
           .index = 0,
           .reason = "agency_responsible: unknown district \"Atlantis\"",
           .record = {{"service_request_id", "R-1"},
                      {"agency_responsible", "Atlantis"}}},
          {.source = "webhook",
           .index = 3,
           .reason = "not JSON",
           .record = "{\"a"}};
}

TEST(DeadLetterTopicTest, PublishesTheSameLinesAsTheFile) {
  auto cluster = log::KafkaDevCluster::Start(3);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic(kDefaultDeadLetterTopic, 1).ok());
  auto topic =
      DeadLetterTopic::Open({.brokers = (*cluster)->bootstrap_servers()});
  ASSERT_TRUE(topic.ok()) << topic.status();
  prongsai::testing::TempDir dir;
  DeadLetterFile dead_letters(dir.Sub("dead.jsonl"), std::move(*topic));
  EXPECT_EQ(dead_letters.topic(), kDefaultDeadLetterTopic);
  const absl::Status written = dead_letters.Write(TwoDeadLetters(), absl::Now());
  ASSERT_TRUE(written.ok()) << written;

  const std::vector<std::string> lines = Lines(dead_letters.path());
  ASSERT_EQ(lines.size(), 2u);
  const std::vector<Consumed> consumed =
      Consume((*cluster)->bootstrap_servers(), kDefaultDeadLetterTopic, 2);
  ASSERT_EQ(consumed.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(consumed[i].value, lines[i]);
    EXPECT_EQ(consumed[i].headers.at("content-type"), "application/json");
  }
  EXPECT_EQ(consumed[0].key, "Atlantis");
  EXPECT_THAT(consumed[0].headers.at("reason"), HasSubstr("unknown district"));
  EXPECT_EQ(consumed[1].key, "");
  EXPECT_EQ(consumed[1].headers.at("reason"), "not JSON");
}

TEST(DeadLetterTopicTest, UnconfirmedPublishFailsAfterTheFileHasTheLines) {
  auto cluster = log::KafkaDevCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  ASSERT_TRUE((*cluster)->CreateTopic(kDefaultDeadLetterTopic, 1, 1).ok());
  auto topic = DeadLetterTopic::Open({.brokers = (*cluster)->bootstrap_servers(),
                                      .timeout = absl::Seconds(2)});
  ASSERT_TRUE(topic.ok()) << topic.status();
  ASSERT_TRUE(
      (*cluster)->SetBrokerDown(log::KafkaDevCluster::kAllBrokers).ok());
  prongsai::testing::TempDir dir;
  DeadLetterFile dead_letters(dir.Sub("dead.jsonl"), std::move(*topic));
  const absl::Status status = dead_letters.Write(TwoDeadLetters(), absl::Now());
  EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  EXPECT_THAT(status.message(), HasSubstr(kDefaultDeadLetterTopic));
  EXPECT_EQ(Lines(dead_letters.path()).size(), 2u);
}

TEST(DeadLetterTopicTest, OpenNamesWhatIsMissing) {
  EXPECT_THAT(DeadLetterTopic::Open({}).status().message(),
              HasSubstr("brokers"));
}

}  // namespace
}  // namespace prongsai::oss

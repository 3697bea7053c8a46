// Ingest shards on Kafka, as deploy/k8s runs them (one ingest per shard):
// each serve process writes only the streams of its shard, refuses the
// others per append and keeps serving, and only the owner of the city stream
// publishes the reference data.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <string>

#include "absl/strings/str_cat.h"
#include "core/domain/reference.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/server/server.h"
#include "tests/kafka/kafka_testing.h"

namespace prongsai {
namespace {

class ShardsTest : public testing::KafkaTest {
 protected:
  static constexpr int kShards = 2;

  void SetUp() override {
    KafkaTest::SetUp();
    for (int shard = 0; shard < kShards; ++shard) {
      server::ServerOptions options;
      options.data_dir = dir_.Sub(absl::StrCat("ingest-", shard));
      options.listen = "127.0.0.1:0";
      options.http_listen = "";
      options.roles = {"ingest"};
      options.log = "kafka";
      options.kafka_brokers = cluster_->bootstrap_servers();
      options.kafka_topic = topic_;
      options.kafka_shard = shard;
      options.kafka_shards = kShards;
      auto server = server::Server::Start(options);
      ASSERT_TRUE(server.ok()) << "shard " << shard << ": " << server.status();
      stubs_.push_back(v1::Ledger::NewStub(grpc::CreateChannel(
          absl::StrCat("127.0.0.1:", (*server)->port()),
          grpc::InsecureChannelCredentials())));
      servers_.push_back(std::move(*server));
    }
  }

  void TearDown() override {
    for (auto& server : servers_) {
      server->Shutdown();
    }
  }

  grpc::Status Append(int shard, const std::string& stream,
                      v1::AppendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(20));
    return stubs_[shard]->Append(
        &context, testing::MeetingsRequest(stream, 3, stream), response);
  }

  // A district whose owner is `shard`.
  static std::string DistrictOf(int shard) {
    for (const domain::District& district : domain::Districts()) {
      if (log::OwnerShard(district.code, kShards) == shard) {
        return district.code;
      }
    }
    return "";
  }

  std::vector<std::unique_ptr<server::Server>> servers_;
  std::vector<std::unique_ptr<v1::Ledger::Stub>> stubs_;
};

TEST_F(ShardsTest, EachIngestWritesItsShardAndRefusesTheOthers) {
  const int owner = log::OwnerShard("1045", kShards);
  const int other = 1 - owner;
  v1::AppendResponse response;

  grpc::Status refused = Append(other, "1045", &response);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.error_message().find(
                absl::StrCat("belongs to shard ", owner)),
            std::string::npos)
      << refused.error_message();

  // The refusal stopped nothing: the same ingest writes its own streams.
  const std::string own = DistrictOf(other);
  ASSERT_FALSE(own.empty());
  grpc::Status written = Append(other, own, &response);
  EXPECT_TRUE(written.ok()) << written.error_message();
  EXPECT_EQ(response.sequences_size(), 3);
  written = Append(owner, "1045", &response);
  EXPECT_TRUE(written.ok()) << written.error_message();

  // Every reader sees both shards' streams, and the reference data once.
  testing::LogContents contents = ReadTopicAfresh();
  EXPECT_EQ(contents.heads["1045"], 3u);
  EXPECT_EQ(contents.heads[own], 3u);
  EXPECT_EQ(contents.heads[std::string(domain::kCityStream)],
            domain::Districts().size() + domain::ShippedFrameworks().size());
  for (const auto& [id, count] : contents.event_counts) {
    EXPECT_EQ(count, 1) << id;
  }
}

}  // namespace
}  // namespace prongsai

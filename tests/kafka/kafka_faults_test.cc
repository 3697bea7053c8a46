// The Kafka log under broker faults, injected with the mock cluster: after
// each, every acknowledged event is in the log exactly once, every chain
// verifies, and no append was reported as a success that the brokers did not
// confirm.
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include "core/log/kafka_log.h"
#include "tests/kafka/kafka_testing.h"

namespace prongsai::testing {
namespace {

using log::KafkaApi;
using log::KafkaDevCluster;

class KafkaFaultTest : public KafkaTest {
 protected:
  // What a server does after a failed write: drop the stopped ingest, settle
  // the log, recover a new ingest from it.
  std::unique_ptr<ingest::Ingestor> Restart(
      std::unique_ptr<ingest::Ingestor> old, log::KafkaEventLog& log) {
    old.reset();
    const absl::Status recovered = log.Recover(absl::Seconds(30));
    EXPECT_TRUE(recovered.ok()) << recovered;
    return StartIngest(&log);
  }

  // Appends `request` until it is acknowledged, restarting the ingest after
  // each failure; every failure must be UNAVAILABLE.
  void AppendUntilAcknowledged(std::unique_ptr<ingest::Ingestor>& ingestor,
                               log::KafkaEventLog& log,
                               const v1::AppendRequest& request) {
    absl::Status last;
    for (int attempt = 0; attempt < 5; ++attempt) {
      absl::StatusOr<v1::AppendResponse> response = Append(*ingestor, request);
      if (response.ok()) {
        return;
      }
      last = response.status();
      EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable)
          << response.status();
      ingestor = Restart(std::move(ingestor), log);
      ASSERT_NE(ingestor, nullptr);
    }
    ADD_FAILURE() << "the append was never acknowledged: " << last;
  }

  void ExpectLogIntact(log::KafkaEventLog& log) {
    const absl::Status caught_up = log.CatchUp(absl::Seconds(20));
    ASSERT_TRUE(caught_up.ok()) << caught_up;
    ExpectAcknowledgedOnce(VerifyLog(log));
    ExpectAcknowledgedOnce(ReadTopicAfresh());
  }
};

TEST_F(KafkaFaultTest, BrokersDownFailsWithinTheBoundThenWritesResume) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 3, "before")).ok());

  ASSERT_TRUE(cluster_->SetBrokerDown(KafkaDevCluster::kAllBrokers).ok());
  const v1::AppendRequest during = MeetingsRequest("1045", 3, "during");
  const absl::Time start = absl::Now();
  absl::StatusOr<v1::AppendResponse> failed = Append(*ingestor, during);
  const absl::Duration took = absl::Now() - start;
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  // The bound is 2 s; the slack covers a slow machine, not a retry loop.
  EXPECT_LT(took, absl::Seconds(4)) << took;
  // While the brokers are away no write succeeds, on this ingest or a new one.
  absl::StatusOr<v1::AppendResponse> again =
      Append(*ingestor, MeetingsRequest("1001", 1, "during"));
  EXPECT_EQ(again.status().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(cluster_->SetBrokerUp(KafkaDevCluster::kAllBrokers).ok());
  ingestor = Restart(std::move(ingestor), *log);
  ASSERT_NE(ingestor, nullptr);
  EXPECT_TRUE(log->WriterStatus().ok()) << log->WriterStatus();
  absl::StatusOr<v1::AppendResponse> retried = Append(*ingestor, during);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->sequences(0), 4u);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1001", 2, "after")).ok());
  ExpectLogIntact(*log);
}

// Produce errors the brokers report while they stay up: the producer retries
// them within the write bound (idempotently: never a duplicate), so every
// append is acknowledged.
TEST_F(KafkaFaultTest, InjectedProduceErrorsAreRetriedWithoutDuplicates) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  struct Case {
    const char* name;
    std::vector<int> errors;
  };
  const std::vector<Case> cases = {
      {"not leader", {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION}},
      {"request timed out", {RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT}},
      {"not enough replicas",
       {RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND}},
      {"leader not available", {RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE}},
      {"disconnect", {RD_KAFKA_RESP_ERR__TRANSPORT}},
  };
  int round = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    cluster_->PushRequestErrors(KafkaApi::kProduce, c.errors);
    absl::StatusOr<v1::AppendResponse> response =
        Append(*ingestor, MeetingsRequest("1045", 4, absl::StrCat(round++)));
    EXPECT_TRUE(response.ok()) << response.status();
  }
  ExpectLogIntact(*log);
  EXPECT_EQ(VerifyLog(*log).heads.at("1045"), 4u * cases.size());
}

// A record the brokers refuse for good fails the append (UNAVAILABLE, the
// transaction aborted, nothing stored); the client's retry after a restart is
// stored once.
TEST_F(KafkaFaultTest, RefusedRecordFailsTheAppendAndTheRetryLands) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 2, "before")).ok());

  cluster_->PushRequestErrors(KafkaApi::kProduce,
                              {RD_KAFKA_RESP_ERR_INVALID_RECORD});
  const v1::AppendRequest request = MeetingsRequest("1045", 3, "refused");
  absl::StatusOr<v1::AppendResponse> failed = Append(*ingestor, request);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(log->WriterStatus().ok()) << log->WriterStatus();

  ingestor = Restart(std::move(ingestor), *log);
  ASSERT_NE(ingestor, nullptr);
  AppendUntilAcknowledged(ingestor, *log, request);
  ExpectLogIntact(*log);
}

TEST_F(KafkaFaultTest, InjectedFetchErrorsDelayReadersButLoseNothing) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  for (const std::string stream : {"1045", "1001", "1020", "1050"}) {
    ASSERT_TRUE(Append(*ingestor, MeetingsRequest(stream, 5, stream)).ok());
  }
  cluster_->PushRequestErrors(
      KafkaApi::kFetch,
      {RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
       RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, RD_KAFKA_RESP_ERR__TRANSPORT,
       RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT});
  const LogContents fresh = ReadTopicAfresh();
  EXPECT_EQ(fresh.records, 20u);
  ExpectAcknowledgedOnce(fresh);
}

TEST_F(KafkaFaultTest, LeaderMovedMidStream) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  for (int round = 0; round < 4; ++round) {
    SCOPED_TRACE(round);
    for (const std::string stream : {"1045", "1001", "1050"}) {
      absl::StatusOr<v1::AppendResponse> response =
          Append(*ingestor, MeetingsRequest(stream, 3, absl::StrCat(round)));
      ASSERT_TRUE(response.ok()) << response.status();
    }
    // Every partition gets a new leader between rounds.
    for (int partition = 0; partition < kPartitions; ++partition) {
      ASSERT_TRUE(cluster_
                      ->SetPartitionLeader(topic_, partition,
                                           (partition + round) % 3 + 1)
                      .ok());
    }
  }
  ExpectLogIntact(*log);
  EXPECT_EQ(VerifyLog(*log).records, 36u);
}

TEST_F(KafkaFaultTest, RoundTripDelay) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);

  // A slow network within the bound: appends are slower, not failed.
  ASSERT_TRUE(cluster_
                  ->SetRoundTripTime(KafkaDevCluster::kAllBrokers,
                                     absl::Milliseconds(150))
                  .ok());
  const absl::Time start = absl::Now();
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 3, "slow")).ok());
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(150));

  // Slower than the bound: UNAVAILABLE in time, never a false success.
  ASSERT_TRUE(
      cluster_->SetRoundTripTime(KafkaDevCluster::kAllBrokers, absl::Seconds(3))
          .ok());
  const v1::AppendRequest stalled = MeetingsRequest("1045", 3, "stalled");
  const absl::Time stalled_start = absl::Now();
  absl::StatusOr<v1::AppendResponse> failed = Append(*ingestor, stalled);
  EXPECT_LT(absl::Now() - stalled_start, absl::Seconds(4));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  // The commit was sent and not answered: until the brokers answer, this
  // writer cannot know the outcome and says so.
  EXPECT_EQ(log->WriterStatus().code(), absl::StatusCode::kUnavailable);

  ASSERT_TRUE(
      cluster_
          ->SetRoundTripTime(KafkaDevCluster::kAllBrokers, absl::ZeroDuration())
          .ok());
  ingestor = Restart(std::move(ingestor), *log);
  ASSERT_NE(ingestor, nullptr);
  EXPECT_TRUE(log->WriterStatus().ok()) << log->WriterStatus();
  AppendUntilAcknowledged(ingestor, *log, stalled);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 1, "after")).ok());
  ExpectLogIntact(*log);
}

struct FencingCase {
  const char* name;
  KafkaApi api;
  rd_kafka_resp_err_t error;
};

void PrintTo(const FencingCase& c, std::ostream* out) { *out << c.name; }

class KafkaFencingTest : public KafkaFaultTest,
                         public ::testing::WithParamInterface<FencingCase> {};

// The errors a producer receives once another instance took over its
// transactional id. The mock does not fence by itself, so they are injected.
TEST_P(KafkaFencingTest, FencedInstanceStopsAndAnswersRetryably) {
  std::unique_ptr<log::KafkaEventLog> log = Open("a");
  ASSERT_NE(log, nullptr);
  std::unique_ptr<ingest::Ingestor> ingestor = StartIngest(log.get());
  ASSERT_NE(ingestor, nullptr);
  ASSERT_TRUE(Append(*ingestor, MeetingsRequest("1045", 2, "before")).ok());

  cluster_->PushRequestErrors(GetParam().api, {GetParam().error});
  const v1::AppendRequest request = MeetingsRequest("1045", 3, "fenced");
  absl::StatusOr<v1::AppendResponse> failed = Append(*ingestor, request);
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(failed.status().message().find("fenced"), absl::string_view::npos)
      << failed.status();
  EXPECT_EQ(log->WriterStatus().code(), absl::StatusCode::kUnavailable);

  // The instance stays stopped: a recovered ingest on it writes nothing.
  ingestor = Restart(std::move(ingestor), *log);
  ASSERT_NE(ingestor, nullptr);
  absl::StatusOr<v1::AppendResponse> refused =
      Append(*ingestor, MeetingsRequest("1001", 1, "after"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("fenced"), absl::string_view::npos)
      << refused.status();

  // The instance that took over the shard answers the client's retry.
  std::unique_ptr<log::KafkaEventLog> successor = Open("b");
  ASSERT_NE(successor, nullptr);
  EXPECT_EQ(successor->transactional_id(), log->transactional_id());
  std::unique_ptr<ingest::Ingestor> next = StartIngest(successor.get());
  ASSERT_NE(next, nullptr);
  absl::StatusOr<v1::AppendResponse> retried = Append(*next, request);
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->sequences(0), 3u);
  ASSERT_TRUE(Append(*next, MeetingsRequest("1001", 1, "after")).ok());
  ExpectLogIntact(*successor);
}

INSTANTIATE_TEST_SUITE_P(
    InjectedFencing, KafkaFencingTest,
    ::testing::Values(FencingCase{"EndTxnProducerFenced", KafkaApi::kEndTxn,
                                  RD_KAFKA_RESP_ERR_PRODUCER_FENCED},
                      FencingCase{"EndTxnInvalidEpoch", KafkaApi::kEndTxn,
                                  RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH},
                      FencingCase{"AddPartitionsProducerFenced",
                                  KafkaApi::kAddPartitionsToTxn,
                                  RD_KAFKA_RESP_ERR_PRODUCER_FENCED},
                      FencingCase{"AddPartitionsInvalidEpoch",
                                  KafkaApi::kAddPartitionsToTxn,
                                  RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH},
                      FencingCase{"ProduceProducerFenced", KafkaApi::kProduce,
                                  RD_KAFKA_RESP_ERR_PRODUCER_FENCED},
                      FencingCase{"ProduceInvalidEpoch", KafkaApi::kProduce,
                                  RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH}),
    [](const ::testing::TestParamInfo<FencingCase>& info) {
      return std::string(info.param.name);
    });

}  // namespace
}  // namespace prongsai::testing

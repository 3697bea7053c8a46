// The Ledger API over real gRPC on loopback: what a client in any language
// sees.
#include <arpa/inet.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "absl/synchronization/notification.h"
#include <thread>

#include "core/base/hash.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "services/server/server.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::TempDir;

class LedgerApiTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer(int max_request_bytes = 1 << 20) {
    server::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.max_request_bytes = max_request_bytes;
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server_->port()),
        grpc::InsecureChannelCredentials());
    stub_ = v1::Ledger::NewStub(channel_);
  }

  void StopServer() {
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }

  grpc::Status Append(const v1::AppendRequest& request,
                      v1::AppendResponse* response) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    return stub_->Append(&context, request, response);
  }

  v1::AppendRequest Request(const std::string& stream, int events) {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (int i = 0; i < events; ++i) {
      *request.add_events() = MeetingEvent("m" + std::to_string(i));
    }
    return request;
  }

  std::vector<v1::Entry> Read(const std::string& stream, uint64_t from = 1) {
    grpc::ClientContext context;
    v1::ReadRequest request;
    request.set_stream(stream);
    request.set_from_sequence(from);
    auto reader = stub_->Read(&context, request);
    std::vector<v1::Entry> out;
    v1::Entry entry;
    while (reader->Read(&entry)) {
      out.push_back(entry);
    }
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  // The last position in the log (the reference data on the city stream
  // comes first).
  uint64_t LogPosition() {
    grpc::ClientContext context;
    v1::GetHeadRequest request;
    request.set_stream("city");
    v1::Head head;
    EXPECT_TRUE(stub_->GetHead(&context, request, &head).ok());
    return head.log_position();
  }

  uint64_t HeadSequence(const std::string& stream) {
    grpc::ClientContext context;
    v1::GetHeadRequest request;
    request.set_stream(stream);
    v1::Head head;
    EXPECT_TRUE(stub_->GetHead(&context, request, &head).ok());
    return head.sequence();
  }

  // Sends `payload` as the body of a Ledger/Append call, bypassing the
  // client's own encoder.
  grpc::Status AppendRaw(const std::string& payload) {
    grpc::GenericStub generic(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(10));
    grpc::Slice slice(payload);
    grpc::ByteBuffer request(&slice, 1);
    grpc::ByteBuffer response;
    grpc::Status status;
    absl::Notification done;
    generic.UnaryCall(&context, "/prongsai.v1.Ledger/Append", {}, &request,
                      &response, [&](grpc::Status s) {
                        status = std::move(s);
                        done.Notify();
                      });
    done.WaitForNotification();
    return status;
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

TEST_F(LedgerApiTest, AppendThenReadBackWithTheChain) {
  v1::AppendResponse response;
  ASSERT_TRUE(Append(Request("1045", 3), &response).ok());
  EXPECT_EQ(response.head_sequence(), 3u);

  std::vector<v1::Entry> entries = Read("1045");
  ASSERT_EQ(entries.size(), 3u);
  std::string prev(32, '\0');
  for (size_t i = 0; i < entries.size(); ++i) {
    const v1::Entry& entry = entries[i];
    EXPECT_EQ(entry.record().sequence(), i + 1);
    EXPECT_EQ(entry.record().prev_hash(), prev);
    EXPECT_EQ(std::string(AsBytes(Sha256(entry.record_bytes()))), entry.hash());
    v1::Record decoded;
    ASSERT_TRUE(decoded.ParseFromString(entry.record_bytes()));
    EXPECT_EQ(decoded.SerializeAsString(), entry.record().SerializeAsString());
    prev = entry.hash();
  }
  EXPECT_EQ(response.head_hash(), prev);
  EXPECT_EQ(Read("1045", 3).size(), 1u);
  EXPECT_EQ(HeadSequence("1045"), 3u);
}

TEST_F(LedgerApiTest, DataSurvivesARestart) {
  v1::AppendResponse response;
  ASSERT_TRUE(Append(Request("1045", 2), &response).ok());
  StopServer();
  StartServer();
  EXPECT_EQ(Read("1045").size(), 2u);
  ASSERT_TRUE(Append(Request("1045", 1), &response).ok());
  EXPECT_EQ(response.sequences(0), 3u);
}

TEST_F(LedgerApiTest, ErrorsCarryTheGrpcCodeAndNameTheField) {
  v1::AppendResponse response;
  ASSERT_TRUE(Append(Request("1045", 1), &response).ok());

  struct Case {
    std::string name;
    v1::AppendRequest request;
    grpc::StatusCode code;
    std::string mentions;
  };
  v1::AppendRequest stale = Request("1045", 1);
  stale.set_exact(0);
  v1::AppendRequest no_payload = Request("1045", 1);
  no_payload.mutable_events(0)->clear_meeting_held();
  const std::vector<Case> cases = {
      {"unknown stream", Request("2001", 1), grpc::StatusCode::INVALID_ARGUMENT,
       "stream"},
      {"missing payload", no_payload, grpc::StatusCode::INVALID_ARGUMENT,
       "events[0].payload"},
      {"stale version", stale, grpc::StatusCode::FAILED_PRECONDITION,
       "version 1"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    grpc::Status status = Append(c.request, &response);
    EXPECT_EQ(status.error_code(), c.code) << status.error_message();
    EXPECT_NE(status.error_message().find(c.mentions), std::string::npos)
        << status.error_message();
  }
  EXPECT_EQ(HeadSequence("1045"), 1u);
}

TEST_F(LedgerApiTest, OversizeRequestIsRefusedAndTheServerStaysUp) {
  StopServer();
  StartServer(/*max_request_bytes=*/64 << 10);
  v1::AppendRequest big = Request("1045", 1);
  big.mutable_events(0)->mutable_meeting_held()->set_title(
      std::string(100 << 10, 'x'));
  v1::AppendResponse response;
  grpc::Status status = Append(big, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << status.error_message();
  EXPECT_EQ(HeadSequence("1045"), 0u);
  EXPECT_TRUE(Append(Request("1045", 1), &response).ok());
}

TEST_F(LedgerApiTest, InvalidUtf8IsRefusedNamingTheField) {
  v1::AppendRequest request = Request("1045", 1);
  std::string bytes = request.SerializeAsString();
  // Corrupt the meeting title's first Thai byte into an invalid sequence.
  const std::string title = request.events(0).meeting_held().title();
  const size_t at = bytes.find(title);
  ASSERT_NE(at, std::string::npos);
  bytes[at] = static_cast<char>(0xff);
  grpc::Status status = AppendRaw(bytes);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_NE(status.error_message().find("events[0].meeting_held.title"),
            std::string::npos)
      << status.error_message();
  EXPECT_EQ(HeadSequence("1045"), 0u);
}

TEST_F(LedgerApiTest, GarbageRequestBodyIsRefused) {
  grpc::Status status = AppendRaw(std::string("\xff\xff\xff\xff\x0f garbage", 13));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_message();
  EXPECT_NE(status.error_message().find("AppendRequest"), std::string::npos)
      << status.error_message();
  EXPECT_EQ(HeadSequence("1045"), 0u);
}

TEST_F(LedgerApiTest, GarbageBytesOnThePortLeaveTheServerUp) {
  std::mt19937 rng(42);
  for (int round = 0; round < 5; ++round) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(server_->port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    std::string junk(4096, '\0');
    for (char& c : junk) {
      c = static_cast<char>(rng());
    }
    if (round == 0) {
      junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n" + junk;
    }
    // The server may close the connection at any moment; that is fine.
    (void)!write(fd, junk.data(), junk.size());
    close(fd);
  }
  v1::AppendResponse response;
  EXPECT_TRUE(Append(Request("1045", 1), &response).ok());
}

TEST_F(LedgerApiTest, SubscribeCatchesUpThenFollowsLive) {
  const uint64_t base = LogPosition();
  EXPECT_GT(base, 50u) << "the city stream holds the 50 districts";
  v1::AppendResponse response;
  ASSERT_TRUE(Append(Request("1045", 2), &response).ok());
  ASSERT_TRUE(Append(Request("1001", 1), &response).ok());

  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.set_from_position(base + 2);
  auto reader = stub_->Subscribe(&context, request);
  v1::Entry entry;
  ASSERT_TRUE(reader->Read(&entry));
  EXPECT_EQ(entry.position(), base + 2);
  ASSERT_TRUE(reader->Read(&entry));
  EXPECT_EQ(entry.position(), base + 3);
  EXPECT_EQ(entry.record().stream(), "1001");

  std::thread writer([&] {
    v1::AppendResponse r;
    EXPECT_TRUE(Append(Request("1050", 1), &r).ok());
  });
  ASSERT_TRUE(reader->Read(&entry));
  EXPECT_EQ(entry.position(), base + 4);
  EXPECT_EQ(entry.record().stream(), "1050");
  writer.join();
  context.TryCancel();
  reader->Finish();
}

TEST_F(LedgerApiTest, SubscribeFiltersStreams) {
  const uint64_t base = LogPosition();
  v1::AppendResponse response;
  ASSERT_TRUE(Append(Request("1045", 1), &response).ok());
  ASSERT_TRUE(Append(Request("1001", 1), &response).ok());
  ASSERT_TRUE(Append(Request("1045", 1), &response).ok());
  grpc::ClientContext context;
  v1::SubscribeRequest request;
  request.add_streams("1045");
  auto reader = stub_->Subscribe(&context, request);
  v1::Entry entry;
  ASSERT_TRUE(reader->Read(&entry));
  EXPECT_EQ(entry.position(), base + 1);
  ASSERT_TRUE(reader->Read(&entry));
  EXPECT_EQ(entry.position(), base + 3);
  context.TryCancel();
  reader->Finish();
}

TEST_F(LedgerApiTest, TheCityStreamHoldsTheReferenceDataOnce) {
  std::vector<v1::Entry> city = Read("city");
  int districts = 0, frameworks = 0;
  for (const v1::Entry& entry : city) {
    districts += entry.record().event().has_district_registered();
    frameworks += entry.record().event().has_framework_published();
  }
  EXPECT_EQ(districts, 50);
  EXPECT_GE(frameworks, 1);
  StopServer();
  StartServer();
  EXPECT_EQ(Read("city").size(), city.size()) << "published again on restart";
}

TEST_F(LedgerApiTest, HealthAndReflectionAreOn) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(&context, request, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(LedgerApiTest, ReadOfAnUnknownStreamIsAnError) {
  grpc::ClientContext context;
  v1::ReadRequest request;
  request.set_stream("bogus");
  auto reader = stub_->Read(&context, request);
  v1::Entry entry;
  EXPECT_FALSE(reader->Read(&entry));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

}  // namespace
}  // namespace prongsai

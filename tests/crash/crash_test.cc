// Kill -9 under load: a `prongsai serve` child takes appends from several
// client threads and is killed with SIGKILL at a random moment, several times.
// After every restart, each acknowledged event is present exactly once and
// every stream's chain verifies.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <random>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "core/base/hash.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::ServerProcess;
using ::prongsai::testing::TempDir;

constexpr int kRounds = 5;
constexpr int kClients = 4;
const std::vector<std::string> kStreams = {"1045", "1001", "1050"};

struct Ledger {
  absl::Mutex mu;
  // Event ids the server acknowledged, and with what sequence.
  absl::flat_hash_map<std::string, std::pair<std::string, uint64_t>> acked
      ABSL_GUARDED_BY(mu);
};

// Appends until the server goes away; records every acknowledged event.
void Client(const std::string& address, int seed, Ledger* ledger) {
  auto stub = v1::Ledger::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  std::mt19937 rng(seed);
  while (true) {
    v1::AppendRequest request;
    request.set_stream(kStreams[rng() % kStreams.size()]);
    const int n = 1 + static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) {
      *request.add_events() = MeetingEvent("crash", static_cast<int>(rng() % 500));
    }
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() +
                         std::chrono::seconds(5));
    v1::AppendResponse response;
    grpc::Status status = stub->Append(&context, request, &response);
    if (!status.ok()) {
      return;  // the server was killed
    }
    absl::MutexLock lock(&ledger->mu);
    for (int i = 0; i < n; ++i) {
      ledger->acked[request.events(i).event_id()] = {request.stream(),
                                                     response.sequences(i)};
    }
  }
}

// Reads every stream, checks its chain, and returns event id -> (stream,
// sequence) for all stored events, failing on any id stored twice.
absl::flat_hash_map<std::string, std::pair<std::string, uint64_t>> ReadBack(
    const std::string& address) {
  auto stub = v1::Ledger::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  absl::flat_hash_map<std::string, std::pair<std::string, uint64_t>> stored;
  for (const std::string& stream : kStreams) {
    SCOPED_TRACE(stream);
    grpc::ClientContext context;
    v1::ReadRequest request;
    request.set_stream(stream);
    auto reader = stub->Read(&context, request);
    v1::Entry entry;
    std::string prev(kHashSize, '\0');
    uint64_t expected = 1;
    while (reader->Read(&entry)) {
      EXPECT_EQ(entry.record().sequence(), expected++);
      EXPECT_EQ(entry.record().prev_hash(), prev) << "chain broken";
      EXPECT_EQ(std::string(AsBytes(Sha256(entry.record_bytes()))),
                entry.hash());
      prev = entry.hash();
      const bool inserted =
          stored
              .emplace(entry.record().event().event_id(),
                       std::make_pair(stream, entry.record().sequence()))
              .second;
      EXPECT_TRUE(inserted) << "stored twice: "
                            << entry.record().event().event_id();
    }
    EXPECT_TRUE(reader->Finish().ok());
  }
  return stored;
}

TEST(CrashTest, EveryAcknowledgedEventSurvivesSigkillExactlyOnce) {
  TempDir dir;
  Ledger ledger;
  std::mt19937 rng(std::random_device{}());
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    ServerProcess server;
    ASSERT_TRUE(server.Start(dir.Sub("data")));
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back(Client, server.address(), round * 100 + c, &ledger);
    }
    // Let load build up, then kill at a random moment.
    const size_t before = [&] {
      absl::MutexLock lock(&ledger.mu);
      return ledger.acked.size();
    }();
    ASSERT_TRUE(testing::WaitFor([&] {
      absl::MutexLock lock(&ledger.mu);
      return ledger.acked.size() > before + 50;
    }));
    absl::SleepFor(absl::Milliseconds(rng() % 300));
    server.process().Signal(SIGKILL);
    EXPECT_EQ(server.process().Wait(), 128 + SIGKILL);
    for (auto& client : clients) {
      client.join();
    }

    ServerProcess restarted;
    ASSERT_TRUE(restarted.Start(dir.Sub("data")));
    auto stored = ReadBack(restarted.address());
    absl::MutexLock lock(&ledger.mu);
    for (const auto& [id, where] : ledger.acked) {
      auto it = stored.find(id);
      ASSERT_NE(it, stored.end()) << "acknowledged event lost: " << id;
      EXPECT_EQ(it->second, where) << "acknowledged event moved: " << id;
    }
    restarted.process().Signal(SIGTERM);
    EXPECT_EQ(restarted.process().Wait(), 0);
  }
  absl::MutexLock lock(&ledger.mu);
  EXPECT_GT(ledger.acked.size(), static_cast<size_t>(kRounds * 50));
}

}  // namespace
}  // namespace prongsai

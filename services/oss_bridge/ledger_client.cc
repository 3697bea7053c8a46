#include "services/oss_bridge/ledger_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/synchronization/mutex.h"
#include "prongsai/v1/ledger.grpc.pb.h"

namespace prongsai::oss {
namespace {

class GrpcLedgerClient final : public LedgerClient {
 public:
  GrpcLedgerClient(std::shared_ptr<grpc::Channel> channel,
                   const GrpcLedgerOptions& options)
      : options_(options), stub_(v1::Ledger::NewStub(std::move(channel))) {}

  std::vector<absl::StatusOr<v1::AppendResponse>> AppendAll(
      const std::vector<const v1::AppendRequest*>& requests) override {
    const size_t n = requests.size();
    std::vector<grpc::ClientContext> contexts(n);
    std::vector<v1::AppendResponse> responses(n);
    std::vector<grpc::Status> statuses(n);
    absl::Mutex mu;
    size_t in_flight = 0;
    size_t done = 0;
    for (size_t i = 0; i < n; ++i) {
      {
        absl::MutexLock lock(&mu);
        const auto has_room = [&] {
          return in_flight < static_cast<size_t>(options_.max_in_flight);
        };
        mu.Await(absl::Condition(&has_room));
        ++in_flight;
      }
      contexts[i].set_deadline(std::chrono::system_clock::now() +
                               absl::ToChronoMilliseconds(options_.timeout));
      stub_->async()->Append(&contexts[i], requests[i], &responses[i],
                             [&, i](grpc::Status status) {
                               absl::MutexLock lock(&mu);
                               statuses[i] = std::move(status);
                               --in_flight;
                               ++done;
                             });
    }
    {
      absl::MutexLock lock(&mu);
      const auto all_done = [&] { return done == n; };
      mu.Await(absl::Condition(&all_done));
    }
    std::vector<absl::StatusOr<v1::AppendResponse>> out;
    out.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      if (statuses[i].ok()) {
        out.push_back(std::move(responses[i]));
      } else {
        out.push_back(absl::Status(
            static_cast<absl::StatusCode>(statuses[i].error_code()),
            statuses[i].error_message()));
      }
    }
    return out;
  }

 private:
  const GrpcLedgerOptions options_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
};

}  // namespace

std::unique_ptr<LedgerClient> NewGrpcLedgerClient(
    const std::string& address, const GrpcLedgerOptions& options) {
  return std::make_unique<GrpcLedgerClient>(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()),
      options);
}

std::unique_ptr<LedgerClient> NewGrpcLedgerClient(
    std::shared_ptr<grpc::Channel> channel, const GrpcLedgerOptions& options) {
  return std::make_unique<GrpcLedgerClient>(std::move(channel), options);
}

}  // namespace prongsai::oss

#include "services/cli/privacy_commands.h"

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <iostream>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "prongsai/v1/privacy.grpc.pb.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
// The server never held a key of that subject.
constexpr int kExitNotFound = 3;

std::string BangkokTime(const google::protobuf::Timestamp& t) {
  static const absl::TimeZone kBangkok = absl::FixedTimeZone(7 * 3600);
  return absl::FormatTime("%Y-%m-%d %H:%M:%S +07:00",
                          absl::FromUnixSeconds(t.seconds()), kBangkok);
}

}  // namespace

const CommandSpec kEraseCommand{
    "erase",
    "Erase a data subject under the PDPA: the server destroys the subject's\n"
    "key, so every personal field sealed under it (names, contacts) can never\n"
    "be read again, and records the erasure (subject id, key ids, time,\n"
    "reason; no personal data). The stored history is unchanged: its hash\n"
    "chains and checkpoints still verify, and exports carry only ciphertext.\n"
    "Views show the fields as erased. An event that names the same subject\n"
    "id later is sealed under a new key. Erasing a subject erased before\n"
    "destroys nothing and prints the earlier erasure.\n"
    "Exit codes: 0 erased (or erased before), 1 error, 2 usage, 3 the\n"
    "server holds no key of that subject.",
    "prongsai erase --subject ID [--reason TEXT] [--server HOST:PORT]",
    {{"subject", "ID", "",
      "the data subject: Person.subject_id, or an actor id for actor names"},
     {"reason", "TEXT", "",
      "why, for the record of erasures (e.g. a request number); no personal "
      "data"},
     {"server", "HOST:PORT", "127.0.0.1:50051",
      "address of a running `prongsai serve` (its ingest role)"}}};

int RunErase(const Args& args) {
  const std::string subject = args.get("subject");
  if (subject.empty()) {
    std::cerr << "error: --subject is required\n\n" << HelpText(kEraseCommand);
    return kExitUsage;
  }
  auto stub = v1::Privacy::NewStub(Dial(args));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(30));
  v1::EraseRequest request;
  request.set_subject_id(subject);
  request.set_reason(args.get("reason"));
  v1::EraseResponse response;
  const grpc::Status status = stub->Erase(&context, request, &response);
  if (!status.ok()) {
    switch (status.error_code()) {
      case grpc::StatusCode::NOT_FOUND:
        std::cerr << "error: " << status.error_message() << "\n";
        return kExitNotFound;
      case grpc::StatusCode::UNAVAILABLE:
        std::cerr << "error: cannot reach the server at " << args.get("server")
                  << ": " << status.error_message()
                  << ". Is `prongsai serve` running there?\n";
        return kExitError;
      case grpc::StatusCode::UNIMPLEMENTED:
        std::cerr << "error: the server at " << args.get("server")
                  << " does not run the ingest role (prongsai.v1.Privacy is "
                     "not served there)\n";
        return kExitError;
      default:
        std::cerr << "error: " << status.error_message() << "\n";
        return kExitError;
    }
  }
  const v1::Erasure& erasure = response.erasure();
  if (response.already_erased()) {
    std::cout << "data subject " << erasure.subject_id()
              << " was erased before (erasure " << erasure.sequence() << ", "
              << BangkokTime(erasure.erased_at())
              << "); it holds no key now, nothing was destroyed\n";
    return 0;
  }
  std::cout << "erased data subject " << erasure.subject_id() << ": key "
            << absl::StrJoin(erasure.key_ids(), ", ") << " destroyed at "
            << BangkokTime(erasure.erased_at()) << " (erasure "
            << erasure.sequence() << ")\n";
  return 0;
}

}  // namespace prongsai::cli

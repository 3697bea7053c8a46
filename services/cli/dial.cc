#include "services/cli/dial.h"

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace prongsai::cli {

security::ClientSecurity ClientSecurityOf(const Args& args) {
  security::ClientSecurity security;
  security.tls_ca = args.get("tls-ca");
  security.tls_cert = args.get("tls-cert");
  security.tls_key = args.get("tls-key");
  security.token = args.get("token");
  if (security.token.empty() && !args.get("token-file").empty()) {
    std::ifstream in(args.get("token-file"));
    std::string token;
    if (!in || !std::getline(in, token) || token.empty()) {
      std::cerr << "error: --token-file " << args.get("token-file")
                << ": cannot read a token from it\n";
      std::exit(2);
    }
    security.token = token;
  }
  if (security.token.empty()) {
    if (const char* env = std::getenv("PRONGSAI_TOKEN"); env != nullptr) {
      security.token = env;
    }
  }
  return security;
}

std::shared_ptr<grpc::Channel> Dial(const Args& args,
                                    const std::string& address) {
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      security::Dial(address.empty() ? args.get("server") : address,
                     ClientSecurityOf(args));
  if (!channel.ok()) {
    std::cerr << "error: " << channel.status().message() << "\n";
    std::exit(2);
  }
  return *channel;
}

}  // namespace prongsai::cli

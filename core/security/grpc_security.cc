#include "core/security/grpc_security.h"

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/support/client_interceptor.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "core/base/status.h"

namespace prongsai::security {
namespace {

// Adds the bearer token to every call's initial metadata.
class TokenInterceptor final : public grpc::experimental::Interceptor {
 public:
  explicit TokenInterceptor(const std::string* value) : value_(value) {}
  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::
                PRE_SEND_INITIAL_METADATA)) {
      methods->GetSendInitialMetadata()->insert({"authorization", *value_});
    }
    methods->Proceed();
  }

 private:
  const std::string* value_;
};

class TokenInterceptorFactory final
    : public grpc::experimental::ClientInterceptorFactoryInterface {
 public:
  explicit TokenInterceptorFactory(std::string token)
      : value_(absl::StrCat("Bearer ", token)) {}
  grpc::experimental::Interceptor* CreateClientInterceptor(
      grpc::experimental::ClientRpcInfo* info) override {
    return new TokenInterceptor(&value_);
  }

 private:
  const std::string value_;
};

}  // namespace

absl::StatusOr<std::string> ReadPemFile(const std::string& path,
                                        absl::string_view what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": cannot read the file"));
  }
  std::stringstream bytes;
  bytes << in.rdbuf();
  if (bytes.str().find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " ", path, ": not a PEM file"));
  }
  return bytes.str();
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentials(
    const SecurityOptions& options) {
  if (options.tls_cert.empty()) {
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain,
                   ReadPemFile(options.tls_cert, "--tls-cert"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPemFile(options.tls_key, "--tls-key"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPemFile(options.tls_client_ca, "--tls-client-ca"));
    ssl.client_certificate_request =
        GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

namespace {

absl::StatusOr<Principal> CheckGrpc(Guard& guard,
                                    grpc::ServerContextBase& context,
                                    absl::string_view method,
                                    std::vector<std::string> districts,
                                    bool role_only) {
  std::optional<absl::string_view> authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = absl::string_view(it->second.data(), it->second.size());
  }
  const std::string peer = context.peer();
  absl::StatusOr<Principal> principal =
      guard.Check({.authorization = authorization,
                   .peer = peer,
                   .operation = method,
                   .districts = std::move(districts),
                   .role_only = role_only});
  if (!principal.ok()) {
    if (auto retry =
            principal.status().GetPayload(kRetryAfterPayload);
        retry.has_value()) {
      context.AddTrailingMetadata("retry-after-ms", std::string(*retry));
    }
  }
  return principal;
}

}  // namespace

absl::StatusOr<Principal> CheckCall(Guard& guard,
                                    grpc::ServerContextBase& context,
                                    absl::string_view method,
                                    std::vector<std::string> districts) {
  return CheckGrpc(guard, context, method, std::move(districts), false);
}

absl::StatusOr<Principal> CheckCallRole(Guard& guard,
                                        grpc::ServerContextBase& context,
                                        absl::string_view method) {
  return CheckGrpc(guard, context, method, {}, true);
}

absl::Time CallDeadline(const Guard& guard,
                        const grpc::ServerContextBase& context) {
  const absl::Time server = guard.options().clock() + guard.options().max_call;
  const auto client = context.deadline();
  if (client == std::chrono::system_clock::time_point::max()) {
    return server;
  }
  return std::min(server, absl::FromChrono(client));
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> Dial(
    const std::string& address, const ClientSecurity& security,
    const grpc::ChannelArguments& arguments) {
  if (security.tls_cert.empty() != security.tls_key.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert and --tls-key go together: give both");
  }
  if (!security.tls_cert.empty() && security.tls_ca.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert needs --tls-ca (the CA of the server's certificate)");
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (security.tls_ca.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     ReadPemFile(security.tls_ca, "--tls-ca"));
    if (!security.tls_cert.empty()) {
      ASSIGN_OR_RETURN(ssl.pem_cert_chain,
                       ReadPemFile(security.tls_cert, "--tls-cert"));
      ASSIGN_OR_RETURN(ssl.pem_private_key,
                       ReadPemFile(security.tls_key, "--tls-key"));
    }
    credentials = grpc::SslCredentials(ssl);
  }
  std::vector<std::unique_ptr<grpc::experimental::ClientInterceptorFactoryInterface>>
      interceptors;
  if (!security.token.empty()) {
    interceptors.push_back(
        std::make_unique<TokenInterceptorFactory>(security.token));
  }
  return grpc::experimental::CreateCustomChannelWithInterceptors(
      address, credentials, arguments, std::move(interceptors));
}

}  // namespace prongsai::security

// Development certificates: a local CA, a server certificate for loopback
// (and any extra host names) and a client certificate for mutual TLS, plus
// an Ed25519 key pair for signing and verifying bearer tokens. For
// development and tests; production certificates come from the city's CA.
//
// Example:
//   ASSIGN_OR_RETURN(std::vector<DevFile> files, MakeDevCertificates({.dir = "certs"}));
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace prongsai::security {

struct DevCertificateOptions {
  std::string dir;
  // Subject alternative names besides localhost, 127.0.0.1 and ::1 (DNS
  // names or IP addresses), e.g. the service names of a compose file.
  std::vector<std::string> hosts;
  int valid_days = 365;
};

struct DevFile {
  std::string path;
  std::string what;
  // False when the file was already there and kept.
  bool written = false;
};

// Writes what is missing of dir/{ca.pem, ca.key, server.pem, server.key,
// client.pem, client.key, jwt.key, jwt.pub}; keeps what exists (so a second
// run changes nothing). Private keys get mode 0600.
absl::StatusOr<std::vector<DevFile>> MakeDevCertificates(
    const DevCertificateOptions& options);

}  // namespace prongsai::security

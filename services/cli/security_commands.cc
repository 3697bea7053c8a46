#include "services/cli/security_commands.h"

#include <iostream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/security/certs.h"
#include "core/security/jwt.h"
#include "core/security/principal.h"

namespace prongsai::cli {

const CommandSpec kCertsCommand{
    "certs",
    "Make development TLS material: a local CA, a server certificate for\n"
    "localhost, 127.0.0.1 and ::1 (and --hosts), a client certificate for\n"
    "mutual TLS, and an Ed25519 key pair for bearer tokens. Files that exist\n"
    "are kept, so running it again changes nothing. Private keys are mode\n"
    "0600. For development and tests only.",
    "prongsai certs dev --out DIR [--hosts NAME,...]",
    {{"out", "DIR", "", "directory to write into (made if missing)"},
     {"hosts", "LIST", "",
      "more names or addresses for the server certificate, comma-separated "
      "(e.g. the service names of a compose file)"},
     {"days", "N", "365", "validity of the server and client certificates"}}};

int RunCerts(const Args& args) {
  if (args.positional().size() != 1 || args.positional()[0] != "dev") {
    std::cerr << "error: usage: prongsai certs dev --out DIR\n";
    return 2;
  }
  absl::StatusOr<uint64_t> days = args.GetUint("days");
  if (!days.ok()) {
    std::cerr << "error: " << days.status().message() << "\n";
    return 2;
  }
  security::DevCertificateOptions options;
  options.dir = args.get("out");
  options.hosts = absl::StrSplit(args.get("hosts"), ',', absl::SkipEmpty());
  options.valid_days = static_cast<int>(std::min<uint64_t>(*days, 100 * 365));
  absl::StatusOr<std::vector<security::DevFile>> files =
      security::MakeDevCertificates(options);
  if (!files.ok()) {
    std::cerr << "error: " << files.status().message() << "\n";
    return files.status().code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  for (const security::DevFile& file : *files) {
    std::cout << (file.written ? "wrote " : "kept  ") << file.path << "  "
              << file.what << "\n";
  }
  return 0;
}

const CommandSpec kTokenCommand{
    "token",
    "Mint a bearer token (JWT) for development and tests: EdDSA with an\n"
    "Ed25519 private key (jwt.key from `prongsai certs dev`) or HS256 with a\n"
    "shared secret file. Prints the token on standard output.",
    "prongsai token --role ROLE [--district CODE] --key FILE --issuer NAME "
    "[--ttl 8h]",
    {{"role", "ROLE", "",
      "public, district_staff, district_executive, complaint_officer, "
      "city_monitor, auditor, oss_bridge or administrator"},
     {"district", "CODE", "",
      "district 1001-1050 or city; required for district_staff, "
      "district_executive and complaint_officer, refused for the others"},
     {"subject", "NAME", "",
      "the sub claim (default: the role, with the district)"},
     {"key", "FILE", "",
      "Ed25519 private key PEM, or a file holding an HS256 secret"},
     {"issuer", "NAME", "prongsai-dev", "the iss claim; the server's --jwt-issuer"},
     {"ttl", "DURATION", "8h", "lifetime, e.g. 30m, 8h"}}};

int RunToken(const Args& args) {
  absl::StatusOr<security::Role> role = security::ParseRole(args.get("role"));
  if (!role.ok()) {
    std::cerr << "error: --role: " << role.status().message() << "\n";
    return 2;
  }
  absl::Duration ttl;
  if (!absl::ParseDuration(args.get("ttl"), &ttl) || ttl <= absl::ZeroDuration()) {
    std::cerr << "error: --ttl: \"" << args.get("ttl")
              << "\" is not a positive duration; e.g. 30m or 8h\n";
    return 2;
  }
  if (args.get("key").empty()) {
    std::cerr << "error: --key: name the signing key file\n";
    return 2;
  }
  absl::StatusOr<security::JwtKey> key =
      security::JwtKey::FromFile(args.get("key"));
  if (!key.ok()) {
    std::cerr << "error: --key: " << key.status().message() << "\n";
    return 2;
  }
  const absl::Time now = absl::Now();
  security::JwtClaims claims;
  claims.role = *role;
  claims.district = args.get("district");
  claims.subject = args.get("subject");
  if (claims.subject.empty()) {
    claims.subject = std::string(security::RoleName(*role));
    if (!claims.district.empty()) {
      claims.subject += "@" + claims.district;
    }
  }
  claims.issuer = args.get("issuer");
  claims.issued_at = now;
  claims.not_before = now;
  claims.expires = now + ttl;
  absl::StatusOr<std::string> token = security::MintJwt(claims, *key);
  if (!token.ok()) {
    std::cerr << "error: --" << token.status().message() << "\n";
    return 2;
  }
  std::cout << *token << "\n";
  return 0;
}

void WarnInsecureDev(std::ostream& out) {
  out << "\n"
         "*****************************************************************\n"
         "* WARNING: --insecure-dev. Plain TCP, no TLS; calls without a   *\n"
         "* token act as a development principal with EVERY permission.  *\n"
         "* For a development machine only; never with real data.         *\n"
         "*****************************************************************\n"
         "\n"
      << std::flush;
}

}  // namespace prongsai::cli

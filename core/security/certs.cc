#include "core/security/certs.h"

#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/status.h"
#include "core/security/jwt.h"

namespace prongsai::security {
namespace {

namespace fs = std::filesystem;

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using Cert = std::unique_ptr<X509, decltype(&X509_free)>;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL: ", what));
}

absl::StatusOr<Key> NewKey() {
  Key key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), EVP_PKEY_free);
  if (key == nullptr) {
    return OpenSslError("could not generate a P-256 key");
  }
  return key;
}

absl::Status WriteFile(const fs::path& path, absl::string_view bytes,
                       bool secret) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                        secret ? 0600 : 0644);
  if (fd < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": cannot write"));
  }
  bool ok = ::fchmod(fd, secret ? 0600 : 0644) == 0;
  size_t done = 0;
  while (ok && done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    ok = n > 0;
    done += ok ? static_cast<size_t>(n) : 0;
  }
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    return absl::InternalError(absl::StrCat(path.string(), ": write failed"));
  }
  return absl::OkStatus();
}

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, size);
}

absl::StatusOr<std::string> KeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr,
                               nullptr) != 1) {
    return OpenSslError("could not write a private key");
  }
  return BioText(bio.get());
}

absl::StatusOr<std::string> CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("could not write a certificate");
  }
  return BioText(bio.get());
}

absl::StatusOr<Key> LoadKey(const fs::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  Key key(bio == nullptr ? nullptr
                         : PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr,
                                                   nullptr),
          EVP_PKEY_free);
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": not a PEM private key"));
  }
  return key;
}

absl::StatusOr<Cert> LoadCert(const fs::path& path) {
  Bio bio(BIO_new_file(path.c_str(), "r"), BIO_free);
  Cert cert(bio == nullptr
                ? nullptr
                : PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
            X509_free);
  if (cert == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(path.string(), ": not a PEM certificate"));
  }
  return cert;
}

absl::Status AddExtension(X509* cert, X509* issuer, int nid,
                          const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, decltype(&X509_EXTENSION_free)> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()),
      X509_EXTENSION_free);
  if (ext == nullptr || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(absl::StrCat("could not add the extension ",
                                     OBJ_nid2sn(nid), "=", value));
  }
  return absl::OkStatus();
}

struct Issued {
  Cert cert{nullptr, X509_free};
  Key key{nullptr, EVP_PKEY_free};
};

// A certificate for `common_name`, signed by `issuer` (self-signed when
// null) with `extensions` (nid, value).
absl::StatusOr<Issued> Issue(
    const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
    int days, const std::vector<std::pair<int, std::string>>& extensions) {
  Issued out;
  ASSIGN_OR_RETURN(out.key, NewKey());
  out.cert.reset(X509_new());
  if (out.cert == nullptr) {
    return OpenSslError("X509_new");
  }
  X509* cert = out.cert.get();
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) {
    return OpenSslError("no random serial number");
  }
  serial[0] &= 0x7f;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> bn(
      BN_bin2bn(serial, sizeof(serial), nullptr), BN_free);
  X509_NAME* name = X509_get_subject_name(cert);
  if (X509_set_version(cert, 2) != 1 || bn == nullptr ||
      BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert)) == nullptr ||
      X509_gmtime_adj(X509_getm_notBefore(cert), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert), int64_t{days} * 86400) ==
          nullptr ||
      X509_set_pubkey(cert, out.key.get()) != 1 ||
      X509_NAME_add_entry_by_txt(
          name, "O", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>("Prongsai development"), -1,
          -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
          0) != 1 ||
      X509_set_issuer_name(cert, issuer == nullptr
                                     ? name
                                     : X509_get_subject_name(issuer)) != 1) {
    return OpenSslError("could not fill the certificate");
  }
  X509* signer = issuer == nullptr ? cert : issuer;
  for (const auto& [nid, value] : extensions) {
    RETURN_IF_ERROR(AddExtension(cert, signer, nid, value));
  }
  RETURN_IF_ERROR(AddExtension(cert, signer, NID_subject_key_identifier,
                               "hash"));
  if (issuer != nullptr) {
    RETURN_IF_ERROR(AddExtension(cert, signer, NID_authority_key_identifier,
                                 "keyid:always"));
  }
  if (X509_sign(cert, issuer_key == nullptr ? out.key.get() : issuer_key,
                EVP_sha256()) == 0) {
    return OpenSslError("could not sign the certificate");
  }
  return out;
}

bool IsIp(absl::string_view host) {
  if (host.find(':') != absl::string_view::npos) {
    return true;
  }
  for (char c : host) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) && c != '.') {
      return false;
    }
  }
  return !host.empty();
}

}  // namespace

absl::StatusOr<std::vector<DevFile>> MakeDevCertificates(
    const DevCertificateOptions& options) {
  if (options.dir.empty()) {
    return absl::InvalidArgumentError("--out: name a directory");
  }
  if (options.valid_days <= 0) {
    return absl::InvalidArgumentError("--days: must be at least 1");
  }
  std::vector<std::string> sans = {"DNS:localhost", "IP:127.0.0.1",
                                   "IP:0:0:0:0:0:0:0:1"};
  for (const std::string& host : options.hosts) {
    if (host.empty() || host.find_first_of(", \t\n") != std::string::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("--hosts: \"", host, "\" is not a host name"));
    }
    sans.push_back(absl::StrCat(IsIp(host) ? "IP:" : "DNS:", host));
  }
  const fs::path dir(options.dir);
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) {
    return absl::InvalidArgumentError(
        absl::StrCat(options.dir, ": ", error.message()));
  }
  std::vector<DevFile> files;
  auto exists = [&](const char* name) { return fs::exists(dir / name); };

  // The CA; made anew only when either half is missing, and then every
  // certificate it signs is made anew with it.
  Cert ca(nullptr, X509_free);
  Key ca_key(nullptr, EVP_PKEY_free);
  const bool new_ca = !exists("ca.pem") || !exists("ca.key");
  if (new_ca) {
    ASSIGN_OR_RETURN(
        Issued issued,
        Issue("Prongsai development CA", nullptr, nullptr, 10 * 365,
              {{NID_basic_constraints, "critical,CA:TRUE"},
               {NID_key_usage, "critical,keyCertSign,cRLSign"}}));
    ASSIGN_OR_RETURN(std::string key_pem, KeyPem(issued.key.get()));
    ASSIGN_OR_RETURN(std::string cert_pem, CertPem(issued.cert.get()));
    RETURN_IF_ERROR(WriteFile(dir / "ca.key", key_pem, true));
    RETURN_IF_ERROR(WriteFile(dir / "ca.pem", cert_pem, false));
    ca = std::move(issued.cert);
    ca_key = std::move(issued.key);
  } else {
    ASSIGN_OR_RETURN(ca, LoadCert(dir / "ca.pem"));
    ASSIGN_OR_RETURN(ca_key, LoadKey(dir / "ca.key"));
  }
  files.push_back({(dir / "ca.pem").string(),
                   "development CA certificate (--tls-ca, --tls-client-ca)",
                   new_ca});
  files.push_back({(dir / "ca.key").string(), "development CA key", new_ca});

  struct Leaf {
    const char* name;
    const char* common_name;
    const char* usage;
    const char* what;
  };
  const Leaf leaves[] = {
      {"server", "prongsai server", "serverAuth",
       "server certificate for localhost, 127.0.0.1, ::1"},
      {"client", "prongsai client", "clientAuth",
       "client certificate for mutual TLS"},
  };
  for (const Leaf& leaf : leaves) {
    const std::string pem = absl::StrCat(leaf.name, ".pem");
    const std::string key = absl::StrCat(leaf.name, ".key");
    const bool make = new_ca || !exists(pem.c_str()) || !exists(key.c_str());
    if (make) {
      std::vector<std::pair<int, std::string>> extensions = {
          {NID_basic_constraints, "critical,CA:FALSE"},
          {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
          {NID_ext_key_usage, leaf.usage}};
      if (std::string(leaf.name) == "server") {
        extensions.push_back({NID_subject_alt_name, absl::StrJoin(sans, ",")});
      } else {
        extensions.push_back({NID_subject_alt_name, "DNS:prongsai-client"});
      }
      ASSIGN_OR_RETURN(Issued issued,
                       Issue(leaf.common_name, ca.get(), ca_key.get(),
                             options.valid_days, extensions));
      ASSIGN_OR_RETURN(std::string key_pem, KeyPem(issued.key.get()));
      ASSIGN_OR_RETURN(std::string cert_pem, CertPem(issued.cert.get()));
      RETURN_IF_ERROR(WriteFile(dir / key, key_pem, true));
      RETURN_IF_ERROR(WriteFile(dir / pem, cert_pem, false));
    }
    std::string what = leaf.what;
    if (std::string(leaf.name) == "server" && !options.hosts.empty()) {
      absl::StrAppend(&what, ", ", absl::StrJoin(options.hosts, ", "));
    }
    files.push_back({(dir / pem).string(), what, make});
    files.push_back({(dir / key).string(),
                     absl::StrCat(leaf.name, " private key"), make});
  }

  // The token keys: jwt.key signs (prongsai token --key), jwt.pub verifies
  // (prongsai serve --jwt-key).
  const bool new_jwt = !exists("jwt.key") || !exists("jwt.pub");
  if (new_jwt) {
    ASSIGN_OR_RETURN(JwtKey jwt, JwtKey::GenerateEd25519());
    ASSIGN_OR_RETURN(std::string private_pem, jwt.PrivatePem());
    ASSIGN_OR_RETURN(std::string public_pem, jwt.PublicPem());
    RETURN_IF_ERROR(WriteFile(dir / "jwt.key", private_pem, true));
    RETURN_IF_ERROR(WriteFile(dir / "jwt.pub", public_pem, false));
  }
  files.push_back({(dir / "jwt.key").string(),
                   "Ed25519 token signing key (prongsai token --key)", new_jwt});
  files.push_back({(dir / "jwt.pub").string(),
                   "Ed25519 token verifying key (prongsai serve --jwt-key)",
                   new_jwt});
  return files;
}

}  // namespace prongsai::security

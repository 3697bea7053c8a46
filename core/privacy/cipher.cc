#include "core/privacy/cipher.h"

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <memory>

#include "absl/strings/str_cat.h"

namespace prongsai::privacy {
namespace {

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

absl::Status OpenSslError(absl::string_view what) {
  const unsigned long code = ERR_get_error();
  char text[256] = "unknown error";
  if (code != 0) {
    ERR_error_string_n(code, text, sizeof(text));
  }
  ERR_clear_error();
  return absl::InternalError(absl::StrCat(what, ": ", text));
}

const auto* Bytes(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

absl::Status RandomBytes(uint8_t* out, size_t size) {
  if (RAND_bytes(out, static_cast<int>(size)) != 1) {
    return OpenSslError("RAND_bytes");
  }
  return absl::OkStatus();
}

absl::StatusOr<KeyBytes> NewRandomKey() {
  KeyBytes key;
  if (absl::Status s = RandomBytes(key.data(), key.size()); !s.ok()) {
    return s;
  }
  return key;
}

absl::StatusOr<std::string> SealBox(const KeyBytes& key,
                                    absl::string_view plaintext,
                                    absl::string_view aad) {
  std::string box(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* out = reinterpret_cast<unsigned char*>(box.data());
  if (absl::Status s = RandomBytes(out, kNonceBytes); !s.ok()) {
    return s;
  }
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                         out) != 1 ||
      (!aad.empty() && EVP_EncryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out + kNonceBytes, &len, Bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          out + kNonceBytes + plaintext.size()) != 1) {
    return OpenSslError("AES-256-GCM seal");
  }
  return box;
}

absl::StatusOr<std::string> OpenBox(const KeyBytes& key, absl::string_view box,
                                    absl::string_view aad) {
  if (box.size() < kNonceBytes + kTagBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("sealed box of ", box.size(), " bytes; at least ",
                     kNonceBytes + kTagBytes, " expected"));
  }
  const size_t text_size = box.size() - kNonceBytes - kTagBytes;
  std::string plaintext(text_size, '\0');
  auto* out = reinterpret_cast<unsigned char*>(plaintext.data());
  const unsigned char* in = Bytes(box);
  // The tag is passed through a copy: EVP_CTRL_GCM_SET_TAG takes a non-const
  // pointer.
  unsigned char tag[kTagBytes];
  std::copy(in + kNonceBytes + text_size, in + box.size(), tag);
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  if (ctx == nullptr ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key.data(),
                         in) != 1 ||
      (!aad.empty() && EVP_DecryptUpdate(ctx.get(), nullptr, &len, Bytes(aad),
                                         static_cast<int>(aad.size())) != 1) ||
      EVP_DecryptUpdate(ctx.get(), out, &len, in + kNonceBytes,
                        static_cast<int>(text_size)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes, tag) !=
          1) {
    return OpenSslError("AES-256-GCM open");
  }
  if (EVP_DecryptFinal_ex(ctx.get(), out + len, &len) != 1) {
    ERR_clear_error();
    OPENSSL_cleanse(plaintext.data(), plaintext.size());
    return absl::PermissionDeniedError(
        "sealed value does not authenticate (another key, other associated "
        "data, or changed bytes)");
  }
  return plaintext;
}

void Wipe(KeyBytes& key) { OPENSSL_cleanse(key.data(), key.size()); }

void WipeString(std::string& bytes) {
  OPENSSL_cleanse(bytes.data(), bytes.size());
}

}  // namespace prongsai::privacy

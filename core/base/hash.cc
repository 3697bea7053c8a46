#include "core/base/hash.h"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace prongsai {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

struct MdDeleter {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};

// One reusable context per thread, and SHA-256 fetched once: a context or a
// fetch per hash costs more than hashing a small record.
EVP_MD_CTX* ThreadContext() {
  thread_local MdCtx ctx(EVP_MD_CTX_new());
  return ctx.get();
}

const EVP_MD* Sha256Md() {
  static const auto* md =
      new std::unique_ptr<EVP_MD, MdDeleter>(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md->get();
}

}  // namespace

Hash Sha256(absl::string_view prefix, absl::string_view data) {
  Hash out;
  EVP_MD_CTX* ctx = ThreadContext();
  unsigned int len = 0;
  // These calls fail only on allocation failure inside OpenSSL, which the
  // process cannot survive anyway.
  EVP_DigestInit_ex2(ctx, Sha256Md(), nullptr);
  EVP_DigestUpdate(ctx, prefix.data(), prefix.size());
  EVP_DigestUpdate(ctx, data.data(), data.size());
  EVP_DigestFinal_ex(ctx, out.data(), &len);
  return out;
}

Hash Sha256(absl::string_view data) { return Sha256({}, data); }

bool HashFromBytes(absl::string_view bytes, Hash* out) {
  if (bytes.size() != kHashSize) {
    return false;
  }
  std::memcpy(out->data(), bytes.data(), kHashSize);
  return true;
}

std::string HexEncode(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 0xf]);
  }
  return out;
}

}  // namespace prongsai

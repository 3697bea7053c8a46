#include "core/audit/note.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "core/base/bytes.h"
#include "core/base/files.h"
#include "core/base/hash.h"
#include "core/base/status.h"

namespace prongsai::audit {
namespace {

constexpr unsigned char kAlgEd25519 = 0x01;
// "— ": U+2014 EM DASH and a space.
constexpr absl::string_view kSignaturePrefix = "\xe2\x80\x94 ";
constexpr int kMaxSignatures = 100;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

std::shared_ptr<EVP_PKEY> WrapKey(EVP_PKEY* key) {
  return std::shared_ptr<EVP_PKEY>(key, [](EVP_PKEY* k) { EVP_PKEY_free(k); });
}

// Decodes one UTF-8 code point at `text[*i]`; false on a malformed sequence.
bool NextRune(absl::string_view text, size_t* i, uint32_t* rune) {
  const auto c = static_cast<unsigned char>(text[*i]);
  size_t len;
  uint32_t code;
  if (c < 0x80) {
    *rune = c;
    ++*i;
    return true;
  } else if ((c & 0xe0) == 0xc0) {
    len = 2;
    code = c & 0x1f;
  } else if ((c & 0xf0) == 0xe0) {
    len = 3;
    code = c & 0x0f;
  } else if ((c & 0xf8) == 0xf0) {
    len = 4;
    code = c & 0x07;
  } else {
    return false;
  }
  if (*i + len > text.size()) {
    return false;
  }
  for (size_t k = 1; k < len; ++k) {
    const auto cc = static_cast<unsigned char>(text[*i + k]);
    if ((cc & 0xc0) != 0x80) {
      return false;
    }
    code = (code << 6) | (cc & 0x3f);
  }
  if ((len == 2 && code < 0x80) || (len == 3 && code < 0x800) ||
      (len == 4 && code < 0x10000) || code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)) {
    return false;
  }
  *i += len;
  *rune = code;
  return true;
}

// Unicode White_Space, as Go's unicode.IsSpace.
bool IsUnicodeSpace(uint32_t r) {
  switch (r) {
    case '\t':
    case '\n':
    case '\v':
    case '\f':
    case '\r':
    case ' ':
    case 0x85:
    case 0xa0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202f:
    case 0x205f:
    case 0x3000:
      return true;
    default:
      return r >= 0x2000 && r <= 0x200a;
  }
}

// Text a note may carry: valid UTF-8 without control characters but '\n'.
bool IsNoteText(absl::string_view text) {
  size_t i = 0;
  uint32_t rune = 0;
  while (i < text.size()) {
    if (!NextRune(text, &i, &rune) || (rune < 0x20 && rune != '\n')) {
      return false;
    }
  }
  return true;
}

bool ParseHex32(absl::string_view text, uint32_t* out) {
  if (text.size() != 8) {
    return false;
  }
  uint32_t value = 0;
  for (char c : text) {
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return false;
    }
    value = (value << 4) | static_cast<uint32_t>(digit);
  }
  *out = value;
  return true;
}

// Splits at the first `sep`: Go's chop.
std::pair<absl::string_view, absl::string_view> Chop(absl::string_view s,
                                                     char sep) {
  const size_t i = s.find(sep);
  if (i == absl::string_view::npos) {
    return {s, absl::string_view()};
  }
  return {s.substr(0, i), s.substr(i + 1)};
}

std::string KeyIdBytes(uint32_t key_id) {
  std::string out(4, '\0');
  out[0] = static_cast<char>(key_id >> 24);
  out[1] = static_cast<char>(key_id >> 16);
  out[2] = static_cast<char>(key_id >> 8);
  out[3] = static_cast<char>(key_id);
  return out;
}

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(absl::StrCat("OpenSSL failed to ", what));
}

}  // namespace

bool IsValidKeyName(absl::string_view name) {
  if (name.empty()) {
    return false;
  }
  size_t i = 0;
  uint32_t rune = 0;
  while (i < name.size()) {
    if (!NextRune(name, &i, &rune) || IsUnicodeSpace(rune) || rune == '+') {
      return false;
    }
  }
  return true;
}

uint32_t Ed25519KeyId(absl::string_view name, absl::string_view public_key) {
  std::string input = absl::StrCat(name, "\n");
  input.push_back(static_cast<char>(kAlgEd25519));
  input.append(public_key.data(), public_key.size());
  const Hash hash = Sha256(input);
  return (uint32_t{hash[0]} << 24) | (uint32_t{hash[1]} << 16) |
         (uint32_t{hash[2]} << 8) | uint32_t{hash[3]};
}

std::string Base64Encode(absl::string_view bytes) {
  return absl::Base64Escape(bytes);
}

bool Base64Decode(absl::string_view text, std::string* out) {
  if (text.size() % 4 != 0 || !absl::Base64Unescape(text, out)) {
    return false;
  }
  // Only the canonical form: what an encoder writes for these bytes.
  return absl::Base64Escape(*out) == text;
}

// ---------------------------------------------------------------------------
// NoteVerifier

absl::StatusOr<NoteVerifier> NoteVerifier::Parse(
    absl::string_view verifier_key) {
  verifier_key = absl::StripAsciiWhitespace(verifier_key);
  auto [name, rest] = Chop(verifier_key, '+');
  auto [hash16, key64] = Chop(rest, '+');
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat("verifier key: \"", name,
                     "\" is not a key name (non-empty, no spaces, no '+')"));
  }
  uint32_t key_id = 0;
  if (!ParseHex32(hash16, &key_id)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "verifier key: expected <name>+<8 hex digits>+<base64 key>, got \"",
        verifier_key, "\""));
  }
  std::string key;
  if (!Base64Decode(key64, &key) || key.empty()) {
    return absl::InvalidArgumentError(
        "verifier key: the key part is not base64");
  }
  if (static_cast<unsigned char>(key[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(
        absl::StrFormat("verifier key: unknown algorithm %d (only 1, Ed25519)",
                        static_cast<unsigned char>(key[0])));
  }
  if (Ed25519KeyId(name, key.substr(1)) != key_id) {
    return absl::InvalidArgumentError(
        "verifier key: the key id does not match the name and key");
  }
  if (key.size() != 1 + kEd25519PublicKeySize) {
    return absl::InvalidArgumentError(
        "verifier key: an Ed25519 public key is 32 bytes");
  }
  NoteVerifier verifier;
  verifier.name_ = std::string(name);
  verifier.key_id_ = key_id;
  verifier.public_key_ = key.substr(1);
  verifier.key_ = WrapKey(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(verifier.public_key_.data()),
      verifier.public_key_.size()));
  if (verifier.key_ == nullptr) {
    return absl::InvalidArgumentError(
        "verifier key: not a valid Ed25519 public key");
  }
  return verifier;
}

std::string NoteVerifier::VerifierKey() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(public_key_);
  return absl::StrFormat("%s+%08x+%s", name_, key_id_, Base64Encode(key));
}

bool NoteVerifier::Verify(absl::string_view message,
                          absl::string_view signature) const {
  if (signature.size() != kEd25519SignatureSize) {
    return false;
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr,
                                             nullptr, key_.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(
             ctx.get(),
             reinterpret_cast<const unsigned char*>(signature.data()),
             signature.size(),
             reinterpret_cast<const unsigned char*>(message.data()),
             message.size()) == 1;
}

// ---------------------------------------------------------------------------
// NoteSigner

absl::StatusOr<NoteSigner> NoteSigner::FromSeed(absl::string_view name,
                                                absl::string_view seed) {
  if (!IsValidKeyName(name)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "\"", name, "\" is not a key name (non-empty, no spaces, no '+')"));
  }
  if (seed.size() != kEd25519SeedSize) {
    return absl::InvalidArgumentError("an Ed25519 private key is 32 bytes");
  }
  NoteSigner signer;
  signer.name_ = std::string(name);
  signer.seed_ = std::string(seed);
  signer.key_ = WrapKey(EVP_PKEY_new_raw_private_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(seed.data()), seed.size()));
  if (signer.key_ == nullptr) {
    return OpenSslError("load an Ed25519 private key");
  }
  unsigned char pub[kEd25519PublicKeySize];
  size_t pub_len = sizeof(pub);
  if (EVP_PKEY_get_raw_public_key(signer.key_.get(), pub, &pub_len) != 1 ||
      pub_len != sizeof(pub)) {
    return OpenSslError("derive an Ed25519 public key");
  }
  signer.public_key_.assign(reinterpret_cast<const char*>(pub), pub_len);
  signer.key_id_ = Ed25519KeyId(name, signer.public_key_);
  return signer;
}

absl::StatusOr<NoteSigner> NoteSigner::Parse(absl::string_view signer_key) {
  signer_key = absl::StripAsciiWhitespace(signer_key);
  auto [priv1, rest1] = Chop(signer_key, '+');
  auto [priv2, rest2] = Chop(rest1, '+');
  auto [name, rest3] = Chop(rest2, '+');
  auto [hash16, key64] = Chop(rest3, '+');
  uint32_t key_id = 0;
  std::string key;
  if (priv1 != "PRIVATE" || priv2 != "KEY" || !ParseHex32(hash16, &key_id) ||
      !Base64Decode(key64, &key) || key.empty()) {
    return absl::InvalidArgumentError(
        "signer key: expected PRIVATE+KEY+<name>+<8 hex digits>+<base64 key>");
  }
  if (static_cast<unsigned char>(key[0]) != kAlgEd25519) {
    return absl::InvalidArgumentError(
        absl::StrFormat("signer key: unknown algorithm %d (only 1, Ed25519)",
                        static_cast<unsigned char>(key[0])));
  }
  ASSIGN_OR_RETURN(NoteSigner signer, FromSeed(name, key.substr(1)));
  if (signer.key_id_ != key_id) {
    return absl::InvalidArgumentError(
        "signer key: the key id does not match the name and key");
  }
  return signer;
}

absl::StatusOr<NoteSigner> NoteSigner::Generate(absl::string_view name) {
  unsigned char seed[kEd25519SeedSize];
  if (RAND_bytes(seed, sizeof(seed)) != 1) {
    return OpenSslError("draw random bytes for a new key");
  }
  absl::StatusOr<NoteSigner> signer = FromSeed(
      name,
      absl::string_view(reinterpret_cast<const char*>(seed), sizeof(seed)));
  OPENSSL_cleanse(seed, sizeof(seed));
  return signer;
}

std::string NoteSigner::VerifierKey() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(public_key_);
  return absl::StrFormat("%s+%08x+%s", name_, key_id_, Base64Encode(key));
}

std::string NoteSigner::SignerKey() const {
  std::string key(1, static_cast<char>(kAlgEd25519));
  key.append(seed_);
  return absl::StrFormat("PRIVATE+KEY+%s+%08x+%s", name_, key_id_,
                         Base64Encode(key));
}

NoteVerifier NoteSigner::Verifier() const {
  // The key text was made from a valid key, so it parses.
  return *NoteVerifier::Parse(VerifierKey());
}

absl::StatusOr<std::string> NoteSigner::SignBytes(
    absl::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  if (ctx == nullptr || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr,
                                           key_.get()) != 1) {
    return OpenSslError("start an Ed25519 signature");
  }
  unsigned char signature[kEd25519SignatureSize];
  size_t len = sizeof(signature);
  if (EVP_DigestSign(ctx.get(), signature, &len,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) != 1 ||
      len != sizeof(signature)) {
    return OpenSslError("make an Ed25519 signature");
  }
  return std::string(reinterpret_cast<const char*>(signature), len);
}

absl::StatusOr<std::string> NoteSigner::Sign(absl::string_view text) const {
  if (text.empty() || text.back() != '\n' || !IsNoteText(text)) {
    return absl::InvalidArgumentError(
        "note text must be UTF-8 lines, each ending in a newline, without "
        "control characters");
  }
  ASSIGN_OR_RETURN(std::string signature, SignBytes(text));
  return absl::StrCat(text, "\n", kSignaturePrefix, name_, " ",
                      Base64Encode(KeyIdBytes(key_id_) + signature), "\n");
}

// ---------------------------------------------------------------------------
// Opening notes

absl::StatusOr<Note> OpenNote(absl::string_view message,
                              absl::Span<const NoteVerifier> known) {
  if (!IsNoteText(message)) {
    return absl::InvalidArgumentError(
        "malformed note: not UTF-8 text without control characters");
  }
  const size_t split = message.rfind("\n\n");
  if (split == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        "malformed note: no blank line before the signatures");
  }
  Note note;
  note.text = std::string(message.substr(0, split + 1));
  absl::string_view sigs = message.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return absl::InvalidArgumentError(
        "malformed note: the signature lines must end in a newline");
  }

  absl::flat_hash_set<std::pair<std::string, uint32_t>> seen;
  absl::flat_hash_set<std::string> seen_unverified;
  int count = 0;
  while (!sigs.empty()) {
    const size_t end = sigs.find('\n');
    absl::string_view line = sigs.substr(0, end);
    sigs.remove_prefix(end + 1);
    if (!absl::StartsWith(line, kSignaturePrefix)) {
      return absl::InvalidArgumentError(
          "malformed note: a signature line must start with \"— \"");
    }
    line.remove_prefix(kSignaturePrefix.size());
    auto [name, b64] = Chop(line, ' ');
    std::string sig;
    if (!IsValidKeyName(name) || b64.empty() || !Base64Decode(b64, &sig) ||
        sig.size() < 5) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed note: bad signature line \"— ", line, "\""));
    }
    if (++count > kMaxSignatures) {
      return absl::InvalidArgumentError(
          "malformed note: more than 100 signatures");
    }
    const uint32_t key_id =
        (uint32_t{static_cast<unsigned char>(sig[0])} << 24) |
        (uint32_t{static_cast<unsigned char>(sig[1])} << 16) |
        (uint32_t{static_cast<unsigned char>(sig[2])} << 8) |
        uint32_t{static_cast<unsigned char>(sig[3])};
    const NoteVerifier* verifier = nullptr;
    int matches = 0;
    for (const NoteVerifier& v : known) {
      if (v.name() == name && v.key_id() == key_id) {
        verifier = &v;
        ++matches;
      }
    }
    if (matches > 1) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "ambiguous key %s+%08x: given more than once", name, key_id));
    }
    if (verifier == nullptr) {
      if (seen_unverified.insert(std::string(line)).second) {
        note.unverified.push_back(
            {std::string(name), key_id, std::string(b64)});
      }
      continue;
    }
    if (!seen.insert({std::string(name), key_id}).second) {
      continue;
    }
    if (!verifier->Verify(note.text, absl::string_view(sig).substr(4))) {
      return absl::UnauthenticatedError(
          absl::StrFormat("invalid signature for key %s+%08x", name, key_id));
    }
    note.verified.push_back({std::string(name), key_id, std::string(b64)});
  }
  if (note.verified.empty()) {
    std::vector<std::string> signers;
    for (const NoteSignature& s : note.unverified) {
      signers.push_back(absl::StrFormat("%s+%08x", s.name, s.key_id));
    }
    return absl::UnauthenticatedError(
        absl::StrCat("the note has no signature from a known key (signed by ",
                     absl::StrJoin(signers, ", "), ")"));
  }
  return note;
}

// ---------------------------------------------------------------------------
// Key files

absl::Status WriteSignerKeyFile(const std::string& path,
                                const NoteSigner& signer) {
  const std::filesystem::path file(path);
  if (file.has_parent_path()) {
    std::error_code error;
    std::filesystem::create_directories(file.parent_path(), error);
    if (error) {
      return absl::InvalidArgumentError(absl::StrCat(
          "cannot create the directory of ", path, ": ", error.message()));
    }
  }
  RETURN_IF_ERROR(WriteNewPrivateFile(path, signer.SignerKey() + "\n"));
  std::ofstream pub(path + ".pub", std::ios::trunc);
  pub << signer.VerifierKey() << "\n";
  if (!pub.flush()) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path, ".pub"));
  }
  return absl::OkStatus();
}

absl::StatusOr<NoteSigner> ReadSignerKeyFile(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat("no key file at ", path));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "the signing key %s can be read by others (mode %04o); run: chmod 600 "
        "%s",
        path, info.st_mode & 07777, path));
  }
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    return absl::UnavailableError(absl::StrCat("cannot read ", path));
  }
  absl::StatusOr<NoteSigner> signer = NoteSigner::Parse(text.str());
  if (!signer.ok()) {
    return Annotate(signer.status(), path);
  }
  return signer;
}

absl::StatusOr<NoteSigner> LoadOrCreateSignerKey(const std::string& path,
                                                 absl::string_view name,
                                                 bool* created) {
  if (created != nullptr) {
    *created = false;
  }
  absl::StatusOr<NoteSigner> existing = ReadSignerKeyFile(path);
  if (existing.ok() || !absl::IsNotFound(existing.status())) {
    return existing;
  }
  ASSIGN_OR_RETURN(NoteSigner signer, NoteSigner::Generate(name));
  absl::Status written = WriteSignerKeyFile(path, signer);
  if (absl::IsAlreadyExists(written)) {
    // Another process made it first: use that one.
    return ReadSignerKeyFile(path);
  }
  RETURN_IF_ERROR(written);
  if (created != nullptr) {
    *created = true;
  }
  return signer;
}

}  // namespace prongsai::audit

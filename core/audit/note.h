// C2SP signed notes with Ed25519 keys, byte for byte as Go's
// golang.org/x/mod/sumdb/note writes and reads them.
//
// A note is UTF-8 text of lines each ending in '\n', a blank line, and one or
// more signature lines:
//   — <key name> <base64(key id || Ed25519 signature of the text)>
// Key forms:
//   verifier key  <name>+<hex8 key id>+<base64(0x01 || public key)>
//   signer key    PRIVATE+KEY+<name>+<hex8 key id>+<base64(0x01 || seed)>
// where key id = the first 4 bytes (big-endian) of
// SHA-256(name || 0x0A || 0x01 || public key).
//
// Example:
//   ASSIGN_OR_RETURN(NoteSigner signer,
//                    LoadOrCreateSignerKey(path, "prongsai"));
//   ASSIGN_OR_RETURN(std::string note, signer.Sign("prongsai/1045\n3\n...\n"));
//   ASSIGN_OR_RETURN(NoteVerifier key,
//                    NoteVerifier::Parse(signer.VerifierKey()));
//   ASSIGN_OR_RETURN(Note opened, OpenNote(note, {key}));
#pragma once

#include <openssl/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace prongsai::audit {

inline constexpr size_t kEd25519SeedSize = 32;
inline constexpr size_t kEd25519PublicKeySize = 32;
inline constexpr size_t kEd25519SignatureSize = 64;

// A key name: non-empty UTF-8 without spaces or '+'.
bool IsValidKeyName(absl::string_view name);

// key id = SHA-256(name || "\n" || 0x01 || public key)[0:4], big-endian.
uint32_t Ed25519KeyId(absl::string_view name, absl::string_view public_key);

// Standard base64 (RFC 4648 section 4, padded); decoding accepts only the
// canonical encoding.
std::string Base64Encode(absl::string_view bytes);
bool Base64Decode(absl::string_view text, std::string* out);

class NoteVerifier {
 public:
  // Parses "<name>+<hex8>+<base64(0x01 || key)>"; INVALID_ARGUMENT saying
  // which part is wrong.
  static absl::StatusOr<NoteVerifier> Parse(absl::string_view verifier_key);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  // The key in its text form.
  std::string VerifierKey() const;
  bool Verify(absl::string_view message, absl::string_view signature) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  std::string public_key_;
  std::shared_ptr<EVP_PKEY> key_;
};

class NoteSigner {
 public:
  // Parses "PRIVATE+KEY+<name>+<hex8>+<base64(0x01 || seed)>" and checks the
  // key id against the key it derives.
  static absl::StatusOr<NoteSigner> Parse(absl::string_view signer_key);
  static absl::StatusOr<NoteSigner> FromSeed(absl::string_view name,
                                             absl::string_view seed);
  // A new key pair from the system's random source.
  static absl::StatusOr<NoteSigner> Generate(absl::string_view name);

  const std::string& name() const { return name_; }
  uint32_t key_id() const { return key_id_; }
  std::string VerifierKey() const;
  std::string SignerKey() const;
  NoteVerifier Verifier() const;

  // Signs `text` (non-empty lines, each ending in '\n') and returns the whole
  // signed note.
  absl::StatusOr<std::string> Sign(absl::string_view text) const;
  // The raw Ed25519 signature of `message`.
  absl::StatusOr<std::string> SignBytes(absl::string_view message) const;

 private:
  std::string name_;
  uint32_t key_id_ = 0;
  std::string seed_;
  std::string public_key_;
  std::shared_ptr<EVP_PKEY> key_;
};

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string base64;  // key id || signature
};

struct Note {
  std::string text;  // ends in '\n'
  std::vector<NoteSignature> verified;
  std::vector<NoteSignature> unverified;  // from keys not in the list
};

// Parses and checks a signed note the way Go's note.Open does. Errors:
// INVALID_ARGUMENT when it is not a well-formed note; UNAUTHENTICATED when a
// signature of a known key is invalid, or no signature is from a known key.
absl::StatusOr<Note> OpenNote(absl::string_view message,
                              absl::Span<const NoteVerifier> known);

// Writes `signer`'s key to `path` (created with mode 0600; an existing file
// is never overwritten: ALREADY_EXISTS) and, beside it, "<path>.pub" with the
// verifier key.
absl::Status WriteSignerKeyFile(const std::string& path,
                                const NoteSigner& signer);

// Reads a signer key file. FAILED_PRECONDITION when the file can be read by
// anyone but its owner.
absl::StatusOr<NoteSigner> ReadSignerKeyFile(const std::string& path);

// Reads the key at `path`, or makes one named `name` there when no file
// exists. Sets *created accordingly (may be null).
absl::StatusOr<NoteSigner> LoadOrCreateSignerKey(const std::string& path,
                                                 absl::string_view name,
                                                 bool* created = nullptr);

}  // namespace prongsai::audit

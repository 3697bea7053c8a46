// AES-256-GCM (OpenSSL EVP) for the personal fields and for the keys that
// the key store wraps under its master key.
//
// A sealed box is nonce(12) | ciphertext | tag(16); the nonce is random per
// seal. The associated data is authenticated, not stored: opening with other
// associated data fails as a wrong key or a changed byte does.
//
// Example:
//   ASSIGN_OR_RETURN(SubjectKey key, NewRandomKey());
//   ASSIGN_OR_RETURN(std::string box, SealBox(key, "สมชาย ใจดี", aad));
//   ASSIGN_OR_RETURN(std::string name, OpenBox(key, box, aad));
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::privacy {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;

using KeyBytes = std::array<uint8_t, kKeyBytes>;

// 32 bytes from the OpenSSL CSPRNG.
absl::StatusOr<KeyBytes> NewRandomKey();

// Fills `out` with random bytes from the OpenSSL CSPRNG.
absl::Status RandomBytes(uint8_t* out, size_t size);

// nonce | ciphertext | tag of `plaintext` under `key`, authenticating `aad`.
absl::StatusOr<std::string> SealBox(const KeyBytes& key,
                                    absl::string_view plaintext,
                                    absl::string_view aad);

// The plaintext of a box made by SealBox with the same key and `aad`.
// PERMISSION_DENIED when the box does not authenticate (another key, other
// associated data, or a changed byte); INVALID_ARGUMENT when it is too short
// to be a box.
absl::StatusOr<std::string> OpenBox(const KeyBytes& key, absl::string_view box,
                                    absl::string_view aad);

// Overwrites `key` with zeros in a way the compiler keeps.
void Wipe(KeyBytes& key);
void WipeString(std::string& bytes);

}  // namespace prongsai::privacy

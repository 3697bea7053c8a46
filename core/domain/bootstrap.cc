#include "core/domain/bootstrap.h"

#include <openssl/sha.h>

#include <array>
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "core/base/hash.h"
#include "core/domain/reference.h"

namespace prongsai::domain {
namespace {

// Prongsai's UUID namespace for name-based ids. Never change it: stored
// events carry ids derived from it.
constexpr std::array<uint8_t, 16> kNamespace = {
    0x64, 0xce, 0x1b, 0xe7, 0xba, 0x67, 0x4a, 0x24,
    0xbc, 0xe6, 0x18, 0x20, 0x8b, 0x9f, 0x9b, 0x8f};

// 1 October 2567 (2024), 00:00 in Bangkok: the start of FY 2568, the first
// fiscal year the shipped reference data describes.
constexpr int64_t kBootstrapSeconds = 1727715600;

v1::Event NewEvent(absl::string_view name) {
  v1::Event event;
  event.set_event_id(NameBasedUuid(name));
  event.mutable_occurred_at()->set_seconds(kBootstrapSeconds);
  event.mutable_actor()->set_id(std::string(kBootstrapActor));
  return event;
}

}  // namespace

std::string NameBasedUuid(absl::string_view name) {
  std::string input(reinterpret_cast<const char*>(kNamespace.data()),
                    kNamespace.size());
  input.append(name.data(), name.size());
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(),
       digest.data());
  digest[6] = static_cast<unsigned char>((digest[6] & 0x0f) | 0x50);
  digest[8] = static_cast<unsigned char>((digest[8] & 0x3f) | 0x80);
  const std::string hex = HexEncode(
      absl::string_view(reinterpret_cast<const char*>(digest.data()), 16));
  return absl::StrCat(hex.substr(0, 8), "-", hex.substr(8, 4), "-",
                      hex.substr(12, 4), "-", hex.substr(16, 4), "-",
                      hex.substr(20, 12));
}

std::vector<v1::Event> CityBootstrapEvents() {
  std::vector<v1::Event> events;
  for (const District& district : Districts()) {
    v1::Event event = NewEvent(absl::StrCat("district/", district.code));
    v1::DistrictRegistered* registered = event.mutable_district_registered();
    registered->set_code(district.code);
    registered->set_name_th(district.name_th);
    registered->set_name_en(district.name_en);
    events.push_back(std::move(event));
  }
  for (const v1::FrameworkPublished& framework : ShippedFrameworks()) {
    v1::Event event =
        NewEvent(absl::StrCat("framework/", framework.fiscal_year()));
    *event.mutable_framework_published() = framework;
    events.push_back(std::move(event));
  }
  return events;
}

}  // namespace prongsai::domain

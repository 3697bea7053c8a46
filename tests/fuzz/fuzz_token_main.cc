// libFuzzer entry point: bearer token parsing and verification.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/security_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::StatusOr<prongsai::fuzz::TokenOutcome> outcome =
      prongsai::fuzz::RunTokenInput(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!outcome.ok()) {
    std::fprintf(stderr, "%s\n", outcome.status().ToString().c_str());
    std::abort();
  }
  return 0;
}

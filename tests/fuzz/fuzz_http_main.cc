// libFuzzer entry point: HTTP request lines against the access policy, and
// JSON request bodies as the OSS webhook reads them.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/security_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::StatusOr<prongsai::fuzz::HttpOutcome> outcome =
      prongsai::fuzz::RunHttpInput(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!outcome.ok()) {
    std::fprintf(stderr, "%s\n", outcome.status().ToString().c_str());
    std::abort();
  }
  return 0;
}

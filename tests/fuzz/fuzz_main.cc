// libFuzzer entry point: decode + validate of a prongsai.v1.AppendRequest.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/append_fuzz.h"

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // Decoding invalid UTF-8 is expected here; protobuf would log every time.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::StatusOr<prongsai::fuzz::AppendOutcome> outcome =
      prongsai::fuzz::RunAppendInput(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (!outcome.ok()) {
    std::fprintf(stderr, "%s\n", outcome.status().ToString().c_str());
    std::abort();
  }
  return 0;
}

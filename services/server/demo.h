// The demo data of `prongsai serve --demo`: the seed report of district 1045
// (Wang Thonglang, FY 2568 H1) and a generated city for the other 49
// districts. Every generated event's actor is "demo-generator".
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "services/ingest/ingestor.h"

namespace prongsai::server {

// Appends the demo data through `ingestor`; about `events` generated events.
absl::Status LoadDemo(ingest::Ingestor& ingestor, int64_t events);

}  // namespace prongsai::server

// A generated, realistic city for demos and benchmarks: the 50 districts over
// several fiscal years, in the mix of the event catalog - the ITA work
// (scores, issues, measures, progress at each round's end, evidence,
// meetings, policies, disclosures), gifts and their 6- and 12-month
// submissions, complaints with their life cycles, budget reviews, asset
// inspections, community projects, the service requests of BMA OSS that
// make up most of the volume, and a few corrections and retractions.
//
// Everything is deterministic from the seed and the clock given, valid by the
// domain rules when appended in the order produced (after the city's
// reference data, domain::CityBootstrapEvents()), and marked as demo data:
// every actor is "demo-generator" and names of people are invented.
//
// Example:
//   DemoCityOptions options;
//   options.events = 1'000'000;
//   options.now = absl::Now();
//   RETURN_IF_ERROR(GenerateDemoCity(options, [&](DemoBatch& batch) {
//     return AppendThroughIngest(batch.stream, batch.events);
//   }));
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::reports {

// The actor id of every generated event.
inline constexpr absl::string_view kDemoActor = "demo-generator";

struct DemoCityOptions {
  uint64_t seed = 2568;
  // About this many district events in all (the city stream's few come on
  // top); service requests fill what the ITA work leaves.
  int64_t events = 1'000'000;
  // The current fiscal year and the ones before it.
  int fiscal_years = 4;
  // Nothing is dated after this moment.
  absl::Time now = absl::Now();
  // District codes; empty for all 50.
  std::vector<std::string> districts;
  // Fiscal years whose framework is on the city stream already; the others
  // get one (a copy of the latest shipped framework). Empty: the shipped ones.
  std::set<int> published_frameworks;
  // Most events in one batch.
  int max_batch_events = 2'000;
};

// One append: events of one stream, in order.
struct DemoBatch {
  std::string stream;
  std::vector<v1::Event> events;
};

struct DemoCityStats {
  int64_t events = 0;
  int64_t batches = 0;
  // By payload field name, e.g. "measure_planned".
  std::map<std::string, int64_t> by_kind;
};

// Produces the city: `emit` gets each batch in append order (the city
// stream's frameworks first, then the districts month by month) and may move
// its events away; an error from `emit` stops the generation.
absl::StatusOr<DemoCityStats> GenerateDemoCity(
    const DemoCityOptions& options,
    const std::function<absl::Status(DemoBatch&)>& emit);

}  // namespace prongsai::reports

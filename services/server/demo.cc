#include "services/server/demo.h"

#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/status.h"
#include "core/domain/reference.h"
#include "google/protobuf/util/json_util.h"
#include "projections/reports/demo_city.h"

namespace prongsai::server {
namespace {

// Generated from core/domain/data/seed_1045_2568_h1.jsonl at build time.
#include "seed_data.inc"

constexpr absl::string_view kSeedDistrict = "1045";

absl::Status AppendSeed(ingest::Ingestor& ingestor) {
  v1::AppendRequest request;
  request.set_stream(std::string(kSeedDistrict));
  int line_number = 0;
  for (absl::string_view line : absl::StrSplit(kSeedJsonl, '\n')) {
    ++line_number;
    if (line.empty()) {
      continue;
    }
    auto status = google::protobuf::util::JsonStringToMessage(
        std::string(line), request.add_events());
    if (!status.ok()) {
      return absl::InternalError(absl::StrCat(
          "the built-in seed, line ", line_number, ": ",
          status.message().as_string()));
    }
  }
  return Annotate(ingestor.Append(request).status(), "loading the seed report");
}

}  // namespace

absl::Status LoadDemo(ingest::Ingestor& ingestor, int64_t events) {
  RETURN_IF_ERROR(AppendSeed(ingestor));
  reports::DemoCityOptions options;
  options.events = events;
  options.fiscal_years = 2;
  for (const domain::District& district : domain::Districts()) {
    if (district.code != kSeedDistrict) {
      options.districts.push_back(district.code);
    }
  }
  ASSIGN_OR_RETURN(
      reports::DemoCityStats stats,
      reports::GenerateDemoCity(options, [&](reports::DemoBatch& batch) {
        v1::AppendRequest request;
        request.set_stream(batch.stream);
        for (v1::Event& event : batch.events) {
          *request.add_events() = std::move(event);
        }
        return Annotate(ingestor.Append(request).status(),
                        absl::StrCat("loading demo data for ", batch.stream));
      }));
  std::cout << "prongsai: demo data loaded: the seed report of district "
            << kSeedDistrict << " and " << stats.events
            << " generated events (actor \"" << reports::kDemoActor << "\")"
            << std::endl;
  return absl::OkStatus();
}

}  // namespace prongsai::server

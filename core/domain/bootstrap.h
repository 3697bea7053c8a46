// The events that put the shipped reference data on the city stream: one
// DistrictRegistered per district and one FrameworkPublished per shipped
// fiscal year.
//
// Their ids are name-based UUIDs (RFC 4122 version 5) and their content is
// fixed, so appending them again is an idempotent no-op. Append each event in
// its own request (a request that mixes stored and new events is refused
// whole), so that a framework shipped by a later release is added beside the
// ones already stored. Changing the content of a shipped event would change
// its bytes under the same id; correct stored reference data with an
// EventCorrected instead.
//
// Example:
//   for (const v1::Event& event : CityBootstrapEvents()) {
//     v1::AppendRequest request;
//     request.set_stream(std::string(kCityStream));
//     *request.add_events() = event;
//     RETURN_IF_ERROR(ingestor->Append(request).status());
//   }
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prongsai/v1/events.pb.h"

namespace prongsai::domain {

// The actor of the bootstrap events.
inline constexpr absl::string_view kBootstrapActor = "prongsai-reference-data";

// The events of the city stream's reference data, districts first.
std::vector<v1::Event> CityBootstrapEvents();

// A version-5 (SHA-1, name-based) UUID of `name` in Prongsai's namespace, in
// lower-case canonical form. Equal names give equal UUIDs.
std::string NameBasedUuid(absl::string_view name);

}  // namespace prongsai::domain

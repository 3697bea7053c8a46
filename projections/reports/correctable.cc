#include "projections/reports/correctable.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "projections/reports/keys.h"
#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {

using projections::AppliedRecord;
using projections::ViewWriter;

bool CorrectableProjection::Wants(const v1::Record& record) const {
  const v1::Event& event = record.event();
  switch (event.payload_case()) {
    case v1::Event::kEventCorrected:
      return Tracks(event.event_corrected().replacement().payload_case());
    case v1::Event::kEventRetracted:
      // The retracted event's kind is known only from its locator.
      return true;
    default:
      return Tracks(event.payload_case());
  }
}

absl::Status CorrectableProjection::Apply(const AppliedRecord& record,
                                          ViewWriter& view) {
  const v1::Event& event = record.record.event();
  const absl::string_view stream = record.record.stream();
  if (stream.size() != kStreamWidth) {
    // Streams are district codes and "city"; the ingest refuses others.
    return absl::OkStatus();
  }
  Fact fact{stream, record.position, event.occurred_at().seconds(), false};

  switch (event.payload_case()) {
    case v1::Event::kEventCorrected: {
      const v1::EventCorrected& correction = event.event_corrected();
      const std::string locator_key =
          LocatorKey(stream, correction.corrected_event_id());
      ASSIGN_OR_RETURN(std::optional<Locator> locator,
                       ReadRow<Locator>(view, locator_key));
      if (!locator.has_value()) {
        // Not an event of this view, or retracted.
        return absl::OkStatus();
      }
      fact.position = locator->position();
      RETURN_IF_ERROR(Undo(fact, locator->key(), view));
      fact.corrected = true;
      ASSIGN_OR_RETURN(std::string key,
                       Do(fact, correction.replacement(), view));
      locator->set_key(std::move(key));
      WriteRow(view, locator_key, *locator);
      return absl::OkStatus();
    }
    case v1::Event::kEventRetracted: {
      const std::string locator_key =
          LocatorKey(stream, event.event_retracted().retracted_event_id());
      ASSIGN_OR_RETURN(std::optional<Locator> locator,
                       ReadRow<Locator>(view, locator_key));
      if (!locator.has_value()) {
        return absl::OkStatus();
      }
      fact.position = locator->position();
      RETURN_IF_ERROR(Undo(fact, locator->key(), view));
      view.Delete(locator_key);
      return absl::OkStatus();
    }
    default:
      break;
  }
  if (!Tracks(event.payload_case())) {
    return absl::OkStatus();
  }
  ASSIGN_OR_RETURN(std::string key, Do(fact, event, view));
  Locator locator;
  locator.set_key(std::move(key));
  locator.set_position(record.position);
  WriteRow(view, LocatorKey(stream, event.event_id()), locator);
  return absl::OkStatus();
}

void WriteRow(ViewWriter& view, absl::string_view key,
              const google::protobuf::MessageLite& row) {
  std::string bytes;
  row.SerializeToString(&bytes);
  view.Put(key, bytes);
}

absl::Status ParseRow(absl::string_view key, absl::string_view bytes,
                      google::protobuf::MessageLite& row) {
  if (!row.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError(absl::StrCat("view row ", absl::CHexEscape(key),
                                            " does not parse as ",
                                            row.GetTypeName()));
  }
  return absl::OkStatus();
}

}  // namespace prongsai::reports

// The stored record as it travels through Kafka: the message headers every
// Prongsai message carries, and a scan of the record's chain fields that reads
// the exact stored bytes without decoding (or re-encoding) the whole event.
//
// A Kafka message of the log topic is
//   key     = the stream ("1045", "city")
//   value   = the serialized prongsai.v1.Record, exactly the hashed bytes
//   headers = kEventTypeHeader, kSchemaVersionHeader, kContentTypeHeader,
//             kHashHeader, kSequenceHeader (for routing without decoding;
//             the value stays the only source of truth)
//
// Example:
//   ASSIGN_OR_RETURN(RecordFields fields, ScanRecord(message_value));
//   if (fields.sequence != head.sequence + 1) { ... }
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::log {

inline constexpr absl::string_view kDefaultEventsTopic = "prongsai.events.v1";

inline constexpr absl::string_view kEventTypeHeader = "prongsai-event-type";
inline constexpr absl::string_view kSchemaVersionHeader =
    "prongsai-schema-version";
inline constexpr absl::string_view kContentTypeHeader = "content-type";
inline constexpr absl::string_view kHashHeader = "prongsai-hash";
inline constexpr absl::string_view kSequenceHeader = "prongsai-sequence";

inline constexpr absl::string_view kSchemaVersion = "1";
inline constexpr absl::string_view kRecordContentType =
    "application/x-protobuf; messageType=prongsai.v1.Record";

// The fields of a stored record that place it in its stream's chain. The
// views point into the scanned bytes.
struct RecordFields {
  absl::string_view stream;
  uint64_t sequence = 0;
  absl::string_view prev_hash;
  // The serialized prongsai.v1.Event, as embedded in the record.
  absl::string_view event_bytes;
  absl::string_view event_id;
  // Name of the Event.payload field that is set ("meeting_held"), or empty.
  absl::string_view event_type;
};

// Scans `bytes` (a serialized prongsai.v1.Record). DATA_LOSS when the bytes
// are not a well-formed record in the form the ingest writes: truncated,
// wrong wire types, a chain field given twice, or no event.
absl::StatusOr<RecordFields> ScanRecord(absl::string_view bytes);

}  // namespace prongsai::log

#include "core/log/kafka_record.h"

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "prongsai/v1/events.pb.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::log {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Field number -> name of every member of Event.payload.
const absl::flat_hash_map<int, std::string>& PayloadFields() {
  static const auto* fields = [] {
    auto* out = new absl::flat_hash_map<int, std::string>();
    const google::protobuf::OneofDescriptor* payload =
        v1::Event::descriptor()->FindOneofByName("payload");
    for (int i = 0; payload != nullptr && i < payload->field_count(); ++i) {
      out->emplace(payload->field(i)->number(), payload->field(i)->name());
    }
    return out;
  }();
  return *fields;
}

class Scanner {
 public:
  explicit Scanner(absl::string_view bytes)
      : bytes_(bytes),
        in_(reinterpret_cast<const uint8_t*>(bytes.data()),
            static_cast<int>(bytes.size())) {}

  // Next tag, or 0 at the clean end of the bytes.
  absl::StatusOr<uint32_t> NextTag() {
    const uint32_t tag = in_.ReadTag();
    if (tag == 0 && in_.CurrentPosition() != static_cast<int>(bytes_.size())) {
      return Malformed("a field tag is malformed");
    }
    return tag;
  }

  absl::StatusOr<absl::string_view> ReadBytes(uint32_t tag) {
    if (WireFormatLite::GetTagWireType(tag) !=
        WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      return Malformed(
          absl::StrCat("field ", Field(tag), " has the wrong wire type"));
    }
    int length = 0;
    if (!in_.ReadVarintSizeAsInt(&length)) {
      return Malformed(absl::StrCat("field ", Field(tag), " is truncated"));
    }
    const int start = in_.CurrentPosition();
    if (!in_.Skip(length)) {
      return Malformed(absl::StrCat("field ", Field(tag), " is truncated"));
    }
    return bytes_.substr(start, length);
  }

  absl::StatusOr<uint64_t> ReadVarint(uint32_t tag) {
    uint64_t value = 0;
    if (WireFormatLite::GetTagWireType(tag) !=
            WireFormatLite::WIRETYPE_VARINT ||
        !in_.ReadVarint64(&value)) {
      return Malformed(absl::StrCat("field ", Field(tag), " is malformed"));
    }
    return value;
  }

  absl::Status Skip(uint32_t tag) {
    if (!WireFormatLite::SkipField(&in_, tag)) {
      return Malformed(absl::StrCat("field ", Field(tag), " is malformed"));
    }
    return absl::OkStatus();
  }

  static int Field(uint32_t tag) {
    return WireFormatLite::GetTagFieldNumber(tag);
  }

  static absl::Status Malformed(absl::string_view what) {
    return absl::DataLossError(
        absl::StrCat("not a well-formed prongsai.v1.Record: ", what));
  }

 private:
  absl::string_view bytes_;
  CodedInputStream in_;
};

absl::Status ScanEvent(RecordFields& fields) {
  Scanner in(fields.event_bytes);
  bool have_id = false;
  while (true) {
    ASSIGN_OR_RETURN(const uint32_t tag, in.NextTag());
    if (tag == 0) {
      return absl::OkStatus();
    }
    const int field = Scanner::Field(tag);
    if (field == v1::Event::kEventIdFieldNumber) {
      if (have_id) {
        return Scanner::Malformed("event.event_id is given twice");
      }
      ASSIGN_OR_RETURN(fields.event_id, in.ReadBytes(tag));
      have_id = true;
      continue;
    }
    if (auto it = PayloadFields().find(field); it != PayloadFields().end()) {
      if (!fields.event_type.empty()) {
        return Scanner::Malformed("event.payload is set twice");
      }
      fields.event_type = it->second;
    }
    RETURN_IF_ERROR(in.Skip(tag));
  }
}

}  // namespace

absl::StatusOr<RecordFields> ScanRecord(absl::string_view bytes) {
  RecordFields fields;
  Scanner in(bytes);
  // Each chain field at most once: protobuf would take the last of repeated
  // scalars and merge repeated messages, which the ingest never writes.
  bool seen[6] = {};
  while (true) {
    ASSIGN_OR_RETURN(const uint32_t tag, in.NextTag());
    if (tag == 0) {
      break;
    }
    const int field = Scanner::Field(tag);
    if (field >= 1 && field <= 5) {
      if (seen[field]) {
        return Scanner::Malformed(
            absl::StrCat("field ", field, " is given twice"));
      }
      seen[field] = true;
    }
    switch (field) {
      case v1::Record::kStreamFieldNumber: {
        ASSIGN_OR_RETURN(fields.stream, in.ReadBytes(tag));
        break;
      }
      case v1::Record::kSequenceFieldNumber: {
        ASSIGN_OR_RETURN(fields.sequence, in.ReadVarint(tag));
        break;
      }
      case v1::Record::kPrevHashFieldNumber: {
        ASSIGN_OR_RETURN(fields.prev_hash, in.ReadBytes(tag));
        break;
      }
      case v1::Record::kEventFieldNumber: {
        ASSIGN_OR_RETURN(fields.event_bytes, in.ReadBytes(tag));
        break;
      }
      default:
        RETURN_IF_ERROR(in.Skip(tag));
    }
  }
  if (!seen[v1::Record::kEventFieldNumber]) {
    return Scanner::Malformed("it carries no event");
  }
  RETURN_IF_ERROR(ScanEvent(fields));
  return fields;
}

}  // namespace prongsai::log

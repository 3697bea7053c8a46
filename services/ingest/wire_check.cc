#include "services/ingest/wire_check.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace prongsai::ingest {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::internal::WireFormatLite;

// Nested messages deeper than this are refused by the parser too.
constexpr int kMaxDepth = 64;

absl::Status Walk(const Descriptor& type, absl::string_view bytes,
                  const std::string& path, size_t base_offset, int depth) {
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": messages nested too deeply"));
  }
  google::protobuf::io::CodedInputStream in(
      reinterpret_cast<const uint8_t*>(bytes.data()),
      static_cast<int>(bytes.size()));
  absl::flat_hash_map<int, int> repeats;
  auto malformed = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat(
        "request is not a valid ", type.full_name(), path.empty() ? "" : " at ",
        path, ": ", what, " at byte ", base_offset + in.CurrentPosition()));
  };
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) {
      if (in.CurrentPosition() < static_cast<int>(bytes.size())) {
        return malformed("invalid field tag");
      }
      return absl::OkStatus();
    }
    const int number = static_cast<int>(WireFormatLite::GetTagFieldNumber(tag));
    const FieldDescriptor* field = type.FindFieldByNumber(number);
    std::string field_path =
        field == nullptr
            ? absl::StrCat(path, path.empty() ? "" : ".", "<field ", number, ">")
            : absl::StrCat(path, path.empty() ? "" : ".", field->name());
    if (field != nullptr && field->is_repeated()) {
      absl::StrAppend(&field_path, "[", repeats[number]++, "]");
    }
    switch (WireFormatLite::GetTagWireType(tag)) {
      case WireFormatLite::WIRETYPE_VARINT: {
        uint64_t ignored;
        if (!in.ReadVarint64(&ignored)) {
          return malformed("truncated varint");
        }
        break;
      }
      case WireFormatLite::WIRETYPE_FIXED64:
        if (!in.Skip(8)) {
          return malformed("truncated 64-bit value");
        }
        break;
      case WireFormatLite::WIRETYPE_FIXED32:
        if (!in.Skip(4)) {
          return malformed("truncated 32-bit value");
        }
        break;
      case WireFormatLite::WIRETYPE_LENGTH_DELIMITED: {
        uint32_t length;
        if (!in.ReadVarint32(&length) ||
            length > bytes.size() - static_cast<size_t>(in.CurrentPosition())) {
          return malformed("length runs past the end of the data");
        }
        const absl::string_view value = bytes.substr(in.CurrentPosition(), length);
        const size_t value_offset = base_offset + in.CurrentPosition();
        in.Skip(static_cast<int>(length));
        if (field == nullptr) {
          break;
        }
        if (field->type() == FieldDescriptor::TYPE_STRING &&
            !IsValidUtf8(value)) {
          return absl::InvalidArgumentError(
              absl::StrCat(field_path, ": not valid UTF-8"));
        }
        if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
          if (absl::Status status = Walk(*field->message_type(), value,
                                         field_path, value_offset, depth + 1);
              !status.ok()) {
            return status;
          }
        }
        break;
      }
      default:
        return malformed("unknown wire type");
    }
  }
}

}  // namespace

absl::Status ExplainParseFailure(const Descriptor& type,
                                 absl::string_view bytes) {
  return Walk(type, bytes, "", 0, 0);
}

}  // namespace prongsai::ingest

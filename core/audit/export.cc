#include "core/audit/export.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/base/bytes.h"
#include "core/base/hash.h"
#include "core/base/memory.h"
#include "core/base/status.h"

namespace prongsai::audit {
namespace {

constexpr char kStreamTag = 'S';
constexpr char kCheckpointTag = 'C';
constexpr char kRecordTag = 'R';
constexpr char kEndTag = 'E';
constexpr size_t kRecordHeader = 8 + 8 + kHashSize + 4;
constexpr size_t kFlushBytes = 1 << 20;

void AppendBigEndian32(uint32_t value, std::string* out) {
  out->push_back(static_cast<char>(value >> 24));
  out->push_back(static_cast<char>(value >> 16));
  out->push_back(static_cast<char>(value >> 8));
  out->push_back(static_cast<char>(value));
}

uint32_t ReadBigEndian32(const char* data) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) |
         (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void AppendBlock(char tag, absl::string_view bytes, std::string* out) {
  out->push_back(tag);
  AppendBigEndian32(static_cast<uint32_t>(bytes.size()), out);
  out->append(bytes.data(), bytes.size());
}

}  // namespace

// ---------------------------------------------------------------------------
// Writing

ExportEncoder::ExportEncoder(std::string* out, absl::string_view stream)
    : out_(out) {
  out_->append(kExportMagic.data(), kExportMagic.size());
  AppendBlock(kStreamTag, stream, out_);
}

absl::Status ExportEncoder::AddCheckpoint(absl::string_view note) {
  if (records_ > 0) {
    return absl::FailedPreconditionError(
        "export checkpoints must come before the records");
  }
  AppendBlock(kCheckpointTag, note, out_);
  return absl::OkStatus();
}

void ExportEncoder::AddRecord(uint64_t position, uint64_t sequence,
                              absl::string_view hash, absl::string_view bytes) {
  out_->push_back(kRecordTag);
  AppendBigEndian64(position, out_);
  AppendBigEndian64(sequence, out_);
  // A stored hash of the wrong length is written as found, padded or cut to
  // the frame's width: the verifier then reports the record, not the file.
  std::string fixed(hash.substr(0, kHashSize));
  fixed.resize(kHashSize, '\0');
  out_->append(fixed);
  AppendBigEndian32(static_cast<uint32_t>(bytes.size()), out_);
  out_->append(bytes.data(), bytes.size());
  ++records_;
}

void ExportEncoder::Finish() {
  out_->push_back(kEndTag);
  AppendBigEndian64(records_, out_);
}

ExportWriter::ExportWriter(std::string path, std::FILE* file,
                           absl::string_view stream)
    : path_(std::move(path)), file_(file), encoder_(&buffer_, stream) {}

ExportWriter::~ExportWriter() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
  if (!finished_) {
    std::remove((path_ + ".partial").c_str());
  }
}

absl::StatusOr<std::unique_ptr<ExportWriter>> ExportWriter::Create(
    const std::string& path, absl::string_view stream) {
  const std::string partial = path + ".partial";
  std::FILE* file = std::fopen(partial.c_str(), "wb");
  if (file == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot create ", partial, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<ExportWriter>(new ExportWriter(path, file, stream));
}

absl::Status ExportWriter::Flush() {
  if (!buffer_.empty() &&
      std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return absl::UnavailableError(absl::StrCat(
        "cannot write ", path_, ".partial: ", std::strerror(errno)));
  }
  buffer_.clear();
  return absl::OkStatus();
}

absl::Status ExportWriter::AddCheckpoint(absl::string_view note) {
  return encoder_.AddCheckpoint(note);
}

absl::Status ExportWriter::AddRecord(uint64_t position, uint64_t sequence,
                                     absl::string_view hash,
                                     absl::string_view bytes) {
  encoder_.AddRecord(position, sequence, hash, bytes);
  return buffer_.size() >= kFlushBytes ? Flush() : absl::OkStatus();
}

absl::Status ExportWriter::Finish() {
  encoder_.Finish();
  RETURN_IF_ERROR(Flush());
  if (std::fflush(file_) != 0 || std::fclose(file_) != 0) {
    file_ = nullptr;
    return absl::UnavailableError(absl::StrCat(
        "cannot write ", path_, ".partial: ", std::strerror(errno)));
  }
  file_ = nullptr;
  if (std::rename((path_ + ".partial").c_str(), path_.c_str()) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot rename ", path_,
                                               ".partial to ", path_, ": ",
                                               std::strerror(errno)));
  }
  finished_ = true;
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// Reading

size_t MaxExportRecords(size_t size) { return size / (1 + kRecordHeader); }

absl::StatusOr<ParsedExport> ParseExport(absl::string_view data) {
  ParsedExport out;
  RETURN_IF_ERROR(ParseExportInto(data, &out, {}));
  return out;
}

absl::Status ParseExportInto(
    absl::string_view data, ParsedExport* out_ptr,
    const std::function<void(size_t parsed)>& progress) {
  ParsedExport& out = *out_ptr;
  out = ParsedExport();
  if (!absl::StartsWith(data, kExportMagic)) {
    return absl::InvalidArgumentError(
        "not a Prongsai export: the file does not start with "
        "\"prongsai-export 1\"");
  }
  // A record frame takes at least 1 + kRecordHeader bytes, so the file holds
  // no more records than that bound. Reserving it takes address space only
  // (pages are touched as records fill them), and the list then never moves
  // while it fills.
  out.records.reserve(MaxExportRecords(data.size()));
  AdviseHugePages(out.records.data(),
                  out.records.capacity() * sizeof(ExportRecord));
  size_t at = kExportMagic.size();
  bool have_stream = false;
  auto cut = [&](absl::string_view what) {
    out.damage = absl::StrCat("the file ends inside ", what, " at byte ", at);
    return absl::OkStatus();
  };
  while (at < data.size()) {
    const char tag = data[at];
    const size_t start = at;
    if (tag == kStreamTag || tag == kCheckpointTag) {
      if (data.size() - at < 5) {
        return cut(tag == kStreamTag ? "the stream frame"
                                     : "a checkpoint frame");
      }
      const uint32_t len = ReadBigEndian32(data.data() + at + 1);
      if (data.size() - at - 5 < len) {
        return cut(tag == kStreamTag ? "the stream frame"
                                     : "a checkpoint frame");
      }
      absl::string_view body = data.substr(at + 5, len);
      at += 5 + len;
      if (tag == kStreamTag) {
        if (have_stream) {
          return absl::InvalidArgumentError(absl::StrCat(
              "malformed export: a second stream frame at byte ", start));
        }
        out.stream = std::string(body);
        have_stream = true;
      } else {
        if (!have_stream || !out.records.empty()) {
          return absl::InvalidArgumentError(absl::StrCat(
              "malformed export: a checkpoint frame out of place at byte ",
              start));
        }
        out.checkpoints.push_back(body);
      }
    } else if (tag == kRecordTag) {
      // Frames are of any length, so the hardware cannot guess where the
      // next headers are; the bytes a few frames ahead are fetched now.
      __builtin_prefetch(data.data() + std::min(data.size() - 1, at + 2048));
      if (!have_stream) {
        return absl::InvalidArgumentError(
            "malformed export: records before the stream frame");
      }
      if (data.size() - at - 1 < kRecordHeader) {
        return cut("a record frame");
      }
      const char* p = data.data() + at + 1;
      ExportRecord record;
      record.offset = at;
      record.position = ReadBigEndian64(p);
      record.sequence = ReadBigEndian64(p + 8);
      record.hash = absl::string_view(p + 16, kHashSize);
      const uint32_t len = ReadBigEndian32(p + 16 + kHashSize);
      if (data.size() - at - 1 - kRecordHeader < len) {
        return cut("a record frame");
      }
      record.bytes = data.substr(at + 1 + kRecordHeader, len);
      at += 1 + kRecordHeader + len;
      out.records.push_back(record);
      if (progress && out.records.size() % kParseProgressEvery == 0) {
        progress(out.records.size());
      }
    } else if (tag == kEndTag) {
      if (data.size() - at < 9) {
        return cut("the end frame");
      }
      const uint64_t count = ReadBigEndian64(data.data() + at + 1);
      at += 9;
      if (at != data.size()) {
        return absl::InvalidArgumentError(
            absl::StrCat("malformed export: ", data.size() - at,
                         " bytes after the end frame"));
      }
      if (count != out.records.size()) {
        out.damage =
            absl::StrCat("the end frame counts ", count,
                         " records; the file holds ", out.records.size());
        return absl::OkStatus();
      }
      out.complete = true;
      return absl::OkStatus();
    } else {
      return absl::InvalidArgumentError(absl::StrCat(
          "malformed export: unknown frame type 0x",
          HexEncode(absl::string_view(&data[at], 1)), " at byte ", at));
    }
  }
  if (!have_stream) {
    return absl::InvalidArgumentError("malformed export: no stream frame");
  }
  out.damage = absl::StrCat("the file ends at byte ", data.size(),
                            " without its end frame");
  return absl::OkStatus();
}

}  // namespace prongsai::audit

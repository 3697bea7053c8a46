#include "services/oss_bridge/importer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/base/hash.h"
#include "core/base/status.h"
#include "services/oss_bridge/csv.h"

namespace prongsai::oss {
namespace {

constexpr int kStateVersion = 1;
// The bytes before the saved offset that must be unchanged on resume.
constexpr uint64_t kTailBytes = 4096;
constexpr absl::string_view kUtf8Bom = "\xEF\xBB\xBF";

struct State {
  uint64_t offset = 0;
  uint64_t line = 0;
  ImportProgress counts;
  std::string tail_sha256;
};

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// SHA-256 (hex) of the up to kTailBytes bytes of `path` before `offset`.
absl::StatusOr<std::string> TailHash(const std::string& path, uint64_t offset) {
  const uint64_t from = offset > kTailBytes ? offset - kTailBytes : 0;
  std::string bytes(offset - from, '\0');
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return Errno("cannot open", path);
  }
  size_t got = 0;
  while (got < bytes.size()) {
    const ssize_t n = pread(fd, bytes.data() + got, bytes.size() - got,
                            static_cast<off_t>(from + got));
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat(path, " is shorter than the saved position ", offset));
    }
    got += static_cast<size_t>(n);
  }
  close(fd);
  return HexEncode(Sha256(bytes));
}

absl::StatusOr<std::optional<State>> LoadState(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return std::optional<State>();
  }
  const std::string text((std::istreambuf_iterator<char>(in)),
                         std::istreambuf_iterator<char>());
  const nlohmann::json json = nlohmann::json::parse(text, nullptr, false);
  auto number = [&](const char* name, uint64_t* out) {
    auto it = json.find(name);
    if (it == json.end() || !it->is_number_unsigned()) {
      return false;
    }
    *out = it->get<uint64_t>();
    return true;
  };
  State state;
  bool ok = json.is_object() && json.value("version", 0) == kStateVersion &&
            json.contains("tail_sha256") && json["tail_sha256"].is_string();
  ok = ok && number("offset", &state.offset) && number("line", &state.line) &&
       number("records", &state.counts.records) &&
       number("accepted", &state.counts.accepted) &&
       number("duplicates", &state.counts.duplicates) &&
       number("dead_lettered", &state.counts.dead_lettered) &&
       number("events_appended", &state.counts.events_appended);
  if (!ok) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the import state ", path,
        " is not one this version wrote; delete it or pass --from-start"));
  }
  state.tail_sha256 = json["tail_sha256"].get<std::string>();
  state.counts.offset = state.offset;
  state.counts.line = state.line;
  return std::optional<State>(std::move(state));
}

absl::Status SaveState(const std::string& path, const std::string& input,
                       const State& state) {
  const nlohmann::json json = {
      {"version", kStateVersion},
      {"file", input},
      {"offset", state.offset},
      {"line", state.line},
      {"tail_sha256", state.tail_sha256},
      {"records", state.counts.records},
      {"accepted", state.counts.accepted},
      {"duplicates", state.counts.duplicates},
      {"dead_lettered", state.counts.dead_lettered},
      {"events_appended", state.counts.events_appended},
  };
  const std::string text = json.dump(2) + "\n";
  const std::string temp = path + ".tmp";
  const int fd =
      open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Errno("cannot write the import state", temp);
  }
  const bool written =
      write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && fdatasync(fd) == 0;
  close(fd);
  if (!synced || rename(temp.c_str(), path.c_str()) != 0) {
    return Errno("cannot write the import state", path);
  }
  return absl::OkStatus();
}

ExportFormat Detect(const std::string& path, std::istream& in) {
  const std::string lower = absl::AsciiStrToLower(path);
  if (absl::EndsWith(lower, ".csv")) {
    return ExportFormat::kCsv;
  }
  if (absl::EndsWith(lower, ".jsonl") || absl::EndsWith(lower, ".ndjson") ||
      absl::EndsWith(lower, ".json")) {
    return ExportFormat::kJsonLines;
  }
  char c = 0;
  while (in.get(c)) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c)) &&
        static_cast<unsigned char>(c) < 0x80) {
      break;
    }
  }
  in.clear();
  in.seekg(0);
  return c == '{' ? ExportFormat::kJsonLines : ExportFormat::kCsv;
}

// Reads the next record's text: one line (JSON Lines) or one CSV record.
bool ReadRecordText(std::istream& in, ExportFormat format, std::string* text,
                    size_t* bytes, size_t* lines) {
  if (format == ExportFormat::kCsv) {
    return ReadCsvRecord(in, text, bytes, lines);
  }
  if (!std::getline(in, *text)) {
    return false;
  }
  *bytes = text->size() + (in.eof() ? 0 : 1);
  *lines = 1;
  if (!text->empty() && text->back() == '\r') {
    text->pop_back();
  }
  return true;
}

InputRecord JsonLineRecord(const std::string& text) {
  InputRecord input;
  try {
    const nlohmann::json value = nlohmann::json::parse(text);
    input.original = value;
    absl::StatusOr<OssRecord> record = RecordFromJson(value);
    if (record.ok()) {
      input.record = std::move(*record);
    } else {
      input.error = std::string(record.status().message());
    }
  } catch (const nlohmann::json::parse_error& e) {
    input.original = text;
    input.error = absl::StrCat("malformed JSON at byte ", e.byte, ": ",
                               JsonErrorReason(e));
  }
  return input;
}

InputRecord CsvRecord(const std::vector<std::string>& header,
                      const std::string& text) {
  InputRecord input;
  absl::StatusOr<std::vector<std::string>> fields = SplitCsvRecord(text);
  if (!fields.ok()) {
    input.original = text;
    input.error = absl::StrCat("malformed CSV: ", fields.status().message());
    return input;
  }
  nlohmann::json original = nlohmann::json::object();
  for (size_t i = 0; i < fields->size(); ++i) {
    original[i < header.size() ? header[i] : absl::StrCat("column_", i + 1)] =
        (*fields)[i];
  }
  input.original = std::move(original);
  if (fields->size() != header.size()) {
    input.error = absl::StrCat("the row has ", fields->size(),
                               " fields; the header has ", header.size());
    return input;
  }
  input.record = RecordFromCsv(header, *fields);
  return input;
}

bool Blank(absl::string_view text) {
  return absl::StripAsciiWhitespace(text).empty();
}

}  // namespace

absl::StatusOr<ExportFormat> ParseExportFormat(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "auto" || lower.empty()) {
    return ExportFormat::kAuto;
  }
  if (lower == "jsonl" || lower == "ndjson" || lower == "json") {
    return ExportFormat::kJsonLines;
  }
  if (lower == "csv") {
    return ExportFormat::kCsv;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("format: expected auto, jsonl or csv, got \"", text, "\""));
}

std::string DefaultStatePath(const std::string& path) {
  return path + ".oss-import-state";
}

absl::StatusOr<ImportSummary> ImportFile(const std::string& path,
                                         Bridge& bridge,
                                         const ImportOptions& options) {
  const absl::Time started = absl::Now();
  std::error_code error;
  const uint64_t size = std::filesystem::file_size(path, error);
  if (error) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", error.message()));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path));
  }
  const ExportFormat format =
      options.format == ExportFormat::kAuto ? Detect(path, in) : options.format;
  const std::string state_path =
      options.state_path.empty() ? DefaultStatePath(path) : options.state_path;

  // Where the records start: after the header of a CSV, after a BOM.
  std::string text;
  size_t bytes = 0;
  size_t lines = 0;
  uint64_t offset = 0;
  uint64_t line = 0;
  std::vector<std::string> header;
  {
    char bom[3] = {};
    in.read(bom, 3);
    if (in.gcount() == 3 && absl::string_view(bom, 3) == kUtf8Bom) {
      offset = 3;
    }
    in.clear();
    in.seekg(static_cast<std::streamoff>(offset));
  }
  if (format == ExportFormat::kCsv) {
    if (!ReadCsvRecord(in, &text, &bytes, &lines)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path,
                       ": empty; a CSV export starts with a header row "
                       "naming the record fields"));
    }
    absl::StatusOr<std::vector<std::string>> fields = SplitCsvRecord(text);
    if (!fields.ok()) {
      return Annotate(fields.status(), absl::StrCat(path, ":1 (header)"));
    }
    header = std::move(*fields);
    for (std::string& name : header) {
      name = std::string(absl::StripAsciiWhitespace(name));
    }
    if (std::find(header.begin(), header.end(), "service_request_id") ==
        header.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          path,
          ":1: the CSV header has no column service_request_id; it "
          "must name the record fields (",
          absl::StrJoin(RecordFieldNames(), ","), ")"));
    }
    offset += bytes;
    line += lines;
  }

  State state;
  state.offset = offset;
  state.line = line;
  if (!options.from_start) {
    ASSIGN_OR_RETURN(std::optional<State> saved, LoadState(state_path));
    if (saved.has_value()) {
      if (saved->offset > size) {
        return absl::FailedPreconditionError(absl::StrCat(
            path, " is shorter than the position saved in ", state_path,
            "; it was replaced. Re-run with --from-start (it adds nothing "
            "twice)"));
      }
      ASSIGN_OR_RETURN(std::string tail, TailHash(path, saved->offset));
      if (tail != saved->tail_sha256) {
        return absl::FailedPreconditionError(absl::StrCat(
            path, " changed before the position saved in ", state_path,
            "; re-run with --from-start (it adds nothing twice)"));
      }
      if (saved->offset > state.offset) {
        state = std::move(*saved);
      }
    }
  }
  ImportSummary summary;
  summary.resumed_at = state.offset == offset ? 0 : state.offset;
  offset = state.offset;
  line = state.line;
  state.counts.size = size;
  state.counts.offset = offset;
  state.counts.line = line;
  in.clear();
  in.seekg(static_cast<std::streamoff>(offset));

  const int batch_records = std::max(1, options.batch_records);
  bool at_end = false;
  while (!at_end) {
    std::vector<InputRecord> batch;
    while (static_cast<int>(batch.size()) < batch_records) {
      if (!ReadRecordText(in, format, &text, &bytes, &lines)) {
        at_end = true;
        break;
      }
      const uint64_t first_line = line + 1;
      offset += bytes;
      line += lines;
      if (Blank(text)) {
        continue;
      }
      InputRecord input = format == ExportFormat::kCsv ? CsvRecord(header, text)
                                                       : JsonLineRecord(text);
      input.source = absl::StrCat(path, ":", first_line);
      input.index = first_line;
      batch.push_back(std::move(input));
    }
    if (in.bad()) {
      return absl::UnavailableError(absl::StrCat("reading ", path, " failed"));
    }
    if (!batch.empty()) {
      const uint64_t count = batch.size();
      absl::StatusOr<BatchResult> result = bridge.Submit(std::move(batch));
      if (!result.ok()) {
        return Annotate(
            result.status(),
            absl::StrCat(path, ": the batch after line ", state.line,
                         " did not land (the import "
                         "resumes there)"));
      }
      summary.records_this_run += count;
      state.counts.records_this_run = summary.records_this_run;
      state.counts.records += count;
      state.counts.accepted += result->accepted;
      state.counts.duplicates += result->duplicates;
      state.counts.dead_lettered += result->dead_lettered.size();
      state.counts.events_appended += result->events_appended;
    }
    state.offset = offset;
    state.line = line;
    state.counts.offset = offset;
    state.counts.line = line;
    ASSIGN_OR_RETURN(state.tail_sha256, TailHash(path, offset));
    RETURN_IF_ERROR(SaveState(state_path, path, state));
    if (options.on_batch) {
      options.on_batch(state.counts);
    }
    if (options.max_records != 0 &&
        summary.records_this_run >= options.max_records) {
      break;
    }
  }
  summary.totals = state.counts;
  summary.complete = offset >= size;
  summary.elapsed = absl::Now() - started;
  return summary;
}

}  // namespace prongsai::oss

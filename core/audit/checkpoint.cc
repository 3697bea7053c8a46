#include "core/audit/checkpoint.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/audit/note.h"

namespace prongsai::audit {
namespace {

// A tree size as the format requires it: decimal without leading zeros.
bool ParseSize(absl::string_view text, uint64_t* size) {
  if (text.empty() || (text.size() > 1 && text[0] == '0') ||
      !std::all_of(text.begin(), text.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  return absl::SimpleAtoi(text, size);
}

bool ParseRoot(absl::string_view text, Hash* root) {
  std::string bytes;
  return Base64Decode(text, &bytes) && HashFromBytes(bytes, root);
}

// The lines of a note text: each must end in '\n'.
absl::StatusOr<std::vector<absl::string_view>> Lines(absl::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return absl::InvalidArgumentError("checkpoint text must end in a newline");
  }
  text.remove_suffix(1);
  return std::vector<absl::string_view>(absl::StrSplit(text, '\n'));
}

}  // namespace

std::string StreamOrigin(absl::string_view log_name, absl::string_view stream) {
  return absl::StrCat(log_name, "/", stream);
}

std::string FormatCheckpoint(const Checkpoint& checkpoint) {
  std::string text =
      absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                   Base64Encode(AsBytes(checkpoint.root)), "\n");
  for (const std::string& line : checkpoint.extensions) {
    absl::StrAppend(&text, line, "\n");
  }
  return text;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> lines = Lines(text);
  if (!lines.ok()) {
    return lines.status();
  }
  if (lines->size() < 3) {
    return absl::InvalidArgumentError(
        "checkpoint needs an origin, a tree size and a root hash line");
  }
  Checkpoint checkpoint;
  const auto& l = *lines;
  if (l[0].empty()) {
    return absl::InvalidArgumentError("checkpoint origin line is empty");
  }
  checkpoint.origin = std::string(l[0]);
  if (!ParseSize(l[1], &checkpoint.size)) {
    return absl::InvalidArgumentError(
        absl::StrCat("checkpoint tree size \"", l[1],
                     "\" is not a decimal number without leading zeros"));
  }
  if (!ParseRoot(l[2], &checkpoint.root)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "checkpoint root \"", l[2], "\" is not a base64 SHA-256 hash"));
  }
  for (size_t i = 3; i < l.size(); ++i) {
    if (l[i].empty()) {
      return absl::InvalidArgumentError(
          "checkpoint extension lines must not be empty");
    }
    checkpoint.extensions.emplace_back(l[i]);
  }
  return checkpoint;
}

std::string FormatCityCheckpoint(const CityCheckpoint& city) {
  std::vector<const Checkpoint*> sorted;
  for (const Checkpoint& c : city.streams) {
    sorted.push_back(&c);
  }
  std::sort(sorted.begin(), sorted.end(),
            [](const Checkpoint* a, const Checkpoint* b) {
              return a->origin < b->origin;
            });
  std::string text = absl::StrCat(city.log_name, "\n");
  for (const Checkpoint* c : sorted) {
    absl::StrAppend(&text, c->origin, " ", c->size, " ",
                    Base64Encode(AsBytes(c->root)), "\n");
  }
  return text;
}

absl::StatusOr<CityCheckpoint> ParseCityCheckpoint(absl::string_view text) {
  absl::StatusOr<std::vector<absl::string_view>> lines = Lines(text);
  if (!lines.ok()) {
    return lines.status();
  }
  CityCheckpoint city;
  if ((*lines)[0].empty()) {
    return absl::InvalidArgumentError("city checkpoint names no log");
  }
  city.log_name = std::string((*lines)[0]);
  for (size_t i = 1; i < lines->size(); ++i) {
    std::vector<absl::string_view> parts = absl::StrSplit((*lines)[i], ' ');
    Checkpoint c;
    if (parts.size() != 3 || parts[0].empty() ||
        !ParseSize(parts[1], &c.size) || !ParseRoot(parts[2], &c.root)) {
      return absl::InvalidArgumentError(
          absl::StrCat("city checkpoint line ", i + 1,
                       " is not \"<origin> <tree size> <base64 root>\""));
    }
    c.origin = std::string(parts[0]);
    city.streams.push_back(std::move(c));
  }
  return city;
}

}  // namespace prongsai::audit

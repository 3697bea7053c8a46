#include "services/oss_bridge/csv.h"

#include "absl/strings/str_cat.h"

namespace prongsai::oss {
namespace {

bool QuotesOpen(absl::string_view text) {
  bool open = false;
  for (char c : text) {
    if (c == '"') {
      open = !open;
    }
  }
  return open;
}

}  // namespace

bool ReadCsvRecord(std::istream& in, std::string* record, size_t* bytes,
                   size_t* lines) {
  record->clear();
  *bytes = 0;
  *lines = 0;
  std::string line;
  while (std::getline(in, line)) {
    *bytes += line.size() + (in.eof() ? 0 : 1);
    ++*lines;
    if (*lines > 1) {
      record->push_back('\n');
    }
    if (!line.empty() && line.back() == '\r') {
      line.pop_back();
    }
    record->append(line);
    if (!QuotesOpen(*record)) {
      return true;
    }
  }
  // An unterminated quote runs to the end of the input; the split reports it.
  return *lines > 0;
}

absl::StatusOr<std::vector<std::string>> SplitCsvRecord(
    absl::string_view record) {
  std::vector<std::string> fields;
  std::string field;
  size_t i = 0;
  while (true) {
    field.clear();
    if (i < record.size() && record[i] == '"') {
      ++i;
      bool closed = false;
      while (i < record.size()) {
        if (record[i] == '"') {
          if (i + 1 < record.size() && record[i + 1] == '"') {
            field.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        field.push_back(record[i++]);
      }
      if (!closed) {
        return absl::InvalidArgumentError(absl::StrCat(
            "column ", fields.size() + 1, ": quoted field is not closed"));
      }
      if (i < record.size() && record[i] != ',') {
        return absl::InvalidArgumentError(absl::StrCat(
            "column ", fields.size() + 1,
            ": unexpected text after a closing quote (at byte ", i + 1, ")"));
      }
    } else {
      while (i < record.size() && record[i] != ',') {
        if (record[i] == '"') {
          return absl::InvalidArgumentError(absl::StrCat(
              "column ", fields.size() + 1,
              ": a quote inside an unquoted field (at byte ", i + 1,
              "); quote the whole field and double the quote"));
        }
        field.push_back(record[i++]);
      }
    }
    fields.push_back(field);
    if (i >= record.size()) {
      return fields;
    }
    ++i;  // the comma
  }
}

}  // namespace prongsai::oss

// RFC 4180 CSV, as spreadsheets export it: fields separated by commas,
// double-quoted when they hold a comma, a quote ("" inside) or a line break;
// records end with LF or CRLF.
//
// Example:
//   std::string text;
//   while (ReadCsvRecord(in, &text)) {
//     ASSIGN_OR_RETURN(std::vector<std::string> fields, SplitCsvRecord(text));
//   }
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace prongsai::oss {

// Reads one record (which may span lines inside quotes) into `record`,
// without its line end. `bytes` is set to the bytes consumed, line ends
// included, and `lines` to the lines. False at the end of input.
bool ReadCsvRecord(std::istream& in, std::string* record, size_t* bytes,
                   size_t* lines);

// Splits one record into its fields; INVALID_ARGUMENT naming the column for
// a stray quote or an unterminated quoted field.
absl::StatusOr<std::vector<std::string>> SplitCsvRecord(
    absl::string_view record);

}  // namespace prongsai::oss

// Status helpers used on every module boundary.
//
// Example:
//   absl::StatusOr<Head> LoadHead(absl::string_view stream) {
//     ASSIGN_OR_RETURN(std::string bytes, Get(key));
//     RETURN_IF_ERROR(Check(bytes));
//     ...
//   }
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PRONGSAI_CONCAT_INNER(a, b) a##b
#define PRONGSAI_CONCAT(a, b) PRONGSAI_CONCAT_INNER(a, b)

// Returns from the enclosing function when `expr` is not OK.
#define RETURN_IF_ERROR(expr)                               \
  do {                                                      \
    if (::absl::Status _status = (expr); !_status.ok()) {   \
      return _status;                                       \
    }                                                       \
  } while (false)

#define PRONGSAI_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) {                                     \
    return std::move(tmp).status();                    \
  }                                                    \
  lhs = std::move(tmp).value()

// Declares or assigns `lhs` from a StatusOr, or returns its error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  PRONGSAI_ASSIGN_OR_RETURN_IMPL(   \
      PRONGSAI_CONCAT(_status_or_, __LINE__), lhs, expr)

namespace prongsai {

// Prefixes a non-OK status message with context, keeping its code.
inline absl::Status Annotate(const absl::Status& status,
                             absl::string_view context) {
  if (status.ok()) {
    return status;
  }
  return absl::Status(status.code(),
                      std::string(context) + ": " + std::string(status.message()));
}

}  // namespace prongsai

// A small command-line parser for `prongsai <command> [--flag=value ...]`,
// with a generated --help for every command.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace prongsai::cli {

struct FlagSpec {
  std::string name;  // without the leading dashes
  std::string value_name;  // e.g. "PATH"; empty for a boolean switch
  std::string default_value;
  std::string help;
};

struct CommandSpec {
  std::string name;
  std::string summary;
  std::string usage;  // e.g. "prongsai read --stream CODE [--from N]"
  std::vector<FlagSpec> flags;
};

class Args {
 public:
  // Parses `argv` (after the command name) against `spec`. Returns
  // INVALID_ARGUMENT for an unknown flag or a missing value.
  static absl::StatusOr<Args> Parse(const CommandSpec& spec,
                                    const std::vector<std::string>& argv);

  bool help() const { return help_; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  // The given value, or the flag's default.
  const std::string& get(const std::string& name) const;
  absl::StatusOr<uint64_t> GetUint(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  const CommandSpec* spec_ = nullptr;
  bool help_ = false;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positional_;
};

std::string HelpText(const CommandSpec& spec);

// The flags every client command (a command with a --server flag) also
// takes: --tls-ca, --tls-cert, --tls-key, --token, --token-file. See
// dial.h.
const std::vector<FlagSpec>& ClientSecurityFlags();

// `n` with thousands separators, as the commands print counts: "1,234,567".
std::string Thousands(uint64_t n);

}  // namespace prongsai::cli

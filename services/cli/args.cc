#include "services/cli/args.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace prongsai::cli {
namespace {

bool IsClient(const CommandSpec& spec) {
  for (const FlagSpec& flag : spec.flags) {
    if (flag.name == "server") {
      return true;
    }
  }
  return false;
}

const FlagSpec* FindFlag(const CommandSpec& spec, absl::string_view name) {
  for (const FlagSpec& flag : spec.flags) {
    if (flag.name == name) {
      return &flag;
    }
  }
  if (IsClient(spec)) {
    for (const FlagSpec& flag : ClientSecurityFlags()) {
      if (flag.name == name) {
        return &flag;
      }
    }
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<Args> Args::Parse(const CommandSpec& spec,
                                 const std::vector<std::string>& argv) {
  Args args;
  args.spec_ = &spec;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      args.help_ = true;
      continue;
    }
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      args.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const FlagSpec* flag = FindFlag(spec, name);
    if (flag == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unknown flag --", name, " for 'prongsai ", spec.name,
          "'; see 'prongsai ", spec.name, " --help'"));
    }
    if (flag->value_name.empty()) {
      if (has_value && value != "true" && value != "false") {
        return absl::InvalidArgumentError(
            absl::StrCat("--", name, " takes no value"));
      }
      args.values_[name] = has_value ? value : "true";
      continue;
    }
    if (!has_value) {
      if (i + 1 >= argv.size()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "--", name, " needs a value (", flag->value_name, ")"));
      }
      value = argv[++i];
    }
    args.values_[name] = value;
  }
  return args;
}

const std::string& Args::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) {
    return it->second;
  }
  static const std::string kEmpty;
  const FlagSpec* flag = FindFlag(*spec_, name);
  return flag == nullptr ? kEmpty : flag->default_value;
}

absl::StatusOr<uint64_t> Args::GetUint(const std::string& name) const {
  uint64_t value = 0;
  if (!absl::SimpleAtoi(get(name), &value)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--", name, ": expected a non-negative integer, got \"", get(name),
        "\""));
  }
  return value;
}

std::string HelpText(const CommandSpec& spec) {
  std::string out = absl::StrCat(spec.summary, "\n\nUsage: ", spec.usage,
                                 "\n\nFlags:\n");
  for (const FlagSpec& flag : spec.flags) {
    std::string left = absl::StrCat("--", flag.name);
    if (!flag.value_name.empty()) {
      absl::StrAppend(&left, "=", flag.value_name);
    }
    std::string help = flag.help;
    if (!flag.default_value.empty()) {
      absl::StrAppend(&help, " (default: ", flag.default_value, ")");
    }
    absl::StrAppendFormat(&out, "  %-26s %s\n", left, help);
  }
  if (IsClient(spec)) {
    for (const FlagSpec& flag : ClientSecurityFlags()) {
      absl::StrAppendFormat(&out, "  %-26s %s\n",
                            absl::StrCat("--", flag.name, "=", flag.value_name),
                            flag.help);
    }
  }
  absl::StrAppendFormat(&out, "  %-26s %s\n", "--help", "show this help");
  return out;
}

const std::vector<FlagSpec>& ClientSecurityFlags() {
  static const auto* flags = new std::vector<FlagSpec>{
      {"tls-ca", "PEM", "",
       "CA certificate of the server's TLS certificate; TLS when set"},
      {"tls-cert", "PEM", "",
       "this client's certificate, for servers that require mutual TLS"},
      {"tls-key", "PEM", "", "the private key of --tls-cert"},
      {"token", "JWT", "",
       "bearer token (default: the environment variable PRONGSAI_TOKEN)"},
      {"token-file", "FILE", "",
       "a file holding the bearer token (a mounted secret)"},
  };
  return *flags;
}

std::string Thousands(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out.push_back(',');
    }
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace prongsai::cli

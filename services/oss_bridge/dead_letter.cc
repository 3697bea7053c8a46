#include "services/oss_bridge/dead_letter.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "services/oss_bridge/record.h"

namespace prongsai::oss {
namespace {

absl::Status FileError(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " dead-letter file ", path,
                                             ": ", std::strerror(errno)));
}

}  // namespace

DeadLetterFile::DeadLetterFile(std::string path,
                               std::unique_ptr<DeadLetterTopic> topic)
    : path_(std::move(path)), topic_(std::move(topic)) {}

absl::Status DeadLetterFile::Write(const std::vector<DeadLetter>& entries,
                                   absl::Time at) {
  if (entries.empty()) {
    return absl::OkStatus();
  }
  std::string text;
  std::vector<DeadLetterMessage> messages;
  const std::string when =
      FormatUtc(absl::FromUnixSeconds(absl::ToUnixSeconds(at)));
  for (const DeadLetter& entry : entries) {
    nlohmann::json line;
    line["at"] = when;
    line["source"] = entry.source;
    line["index"] = entry.index;
    line["reason"] = entry.reason;
    line["record"] = entry.record;
    std::string dumped =
        line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    absl::StrAppend(&text, dumped, "\n");
    if (topic_ != nullptr) {
      // Keyed by the district as sent, so one district's refusals stay in
      // order; "" when the record named none.
      const nlohmann::json* agency =
          entry.record.is_object() && entry.record.contains("agency_responsible")
              ? &entry.record["agency_responsible"]
              : nullptr;
      messages.push_back(
          {.key = agency != nullptr && agency->is_string()
                      ? agency->get<std::string>()
                      : std::string(),
           .reason = entry.reason,
           .line = std::move(dumped)});
    }
  }
  absl::MutexLock lock(&mu_);
  const int fd =
      open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    return FileError("cannot open", path_);
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      absl::Status status = FileError("cannot write", path_);
      close(fd);
      return status;
    }
    written += static_cast<size_t>(n);
  }
  if (fdatasync(fd) != 0) {
    absl::Status status = FileError("cannot sync", path_);
    close(fd);
    return status;
  }
  if (close(fd) != 0) {
    return FileError("cannot close", path_);
  }
  return topic_ != nullptr ? topic_->Publish(messages) : absl::OkStatus();
}

}  // namespace prongsai::oss

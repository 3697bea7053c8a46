#include "tests/fuzz/append_fuzz.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/base/bytes.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "core/domain/rules.h"
#include "prongsai/v1/ledger.pb.h"

namespace prongsai::fuzz {
namespace {

// 15 June 2025, 12:00 in Bangkok.
const absl::Time kNow = absl::FromUnixSeconds(1749963600);
constexpr size_t kMaxMessageBytes = 2048;

std::unique_ptr<domain::Rules> CityRules() {
  static const auto* bootstrap =
      new std::vector<v1::Event>(domain::CityBootstrapEvents());
  auto rules = std::make_unique<domain::Rules>([] { return kNow; });
  for (const v1::Event& event : *bootstrap) {
    rules->Replay(domain::kCityStream, event);
  }
  return rules;
}

absl::Status Broken(absl::string_view what, const absl::Status& status) {
  return absl::InternalError(absl::StrCat("invariant broken: ", what,
                                          "; status: ", status.ToString()));
}

absl::Status CheckRefusal(const v1::AppendRequest& request,
                          const absl::Status& status) {
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return Broken("a refusal must be INVALID_ARGUMENT", status);
  }
  const absl::string_view message = status.message();
  if (message.size() > kMaxMessageBytes) {
    return Broken("the message is too long", status);
  }
  if (!IsValidUtf8(message)) {
    return Broken("the message is not valid UTF-8", status);
  }
  if (absl::StartsWith(message, "stream: ")) {
    return absl::OkStatus();
  }
  for (int i = 0; i < request.events_size(); ++i) {
    if (absl::StartsWith(message, absl::StrCat("events[", i, "]."))) {
      return absl::OkStatus();
    }
  }
  return Broken("the message must start with the field path", status);
}

}  // namespace

absl::StatusOr<AppendOutcome> RunAppendInput(absl::string_view bytes) {
  AppendOutcome outcome;
  v1::AppendRequest request;
  if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return outcome;
  }
  outcome.decoded = true;
  const std::string& stream = request.stream();

  auto rules = CityRules();
  outcome.admitted = rules->CheckStream(stream);
  if (outcome.admitted.ok()) {
    outcome.admitted = rules->Admit(stream, request.events());
  }
  if (!outcome.admitted.ok()) {
    if (absl::Status bad = CheckRefusal(request, outcome.admitted); !bad.ok()) {
      return bad;
    }
    // Nothing was applied: the same batch gets the same answer.
    const absl::Status again = rules->CheckStream(stream).ok()
                                   ? rules->Admit(stream, request.events())
                                   : rules->CheckStream(stream);
    if (again != outcome.admitted) {
      return Broken(absl::StrCat("a refused batch changed the model; the "
                                 "second answer was ",
                                 again.ToString()),
                    outcome.admitted);
    }
  } else if (!request.events().empty()) {
    auto replayed = CityRules();
    for (const v1::Event& event : request.events()) {
      replayed->Replay(stream, event);
    }
    // Both now hold the batch: each refuses it again, the same way.
    const absl::Status a = rules->Admit(stream, request.events());
    const absl::Status b = replayed->Admit(stream, request.events());
    if (a.ok() || a != b) {
      return Broken(absl::StrCat("replay differs from admit: ", a.ToString(),
                                 " vs ", b.ToString()),
                    outcome.admitted);
    }
  }

  // Replay never checks; it must survive whatever it is given.
  auto unchecked = CityRules();
  const std::string replay_stream =
      rules->CheckStream(stream).ok() ? stream : std::string("1045");
  for (const v1::Event& event : request.events()) {
    unchecked->Replay(replay_stream, event);
  }
  for (const v1::Event& event : request.events()) {
    unchecked->Replay(replay_stream, event);
  }
  return outcome;
}

}  // namespace prongsai::fuzz

#include "services/oss_bridge/bridge.h"

#include <algorithm>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/base/status.h"
#include "services/oss_bridge/mapping.h"

namespace prongsai::oss {
namespace {

struct Outcome {
  bool dead = false;
  bool any_new = false;
  std::string reason;
};

// One request's records of one stream: the unit the bridge narrows a refused
// append down to.
struct Unit {
  std::string stream;
  // stream '\0' request_id, as the bridge remembers received requests.
  std::string key;
  // The receipt, unless the request is known to be received.
  std::optional<v1::Event> received;
  bool received_done = false;
  // Indexes of its records, in the order of their update times.
  std::vector<size_t> records;
};

// Which record an event of an append carries; kReceipt for a unit's receipt.
constexpr size_t kReceipt = static_cast<size_t>(-1);
struct EventRef {
  Unit* unit;
  size_t record;
};

// The index i of a Ledger error "events[i].<path>: <rule>".
std::optional<size_t> EventIndex(absl::string_view message) {
  constexpr absl::string_view kPrefix = "events[";
  if (!absl::StartsWith(message, kPrefix)) {
    return std::nullopt;
  }
  const size_t close = message.find(']');
  size_t index = 0;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(message.substr(kPrefix.size(), close - kPrefix.size()),
                        &index)) {
    return std::nullopt;
  }
  return index;
}

// The rule of a Ledger error without its "events[i]." prefix.
absl::string_view RuleOf(absl::string_view message) {
  if (!EventIndex(message).has_value()) {
    return message;
  }
  message.remove_prefix(message.find(']') + 1);
  if (!message.empty() && (message[0] == '.' || message[0] == ':')) {
    message.remove_prefix(1);
  }
  return absl::StripLeadingAsciiWhitespace(message);
}

// Errors that say something about the records (refuse or narrow down);
// anything else means the ledger could not decide, and nothing is
// acknowledged.
bool IsVerdict(absl::StatusCode code) {
  return code == absl::StatusCode::kInvalidArgument ||
         code == absl::StatusCode::kAlreadyExists ||
         code == absl::StatusCode::kResourceExhausted;
}

absl::Status LedgerDown(const absl::Status& status) {
  const absl::StatusCode code =
      status.code() == absl::StatusCode::kDeadlineExceeded ||
              status.code() == absl::StatusCode::kCancelled
          ? absl::StatusCode::kUnavailable
          : status.code();
  return absl::Status(code, absl::StrCat("the ledger did not take the batch: ",
                                         status.message()));
}

// Lands the units of one batch and records each record's outcome.
class Lander {
 public:
  Lander(LedgerClient* ledger,
         const std::vector<std::optional<MappedRecord>>& mapped,
         std::vector<Outcome>& outcomes)
      : ledger_(ledger), mapped_(mapped), outcomes_(outcomes) {}

  absl::Status LandAll(const std::vector<std::vector<Unit*>>& chunks) {
    std::vector<v1::AppendRequest> requests(chunks.size());
    std::vector<std::vector<EventRef>> refs(chunks.size());
    std::vector<const v1::AppendRequest*> sending;
    std::vector<size_t> sent;
    for (size_t c = 0; c < chunks.size(); ++c) {
      requests[c] = Build(chunks[c], &refs[c]);
      if (!refs[c].empty()) {
        sending.push_back(&requests[c]);
        sent.push_back(c);
      }
    }
    std::vector<absl::StatusOr<v1::AppendResponse>> results =
        ledger_->AppendAll(sending);
    for (size_t k = 0; k < sent.size(); ++k) {
      if (!results[k].ok() && !IsVerdict(results[k].status().code())) {
        return LedgerDown(results[k].status());
      }
    }
    for (size_t k = 0; k < sent.size(); ++k) {
      const size_t c = sent[k];
      RETURN_IF_ERROR(
          Settle(chunks[c], std::move(refs[c]), std::move(results[k])));
    }
    return absl::OkStatus();
  }

  uint64_t events_appended() const { return events_appended_; }
  const std::vector<std::string>& received_keys() const {
    return received_keys_;
  }

 private:
  bool Alive(size_t record) const { return !outcomes_[record].dead; }

  bool AnyAlive(const Unit& unit) const {
    return std::any_of(unit.records.begin(), unit.records.end(),
                       [&](size_t r) { return Alive(r); });
  }

  void Refuse(size_t record, std::string reason) {
    if (!outcomes_[record].dead) {
      outcomes_[record].dead = true;
      outcomes_[record].reason = std::move(reason);
    }
  }

  void RefuseUnit(const Unit& unit, absl::string_view rule) {
    for (size_t r : unit.records) {
      Refuse(r,
             absl::StrCat("the ledger refused the request's receipt: ", rule));
    }
  }

  // The receipts still to send and the events of the live records.
  v1::AppendRequest Build(const std::vector<Unit*>& units,
                          std::vector<EventRef>* refs) {
    v1::AppendRequest request;
    refs->clear();
    for (Unit* unit : units) {
      request.set_stream(unit->stream);
      if (!AnyAlive(*unit)) {
        continue;
      }
      if (unit->received.has_value() && !unit->received_done) {
        *request.add_events() = *unit->received;
        refs->push_back({unit, kReceipt});
      }
      for (size_t r : unit->records) {
        if (Alive(r) && mapped_[r]->change.has_value()) {
          *request.add_events() = *mapped_[r]->change;
          refs->push_back({unit, r});
        }
      }
    }
    return request;
  }

  void Landed(const std::vector<EventRef>& refs,
              const v1::AppendResponse& response) {
    const bool added = !response.duplicate();
    for (const EventRef& ref : refs) {
      if (ref.record == kReceipt) {
        ref.unit->received_done = true;
        received_keys_.push_back(ref.unit->key);
        if (added) {
          for (size_t r : ref.unit->records) {
            if (Alive(r)) {
              outcomes_[r].any_new = true;
              break;
            }
          }
        }
      } else if (added) {
        outcomes_[ref.record].any_new = true;
      }
    }
    if (added) {
      events_appended_ += refs.size();
    }
  }

  absl::StatusOr<v1::AppendResponse> AppendOne(
      const v1::AppendRequest& request) {
    return std::move(ledger_->AppendAll({&request})[0]);
  }

  // Finishes an append of `units` that got `result`: refuses the records the
  // rules refuse and re-sends the rest, or narrows down.
  absl::Status Settle(const std::vector<Unit*>& units,
                      std::vector<EventRef> refs,
                      absl::StatusOr<v1::AppendResponse> result) {
    while (true) {
      if (result.ok()) {
        Landed(refs, *result);
        return absl::OkStatus();
      }
      const absl::Status& status = result.status();
      if (!IsVerdict(status.code())) {
        return LedgerDown(status);
      }
      if (status.code() != absl::StatusCode::kInvalidArgument) {
        return Narrow(units);
      }
      const std::optional<size_t> index = EventIndex(status.message());
      if (!index.has_value() || *index >= refs.size()) {
        return Narrow(units);
      }
      const EventRef& bad = refs[*index];
      const absl::string_view rule = RuleOf(status.message());
      if (bad.record == kReceipt) {
        RefuseUnit(*bad.unit, rule);
      } else {
        Refuse(bad.record, absl::StrCat("the ledger refused it: ", rule));
      }
      v1::AppendRequest request = Build(units, &refs);
      if (refs.empty()) {
        return absl::OkStatus();
      }
      result = AppendOne(request);
    }
  }

  // Re-sends a refused chunk one request at a time (concurrently), and a
  // refused request one event at a time.
  absl::Status Narrow(const std::vector<Unit*>& units) {
    if (units.size() == 1) {
      return LandEventwise(*units[0]);
    }
    std::vector<v1::AppendRequest> requests(units.size());
    std::vector<std::vector<EventRef>> refs(units.size());
    std::vector<const v1::AppendRequest*> sending;
    std::vector<size_t> sent;
    for (size_t u = 0; u < units.size(); ++u) {
      requests[u] = Build({units[u]}, &refs[u]);
      if (!refs[u].empty()) {
        sending.push_back(&requests[u]);
        sent.push_back(u);
      }
    }
    std::vector<absl::StatusOr<v1::AppendResponse>> results =
        ledger_->AppendAll(sending);
    for (size_t k = 0; k < sent.size(); ++k) {
      if (!results[k].ok() && !IsVerdict(results[k].status().code())) {
        return LedgerDown(results[k].status());
      }
    }
    for (size_t k = 0; k < sent.size(); ++k) {
      const size_t u = sent[k];
      if (results[k].ok()) {
        Landed(refs[u], *results[k]);
      } else {
        RETURN_IF_ERROR(LandEventwise(*units[u]));
      }
    }
    return absl::OkStatus();
  }

  absl::Status LandEventwise(Unit& unit) {
    if (!AnyAlive(unit)) {
      return absl::OkStatus();
    }
    if (unit.received.has_value() && !unit.received_done) {
      v1::AppendRequest request;
      request.set_stream(unit.stream);
      *request.add_events() = *unit.received;
      absl::StatusOr<v1::AppendResponse> result = AppendOne(request);
      if (result.ok()) {
        Landed({{&unit, kReceipt}}, *result);
      } else if (result.status().code() == absl::StatusCode::kAlreadyExists) {
        // Received before, as another record told it: the first receipt
        // stands, and this record's updates still count.
        unit.received_done = true;
        received_keys_.push_back(unit.key);
      } else if (IsVerdict(result.status().code())) {
        RefuseUnit(unit, RuleOf(result.status().message()));
        return absl::OkStatus();
      } else {
        return LedgerDown(result.status());
      }
    }
    for (size_t r : unit.records) {
      if (!Alive(r) || !mapped_[r]->change.has_value()) {
        continue;
      }
      v1::AppendRequest request;
      request.set_stream(unit.stream);
      *request.add_events() = *mapped_[r]->change;
      absl::StatusOr<v1::AppendResponse> result = AppendOne(request);
      if (result.ok()) {
        Landed({{&unit, r}}, *result);
      } else if (result.status().code() == absl::StatusCode::kAlreadyExists) {
        Refuse(r, absl::StrCat(
                      "conflicts with a different event already in the "
                      "ledger for the same request, status and update time: ",
                      RuleOf(result.status().message())));
      } else if (IsVerdict(result.status().code())) {
        Refuse(r, absl::StrCat("the ledger refused it: ",
                               RuleOf(result.status().message())));
      } else {
        return LedgerDown(result.status());
      }
    }
    return absl::OkStatus();
  }

  LedgerClient* const ledger_;
  const std::vector<std::optional<MappedRecord>>& mapped_;
  std::vector<Outcome>& outcomes_;
  uint64_t events_appended_ = 0;
  std::vector<std::string> received_keys_;
};

}  // namespace

Bridge::Bridge(LedgerClient* ledger, DeadLetterFile* dead_letters,
               const ServiceCatalog* catalog, BridgeOptions options)
    : ledger_(ledger),
      dead_letters_(dead_letters),
      catalog_(catalog),
      options_(std::move(options)) {}

bool Bridge::Known(const std::string& key) {
  absl::MutexLock lock(&mu_);
  return known_.contains(key);
}

void Bridge::Remember(const std::vector<std::string>& keys) {
  absl::MutexLock lock(&mu_);
  if (known_.size() + keys.size() > options_.max_known_requests) {
    known_.clear();
  }
  known_.insert(keys.begin(), keys.end());
}

absl::StatusOr<BatchResult> Bridge::Submit(std::vector<InputRecord> records) {
  const size_t count = records.size();
  absl::StatusOr<BatchResult> result = Land(std::move(records));
  constexpr auto kRelaxed = std::memory_order_relaxed;
  stats_.batches.fetch_add(1, kRelaxed);
  if (!result.ok()) {
    stats_.batches_failed.fetch_add(1, kRelaxed);
    stats_.records_unacknowledged.fetch_add(count, kRelaxed);
    return result;
  }
  stats_.accepted.fetch_add(result->accepted, kRelaxed);
  stats_.duplicates.fetch_add(result->duplicates, kRelaxed);
  stats_.dead_lettered.fetch_add(result->dead_lettered.size(), kRelaxed);
  stats_.events_appended.fetch_add(result->events_appended, kRelaxed);
  return result;
}

BridgeStats Bridge::stats() const {
  constexpr auto kRelaxed = std::memory_order_relaxed;
  return {.batches = stats_.batches.load(kRelaxed),
          .batches_failed = stats_.batches_failed.load(kRelaxed),
          .records_unacknowledged = stats_.records_unacknowledged.load(kRelaxed),
          .accepted = stats_.accepted.load(kRelaxed),
          .duplicates = stats_.duplicates.load(kRelaxed),
          .dead_lettered = stats_.dead_lettered.load(kRelaxed),
          .events_appended = stats_.events_appended.load(kRelaxed)};
}

absl::StatusOr<BatchResult> Bridge::Land(std::vector<InputRecord> records) {
  const absl::Time now = options_.clock();
  const size_t n = records.size();
  std::vector<Outcome> outcomes(n);
  std::vector<std::optional<MappedRecord>> mapped(n);
  for (size_t i = 0; i < n; ++i) {
    if (!records[i].error.empty()) {
      outcomes[i].dead = true;
      outcomes[i].reason = records[i].error;
      continue;
    }
    absl::StatusOr<MappedRecord> m =
        MapRecord(records[i].record, *catalog_, now);
    if (!m.ok()) {
      outcomes[i].dead = true;
      outcomes[i].reason = std::string(m.status().message());
      continue;
    }
    mapped[i] = std::move(*m);
  }

  // Group by stream and request, in order of first appearance.
  std::vector<Unit> units;
  absl::flat_hash_map<std::string, size_t> unit_of;
  for (size_t i = 0; i < n; ++i) {
    if (!mapped[i].has_value()) {
      continue;
    }
    std::string key = absl::StrCat(
        mapped[i]->district, absl::string_view("\0", 1), mapped[i]->request_id);
    auto [it, added] = unit_of.try_emplace(key, units.size());
    if (added) {
      units.push_back(
          {mapped[i]->district, std::move(key), std::nullopt, false, {}});
    }
    units[it->second].records.push_back(i);
  }

  // Within a request, updates land in the order of their times (a
  // completion last among equals), so a late-arriving older update of the
  // same batch is stored before the newer ones.
  auto rank = [&](size_t r) {
    if (!mapped[r]->change.has_value()) {
      return 0;
    }
    return mapped[r]->change->has_service_request_completed() ? 2 : 1;
  };
  absl::flat_hash_map<std::string, size_t> event_owner;
  for (Unit& unit : units) {
    std::stable_sort(unit.records.begin(), unit.records.end(),
                     [&](size_t a, size_t b) {
                       return std::make_tuple(mapped[a]->updated, rank(a)) <
                              std::make_tuple(mapped[b]->updated, rank(b));
                     });
    // The same event twice in one batch: once is enough, and two different
    // contents under one id cannot both be true.
    for (size_t r : unit.records) {
      std::optional<v1::Event>& change = mapped[r]->change;
      if (!change.has_value()) {
        continue;
      }
      auto [it, added] = event_owner.try_emplace(change->event_id(), r);
      if (added) {
        continue;
      }
      if (change->SerializeAsString() ==
          mapped[it->second]->change->SerializeAsString()) {
        change.reset();
      } else {
        outcomes[r].dead = true;
        outcomes[r].reason = absl::StrCat(
            "conflicts with the record at index ", records[it->second].index,
            " of this batch: the same request, status and update time with "
            "different content");
      }
    }
    if (!Known(unit.key)) {
      unit.received = mapped[unit.records.front()]->received;
    }
  }

  // Chunks of one stream each, bounded in records and events.
  std::map<std::string, std::vector<Unit*>> by_stream;
  for (Unit& unit : units) {
    by_stream[unit.stream].push_back(&unit);
  }
  std::vector<std::vector<Unit*>> chunks;
  for (auto& [stream, stream_units] : by_stream) {
    std::vector<Unit*> chunk;
    int chunk_records = 0;
    int chunk_events = 0;
    for (Unit* unit : stream_units) {
      const int unit_records = static_cast<int>(unit->records.size());
      const int unit_events = unit_records + 1;
      if (!chunk.empty() &&
          (chunk_records + unit_records > options_.max_records_per_append ||
           chunk_events + unit_events > options_.max_events_per_append)) {
        chunks.push_back(std::move(chunk));
        chunk.clear();
        chunk_records = 0;
        chunk_events = 0;
      }
      chunk.push_back(unit);
      chunk_records += unit_records;
      chunk_events += unit_events;
    }
    if (!chunk.empty()) {
      chunks.push_back(std::move(chunk));
    }
  }

  Lander lander(ledger_, mapped, outcomes);
  RETURN_IF_ERROR(lander.LandAll(chunks));

  BatchResult result;
  result.events_appended = lander.events_appended();
  std::vector<DeadLetter> dead;
  for (size_t i = 0; i < n; ++i) {
    if (outcomes[i].dead) {
      result.dead_lettered.push_back({records[i].index, outcomes[i].reason});
      dead.push_back({records[i].source, records[i].index, outcomes[i].reason,
                      records[i].original.is_null()
                          ? RecordToJson(records[i].record)
                          : std::move(records[i].original)});
    } else if (outcomes[i].any_new) {
      ++result.accepted;
    } else {
      ++result.duplicates;
    }
  }
  RETURN_IF_ERROR(dead_letters_->Write(dead, now));
  Remember(lander.received_keys());
  return result;
}

}  // namespace prongsai::oss

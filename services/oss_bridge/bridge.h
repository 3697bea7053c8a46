// The BMA OSS bridge: lands batches of service-request records in the ledger
// as events, idempotently, and dead-letters what cannot land.
//
// A batch is checked record by record (mapping.h); the records that pass are
// grouped by district stream and by request, each request's records in the
// order of their update times, and each stream's requests are appended in
// chunks, all streams at once. A chunk that the ledger refuses is narrowed
// down: part-stored chunks (ALREADY_EXISTS) are re-sent one request at a
// time and then one event at a time, and an event the domain rules refuse
// (INVALID_ARGUMENT) dead-letters its record, while the rest is re-sent. So
// every record ends as accepted (it added events), duplicate (its events
// were all stored before) or dead-lettered with its reason, which is written
// to the dead-letter file before the batch is answered. If the ledger is
// unavailable the batch fails as a whole and nothing is acknowledged;
// re-sending it is safe.
//
// Example:
//   auto ledger = NewGrpcLedgerClient(address, {});
//   DeadLetterFile dead_letters("oss-dead-letter.jsonl");
//   Bridge bridge(ledger.get(), &dead_letters);
//   ASSIGN_OR_RETURN(BatchResult result, bridge.Submit(std::move(records)));
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/oss_bridge/catalog.h"
#include "services/oss_bridge/dead_letter.h"
#include "services/oss_bridge/ledger_client.h"
#include "services/oss_bridge/record.h"

namespace prongsai::oss {

// One record of a batch as it arrived.
struct InputRecord {
  OssRecord record;
  // Why it could not be read as a record (malformed JSON, a field of the
  // wrong type); empty when it was read.
  std::string error;
  // The record as sent, for the dead-letter file.
  nlohmann::json original;
  // Where it came from and its index there (see DeadLetter).
  std::string source;
  uint64_t index = 0;
};

struct BatchResult {
  struct Refused {
    uint64_t index = 0;
    std::string reason;
  };
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t events_appended = 0;
  // In input order.
  std::vector<Refused> dead_lettered;
};

// What a bridge has done since it started.
struct BridgeStats {
  uint64_t batches = 0;
  // Batches answered with an error (ledger or dead letters unavailable) and
  // their records, none of them acknowledged.
  uint64_t batches_failed = 0;
  uint64_t records_unacknowledged = 0;
  // The records of answered batches, by outcome.
  uint64_t accepted = 0;
  uint64_t duplicates = 0;
  uint64_t dead_lettered = 0;
  uint64_t events_appended = 0;
};

struct BridgeOptions {
  // Bounds of one append: records (of one stream) and events.
  int max_records_per_append = 1'000;
  int max_events_per_append = 5'000;
  // The clock for "not in the future".
  std::function<absl::Time()> clock = [] { return absl::Now(); };
  // Requests remembered as received, to send their receipt only once; the
  // memory is cleared when it grows past this.
  size_t max_known_requests = 4'000'000;
};

class Bridge {
 public:
  // `ledger`, `dead_letters` and `catalog` must outlive the bridge.
  Bridge(LedgerClient* ledger, DeadLetterFile* dead_letters,
         const ServiceCatalog* catalog = &ServiceCatalog::Shipped(),
         BridgeOptions options = {});

  // Lands `records`. Safe to call from several threads. Errors: UNAVAILABLE
  // when the ledger (or the dead-letter file) cannot take writes; nothing of
  // the batch is then acknowledged.
  absl::StatusOr<BatchResult> Submit(std::vector<InputRecord> records);

  const ServiceCatalog& catalog() const { return *catalog_; }

  BridgeStats stats() const;

 private:
  absl::StatusOr<BatchResult> Land(std::vector<InputRecord> records);
  bool Known(const std::string& key) ABSL_LOCKS_EXCLUDED(mu_);
  void Remember(const std::vector<std::string>& keys) ABSL_LOCKS_EXCLUDED(mu_);

  LedgerClient* const ledger_;
  DeadLetterFile* const dead_letters_;
  const ServiceCatalog* const catalog_;
  const BridgeOptions options_;

  absl::Mutex mu_;
  absl::flat_hash_set<std::string> known_ ABSL_GUARDED_BY(mu_);

  struct {
    std::atomic<uint64_t> batches{0};
    std::atomic<uint64_t> batches_failed{0};
    std::atomic<uint64_t> records_unacknowledged{0};
    std::atomic<uint64_t> accepted{0};
    std::atomic<uint64_t> duplicates{0};
    std::atomic<uint64_t> dead_lettered{0};
    std::atomic<uint64_t> events_appended{0};
  } stats_;
};

}  // namespace prongsai::oss

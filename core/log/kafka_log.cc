#include "core/log/kafka_log.h"

#include <librdkafka/rdkafka.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "core/base/bytes.h"
#include "core/base/change_signal.h"
#include "core/base/status.h"
#include "core/log/rocksdb_log.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::log {
namespace {

// C handles, each released by its own function.
struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
  void operator()(rd_kafka_conf_t* conf) const { rd_kafka_conf_destroy(conf); }
  void operator()(rd_kafka_topic_t* topic) const {
    rd_kafka_topic_destroy(topic);
  }
  void operator()(rd_kafka_error_t* error) const {
    rd_kafka_error_destroy(error);
  }
  void operator()(rd_kafka_message_t* message) const {
    rd_kafka_message_destroy(message);
  }
  void operator()(rd_kafka_topic_partition_list_t* list) const {
    rd_kafka_topic_partition_list_destroy(list);
  }
  void operator()(const rd_kafka_metadata_t* metadata) const {
    rd_kafka_metadata_destroy(metadata);
  }
  void operator()(char* text) const { rd_kafka_mem_free(nullptr, text); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;
using ConfHandle = std::unique_ptr<rd_kafka_conf_t, KafkaDeleter>;
using TopicHandle = std::unique_ptr<rd_kafka_topic_t, KafkaDeleter>;
using ErrorHandle = std::unique_ptr<rd_kafka_error_t, KafkaDeleter>;
using MessageHandle = std::unique_ptr<rd_kafka_message_t, KafkaDeleter>;
using PartitionList =
    std::unique_ptr<rd_kafka_topic_partition_list_t, KafkaDeleter>;
using MetadataHandle = std::unique_ptr<const rd_kafka_metadata_t, KafkaDeleter>;
using KafkaString = std::unique_ptr<char, KafkaDeleter>;

// As in the local replica (the embedded log), so that nothing committed to
// Kafka is refused by the replica afterwards.
constexpr size_t kMaxStreamName = 127;
constexpr int kConsumeBatch = 2000;
// Rejected() keeps the first ones; every one is also warned about.
constexpr size_t kMaxRejectedKept = 10'000;
// Topic positions of records written through but not yet seen by the
// consumer. Past this many the consumer compares with the replica instead.
constexpr size_t kMaxOwnOffsets = 1 << 20;
constexpr absl::Duration kOffsetSaveInterval = absl::Seconds(1);
// Committed writes waiting for the replica writer; a Write waits for room.
constexpr size_t kMaxQueuedReplicaWrites = 4;
constexpr absl::Duration kRetryBackoff = absl::Milliseconds(50);
constexpr char kOffsetsFile[] = "kafka-offsets";
constexpr char kOffsetsMagic[] = "prongsai-kafka-replica-offsets 1";

int ToMillis(absl::Duration d) {
  return static_cast<int>(
      std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

absl::StatusCode CodeFor(rd_kafka_resp_err_t err) {
  switch (err) {
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
      return absl::StatusCode::kNotFound;
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_INVALID_CONFIG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
      return absl::StatusCode::kInvalidArgument;
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR__AUTHENTICATION:
      return absl::StatusCode::kPermissionDenied;
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
      return absl::StatusCode::kResourceExhausted;
    default:
      // Timeouts, transport failures, leader changes, a coordinator moving:
      // the caller retries.
      return absl::StatusCode::kUnavailable;
  }
}

absl::Status FromKafka(rd_kafka_resp_err_t err, absl::string_view what) {
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    return absl::OkStatus();
  }
  return {CodeFor(err), absl::StrCat(what, ": ", rd_kafka_err2name(err), ": ",
                                     rd_kafka_err2str(err))};
}

std::string Describe(const rd_kafka_error_t* error) {
  return absl::StrCat(rd_kafka_error_name(error), ": ",
                      rd_kafka_error_string(error));
}

// The errors a producer gets once another instance took over its
// transactional.id (or the broker otherwise fenced its epoch).
bool IsFencing(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__FENCED ||
         err == RD_KAFKA_RESP_ERR_PRODUCER_FENCED ||
         err == RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH;
}

void DefaultWarn(absl::string_view message) {
  std::cerr << "prongsai kafka: " << message << "\n";
}

// A message's place in the topic, as one integer.
uint64_t OffsetKey(int32_t partition, int64_t offset) {
  return (static_cast<uint64_t>(partition) << 48) ^
         static_cast<uint64_t>(offset);
}

// What the clients report through their callbacks: for the producer, where
// the current transaction's messages were stored and why any failed (the
// delivery callback runs inside rd_kafka_poll, on a writing thread); for both,
// warnings.
class ClientContext {
 public:
  explicit ClientContext(std::function<void(absl::string_view)> warn)
      : warn_(std::move(warn)) {}

  // Starts counting the deliveries of a new transaction; returns its tag.
  uint64_t BeginTransaction() {
    absl::MutexLock lock(&mu_);
    ++generation_;
    delivered_.clear();
    first_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
    return generation_;
  }

  void OnDelivery(uint64_t generation, const rd_kafka_message_t& message) {
    absl::MutexLock lock(&mu_);
    if (IsFencing(message.err)) {
      fencing_error_ = message.err;
    }
    if (generation != generation_) {
      return;  // a message of an earlier, settled transaction
    }
    if (message.err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      delivered_.push_back(OffsetKey(message.partition, message.offset));
    } else if (first_error_ == RD_KAFKA_RESP_ERR_NO_ERROR) {
      first_error_ = message.err;
    }
  }

  // Where the current transaction's messages were stored.
  std::vector<uint64_t> TakeDelivered() {
    absl::MutexLock lock(&mu_);
    return std::move(delivered_);
  }
  rd_kafka_resp_err_t first_error() const {
    absl::MutexLock lock(&mu_);
    return first_error_;
  }
  rd_kafka_resp_err_t fencing_error() const {
    absl::MutexLock lock(&mu_);
    return fencing_error_;
  }

  void Warn(absl::string_view message) const { warn_(message); }

 private:
  const std::function<void(absl::string_view)> warn_;
  mutable absl::Mutex mu_;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<uint64_t> delivered_ ABSL_GUARDED_BY(mu_);
  rd_kafka_resp_err_t first_error_ ABSL_GUARDED_BY(mu_) =
      RD_KAFKA_RESP_ERR_NO_ERROR;
  rd_kafka_resp_err_t fencing_error_ ABSL_GUARDED_BY(mu_) =
      RD_KAFKA_RESP_ERR_NO_ERROR;
};

// The callbacks get the ClientContext as the configuration opaque.
void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* message,
                void* opaque) {
  static_cast<ClientContext*>(opaque)->OnDelivery(
      reinterpret_cast<uintptr_t>(message->_private), *message);
}

void OnLog(const rd_kafka_t* rk, int level, const char* facility,
           const char* text) {
  // Levels are syslog's: keep warnings and worse.
  if (level > 4) {
    return;
  }
  if (auto* context = static_cast<ClientContext*>(rd_kafka_opaque(rk))) {
    context->Warn(absl::StrCat(rd_kafka_name(rk), ": ", facility, ": ", text));
  }
}

void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque) {
  // Non-fatal errors are logged by librdkafka itself (OnLog); a fatal one is
  // also returned by the next transactional call.
  if (err == RD_KAFKA_RESP_ERR__FATAL) {
    static_cast<ClientContext*>(opaque)->Warn(
        absl::StrCat(rd_kafka_name(rk), ": fatal error: ", reason));
  }
}

using Properties = std::vector<std::pair<std::string, std::string>>;

absl::StatusOr<KafkaHandle> NewClient(rd_kafka_type_t type,
                                      const Properties& defaults,
                                      const Properties& overrides,
                                      ClientContext* context) {
  ConfHandle conf(rd_kafka_conf_new());
  char errstr[512];
  for (const Properties* list : {&defaults, &overrides}) {
    for (const auto& [name, value] : *list) {
      if (rd_kafka_conf_set(conf.get(), name.c_str(), value.c_str(), errstr,
                            sizeof(errstr)) != RD_KAFKA_CONF_OK) {
        return absl::InvalidArgumentError(
            absl::StrCat("Kafka property ", name, "=", value, ": ", errstr));
      }
    }
  }
  rd_kafka_conf_set_opaque(conf.get(), context);
  rd_kafka_conf_set_log_cb(conf.get(), OnLog);
  rd_kafka_conf_set_error_cb(conf.get(), OnError);
  if (type == RD_KAFKA_PRODUCER) {
    rd_kafka_conf_set_dr_msg_cb(conf.get(), OnDelivery);
  }
  // rd_kafka_new takes the configuration only when it succeeds.
  KafkaHandle client(rd_kafka_new(type, conf.get(), errstr, sizeof(errstr)));
  if (client == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("creating the Kafka client: ", errstr));
  }
  static_cast<void>(conf.release());  // now owned by `client`
  return client;
}

// A record of the current write, with what its message headers need.
struct Outgoing {
  const PendingRecord* record;
  absl::string_view prev_hash;
  absl::string_view event_type;
  std::string sequence;
  std::string hash_hex;
};

// The head of a stream's chain, as the replica holds it.
struct ChainHead {
  uint64_t sequence = 0;
  Hash hash = kZeroHash;
};

class KafkaLog final : public KafkaEventLog {
 public:
  explicit KafkaLog(const KafkaLogOptions& options)
      : options_(options),
        transactional_id_(
            TransactionalId(options.transactional_id_prefix, options.shard)),
        context_(options.warn ? options.warn : DefaultWarn) {}

  ~KafkaLog() override {
    stopping_.store(true);
    if (consumer_thread_.joinable()) {
      consumer_thread_.join();
      SaveOffsets();
    }
    {
      absl::MutexLock lock(&replica_mu_);
      replica_stopping_ = true;
    }
    if (replica_thread_.joinable()) {
      replica_thread_.join();  // after it wrote everything queued
    }
    if (consumer_ != nullptr) {
      rd_kafka_consumer_close(consumer_.get());
    }
  }

  absl::Status Open();

  // EventLog: reads are the replica's. Committed writes reach the replica
  // through the replica writer, right after Write returns: FindEvent also
  // looks at those still queued, and the other reads first wait until
  // everything queued before them is in the replica, so a caller always
  // reads its own acknowledged writes.
  absl::StatusOr<uint64_t> Write(
      absl::Span<const PendingRecord> records) override;
  absl::StatusOr<std::optional<EventRef>> FindEvent(
      absl::string_view event_id) override {
    {
      absl::MutexLock lock(&replica_mu_);
      if (auto it = queued_events_.find(event_id);
          it != queued_events_.end()) {
        return it->second;
      }
    }
    // Not queued: never written by this instance, or already in the replica.
    return replica_->FindEvent(event_id);
  }
  absl::StatusOr<std::vector<std::optional<EventRef>>> FindEvents(
      absl::Span<const absl::string_view> event_ids) override {
    std::vector<std::optional<EventRef>> out(event_ids.size());
    std::vector<absl::string_view> rest;
    std::vector<size_t> rest_at;
    {
      absl::MutexLock lock(&replica_mu_);
      for (size_t i = 0; i < event_ids.size(); ++i) {
        if (auto it = queued_events_.find(event_ids[i]);
            it != queued_events_.end()) {
          out[i] = it->second;
        } else {
          rest.push_back(event_ids[i]);
          rest_at.push_back(i);
        }
      }
    }
    if (!rest.empty()) {
      ASSIGN_OR_RETURN(std::vector<std::optional<EventRef>> stored,
                       replica_->FindEvents(rest));
      for (size_t j = 0; j < rest.size(); ++j) {
        out[rest_at[j]] = std::move(stored[j]);
      }
    }
    return out;
  }
  absl::StatusOr<StreamHead> LoadHead(absl::string_view stream) override {
    RETURN_IF_ERROR(DrainReplica());
    return replica_->LoadHead(stream);
  }
  absl::Status ReadStream(absl::string_view stream, uint64_t from_sequence,
                          const EntryVisitor& visit) override {
    RETURN_IF_ERROR(DrainReplica());
    return replica_->ReadStream(stream, from_sequence, visit);
  }
  absl::Status Scan(uint64_t from_position,
                    const EntryVisitor& visit) override {
    RETURN_IF_ERROR(DrainReplica());
    return replica_->Scan(from_position, visit);
  }
  // Counts the writes still queued for the replica: a Scan past the
  // replica's end waits for them.
  uint64_t LastPosition() const override {
    absl::MutexLock lock(&replica_mu_);
    return std::max(reserved_last_, replica_->LastPosition());
  }
  uint64_t WaitForPosition(uint64_t position, absl::Time deadline) override {
    if (const uint64_t last = LastPosition(); last >= position) {
      return last;
    }
    return std::max(LastPosition(),
                    replica_->WaitForPosition(position, deadline));
  }

  // KafkaEventLog.
  std::vector<RejectedRecord> Rejected() const override {
    absl::MutexLock lock(&rejected_mu_);
    return rejected_;
  }
  absl::Status CheckOwnership(absl::string_view stream) const override;
  absl::Status WriterStatus() const override {
    absl::MutexLock lock(&status_mu_);
    return writer_status_;
  }
  absl::Status Recover(absl::Duration timeout) override;
  absl::Status CatchUp(absl::Duration timeout) override;
  const std::string& transactional_id() const override {
    return transactional_id_;
  }

 private:
  enum class Pending { kNone, kCommit, kAbort };
  enum class Verdict { kApply, kPresent, kReject };

  absl::Status OpenProducer();
  absl::Status OpenConsumer();
  absl::Status StartConsumer();
  absl::Status LoadOffsets(std::vector<int64_t>& next);
  void SaveOffsets();

  // Writing; called with write_mu_ and apply_mu_ held.
  absl::Status Transact(const std::vector<Outgoing>& outgoing,
                        absl::Span<const PendingRecord> records,
                        absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, apply_mu_);
  // One transaction; `retry` tells whether it was aborted for a passing
  // reason, so that sending the same records again may succeed.
  absl::Status TransactOnce(const std::vector<Outgoing>& outgoing,
                            absl::Span<const PendingRecord> records,
                            absl::Time deadline, bool& retry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, apply_mu_);
  absl::Status Settle(absl::Time deadline)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_, apply_mu_);
  absl::Status Abort(absl::Time deadline, absl::string_view why)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Handles a failed transactional call; always returns an error. Sets
  // `retry` when it aborted the transaction for a passing reason.
  absl::Status Failed(ErrorHandle error, absl::string_view what,
                      absl::Time deadline, bool& retry)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  absl::Status Stop(absl::string_view reason, bool fenced)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  void SetPending(Pending pending) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  // The replica; called with apply_mu_ held.
  absl::StatusOr<ChainHead*> Head(absl::string_view stream)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  absl::StatusOr<std::optional<Hash>> StoredHash(absl::string_view stream,
                                                 uint64_t sequence,
                                                 const ChainHead& head)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Applies records the broker committed, skipping those already present.
  absl::Status ApplyCommitted(absl::Span<const PendingRecord> records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);

  // The replica writer: applies committed writes in order.
  void ReplicaLoop();
  // Queues committed `records` for the replica; returns their first
  // position.
  absl::StatusOr<uint64_t> QueueForReplica(
      absl::Span<const PendingRecord> records)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  // Waits until everything queued so far is in the replica.
  absl::Status DrainReplica();

  // The consumer.
  void ConsumeLoop();
  void ApplyBatch(std::vector<MessageHandle>& batch);
  // An error only when the replica cannot be read.
  absl::StatusOr<Verdict> Check(
      const rd_kafka_message_t& message,
      absl::flat_hash_map<std::string, ChainHead>& staged,
      absl::flat_hash_set<std::string>& staged_ids, PendingRecord& out,
      std::string& reason) ABSL_EXCLUSIVE_LOCKS_REQUIRED(apply_mu_);
  void Reject(const rd_kafka_message_t& message, uint64_t sequence,
              std::string reason);

  const KafkaLogOptions options_;
  const std::string transactional_id_;
  std::string cluster_id_;
  int partitions_ = 0;
  // Where the consumer starts, per partition: the offsets file's, or the
  // beginning.
  std::vector<int64_t> start_offsets_;

  std::unique_ptr<EventLog> replica_;

  // Declared before the clients, which call into it until destroyed.
  ClientContext context_;
  KafkaHandle producer_;
  TopicHandle producer_topic_;
  KafkaHandle consumer_;

  // Writes, one at a time.
  absl::Mutex write_mu_ ABSL_ACQUIRED_BEFORE(apply_mu_);
  bool stopped_ ABSL_GUARDED_BY(write_mu_) = false;
  absl::Status stop_status_ ABSL_GUARDED_BY(write_mu_);
  Pending pending_ ABSL_GUARDED_BY(write_mu_) = Pending::kNone;
  // The records of a transaction whose commit timed out.
  std::vector<PendingRecord> pending_records_ ABSL_GUARDED_BY(write_mu_);
  // Set after a failed write, until the replica has read the topic's end.
  bool catch_up_before_write_ ABSL_GUARDED_BY(write_mu_) = false;

  mutable absl::Mutex status_mu_;
  absl::Status writer_status_ ABSL_GUARDED_BY(status_mu_);

  // What the replica holds, and what it refused. Writes hold this lock from
  // before they produce until their records are in the replica, so the
  // consumer never sees a committed record of this instance before it is
  // applied.
  mutable absl::Mutex apply_mu_ ABSL_ACQUIRED_BEFORE(progress_mu_);
  absl::flat_hash_map<std::string, ChainHead> heads_ ABSL_GUARDED_BY(apply_mu_);
  // Where this instance's committed records sit in the topic: the consumer
  // skips them without decoding (they are the bytes it wrote through).
  absl::flat_hash_set<uint64_t> own_offsets_ ABSL_GUARDED_BY(apply_mu_);
  mutable absl::Mutex rejected_mu_;
  std::vector<RejectedRecord> rejected_ ABSL_GUARDED_BY(rejected_mu_);
  v1::Record decoded_ ABSL_GUARDED_BY(apply_mu_);

  // How far the consumer got, per partition.
  mutable absl::Mutex progress_mu_;
  // Next offset to apply; what the offsets file records.
  std::vector<int64_t> next_offset_ ABSL_GUARDED_BY(progress_mu_);
  // Furthest offset known to be consumed: next_offset_, or the end of the
  // partition once the consumer reported reaching it (transaction markers
  // occupy offsets that are never delivered).
  std::vector<int64_t> reached_ ABSL_GUARDED_BY(progress_mu_);
  absl::Status consumer_status_ ABSL_GUARDED_BY(progress_mu_);
  absl::Time last_offsets_save_ ABSL_GUARDED_BY(progress_mu_);
  // Notified after each consumed batch, for CatchUp's wait.
  ChangeSignal progress_changed_{absl::Milliseconds(50)};

  // Committed writes of this instance on their way into the replica, oldest
  // first. Positions are given out at queueing, under apply_mu_, and the
  // consumer writes the replica only once the queue is empty, so the replica
  // assigns exactly the positions Write returned.
  struct ReplicaWrite {
    std::vector<PendingRecord> records;
    uint64_t first_position = 0;
  };
  mutable absl::Mutex replica_mu_ ABSL_ACQUIRED_AFTER(apply_mu_);
  std::deque<ReplicaWrite> replica_queue_ ABSL_GUARDED_BY(replica_mu_);
  absl::flat_hash_map<std::string, EventRef> queued_events_
      ABSL_GUARDED_BY(replica_mu_);
  // Last position given out; the replica's last position when none is queued.
  uint64_t reserved_last_ ABSL_GUARDED_BY(replica_mu_) = 0;
  absl::Status replica_status_ ABSL_GUARDED_BY(replica_mu_);
  bool replica_stopping_ ABSL_GUARDED_BY(replica_mu_) = false;
  std::thread replica_thread_;

  std::atomic<bool> stopping_{false};
  std::thread consumer_thread_;
};

absl::Status KafkaLog::Open() {
  const KafkaLogOptions& o = options_;
  if (o.brokers.empty()) {
    return absl::InvalidArgumentError("brokers: empty; give host:port,...");
  }
  if (o.topic.empty()) {
    return absl::InvalidArgumentError("topic: empty");
  }
  if (o.replica_path.empty()) {
    return absl::InvalidArgumentError(
        "replica_path: empty; give a directory for the local replica");
  }
  if (o.shard_count < 1 || o.shard < 0 || o.shard >= o.shard_count) {
    return absl::InvalidArgumentError(absl::StrCat(
        "shard: ", o.shard, " is not a shard of 0..", o.shard_count - 1));
  }
  if (o.write_timeout <= absl::ZeroDuration() ||
      o.recovery_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        "write_timeout and recovery_timeout must be positive");
  }
  std::error_code ec;
  std::filesystem::create_directories(o.replica_path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat(
        "creating the replica directory ", o.replica_path, ": ", ec.message()));
  }
  ASSIGN_OR_RETURN(replica_, OpenRocksDbLog({.path = o.replica_path + "/events",
                                             .sync = true}));
  {
    absl::MutexLock lock(&replica_mu_);
    reserved_last_ = replica_->LastPosition();
  }
  replica_thread_ = std::thread([this] { ReplicaLoop(); });
  RETURN_IF_ERROR(OpenConsumer());
  if (!o.read_only) {
    // Before reading the topic: taking the transactional id fences any
    // earlier instance of this shard and settles its open transaction, so
    // the heads read afterwards are final.
    RETURN_IF_ERROR(OpenProducer());
  } else {
    absl::MutexLock lock(&status_mu_);
    writer_status_ = absl::FailedPreconditionError(
        "this instance of the Kafka log is read-only");
  }
  RETURN_IF_ERROR(StartConsumer());
  return CatchUp(o.recovery_timeout);
}

absl::Status KafkaLog::OpenProducer() {
  const KafkaLogOptions& o = options_;
  // A message must time out inside the write bound (so a write fails as
  // "aborted", not "unknown"), and before the transaction does.
  const absl::Duration message_timeout =
      std::max(absl::Milliseconds(500), o.write_timeout * 0.8);
  const absl::Duration transaction_timeout =
      std::max(absl::Seconds(60), o.write_timeout * 3);
  const Properties defaults = {
      {"bootstrap.servers", o.brokers},
      {"client.id", transactional_id_},
      {"transactional.id", transactional_id_},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"compression.type", "lz4"},
      {"linger.ms", "5"},
      {"batch.num.messages", "10000"},
      {"batch.size", "1000000"},
      {"queue.buffering.max.messages", "500000"},
      {"message.timeout.ms", absl::StrCat(ToMillis(message_timeout))},
      {"transaction.timeout.ms", absl::StrCat(ToMillis(transaction_timeout))},
      // The partitioner of the Java client, so every client puts a stream in
      // the same partition.
      {"partitioner", "murmur2_random"},
      {"allow.auto.create.topics", "false"},
      {"reconnect.backoff.max.ms", "1000"},
      {"log.connection.close", "false"},
  };
  ASSIGN_OR_RETURN(producer_, NewClient(RD_KAFKA_PRODUCER, defaults,
                                        o.properties, &context_));
  producer_topic_.reset(
      rd_kafka_topic_new(producer_.get(), o.topic.c_str(), nullptr));
  if (producer_topic_ == nullptr) {
    return FromKafka(rd_kafka_last_error(),
                     absl::StrCat("opening topic ", o.topic));
  }
  ErrorHandle error(rd_kafka_init_transactions(producer_.get(),
                                               ToMillis(o.recovery_timeout)));
  if (error != nullptr) {
    return absl::Status(
        CodeFor(rd_kafka_error_code(error.get())),
        absl::StrCat("taking transactional id ", transactional_id_, " on ",
                     o.brokers, ": ", Describe(error.get())));
  }
  // Learn the partition leaders now: the first commit would otherwise wait
  // for the next metadata refresh.
  const rd_kafka_metadata_t* raw = nullptr;
  RETURN_IF_ERROR(
      FromKafka(rd_kafka_metadata(producer_.get(), 0, producer_topic_.get(),
                                  &raw, ToMillis(o.recovery_timeout)),
                absl::StrCat("reading the metadata of topic ", o.topic)));
  MetadataHandle metadata(raw);
  absl::MutexLock lock(&status_mu_);
  writer_status_ = absl::OkStatus();
  return absl::OkStatus();
}

absl::Status KafkaLog::OpenConsumer() {
  const KafkaLogOptions& o = options_;
  std::random_device random;
  const std::string group_id =
      absl::StrCat(o.transactional_id_prefix, "-replica-",
                   o.read_only ? std::string("reader") : transactional_id_, "-",
                   getpid(), "-", random());
  const Properties defaults = {
      {"bootstrap.servers", o.brokers},
      {"client.id", group_id},
      {"group.id", group_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"isolation.level", "read_committed"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      {"fetch.wait.max.ms", "50"},
      {"allow.auto.create.topics", "false"},
      {"reconnect.backoff.max.ms", "1000"},
      {"log.connection.close", "false"},
  };
  ASSIGN_OR_RETURN(consumer_, NewClient(RD_KAFKA_CONSUMER, defaults,
                                        o.properties, &context_));
  rd_kafka_poll_set_consumer(consumer_.get());

  // All topics are listed rather than the one asked for, because asking for
  // a missing topic creates it on brokers that auto-create topics.
  const rd_kafka_metadata_t* raw = nullptr;
  RETURN_IF_ERROR(FromKafka(rd_kafka_metadata(consumer_.get(), 1, nullptr, &raw,
                                              ToMillis(o.recovery_timeout)),
                            absl::StrCat("reading the topics of ", o.brokers)));
  MetadataHandle metadata(raw);
  const rd_kafka_metadata_topic_t* found = nullptr;
  for (int i = 0; i < metadata->topic_cnt; ++i) {
    if (o.topic == metadata->topics[i].topic) {
      found = &metadata->topics[i];
    }
  }
  if (found == nullptr || found->err != 0 || found->partition_cnt < 1) {
    return absl::NotFoundError(absl::StrCat(
        "topic ", o.topic, " does not exist on ", o.brokers,
        found == nullptr
            ? ""
            : absl::StrCat(" (", rd_kafka_err2str(found->err), ")"),
        "; create it first, with enough partitions for the districts"));
  }
  partitions_ = found->partition_cnt;

  KafkaString cluster(
      rd_kafka_clusterid(consumer_.get(), ToMillis(o.recovery_timeout)));
  if (cluster != nullptr) {
    cluster_id_ = cluster.get();
  }
  // Before the producer fences anyone: a replica of another topic or cluster
  // stops the open here.
  start_offsets_.assign(partitions_, RD_KAFKA_OFFSET_BEGINNING);
  return LoadOffsets(start_offsets_);
}

absl::Status KafkaLog::StartConsumer() {
  const KafkaLogOptions& o = options_;
  const std::vector<int64_t>& next = start_offsets_;
  PartitionList assignment(rd_kafka_topic_partition_list_new(partitions_));
  for (int p = 0; p < partitions_; ++p) {
    rd_kafka_topic_partition_list_add(assignment.get(), o.topic.c_str(), p)
        ->offset = next[p];
  }
  {
    absl::MutexLock lock(&progress_mu_);
    next_offset_.assign(partitions_, 0);
    reached_.assign(partitions_, 0);
    for (int p = 0; p < partitions_; ++p) {
      if (next[p] >= 0) {
        next_offset_[p] = reached_[p] = next[p];
      }
    }
    last_offsets_save_ = absl::Now();
  }
  RETURN_IF_ERROR(
      FromKafka(rd_kafka_assign(consumer_.get(), assignment.get()),
                absl::StrCat("assigning the partitions of ", o.topic)));
  consumer_thread_ = std::thread([this] { ConsumeLoop(); });
  return absl::OkStatus();
}

// The offsets file sits beside the replica and says where the consumer
// resumes. It may lag the replica (records are then seen again and skipped as
// present) but never lead it: it is written only after what it covers is in
// the replica.
absl::Status KafkaLog::LoadOffsets(std::vector<int64_t>& next) {
  const std::string path =
      (std::filesystem::path(options_.replica_path) / kOffsetsFile).string();
  std::ifstream in(path);
  if (!in) {
    return absl::OkStatus();  // a new replica: read the topic from its start
  }
  std::string line;
  if (!std::getline(in, line) || line != kOffsetsMagic) {
    context_.Warn(
        absl::StrCat(path, " is not readable; reading the topic again"));
    return absl::OkStatus();
  }
  std::vector<int64_t> loaded = next;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> parts = absl::StrSplit(line, ' ');
    if (parts.size() == 2 && parts[0] == "topic" &&
        parts[1] != options_.topic) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the replica at ", options_.replica_path, " was built from topic ",
          parts[1], ", not ", options_.topic,
          "; give each topic its own replica directory"));
    }
    if (parts.size() == 2 && parts[0] == "cluster" && !cluster_id_.empty() &&
        parts[1] != cluster_id_) {
      return absl::FailedPreconditionError(
          absl::StrCat("the replica at ", options_.replica_path,
                       " was built from Kafka cluster ", parts[1], ", but ",
                       options_.brokers, " is cluster ", cluster_id_,
                       "; use an empty replica directory"));
    }
    int partition = 0;
    int64_t offset = 0;
    if (parts.size() == 3 && parts[0] == "partition" &&
        absl::SimpleAtoi(parts[1], &partition) &&
        absl::SimpleAtoi(parts[2], &offset) && partition >= 0 &&
        partition < static_cast<int>(loaded.size()) && offset >= 0) {
      loaded[partition] = offset;
    }
  }
  next = std::move(loaded);
  return absl::OkStatus();
}

void KafkaLog::SaveOffsets() {
  std::string text =
      absl::StrCat(kOffsetsMagic, "\ntopic ", options_.topic, "\n");
  if (!cluster_id_.empty()) {
    absl::StrAppend(&text, "cluster ", cluster_id_, "\n");
  }
  {
    absl::MutexLock lock(&progress_mu_);
    for (size_t p = 0; p < next_offset_.size(); ++p) {
      absl::StrAppend(&text, "partition ", p, " ", next_offset_[p], "\n");
    }
    last_offsets_save_ = absl::Now();
  }
  // The offsets may cover writes of this instance still queued for the
  // replica; the file must never lead the replica.
  if (absl::Status drained = DrainReplica(); !drained.ok()) {
    context_.Warn(absl::StrCat("not saving the replica offsets: ",
                               drained.message()));
    return;
  }
  const std::filesystem::path path =
      std::filesystem::path(options_.replica_path) / kOffsetsFile;
  const std::string temp = path.string() + ".tmp";
  std::FILE* file = std::fopen(temp.c_str(), "w");
  bool ok = file != nullptr &&
            std::fwrite(text.data(), 1, text.size(), file) == text.size() &&
            std::fflush(file) == 0 && fsync(fileno(file)) == 0;
  if (file != nullptr) {
    ok = std::fclose(file) == 0 && ok;
  }
  std::error_code ec;
  if (ok) {
    std::filesystem::rename(temp, path, ec);
  }
  if (!ok || ec) {
    context_.Warn(absl::StrCat("saving ", path.string(), " failed: ",
                               ec ? ec.message() : std::strerror(errno),
                               "; the next start reads more of the topic"));
  }
}

absl::Status KafkaLog::CheckOwnership(absl::string_view stream) const {
  const int owner = OwnerShard(stream, options_.shard_count);
  if (owner == options_.shard) {
    return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("stream ", stream, " belongs to shard ", owner, " of ",
                   options_.shard_count, " (transactional id ",
                   TransactionalId(options_.transactional_id_prefix, owner),
                   "); this instance writes shard ", options_.shard,
                   ". Send the append to the instance that owns the stream"));
}

absl::StatusOr<uint64_t> KafkaLog::Write(
    absl::Span<const PendingRecord> records) {
  if (producer_ == nullptr) {
    return absl::FailedPreconditionError(
        "this instance of the Kafka log is read-only; it does not write");
  }
  if (records.empty()) {
    return absl::InvalidArgumentError("nothing to write");
  }
  // Everything the caller got wrong is refused before anything is produced.
  std::vector<Outgoing> outgoing;
  outgoing.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    const PendingRecord& record = records[i];
    if (record.stream.empty() || record.stream.size() > kMaxStreamName) {
      return absl::InvalidArgumentError(
          absl::StrCat("records[", i, "]: stream name must be 1..",
                       kMaxStreamName, " bytes"));
    }
    RETURN_IF_ERROR(CheckOwnership(record.stream));
    ASSIGN_OR_RETURN(RecordFields fields, ScanRecord(record.bytes));
    if (fields.stream != record.stream || fields.sequence != record.sequence) {
      return absl::InvalidArgumentError(
          absl::StrCat("records[", i, "]: the bytes hold stream ",
                       fields.stream, " sequence ", fields.sequence, ", not ",
                       record.stream, " sequence ", record.sequence));
    }
    if (Sha256(record.bytes) != record.hash) {
      return absl::InvalidArgumentError(absl::StrCat(
          "records[", i, "]: hash is not SHA-256 of the record bytes"));
    }
    outgoing.push_back({&record, fields.prev_hash, fields.event_type,
                        absl::StrCat(record.sequence), HexEncode(record.hash)});
  }

  absl::MutexLock write_lock(&write_mu_);
  if (stopped_) {
    return stop_status_;
  }
  absl::Status replica_status;
  {
    absl::MutexLock lock(&replica_mu_);
    replica_status = replica_status_;
  }
  if (!replica_status.ok()) {
    return Stop(absl::StrCat("the local replica failed (",
                             replica_status.message(),
                             "); restart to rebuild the replica from the topic"),
                /*fenced=*/false);
  }
  const absl::Time deadline = absl::Now() + options_.write_timeout;
  if (pending_ != Pending::kNone) {
    absl::MutexLock apply_lock(&apply_mu_);
    RETURN_IF_ERROR(Settle(deadline));
  }
  if (catch_up_before_write_) {
    // Records of a failed write may still be visible (an in-doubt commit
    // that went through; a broker that shows aborted records): read them
    // before checking this group against the heads.
    RETURN_IF_ERROR(
        CatchUp(std::max(deadline - absl::Now(), absl::Milliseconds(1))));
    catch_up_before_write_ = false;
  }
  absl::MutexLock apply_lock(&apply_mu_);

  // The group must continue each stream's chain as the log holds it: a writer
  // whose heads are stale (an earlier write it was told failed did commit)
  // must recover, not fork its streams.
  absl::flat_hash_map<absl::string_view, ChainHead> next_heads;
  for (const Outgoing& out : outgoing) {
    const PendingRecord& record = *out.record;
    ChainHead head;
    if (auto it = next_heads.find(record.stream); it != next_heads.end()) {
      head = it->second;
    } else {
      ASSIGN_OR_RETURN(ChainHead * stored, Head(record.stream));
      head = *stored;
    }
    if (record.sequence != head.sequence + 1 ||
        out.prev_hash != AsBytes(head.hash)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "stream ", record.stream, " is at sequence ", head.sequence,
          " in the log, so sequence ", record.sequence,
          " with this prev_hash does not continue it; the writer must "
          "recover its heads from the log"));
    }
    next_heads[record.stream] = {record.sequence, record.hash};
  }

  if (absl::Status written = Transact(outgoing, records, deadline);
      !written.ok()) {
    catch_up_before_write_ = true;
    return written;
  }

  // Committed: the records are in the log. The replica writer puts them in
  // the replica while the next write goes to the brokers; FindEvent sees
  // them at once, and reads wait for them.
  absl::StatusOr<uint64_t> first = QueueForReplica(records);
  if (!first.ok()) {
    return Stop(
        absl::StrCat("the write was committed to Kafka but the local "
                     "replica failed (",
                     first.status().message(),
                     "); restart to rebuild the replica from the topic"),
        /*fenced=*/false);
  }
  for (const PendingRecord& record : records) {
    heads_[record.stream] = {record.sequence, record.hash};
  }
  for (const uint64_t offset : context_.TakeDelivered()) {
    if (own_offsets_.size() < kMaxOwnOffsets) {
      own_offsets_.insert(offset);
    }
  }
  return first;
}

absl::Status KafkaLog::Transact(const std::vector<Outgoing>& outgoing,
                                absl::Span<const PendingRecord> records,
                                absl::Time deadline) {
  while (true) {
    bool retry = false;
    absl::Status status = TransactOnce(outgoing, records, deadline, retry);
    // An aborted transaction leaves nothing behind, so the same records may
    // go again while the bound allows; a reader that shows aborted records
    // sees the same bytes twice and skips the second copy.
    if (status.ok() || !retry || absl::Now() + kRetryBackoff >= deadline) {
      return status;
    }
    absl::SleepFor(kRetryBackoff);
  }
}

absl::Status KafkaLog::TransactOnce(const std::vector<Outgoing>& outgoing,
                                    absl::Span<const PendingRecord> records,
                                    absl::Time deadline, bool& retry) {
  rd_kafka_t* rk = producer_.get();
  rd_kafka_poll(rk, 0);
  const uint64_t generation = context_.BeginTransaction();
  if (ErrorHandle error(rd_kafka_begin_transaction(rk)); error != nullptr) {
    return Failed(std::move(error), "beginning a transaction", deadline, retry);
  }
  void* tag = reinterpret_cast<void*>(static_cast<uintptr_t>(generation));
  for (const Outgoing& out : outgoing) {
    const PendingRecord& record = *out.record;
    while (true) {
      // Header names are literals, hence NUL-terminated.
      const rd_kafka_resp_err_t err = rd_kafka_producev(
          rk, RD_KAFKA_V_RKT(producer_topic_.get()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
          RD_KAFKA_V_KEY(record.stream.data(), record.stream.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(record.bytes.data()),
                           record.bytes.size()),
          RD_KAFKA_V_HEADER(kEventTypeHeader.data(), out.event_type.data(),
                            static_cast<ssize_t>(out.event_type.size())),
          RD_KAFKA_V_HEADER(kSchemaVersionHeader.data(), kSchemaVersion.data(),
                            static_cast<ssize_t>(kSchemaVersion.size())),
          RD_KAFKA_V_HEADER(kContentTypeHeader.data(),
                            kRecordContentType.data(),
                            static_cast<ssize_t>(kRecordContentType.size())),
          RD_KAFKA_V_HEADER(kHashHeader.data(), out.hash_hex.data(),
                            static_cast<ssize_t>(out.hash_hex.size())),
          RD_KAFKA_V_HEADER(kSequenceHeader.data(), out.sequence.data(),
                            static_cast<ssize_t>(out.sequence.size())),
          RD_KAFKA_V_OPAQUE(tag), RD_KAFKA_V_END);
      if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        break;
      }
      if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && absl::Now() < deadline) {
        rd_kafka_poll(rk, 10);
        continue;
      }
      if (IsFencing(err) || err == RD_KAFKA_RESP_ERR__FATAL) {
        char reason[512] = "";
        rd_kafka_fatal_error(rk, reason, sizeof(reason));
        return Stop(absl::StrCat("producing failed: ", rd_kafka_err2name(err),
                                 " ", reason),
                    /*fenced=*/true);
      }
      RETURN_IF_ERROR(Abort(deadline, "producing failed"));
      retry = CodeFor(err) == absl::StatusCode::kUnavailable;
      return FromKafka(err, "producing a record; nothing was written");
    }
  }

  while (true) {
    const absl::Duration remaining = deadline - absl::Now();
    if (remaining <= absl::ZeroDuration()) {
      // Never committed, so it can still be aborted: the outcome is known.
      RETURN_IF_ERROR(Abort(deadline, "the brokers did not confirm in time"));
      return absl::UnavailableError(
          absl::StrCat("the Kafka brokers did not confirm the write within ",
                       absl::FormatDuration(options_.write_timeout),
                       "; nothing was written. Retry the same append later"));
    }
    ErrorHandle error(rd_kafka_commit_transaction(rk, ToMillis(remaining)));
    if (error == nullptr) {
      return absl::OkStatus();
    }
    if (rd_kafka_error_is_retriable(error.get()) &&
        !rd_kafka_error_txn_requires_abort(error.get()) &&
        !rd_kafka_error_is_fatal(error.get())) {
      if (absl::Now() + absl::Milliseconds(20) < deadline) {
        absl::SleepFor(absl::Milliseconds(20));
        continue;  // commit_transaction resumes where it stopped
      }
      // The commit may or may not reach the coordinator: keep the records
      // so that, if it does, they still reach the replica.
      SetPending(Pending::kCommit);
      pending_records_.assign(records.begin(), records.end());
      return absl::UnavailableError(absl::StrCat(
          "the Kafka brokers did not confirm the write within ",
          absl::FormatDuration(options_.write_timeout), " (",
          Describe(error.get()),
          "); its outcome is unknown until they are reachable. Retry the "
          "same append later: its event ids make the retry safe"));
    }
    return Failed(std::move(error), "committing the transaction", deadline,
                  retry);
  }
}

absl::Status KafkaLog::Failed(ErrorHandle error, absl::string_view what,
                              absl::Time deadline, bool& retry) {
  const rd_kafka_resp_err_t code = rd_kafka_error_code(error.get());
  const rd_kafka_resp_err_t delivery = context_.fencing_error();
  char fatal_reason[512] = "";
  const rd_kafka_resp_err_t fatal =
      rd_kafka_fatal_error(producer_.get(), fatal_reason, sizeof(fatal_reason));
  if (IsFencing(code) || IsFencing(delivery) || IsFencing(fatal)) {
    return Stop(absl::StrCat(what, ": ", Describe(error.get())), true);
  }
  if (rd_kafka_error_is_fatal(error.get()) || fatal != 0) {
    return Stop(absl::StrCat("a fatal Kafka error while ", what, " (",
                             Describe(error.get()), " ", fatal_reason, ")"),
                false);
  }
  if (rd_kafka_error_txn_requires_abort(error.get())) {
    RETURN_IF_ERROR(Abort(deadline, what));
    // The first failed delivery says why; a record the brokers will never
    // take (too large, invalid) is not worth sending again.
    const rd_kafka_resp_err_t cause =
        context_.first_error() != 0 ? context_.first_error() : code;
    retry = CodeFor(cause) == absl::StatusCode::kUnavailable;
    return absl::UnavailableError(
        absl::StrCat("the Kafka brokers refused the write (", what, ": ",
                     Describe(error.get()),
                     "); nothing was written. Retry the same append"));
  }
  if (rd_kafka_error_is_retriable(error.get())) {
    return absl::UnavailableError(
        absl::StrCat(what, ": ", Describe(error.get()),
                     "; nothing was written. Retry the same append later"));
  }
  // librdkafka's advice for errors neither retriable nor abortable.
  return Stop(absl::StrCat("an unrecoverable Kafka error while ", what, " (",
                           Describe(error.get()), ")"),
              false);
}

absl::Status KafkaLog::Abort(absl::Time deadline, absl::string_view why) {
  const absl::Duration remaining =
      std::max(deadline - absl::Now(), absl::Milliseconds(100));
  ErrorHandle error(
      rd_kafka_abort_transaction(producer_.get(), ToMillis(remaining)));
  if (error == nullptr) {
    SetPending(Pending::kNone);
    pending_records_.clear();
    return absl::OkStatus();
  }
  if (rd_kafka_error_is_retriable(error.get()) &&
      !rd_kafka_error_is_fatal(error.get())) {
    SetPending(Pending::kAbort);
    pending_records_.clear();
    return absl::UnavailableError(
        absl::StrCat(why, ", and aborting the transaction did not finish (",
                     Describe(error.get()),
                     "); nothing was written. Retry the same append later"));
  }
  const bool fenced = IsFencing(rd_kafka_error_code(error.get())) ||
                      IsFencing(context_.fencing_error());
  return Stop(absl::StrCat(why, "; aborting: ", Describe(error.get())), fenced);
}

absl::Status KafkaLog::Settle(absl::Time deadline) {
  switch (pending_) {
    case Pending::kNone:
      return absl::OkStatus();
    case Pending::kAbort: {
      absl::Status aborted = Abort(deadline, "an earlier write failed");
      if (!aborted.ok()) {
        return absl::UnavailableError(
            absl::StrCat("an earlier failed write is still being aborted: ",
                         aborted.message()));
      }
      return absl::OkStatus();
    }
    case Pending::kCommit: {
      const absl::Duration remaining =
          std::max(deadline - absl::Now(), absl::Milliseconds(100));
      ErrorHandle error(
          rd_kafka_commit_transaction(producer_.get(), ToMillis(remaining)));
      if (error == nullptr) {
        std::vector<PendingRecord> records = std::move(pending_records_);
        SetPending(Pending::kNone);
        pending_records_.clear();
        return ApplyCommitted(records);
      }
      if (rd_kafka_error_is_retriable(error.get()) &&
          !rd_kafka_error_txn_requires_abort(error.get()) &&
          !rd_kafka_error_is_fatal(error.get())) {
        return absl::UnavailableError(
            absl::StrCat("the outcome of an earlier write is still unknown (",
                         Describe(error.get()),
                         "); the Kafka brokers are unreachable. Retry later"));
      }
      bool unused_retry = false;
      absl::Status failed =
          Failed(std::move(error), "finishing an earlier write", deadline,
                 unused_retry);
      // The earlier write was aborted after all: this one may go ahead.
      if (!stopped_ && pending_ == Pending::kNone) {
        return absl::OkStatus();
      }
      return failed;
    }
  }
  return absl::OkStatus();
}

void KafkaLog::SetPending(Pending pending) {
  pending_ = pending;
  absl::MutexLock lock(&status_mu_);
  switch (pending) {
    case Pending::kNone:
      writer_status_ = absl::OkStatus();
      break;
    case Pending::kCommit:
      writer_status_ = absl::UnavailableError(
          "an earlier write timed out and its outcome is unknown until the "
          "Kafka brokers are reachable");
      break;
    case Pending::kAbort:
      writer_status_ = absl::UnavailableError(
          "an earlier write failed and is not yet aborted; the Kafka brokers "
          "are unreachable");
      break;
  }
}

absl::Status KafkaLog::Stop(absl::string_view reason, bool fenced) {
  stopped_ = true;
  if (fenced) {
    stop_status_ = absl::UnavailableError(absl::StrCat(
        "this ingest instance was fenced and no longer writes: another "
        "instance took over shard ",
        options_.shard, " (transactional id ", transactional_id_,
        ") or the broker fenced its producer (", reason,
        "). Retry the append: it reaches the shard's current owner"));
  } else {
    stop_status_ = absl::UnavailableError(
        absl::StrCat("this ingest instance stopped writing: ", reason,
                     ". Restart it; retry the append"));
  }
  context_.Warn(stop_status_.message());
  absl::MutexLock lock(&status_mu_);
  writer_status_ = stop_status_;
  return stop_status_;
}

absl::Status KafkaLog::Recover(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock write_lock(&write_mu_);
  if (producer_ != nullptr && !stopped_) {
    absl::MutexLock apply_lock(&apply_mu_);
    RETURN_IF_ERROR(Settle(deadline));
  }
  RETURN_IF_ERROR(
      CatchUp(std::max(deadline - absl::Now(), absl::Milliseconds(1))));
  catch_up_before_write_ = false;
  return absl::OkStatus();
}

absl::Status KafkaLog::CatchUp(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  // The end of every partition in one request per broker: a watermark query
  // per partition is a round trip each (2.4 s for 64 partitions on the mock
  // cluster).
  std::vector<int64_t> targets(partitions_, 0);
  while (true) {
    PartitionList ends(rd_kafka_topic_partition_list_new(partitions_));
    for (int p = 0; p < partitions_; ++p) {
      rd_kafka_topic_partition_list_add(ends.get(), options_.topic.c_str(), p)
          ->offset = RD_KAFKA_OFFSET_END;
    }
    rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(
        consumer_.get(), ends.get(), ToMillis(deadline - absl::Now()));
    int failed = -1;
    for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < ends->cnt; ++i) {
      const rd_kafka_topic_partition_t& end = ends->elems[i];
      if (end.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        err = end.err;
        failed = end.partition;
      } else if (end.partition >= 0 && end.partition < partitions_) {
        targets[end.partition] = end.offset;
      }
    }
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
      break;
    }
    // A leader that moved or a broker that is restarting: ask again.
    if (CodeFor(err) != absl::StatusCode::kUnavailable ||
        absl::Now() + absl::Milliseconds(100) >= deadline) {
      return FromKafka(
          err,
          absl::StrCat("reading the end of ", options_.topic,
                       failed >= 0 ? absl::StrCat(" [", failed, "]") : ""));
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  progress_changed_.Wait(
      [&] {
        absl::MutexLock lock(&progress_mu_);
        if (!consumer_status_.ok()) {
          return true;
        }
        for (int p = 0; p < partitions_; ++p) {
          if (reached_[p] < targets[p]) {
            return false;
          }
        }
        return true;
      },
      deadline);
  absl::MutexLock lock(&progress_mu_);
  RETURN_IF_ERROR(consumer_status_);
  for (int p = 0; p < partitions_; ++p) {
    if (reached_[p] < targets[p]) {
      return absl::UnavailableError(absl::StrCat(
          "the replica did not reach the end of ", options_.topic, " within ",
          absl::FormatDuration(timeout), ": partition ", p, " is at offset ",
          reached_[p], " of ", targets[p]));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<ChainHead*> KafkaLog::Head(absl::string_view stream) {
  auto it = heads_.find(stream);
  if (it != heads_.end()) {
    return &it->second;
  }
  RETURN_IF_ERROR(DrainReplica());
  ASSIGN_OR_RETURN(StreamHead stored, replica_->LoadHead(stream));
  ChainHead& head = heads_[stream];
  head.sequence = stored.sequence;
  head.hash = stored.hash;
  return &head;
}

absl::StatusOr<std::optional<Hash>> KafkaLog::StoredHash(
    absl::string_view stream, uint64_t sequence, const ChainHead& head) {
  if (sequence == head.sequence) {
    return head.hash;
  }
  std::optional<Hash> found;
  RETURN_IF_ERROR(
      replica_->ReadStream(stream, sequence, [&](const LogEntry& entry) {
        if (entry.sequence == sequence) {
          Hash hash;
          if (HashFromBytes(entry.hash, &hash)) {
            found = hash;
          }
        }
        return false;
      }));
  return found;
}

absl::Status KafkaLog::ApplyCommitted(absl::Span<const PendingRecord> records) {
  RETURN_IF_ERROR(DrainReplica());
  std::vector<PendingRecord> apply;
  for (const PendingRecord& record : records) {
    ASSIGN_OR_RETURN(ChainHead * head, Head(record.stream));
    if (record.sequence <= head->sequence) {
      continue;  // the consumer was first
    }
    absl::StatusOr<RecordFields> fields = ScanRecord(record.bytes);
    if (record.sequence != head->sequence + 1 || !fields.ok() ||
        fields->prev_hash != AsBytes(head->hash)) {
      context_.Warn(absl::StrCat("a committed record of stream ", record.stream,
                                 " sequence ", record.sequence,
                                 " does not continue the replica's chain"));
      continue;
    }
    apply.push_back(record);
    head->sequence = record.sequence;
    head->hash = record.hash;
  }
  if (!apply.empty()) {
    absl::StatusOr<uint64_t> written = replica_->Write(apply);
    if (!written.ok()) {
      heads_.clear();  // reloaded from the replica on next use
      return Annotate(written.status(), "applying an earlier committed write");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> KafkaLog::QueueForReplica(
    absl::Span<const PendingRecord> records) {
  absl::MutexLock lock(&replica_mu_);
  auto room = [this]() ABSL_SHARED_LOCKS_REQUIRED(replica_mu_) {
    return replica_queue_.size() < kMaxQueuedReplicaWrites ||
           !replica_status_.ok();
  };
  replica_mu_.Await(absl::Condition(&room));
  RETURN_IF_ERROR(replica_status_);
  ReplicaWrite& write = replica_queue_.emplace_back();
  write.first_position =
      std::max(reserved_last_, replica_->LastPosition()) + 1;
  write.records.assign(records.begin(), records.end());
  uint64_t position = write.first_position;
  for (const PendingRecord& record : write.records) {
    queued_events_[record.event_id] = {record.stream, record.sequence,
                                       position++, record.fingerprint};
  }
  reserved_last_ = position - 1;
  return write.first_position;
}

absl::Status KafkaLog::DrainReplica() {
  absl::MutexLock lock(&replica_mu_);
  const uint64_t target = reserved_last_;
  auto done = [this, target]() ABSL_SHARED_LOCKS_REQUIRED(replica_mu_) {
    return !replica_status_.ok() || replica_queue_.empty() ||
           replica_queue_.front().first_position > target;
  };
  replica_mu_.Await(absl::Condition(&done));
  return replica_status_;
}

void KafkaLog::ReplicaLoop() {
  absl::MutexLock lock(&replica_mu_);
  while (true) {
    auto ready = [this]() ABSL_SHARED_LOCKS_REQUIRED(replica_mu_) {
      return !replica_queue_.empty() || replica_stopping_;
    };
    replica_mu_.Await(absl::Condition(&ready));
    if (replica_queue_.empty() || !replica_status_.ok()) {
      return;  // stopping, and everything queued is written
    }
    // Only this thread pops, so the front stays while the lock is released.
    const ReplicaWrite& write = replica_queue_.front();
    replica_mu_.Unlock();
    absl::StatusOr<uint64_t> first = replica_->Write(write.records);
    replica_mu_.Lock();
    if (first.ok() && *first != write.first_position) {
      first = absl::InternalError(absl::StrCat(
          "the replica stored a write at position ", *first, ", not ",
          write.first_position));
    }
    if (!first.ok()) {
      // The queued records stay visible to FindEvent; reads and writes fail
      // from now on.
      replica_status_ = Annotate(first.status(), "writing the local replica");
      context_.Warn(replica_status_.message());
      return;
    }
    for (const PendingRecord& record : write.records) {
      queued_events_.erase(record.event_id);
    }
    replica_queue_.pop_front();
  }
}

void KafkaLog::ConsumeLoop() {
  std::vector<MessageHandle> batch;
  while (!stopping_.load()) {
    batch.clear();
    MessageHandle first(rd_kafka_consumer_poll(consumer_.get(), 100));
    if (first == nullptr) {
      continue;
    }
    batch.push_back(std::move(first));
    while (batch.size() < kConsumeBatch) {
      MessageHandle next(rd_kafka_consumer_poll(consumer_.get(), 0));
      if (next == nullptr) {
        break;
      }
      batch.push_back(std::move(next));
    }
    ApplyBatch(batch);
    bool save = false;
    {
      absl::MutexLock lock(&progress_mu_);
      save = absl::Now() - last_offsets_save_ >= kOffsetSaveInterval;
    }
    if (save) {
      SaveOffsets();
    }
  }
}

void KafkaLog::ApplyBatch(std::vector<MessageHandle>& batch) {
  std::vector<std::pair<int32_t, int64_t>> next;     // partition, next offset
  std::vector<std::pair<int32_t, int64_t>> reached;  // partition, end offset
  absl::Status failure;
  {
    absl::MutexLock lock(&apply_mu_);
    absl::flat_hash_map<std::string, ChainHead> staged;
    absl::flat_hash_set<std::string> staged_ids;
    std::vector<PendingRecord> apply;
    bool drained = false;
    for (const MessageHandle& message : batch) {
      if (message->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        reached.emplace_back(message->partition, message->offset);
        continue;
      }
      if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        context_.Warn(absl::StrCat("consuming ", options_.topic, ": ",
                                   rd_kafka_message_errstr(message.get())));
        continue;
      }
      next.emplace_back(message->partition, message->offset + 1);
      if (!drained &&
          !own_offsets_.contains(OffsetKey(message->partition,
                                           message->offset))) {
        // A record of another writer is checked against, and goes to, a
        // replica that holds every write of this instance before it.
        if (absl::Status status = DrainReplica(); !status.ok()) {
          failure = Annotate(status, "applying consumed records");
          break;
        }
        drained = true;
      }
      PendingRecord record;
      std::string reason;
      absl::StatusOr<Verdict> verdict =
          Check(*message, staged, staged_ids, record, reason);
      if (!verdict.ok()) {
        failure = Annotate(verdict.status(), "checking a consumed record");
        break;
      }
      switch (*verdict) {
        case Verdict::kApply:
          apply.push_back(std::move(record));
          break;
        case Verdict::kPresent:
          break;
        case Verdict::kReject:
          Reject(*message, record.sequence, std::move(reason));
          break;
      }
    }
    if (failure.ok() && !apply.empty()) {
      absl::StatusOr<uint64_t> written = replica_->Write(apply);
      if (!written.ok()) {
        failure = Annotate(written.status(), "applying consumed records");
        heads_.clear();
      }
    }
    if (failure.ok()) {
      for (auto& [stream, head] : staged) {
        heads_[stream] = head;
      }
    }
  }
  {
    absl::MutexLock lock(&progress_mu_);
    if (!failure.ok()) {
      // The replica cannot take writes: stop consuming rather than skip
      // records. Reads still answer with what it holds.
      consumer_status_ = failure;
      context_.Warn(failure.message());
      stopping_.store(true);
    } else {
      for (const auto& [partition, offset] : next) {
        if (partition >= 0 && partition < partitions_) {
          next_offset_[partition] = std::max(next_offset_[partition], offset);
          reached_[partition] = std::max(reached_[partition], offset);
        }
      }
      for (const auto& [partition, offset] : reached) {
        if (partition >= 0 && partition < partitions_) {
          reached_[partition] = std::max(reached_[partition], offset);
        }
      }
    }
  }
  progress_changed_.Notify();
}

absl::StatusOr<KafkaLog::Verdict> KafkaLog::Check(
    const rd_kafka_message_t& message,
    absl::flat_hash_map<std::string, ChainHead>& staged,
    absl::flat_hash_set<std::string>& staged_ids, PendingRecord& out,
    std::string& reason) {
  if (own_offsets_.erase(OffsetKey(message.partition, message.offset)) > 0) {
    return Verdict::kPresent;
  }
  const absl::string_view key(static_cast<const char*>(message.key),
                              message.key_len);
  const absl::string_view value(static_cast<const char*>(message.payload),
                                message.len);
  absl::StatusOr<RecordFields> fields = ScanRecord(value);
  if (!fields.ok()) {
    reason = std::string(fields.status().message());
    return Verdict::kReject;
  }
  out.sequence = fields->sequence;
  out.stream = std::string(fields->stream);
  if (fields->stream != key) {
    reason = absl::StrCat("the key \"", key, "\" is not the record's stream \"",
                          fields->stream, "\"");
    return Verdict::kReject;
  }
  const Hash hash = Sha256(value);
  rd_kafka_headers_t* headers = nullptr;  // owned by the message
  if (rd_kafka_message_headers(&message, &headers) == 0) {
    const void* header = nullptr;
    size_t size = 0;
    if (rd_kafka_header_get_last(headers, kHashHeader.data(), &header, &size) ==
            0 &&
        absl::string_view(static_cast<const char*>(header), size) !=
            HexEncode(hash)) {
      reason = absl::StrCat("header ", kHashHeader,
                            " does not match SHA-256 of the record");
      return Verdict::kReject;
    }
  }

  ChainHead head;
  if (auto it = staged.find(key); it != staged.end()) {
    head = it->second;
  } else {
    ASSIGN_OR_RETURN(const ChainHead* stored, Head(key));
    head = *stored;
  }
  const uint64_t sequence = fields->sequence;
  if (sequence == 0) {
    reason = "sequence 0: sequences start at 1";
    return Verdict::kReject;
  }
  if (sequence <= head.sequence) {
    ASSIGN_OR_RETURN(const std::optional<Hash> stored,
                     StoredHash(key, sequence, head));
    if (stored == hash) {
      return Verdict::kPresent;
    }
    reason = absl::StrCat("sequence ", sequence, " of stream ", key,
                          " is already stored with different bytes (hash ",
                          stored.has_value() ? HexEncode(*stored) : "unknown",
                          ", this record ", HexEncode(hash),
                          "): it forks the chain");
    return Verdict::kReject;
  }
  if (sequence != head.sequence + 1) {
    reason = absl::StrCat("stream ", key, " is at sequence ", head.sequence,
                          ", this record has sequence ", sequence,
                          ": records are missing before it");
    return Verdict::kReject;
  }
  if (fields->prev_hash != AsBytes(head.hash)) {
    reason = absl::StrCat("prev_hash ", HexEncode(fields->prev_hash),
                          " is not the hash of sequence ", head.sequence, " (",
                          HexEncode(head.hash), "): it forks the chain");
    return Verdict::kReject;
  }
  if (fields->event_id.empty()) {
    reason = "the event has no event_id";
    return Verdict::kReject;
  }
  // Only a record that fully decodes is applied.
  if (!decoded_.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    reason = "the value does not decode as prongsai.v1.Record";
    return Verdict::kReject;
  }
  const std::string event_id(fields->event_id);
  ASSIGN_OR_RETURN(const std::optional<EventRef> earlier,
                   replica_->FindEvent(event_id));
  if (earlier.has_value() || staged_ids.contains(event_id)) {
    reason =
        absl::StrCat("event_id ", event_id, " is already stored",
                     earlier.has_value()
                         ? absl::StrCat(" (stream ", earlier->stream,
                                        ", sequence ", earlier->sequence, ")")
                         : " earlier in this batch");
    return Verdict::kReject;
  }
  staged_ids.insert(event_id);
  out.event_id = event_id;
  out.fingerprint = Sha256(fields->event_bytes);
  out.bytes = std::string(value);
  out.hash = hash;
  staged[key] = {sequence, hash};
  return Verdict::kApply;
}

void KafkaLog::Reject(const rd_kafka_message_t& message, uint64_t sequence,
                      std::string reason) {
  RejectedRecord rejected;
  rejected.topic = options_.topic;
  rejected.partition = message.partition;
  rejected.offset = message.offset;
  rejected.key =
      std::string(static_cast<const char*>(message.key), message.key_len);
  rejected.sequence = sequence;
  rejected.reason = std::move(reason);
  context_.Warn(
      absl::StrCat("not applied: ", rejected.topic, " [", rejected.partition,
                   "] at offset ", rejected.offset, " (key \"", rejected.key,
                   "\", sequence ", rejected.sequence, "): ", rejected.reason));
  absl::MutexLock lock(&rejected_mu_);
  if (rejected_.size() < kMaxRejectedKept) {
    rejected_.push_back(std::move(rejected));
  }
}

}  // namespace

int OwnerShard(absl::string_view stream, int shard_count) {
  if (shard_count <= 1) {
    return 0;
  }
  uint64_t hash = 14695981039346656037ULL;  // FNV-1a, 64 bits
  for (const char c : stream) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return static_cast<int>(hash % static_cast<uint64_t>(shard_count));
}

std::string TransactionalId(absl::string_view prefix, int shard) {
  return absl::StrCat(prefix, "-shard-", shard);
}

absl::StatusOr<std::unique_ptr<KafkaEventLog>> OpenKafkaLog(
    const KafkaLogOptions& options) {
  auto log = std::make_unique<KafkaLog>(options);
  RETURN_IF_ERROR(log->Open());
  return log;
}

}  // namespace prongsai::log

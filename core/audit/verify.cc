#include "core/audit/verify.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/audit/export.h"
#include "core/audit/merkle.h"
#include "core/base/memory.h"
#include "core/base/sha256x2.h"
#include "core/base/status.h"

namespace prongsai::audit {
namespace {

// Records are hashed in aligned blocks of 2^kBlockLevel; a worker also
// folds each whole block into its subtree root, so the tree's node hashes
// are spread over the threads too.
constexpr int kBlockLevel = 12;
constexpr size_t kBlock = size_t{1} << kBlockLevel;

struct Hashed {
  Hash hash;  // SHA-256(bytes): the chain
  Hash leaf;  // SHA-256(0x00 || bytes): the tree
};

struct HashedRecords {
  // One per record, left unset until hashed: zeroing them first would cost
  // a pass over memory as large as a tenth of the export.
  std::unique_ptr<Hashed[]> records;
  // Root of the complete subtree of each whole block, by block number.
  std::vector<Hash> blocks;
  // Whether each whole block passes every check of Walker::Step, so the walk
  // may take it without stepping through it. Only a block where something
  // may be wrong is walked record by record, which finds and names it.
  std::vector<char> clean;
};

// Whether the records [begin, end) of a whole block are in place: dense
// sequences from begin + 1, each stored hash the hash of its bytes, each
// header naming `stream` and its sequence, each prev_hash the hash before,
// and the record after the block not a second one for the last sequence.
// The first prev_hash is checked against the stored hash of the record
// before, which a walk that reaches this block has found equal to its bytes'.
bool BlockInPlace(absl::Span<const ExportRecord> records, const Hashed* hashed,
                  absl::string_view stream, size_t begin, size_t end) {
  if (end < records.size() && records[end].sequence == end) {
    return false;
  }
  absl::string_view prev =
      begin == 0 ? AsBytes(kZeroHash) : records[begin - 1].hash;
  for (size_t i = begin; i < end; ++i) {
    const ExportRecord& r = records[i];
    RecordHeader header;
    if (r.sequence != i + 1 || AsBytes(hashed[i].hash) != r.hash ||
        !ReadRecordHeader(r.bytes, &header) || header.stream != stream ||
        header.sequence != i + 1 || header.prev_hash != prev) {
      return false;
    }
    prev = r.hash;
  }
  return true;
}

// Every record's two hashes are independent of the others', so they are
// computed up front, in parallel, and while the file is still being parsed:
// a block is hashed as soon as the record after it is parsed (its check
// looks one record ahead). The walk that follows checks the chain in order
// and adds whole blocks to the tree by their roots. Threads take the next
// block as they finish one, so a thread whose core is busy with other work
// takes fewer and never holds the others up.
//
// Use: start it, parse with Parsed() as the progress, then Finish(); the
// parsed export must outlive it.
class Hasher {
 public:
  Hasher(const ParsedExport* parsed, size_t max_records, int threads)
      : parsed_(parsed) {
    out_.records = std::make_unique_for_overwrite<Hashed[]>(max_records);
    AdviseHugePages(out_.records.get(), max_records * sizeof(Hashed));
    const size_t max_blocks = max_records / kBlock + 1;
    out_.blocks.resize(max_blocks);
    out_.clean.resize(max_blocks, 0);
    if (threads <= 0) {
      threads =
          static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    // The parsing thread hashes too once the parse ends.
    for (int t = 1; t < threads; ++t) {
      workers_.emplace_back([this] { Work(); });
    }
  }
  // Without Finish (the verification stopped early): the workers end after
  // the block they are on.
  ~Hasher() { End(0); }

  // The first `count` records are parsed.
  void Parsed(size_t count) {
    absl::MutexLock lock(&mu_);
    parsed_count_ = count;
  }

  // The parse ended: hashes what is left, with the workers, and returns the
  // hashes of every record parsed.
  HashedRecords Finish() {
    const size_t blocks = (parsed_->records.size() + kBlock - 1) / kBlock;
    End(blocks);
    out_.blocks.resize(blocks);
    out_.clean.resize(blocks);
    return std::move(out_);
  }

 private:
  // Lets the workers (and this thread) hash blocks up to `blocks`, then
  // joins them.
  void End(size_t blocks) {
    if (ended_) {
      return;
    }
    ended_ = true;
    {
      absl::MutexLock lock(&mu_);
      parsed_count_ = parsed_->records.size();
      total_blocks_ = blocks;
      finished_ = true;
    }
    Work();
    for (std::thread& worker : workers_) {
      worker.join();
    }
  }

  void Work() {
    std::vector<Hash> nodes(kBlock);
    for (size_t b = next_.fetch_add(1);; b = next_.fetch_add(1)) {
      size_t count;
      {
        // A block is taken once the record after it is parsed (its check
        // looks one ahead), or once the parse ended.
        auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
          return finished_ || parsed_count_ > (b + 1) * kBlock;
        };
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(&ready));
        if (finished_ && b >= total_blocks_) {
          return;
        }
        count = parsed_count_;
      }
      HashBlock(b, count, nodes);
    }
  }

  // Only the first `count` records are read, which the parse no longer
  // writes. A block that is whole before the parse ends stays whole.
  void HashBlock(size_t b, size_t count, std::vector<Hash>& nodes) {
    const absl::Span<const ExportRecord> records(parsed_->records.data(),
                                                 count);
    const size_t begin = b * kBlock;
    const size_t end = std::min(count, begin + kBlock);
    for (size_t i = begin; i < end; ++i) {
      Hashed& h = out_.records[i];
      ChainAndLeafHash(records[i].bytes, &h.hash, &h.leaf);
    }
    if (end - begin == kBlock) {
      for (size_t i = begin; i < end; ++i) {
        nodes[i - begin] = out_.records[i].leaf;
      }
      out_.blocks[b] = SubtreeRoot(absl::MakeSpan(nodes));
      out_.clean[b] = BlockInPlace(records, out_.records.get(), parsed_->stream,
                                   begin, end);
    }
  }

  const ParsedExport* parsed_;
  HashedRecords out_;
  std::vector<std::thread> workers_;
  bool ended_ = false;
  std::atomic<size_t> next_{0};
  absl::Mutex mu_;
  size_t parsed_count_ ABSL_GUARDED_BY(mu_) = 0;
  size_t total_blocks_ ABSL_GUARDED_BY(mu_) = 0;  // set when finished_
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    const auto byte = static_cast<unsigned char>(**p);
    ++*p;
    result |= uint64_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) {
      *value = result;
      return true;
    }
  }
  return false;
}

std::string Short(absl::string_view bytes) {
  return HexEncode(bytes.substr(0, 8));
}

struct Signed {
  Checkpoint checkpoint;
  size_t index = 0;  // in the file, from 0
};

class Walker {
 public:
  Walker(const ParsedExport& parsed, const HashedRecords& hashed,
         const std::vector<Signed>& signed_checkpoints)
      : parsed_(parsed),
        records_(parsed.records),
        hashed_(hashed.records.get()),
        blocks_(hashed.blocks),
        clean_(hashed.clean),
        checkpoints_(signed_checkpoints),
        matched_(signed_checkpoints.size()) {}

  // Walks the records in file order until the first problem of the chain.
  // While every record so far is in place, record i_ is leaf i_ of the tree.
  void Run() {
    CheckRoots();
    i_ = 0;
    while (i_ < records_.size()) {
      const size_t block_end = i_ + kBlock;
      const bool whole_block = i_ % kBlock == 0 && block_end <= records_.size();
      const bool checkpoint_inside =
          next_checkpoint_ < checkpoints_.size() &&
          checkpoints_[next_checkpoint_].checkpoint.size < block_end;
      if (whole_block && !checkpoint_inside) {
        const size_t block = i_ / kBlock;
        if (clean_[block] != 0) {
          prev_hash_ = hashed_[block_end - 1].hash;
          i_ = block_end;
        }
        for (; i_ < block_end; ++i_) {
          if (!Step()) {
            return;
          }
        }
        tree_.AppendSubtree(kBlockLevel, blocks_[(block_end - 1) / kBlock]);
        CheckRoots();
        continue;
      }
      if (!Step()) {
        return;
      }
      tree_.Append(hashed_[i_].leaf);
      CheckRoots();
      ++i_;
    }
  }

  const std::optional<VerifyReport>& problem() const { return problem_; }
  uint64_t walked() const { return tree_.size(); }
  // For each checkpoint (sorted by size): nullopt when the walk did not reach
  // its size, else whether the tree of the records has its root.
  const std::vector<std::optional<bool>>& matched() const { return matched_; }

 private:
  void Report(Finding finding, size_t index, uint64_t sequence,
              std::string detail) {
    VerifyReport report;
    report.finding = finding;
    report.sequence = sequence;
    report.position = index < records_.size() ? records_[index].position : 0;
    report.detail = std::move(detail);
    problem_ = std::move(report);
  }

  void CheckRoots() {
    while (next_checkpoint_ < checkpoints_.size() &&
           checkpoints_[next_checkpoint_].checkpoint.size == tree_.size()) {
      matched_[next_checkpoint_] =
          checkpoints_[next_checkpoint_].checkpoint.root == tree_.Root();
      ++next_checkpoint_;
    }
  }

  // The first index after `from` holding `sequence`, if any.
  std::optional<size_t> FindLater(size_t from, uint64_t sequence) const {
    for (size_t j = from + 1; j < records_.size(); ++j) {
      if (records_[j].sequence == sequence) {
        return j;
      }
    }
    return std::nullopt;
  }

  bool Step() {
    const ExportRecord& r = records_[i_];
    const uint64_t expected = i_ + 1;
    if (r.sequence > expected) {
      if (FindLater(i_, expected).has_value()) {
        Report(Finding::kReordered, i_, expected,
               absl::StrCat("sequence ", r.sequence, " (log position ",
                            r.position, ") stands where sequence ", expected,
                            " belongs; ", expected, " comes later"));
      } else {
        // The missing record has no position; the detail gives the one of
        // the record standing in its place.
        Report(Finding::kMissing, records_.size(), expected,
               absl::StrCat(r.sequence == expected + 1
                                ? absl::StrCat("sequence ", expected, " is")
                                : absl::StrCat("sequences ", expected, " to ",
                                               r.sequence - 1, " are"),
                            " missing: the record after ", expected - 1, " is ",
                            r.sequence, " (log position ", r.position, ")"));
      }
      return false;
    }
    if (r.sequence < expected) {
      if (r.sequence + 1 == expected) {
        Report(Finding::kInserted, i_, r.sequence,
               absl::StrCat("a second record with sequence ", r.sequence,
                            " (hash ", Short(AsBytes(hashed_[i_].hash)),
                            "...) that is not part of the chain"));
      } else {
        Report(Finding::kReordered, i_, r.sequence,
               absl::StrCat("sequence ", r.sequence, " appears after sequence ",
                            expected - 1));
      }
      return false;
    }

    // Two records for this sequence: the chain decides which one belongs,
    // by the prev_hash of the record after them.
    if (i_ + 1 < records_.size() && records_[i_ + 1].sequence == expected) {
      bool first_belongs = true;
      if (std::optional<size_t> next = FindLater(i_ + 1, expected + 1)) {
        RecordHeader header;
        if (ReadRecordHeader(records_[*next].bytes, &header) &&
            header.prev_hash == AsBytes(hashed_[i_ + 1].hash) &&
            header.prev_hash != AsBytes(hashed_[i_].hash)) {
          first_belongs = false;
        }
      }
      if (!first_belongs) {
        Report(Finding::kInserted, i_, expected,
               absl::StrCat("a record with sequence ", expected, " (hash ",
                            Short(AsBytes(hashed_[i_].hash)),
                            "...) stands before the one the chain continues "
                            "from"));
        return false;
      }
    }

    const Hashed& h = hashed_[i_];
    if (AsBytes(h.hash) != r.hash) {
      Report(
          Finding::kModified, i_, expected,
          absl::StrCat("the record's bytes hash to ", Short(AsBytes(h.hash)),
                       "..., not to its stored hash ", Short(r.hash), "..."));
      return false;
    }
    RecordHeader header;
    if (!ReadRecordHeader(r.bytes, &header)) {
      Report(Finding::kModified, i_, expected,
             "the record bytes are not a prongsai.v1.Record");
      return false;
    }
    if (header.stream != parsed_.stream || header.sequence != expected) {
      Report(Finding::kModified, i_, expected,
             absl::StrCat("the record names stream ", header.stream,
                          " sequence ", header.sequence, ", not stream ",
                          parsed_.stream, " sequence ", expected));
      return false;
    }
    if (header.prev_hash != AsBytes(prev_hash_)) {
      if (expected == 1) {
        Report(Finding::kModified, i_, expected,
               "the first record's prev_hash is not 32 zero bytes");
      } else {
        Report(Finding::kModified, i_ - 1, expected - 1,
               absl::StrCat("the chain breaks: sequence ", expected,
                            " names prev_hash ", Short(header.prev_hash),
                            "..., but sequence ", expected - 1, " hashes to ",
                            Short(AsBytes(prev_hash_)), "..."));
      }
      return false;
    }
    prev_hash_ = h.hash;
    return true;
  }

  const ParsedExport& parsed_;
  const std::vector<ExportRecord>& records_;
  const Hashed* hashed_;
  const std::vector<Hash>& blocks_;
  const std::vector<char>& clean_;
  const std::vector<Signed>& checkpoints_;
  std::vector<std::optional<bool>> matched_;
  size_t next_checkpoint_ = 0;
  size_t i_ = 0;
  CompactTree tree_;
  Hash prev_hash_ = kZeroHash;
  std::optional<VerifyReport> problem_;
};

VerifyReport Found(const ParsedExport& parsed, Finding finding,
                   std::string detail) {
  VerifyReport report;
  report.finding = finding;
  report.stream = parsed.stream;
  report.records = parsed.records.size();
  report.detail = std::move(detail);
  return report;
}

}  // namespace

absl::string_view FindingName(Finding finding) {
  switch (finding) {
    case Finding::kOk:
      return "OK";
    case Finding::kModified:
      return "modified";
    case Finding::kMissing:
      return "missing";
    case Finding::kInserted:
      return "inserted";
    case Finding::kReordered:
      return "reordered";
    case Finding::kTruncated:
      return "truncated";
    case Finding::kBadSignature:
      return "bad signature";
    case Finding::kFork:
      return "fork";
    case Finding::kMalformed:
      return "malformed";
  }
  return "unknown";
}

int ExitCode(Finding finding) {
  switch (finding) {
    case Finding::kOk:
      return 0;
    case Finding::kModified:
      return 10;
    case Finding::kMissing:
      return 11;
    case Finding::kInserted:
      return 12;
    case Finding::kReordered:
      return 13;
    case Finding::kTruncated:
      return 14;
    case Finding::kBadSignature:
      return 15;
    case Finding::kFork:
      return 16;
    case Finding::kMalformed:
      return 17;
  }
  return 1;
}

std::string FormatReport(const VerifyReport& report) {
  if (report.finding == Finding::kOk) {
    return absl::StrCat("OK ", report.stream, " size ", report.size, " root ",
                        Base64Encode(AsBytes(report.root)));
  }
  std::string out = absl::StrCat(FindingName(report.finding));
  if (report.sequence != 0) {
    absl::StrAppend(&out, " at sequence ", report.sequence);
    if (report.position != 0) {
      absl::StrAppend(&out, " (log position ", report.position, ")");
    }
  }
  if (!report.stream.empty()) {
    absl::StrAppend(&out, " in stream ", report.stream);
  }
  absl::StrAppend(&out, ": ", report.detail);
  return out;
}

bool ReadRecordHeader(absl::string_view bytes, RecordHeader* out) {
  *out = RecordHeader();
  const char* p = bytes.data();
  const char* end = bytes.data() + bytes.size();
  while (p < end) {
    uint64_t tag = 0;
    if (!ReadVarint(&p, end, &tag) || (tag >> 3) == 0) {
      return false;
    }
    const uint64_t field = tag >> 3;
    switch (tag & 7) {
      case 0: {
        uint64_t value = 0;
        if (!ReadVarint(&p, end, &value)) {
          return false;
        }
        if (field == 2) {
          out->sequence = value;
        }
        break;
      }
      case 1:
        if (end - p < 8) {
          return false;
        }
        p += 8;
        break;
      case 2: {
        uint64_t len = 0;
        if (!ReadVarint(&p, end, &len) ||
            len > static_cast<uint64_t>(end - p)) {
          return false;
        }
        const absl::string_view value(p, len);
        if (field == 1) {
          out->stream = value;
        } else if (field == 3) {
          out->prev_hash = value;
        }
        p += len;
        break;
      }
      case 5:
        if (end - p < 4) {
          return false;
        }
        p += 4;
        break;
      default:
        return false;
    }
  }
  return true;
}

absl::StatusOr<VerifyReport> VerifyExport(absl::string_view data,
                                          absl::Span<const NoteVerifier> keys,
                                          const VerifyOptions& options) {
  if (keys.empty()) {
    return absl::InvalidArgumentError("no verifier key given");
  }
  ParsedExport parsed;
  Hasher hasher(&parsed, MaxExportRecords(data.size()), options.threads);
  if (absl::Status s = ParseExportInto(
          data, &parsed, [&](size_t count) { hasher.Parsed(count); });
      !s.ok()) {
    VerifyReport report;
    report.finding = Finding::kMalformed;
    report.detail = std::string(s.message());
    return report;
  }
  if (parsed.checkpoints.empty()) {
    return Found(parsed,
                 parsed.complete ? Finding::kBadSignature : Finding::kTruncated,
                 parsed.complete ? "the export carries no signed checkpoint"
                                 : parsed.damage);
  }

  // Signatures first: nothing else means anything without them.
  std::vector<Signed> checkpoints;
  const std::string suffix = absl::StrCat("/", parsed.stream);
  for (size_t i = 0; i < parsed.checkpoints.size(); ++i) {
    const std::string which =
        absl::StrCat("checkpoint ", i + 1, " of ", parsed.checkpoints.size());
    absl::StatusOr<Note> note = OpenNote(parsed.checkpoints[i], keys);
    if (!note.ok()) {
      return Found(parsed,
                   absl::IsInvalidArgument(note.status())
                       ? Finding::kMalformed
                       : Finding::kBadSignature,
                   absl::StrCat(which, ": ", note.status().message()));
    }
    absl::StatusOr<Checkpoint> checkpoint = ParseCheckpoint(note->text);
    if (!checkpoint.ok()) {
      return Found(parsed, Finding::kMalformed,
                   absl::StrCat(which, " is signed but is not a checkpoint: ",
                                checkpoint.status().message()));
    }
    if (!absl::EndsWith(checkpoint->origin, suffix)) {
      return Found(parsed, Finding::kBadSignature,
                   absl::StrCat(which, " is signed for ", checkpoint->origin,
                                ", not for stream ", parsed.stream));
    }
    if (!checkpoints.empty() &&
        checkpoint->origin != checkpoints.front().checkpoint.origin) {
      return Found(parsed, Finding::kMalformed,
                   absl::StrCat("the checkpoints name two logs: ",
                                checkpoints.front().checkpoint.origin, " and ",
                                checkpoint->origin));
    }
    checkpoints.push_back({std::move(*checkpoint), i});
  }
  std::stable_sort(checkpoints.begin(), checkpoints.end(),
                   [](const Signed& a, const Signed& b) {
                     return a.checkpoint.size < b.checkpoint.size;
                   });
  for (size_t i = 1; i < checkpoints.size(); ++i) {
    const Checkpoint& a = checkpoints[i - 1].checkpoint;
    const Checkpoint& b = checkpoints[i].checkpoint;
    if (a.size == b.size && a.root != b.root) {
      return Found(
          parsed, Finding::kFork,
          absl::StrCat("two signed checkpoints of size ", a.size,
                       " with different roots ", Base64Encode(AsBytes(a.root)),
                       " and ", Base64Encode(AsBytes(b.root))));
    }
  }

  const HashedRecords hashed = hasher.Finish();
  Walker walker(parsed, hashed, checkpoints);
  walker.Run();

  // A signed root the records do not produce comes before any later problem
  // of the chain (the walk stops at the first one, so every checkpoint it
  // reached lies before it).
  const auto& matched = walker.matched();
  for (size_t i = 0; i < checkpoints.size(); ++i) {
    if (!matched[i].has_value() || *matched[i]) {
      continue;
    }
    const Checkpoint& bad = checkpoints[i].checkpoint;
    for (size_t j = i + 1; j < checkpoints.size(); ++j) {
      if (matched[j].has_value() && *matched[j] &&
          checkpoints[j].checkpoint.size > bad.size) {
        const Checkpoint& good = checkpoints[j].checkpoint;
        return Found(
            parsed, Finding::kFork,
            absl::StrCat("the checkpoint of size ", bad.size, " (root ",
                         Base64Encode(AsBytes(bad.root)),
                         ") is not a prefix of the checkpoint of size ",
                         good.size, " (root ", Base64Encode(AsBytes(good.root)),
                         "), which the records match: the log signed two "
                         "histories"));
      }
    }
    uint64_t from = 1;
    for (size_t j = 0; j < i; ++j) {
      if (matched[j].has_value() && *matched[j]) {
        from = checkpoints[j].checkpoint.size + 1;
      }
    }
    VerifyReport report =
        Found(parsed, Finding::kModified,
              absl::StrCat("the records ", from, " to ", bad.size,
                           " do not produce the root signed at size ", bad.size,
                           ": records were rewritten (chain included), or the "
                           "checkpoint belongs to another history"));
    report.sequence = from;
    if (from - 1 < parsed.records.size()) {
      report.position = parsed.records[from - 1].position;
    }
    return report;
  }
  if (walker.problem().has_value()) {
    VerifyReport report = *walker.problem();
    report.stream = parsed.stream;
    report.records = parsed.records.size();
    return report;
  }

  const Checkpoint& latest = checkpoints.back().checkpoint;
  if (walker.walked() < latest.size) {
    VerifyReport report = Found(
        parsed, Finding::kTruncated,
        absl::StrCat(
            "the checkpoint signs ", latest.size,
            " records; the export ends after ", walker.walked(),
            parsed.complete ? "" : absl::StrCat(" (", parsed.damage, ")")));
    report.sequence = walker.walked() + 1;
    return report;
  }
  if (walker.walked() > latest.size) {
    VerifyReport report = Found(
        parsed, Finding::kInserted,
        absl::StrCat(walker.walked() - latest.size,
                     " records follow the latest signed checkpoint (size ",
                     latest.size, "); no signature covers them"));
    report.sequence = latest.size + 1;
    report.position = parsed.records[latest.size].position;
    return report;
  }
  if (!parsed.complete) {
    VerifyReport report = Found(parsed, Finding::kTruncated, parsed.damage);
    report.sequence = walker.walked() + 1;
    return report;
  }
  VerifyReport report = Found(parsed, Finding::kOk, "");
  report.size = latest.size;
  report.root = latest.root;
  return report;
}

absl::StatusOr<VerifyReport> VerifyExportFile(
    const std::string& path, absl::Span<const NoteVerifier> keys,
    const VerifyOptions& options) {
  // Mapped rather than read into memory: no copy of the file, and its pages
  // come in (read ahead, since it is read from start to end) while the
  // first ones are parsed.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  struct stat st {};
  const bool stat_ok = ::fstat(fd, &st) == 0;
  void* mapped = MAP_FAILED;
  if (stat_ok && st.st_size > 0) {
    mapped = ::mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ,
                    MAP_PRIVATE, fd, 0);
  }
  const int error = errno;
  // The mapping does not need the descriptor.
  ::close(fd);
  if (!stat_ok) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
  }
  if (st.st_size == 0) {
    return VerifyExport(absl::string_view(), keys, options);
  }
  if (mapped == MAP_FAILED) {
    return absl::UnavailableError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(error)));
  }
  const size_t size = static_cast<size_t>(st.st_size);
  const auto unmap = [size](void* p) { ::munmap(p, size); };
  const std::unique_ptr<void, decltype(unmap)> mapping(mapped, unmap);
  ::madvise(mapped, size, MADV_SEQUENTIAL);
  ::madvise(mapped, size, MADV_WILLNEED);
  return VerifyExport(absl::string_view(static_cast<const char*>(mapped), size),
                      keys, options);
}

}  // namespace prongsai::audit

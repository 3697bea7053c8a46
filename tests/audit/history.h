// Histories made in memory for the audit tests: chained records exactly as
// the ingest stores them, their checkpoints and export files.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/audit/checkpoint.h"
#include "core/audit/export.h"
#include "core/audit/merkle.h"
#include "core/audit/note.h"
#include "core/base/hash.h"
#include "prongsai/v1/record.pb.h"
#include "tests/testing/testing.h"

namespace prongsai::audit::testing {

struct StoredRecord {
  uint64_t position = 0;
  uint64_t sequence = 0;
  std::string bytes;
  Hash hash{};
};

// `count` chained meeting records of `stream`, sequences from 1.
inline std::vector<StoredRecord> MakeHistory(const std::string& stream,
                                             int count,
                                             const std::string& tag = "") {
  std::vector<StoredRecord> records;
  Hash prev = kZeroHash;
  for (int i = 1; i <= count; ++i) {
    v1::Record record;
    record.set_stream(stream);
    record.set_sequence(i);
    record.set_prev_hash(std::string(AsBytes(prev)));
    record.mutable_recorded_at()->set_seconds(1728972000 + i);
    *record.mutable_event() = prongsai::testing::MeetingEvent(
        absl::StrCat("meeting-", tag, i), 10 + i % 30);
    StoredRecord stored;
    stored.position = static_cast<uint64_t>(i) * 3;  // other streams between
    stored.sequence = i;
    stored.bytes = record.SerializeAsString();
    stored.hash = Sha256(stored.bytes);
    prev = stored.hash;
    records.push_back(std::move(stored));
  }
  return records;
}

inline Hash RootOf(const std::vector<StoredRecord>& records, size_t size) {
  CompactTree tree;
  for (size_t i = 0; i < size; ++i) {
    tree.Append(LeafHash(records[i].bytes));
  }
  return tree.Root();
}

inline std::string SignedCheckpoint(const NoteSigner& signer,
                                    const std::string& stream,
                                    const std::vector<StoredRecord>& records,
                                    size_t size) {
  Checkpoint checkpoint;
  checkpoint.origin = StreamOrigin("prongsai.test", stream);
  checkpoint.size = size;
  checkpoint.root = RootOf(records, size);
  return *signer.Sign(FormatCheckpoint(checkpoint));
}

inline std::string EncodeExport(const std::string& stream,
                                const std::vector<std::string>& notes,
                                const std::vector<StoredRecord>& records) {
  std::string out;
  ExportEncoder encoder(&out, stream);
  for (const std::string& note : notes) {
    (void)encoder.AddCheckpoint(note);
  }
  for (const StoredRecord& r : records) {
    encoder.AddRecord(r.position, r.sequence, AsBytes(r.hash), r.bytes);
  }
  encoder.Finish();
  return out;
}

}  // namespace prongsai::audit::testing

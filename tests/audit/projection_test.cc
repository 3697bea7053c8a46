#include <gtest/gtest.h>

#include "projections/audit/audit_trail_projection.h"
#include "projections/audit/merkle_projection.h"
#include "tests/audit/history.h"
#include "tests/audit/memory_view.h"

namespace prongsai::projections {
namespace {

using audit::testing::Feed;
using audit::testing::MakeHistory;
using audit::testing::MemoryView;
using audit::testing::StoredRecord;

TEST(MerkleProjectionTest, KeepsEachStreamsTreeAndProvesIt) {
  const std::vector<StoredRecord> a = MakeHistory("1045", 100);
  const std::vector<StoredRecord> b = MakeHistory("1046", 37);
  MerkleProjection projection;
  MemoryView view;
  uint64_t position = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(Feed(projection, view, ++position, a[i].bytes).ok());
    if (i < b.size()) {
      ASSERT_TRUE(Feed(projection, view, ++position, b[i].bytes).ok());
    }
  }
  MerkleView tree(view);
  EXPECT_EQ(*tree.Size("1045"), 100u);
  EXPECT_EQ(*tree.Size("1046"), 37u);
  EXPECT_EQ(*tree.Size("1047"), 0u);
  EXPECT_EQ(*tree.Streams(), (std::vector<std::string>{"1045", "1046"}));

  for (uint64_t size : {1u, 2u, 3u, 64u, 99u, 100u}) {
    SCOPED_TRACE(size);
    absl::StatusOr<Hash> root = tree.Root("1045", size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, audit::testing::RootOf(a, size));
    for (uint64_t sequence : {uint64_t{1}, size / 2 + 1, size}) {
      absl::StatusOr<std::vector<Hash>> proof =
          tree.InclusionProof("1045", sequence, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_TRUE(audit::VerifyInclusion(sequence - 1, size,
                                         audit::LeafHash(a[sequence - 1].bytes),
                                         *proof, *root)
                      .ok());
    }
    absl::StatusOr<std::vector<Hash>> consistency =
        tree.ConsistencyProof("1045", size, 100);
    ASSERT_TRUE(consistency.ok()) << consistency.status();
    EXPECT_TRUE(audit::VerifyConsistency(size, 100, *root,
                                         audit::testing::RootOf(a, 100),
                                         *consistency)
                    .ok());
  }
  EXPECT_EQ(*tree.Root("1046", 37), audit::testing::RootOf(b, 37));
  EXPECT_EQ(tree.Root("1046", 38).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*tree.Leaf("1045", 7), audit::LeafHash(a[6].bytes));
}

TEST(MerkleProjectionTest, AnAppendReadsAndWritesLogarithmicallyMany) {
  const std::vector<StoredRecord> a = MakeHistory("1045", 1024);
  MerkleProjection projection;
  MemoryView view;
  for (size_t i = 0; i < a.size() - 1; ++i) {
    ASSERT_TRUE(Feed(projection, view, i + 1, a[i].bytes).ok());
  }
  // The 1024th leaf completes ten subtrees, the most any append can.
  view.reads = 0;
  view.writes = 0;
  ASSERT_TRUE(Feed(projection, view, 1024, a.back().bytes).ok());
  EXPECT_LE(view.reads, 11);
  EXPECT_LE(view.writes, 12);
  // Every complete subtree is stored: 2n - 1 nodes for n = 1024, and a size.
  EXPECT_EQ(view.size(), 2 * 1024 - 1 + 1u);
}

// The reader hashes the nodes below kLeafBlockLevel from their leaf block;
// every proof and root must still be the reference's, wherever a size or a
// leaf falls in a block, and with a second stream's leaves beside them.
TEST(MerkleProjectionTest, ProofsFromLeafBlocksMatchTheReference) {
  const std::vector<StoredRecord> a = MakeHistory("1045", 300);
  const std::vector<StoredRecord> b = MakeHistory("1046", 70);
  MerkleProjection projection;
  MemoryView view;
  uint64_t position = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(Feed(projection, view, ++position, a[i].bytes).ok());
    if (i < b.size()) {
      ASSERT_TRUE(Feed(projection, view, ++position, b[i].bytes).ok());
    }
  }
  MerkleView tree(view);
  std::vector<Hash> roots = {audit::EmptyRoot()};
  for (uint64_t size = 1; size <= a.size(); ++size) {
    roots.push_back(audit::testing::RootOf(a, size));
  }
  for (uint64_t size = 1; size <= a.size(); ++size) {
    SCOPED_TRACE(size);
    ASSERT_EQ(*tree.Root("1045", size), roots[size]);
    for (uint64_t sequence = 1; sequence <= size; ++sequence) {
      absl::StatusOr<std::vector<Hash>> proof =
          tree.InclusionProof("1045", sequence, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(audit::VerifyInclusion(sequence - 1, size,
                                         audit::LeafHash(a[sequence - 1].bytes),
                                         *proof, roots[size])
                      .ok())
          << sequence;
    }
    for (uint64_t to : {size, size + 1, size + 63, uint64_t{a.size()}}) {
      if (to > a.size()) {
        continue;
      }
      absl::StatusOr<std::vector<Hash>> proof =
          tree.ConsistencyProof("1045", size, to);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(audit::VerifyConsistency(size, to, roots[size], roots[to],
                                           *proof)
                      .ok())
          << to;
    }
  }
  EXPECT_EQ(*tree.Root("1046", 70), audit::testing::RootOf(b, 70));
  EXPECT_EQ(*tree.Root("1046", 65), audit::testing::RootOf(b, 65));
}

TEST(MerkleProjectionTest, AProofScansOneLeafBlockAndReadsTheUpperLevels) {
  const std::vector<StoredRecord> a = MakeHistory("1045", 1000);
  MerkleProjection projection;
  MemoryView view;
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_TRUE(Feed(projection, view, i + 1, a[i].bytes).ok());
  }
  MerkleView tree(view);
  view.reads = 0;
  view.scans = 0;
  // In a tree of 960 = 15 * 64 leaves, leaf 500's block is the only one
  // scanned; above it a node per level on each side, and the size row.
  ASSERT_TRUE(tree.InclusionProof("1045", 501, 960).ok());
  EXPECT_EQ(view.scans, 1);
  EXPECT_LE(view.reads, 1 + 2 * (10 - kLeafBlockLevel));
  // Where the tree ends inside a block, that block is scanned too.
  view.reads = 0;
  view.scans = 0;
  ASSERT_TRUE(tree.InclusionProof("1045", 501, 1000).ok());
  EXPECT_EQ(view.scans, 2);
  EXPECT_LE(view.reads, 1 + 2 * (10 - kLeafBlockLevel));
  // A consistency proof touches the blocks of both sizes.
  view.reads = 0;
  view.scans = 0;
  ASSERT_TRUE(tree.ConsistencyProof("1045", 333, 1000).ok());
  EXPECT_LE(view.scans, 2);
  EXPECT_LE(view.reads, 1 + 2 * (10 - kLeafBlockLevel));
}

TEST(MerkleProjectionTest, RefusesARecordThatDoesNotExtendTheTree) {
  const std::vector<StoredRecord> a = MakeHistory("1045", 3);
  MerkleProjection projection;
  MemoryView view;
  ASSERT_TRUE(Feed(projection, view, 1, a[0].bytes).ok());
  absl::Status skipped = Feed(projection, view, 2, a[2].bytes);
  EXPECT_EQ(skipped.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Feed(projection, view, 2, a[0].bytes).code(),
            absl::StatusCode::kFailedPrecondition);
}

// Events about one measure, one complaint and one gift report, with a
// correction and a retraction, recorded by two actors.
class AuditTrailTest : public ::testing::Test {
 protected:
  std::string Append(v1::Event event, const std::string& actor) {
    event.set_event_id(prongsai::testing::NewUuid());
    event.mutable_occurred_at()->set_seconds(1728972000 + sequence_);
    event.mutable_actor()->set_id(actor);
    event.mutable_actor()->set_name("สมชาย ใจดี");
    v1::Record record;
    record.set_stream("1045");
    record.set_sequence(++sequence_);
    record.mutable_recorded_at()->set_seconds(1728980000 + sequence_);
    *record.mutable_event() = event;
    EXPECT_TRUE(
        Feed(projection_, view_, sequence_ * 10, record.SerializeAsString())
            .ok());
    return event.event_id();
  }

  AuditTrailProjection projection_;
  MemoryView view_;
  uint64_t sequence_ = 0;
};

TEST_F(AuditTrailTest, AnswersWhatHappenedWhoAndWhatCorrectedIt) {
  v1::Event planned;
  planned.mutable_measure_planned()->set_measure_id("m-01");
  planned.mutable_measure_planned()->set_title("เผยแพร่ข้อมูลการจัดซื้อจัดจ้าง");
  const std::string planned_id = Append(planned, "1045-ita-01");

  v1::Event complaint;
  complaint.mutable_complaint_received()->set_complaint_id("c-07");
  complaint.mutable_complaint_received()->set_summary("เรียกรับเงิน");
  const std::string complaint_id = Append(complaint, "1045-desk");

  v1::Event progress;
  progress.mutable_measure_progress_reported()->set_measure_id("m-01");
  Append(progress, "1045-ita-02");

  v1::Event gift;
  gift.mutable_gift_report_filed()->set_report_id("g-03");
  const std::string gift_id = Append(gift, "1045-ita-02");

  v1::Event correction;
  correction.mutable_event_corrected()->set_corrected_event_id(planned_id);
  *correction.mutable_event_corrected()->mutable_replacement() = planned;
  correction.mutable_event_corrected()->set_reason("แก้ชื่อมาตรการ");
  const std::string correction_id = Append(correction, "1045-ita-01");

  v1::Event retraction;
  retraction.mutable_event_retracted()->set_retracted_event_id(gift_id);
  const std::string retraction_id = Append(retraction, "1045-ita-02");

  v1::Event status;
  status.mutable_complaint_status_changed()->set_complaint_id("c-07");
  Append(status, "1045-desk");

  AuditTrailView trail(view_);
  absl::StatusOr<v1::Trail> measure = trail.ForSubject("measure", "m-01");
  ASSERT_TRUE(measure.ok()) << measure.status();
  ASSERT_EQ(measure->entries_size(), 3);
  EXPECT_EQ(measure->entries(0).kind(), "measure_planned");
  EXPECT_EQ(measure->entries(0).sequence(), 1u);
  EXPECT_EQ(measure->entries(0).position(), 10u);
  EXPECT_EQ(measure->entries(0).actor_id(), "1045-ita-01");
  EXPECT_EQ(measure->entries(0).recorded_at().seconds(), 1728980001);
  ASSERT_EQ(measure->entries(0).corrections_size(), 1);
  EXPECT_EQ(measure->entries(0).corrections(0).event_id(), correction_id);
  EXPECT_EQ(measure->entries(0).corrections(0).sequence(), 5u);
  EXPECT_EQ(measure->entries(1).kind(), "measure_progress_reported");
  EXPECT_EQ(measure->entries(2).kind(), "event_corrected");
  EXPECT_EQ(measure->entries(2).target_event_id(), planned_id);
  EXPECT_EQ(measure->entries(2).target_sequence(), 1u);

  absl::StatusOr<v1::Trail> complaint_trail =
      trail.ForSubject("complaint", "c-07");
  ASSERT_TRUE(complaint_trail.ok());
  ASSERT_EQ(complaint_trail->entries_size(), 2);
  EXPECT_EQ(complaint_trail->entries(0).event_id(), complaint_id);
  EXPECT_EQ(complaint_trail->entries(1).kind(), "complaint_status_changed");

  absl::StatusOr<v1::TrailEntry> retracted = trail.Event(gift_id);
  ASSERT_TRUE(retracted.ok());
  ASSERT_EQ(retracted->corrections_size(), 1);
  EXPECT_EQ(retracted->corrections(0).event_id(), retraction_id);
  EXPECT_EQ(retracted->corrections(0).kind(), "event_retracted");
  EXPECT_EQ(trail.ForSubject("gift_report", "g-03")->entries_size(), 2);

  absl::StatusOr<v1::Trail> actor = trail.ForActor("1045-ita-02");
  ASSERT_TRUE(actor.ok());
  ASSERT_EQ(actor->entries_size(), 3);
  EXPECT_EQ(actor->entries(0).sequence(), 3u);
  EXPECT_EQ(actor->entries(2).sequence(), 6u);
  absl::StatusOr<v1::Trail> limited = trail.ForActor("1045-ita-02", 2);
  EXPECT_EQ(limited->entries_size(), 2);
  EXPECT_TRUE(limited->truncated());

  EXPECT_EQ(trail.Event("no-such-event").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(trail.ForSubject("measure", "").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(AuditTrailTest, KeepsIdentifiersAndTimesNotTexts) {
  v1::Event complaint;
  complaint.mutable_complaint_received()->set_complaint_id("c-08");
  complaint.mutable_complaint_received()->set_summary("ข้อความร้องเรียนยาวมาก");
  Append(complaint, "1045-desk");
  for (const auto& [key, value] : view_.rows()) {
    EXPECT_EQ(value.find("ข้อความร้องเรียน"), std::string::npos) << key;
    EXPECT_EQ(value.find("สมชาย"), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace prongsai::projections

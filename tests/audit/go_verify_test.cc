// Prongsai's checkpoints and proofs checked by an independent
// implementation: Go's golang.org/x/mod/sumdb/note and .../tlog, built from
// Debian's golang-golang-x-mod-dev into tests/audit/goverify.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "absl/strings/str_split.h"
#include "core/audit/checkpoint.h"
#include "core/audit/note.h"
#include "tests/audit/stack.h"
#include "tests/testing/process.h"

namespace prongsai::audit {
namespace {

using nlohmann::json;

std::string B64(absl::string_view bytes) { return Base64Encode(bytes); }

json ProofJson(const google::protobuf::RepeatedPtrField<std::string>& hashes) {
  json out = json::array();
  for (const std::string& h : hashes) {
    out.push_back(B64(h));
  }
  return out;
}

class GoVerifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    stack_ = std::make_unique<testing::AuditStack>(dir_.path());
    ASSERT_TRUE(stack_->Open().ok());
  }

  std::string Sign(const std::string& stream) {
    v1::GetCheckpointResponse response;
    EXPECT_TRUE(stack_->service()
                    ->Checkpoint(
                        [&] {
                          v1::GetCheckpointRequest r;
                          r.set_stream(stream);
                          r.set_refresh(true);
                          return r;
                        }(),
                        &response)
                    .ok());
    return response.note();
  }

  v1::InclusionProof Inclusion(uint64_t sequence, uint64_t size) {
    v1::GetInclusionProofRequest request;
    request.set_stream("1045");
    request.set_sequence(sequence);
    request.set_tree_size(size);
    v1::InclusionProof proof;
    EXPECT_TRUE(stack_->service()->Inclusion(request, &proof).ok());
    return proof;
  }

  v1::ConsistencyProof Consistency(uint64_t from, uint64_t to) {
    v1::GetConsistencyProofRequest request;
    request.set_stream("1045");
    request.set_from_size(from);
    request.set_to_size(to);
    v1::ConsistencyProof proof;
    EXPECT_TRUE(stack_->service()->Consistency(request, &proof).ok());
    return proof;
  }

  // Runs the Go verifier over `cases`; returns each case's verdict.
  std::map<std::string, std::string> RunGo(const json& cases) {
    const std::string path = dir_.Sub("cases.json");
    std::ofstream(path) << json{
        {"verifier_key", stack_->verifier_key()},
        {"cases", cases}}.dump();
    prongsai::testing::CommandResult result =
        prongsai::testing::RunCommand({GOVERIFY_BIN, path});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    std::map<std::string, std::string> verdicts;
    for (absl::string_view line : absl::StrSplit(result.out, '\n')) {
      std::vector<std::string> parts = absl::StrSplit(line, '\t');
      if (parts.size() >= 2) {
        verdicts[parts[0]] =
            parts[1] + (parts.size() > 2 ? " " + parts[2] : "");
      }
    }
    return verdicts;
  }

  prongsai::testing::TempDir dir_;
  std::unique_ptr<testing::AuditStack> stack_;
};

TEST_F(GoVerifyTest, GoAcceptsProngsaiCheckpointsAndProofsAndRejectsTampering) {
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 64).ok());
  const std::string at64 = Sign("1045");
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1045", 73, "later").ok());
  const std::string at137 = Sign("1045");
  ASSERT_TRUE(testing::AppendHistory(*stack_, "1046", 5).ok());
  Sign("1046");
  v1::GetCheckpointResponse city;
  {
    v1::GetCheckpointRequest request;
    request.mutable_all_streams();
    ASSERT_TRUE(stack_->service()->Checkpoint(request, &city).ok());
  }

  // Every stored record of 1045, for the tree case.
  std::vector<std::string> records;
  ASSERT_TRUE(stack_->log()
                  ->ReadStream("1045", 1,
                               [&](const log::LogEntry& e) {
                                 records.emplace_back(e.record_bytes);
                                 return true;
                               })
                  .ok());
  ASSERT_EQ(records.size(), 137u);
  json all_records = json::array();
  for (const std::string& r : records) {
    all_records.push_back(B64(r));
  }

  json cases = json::array();
  std::map<std::string, bool> expect;
  auto add = [&](const std::string& name, bool accepted, json c) {
    c["name"] = name;
    cases.push_back(std::move(c));
    expect[name] = accepted;
  };

  add("checkpoint 137", true,
      {{"kind", "checkpoint"},
       {"note", at137},
       {"origin", "prongsai.test/1045"}});
  add("checkpoint 64", true,
      {{"kind", "checkpoint"},
       {"note", at64},
       {"origin", "prongsai.test/1045"}});
  add("city checkpoint", true, {{"kind", "note"}, {"note", city.note()}});
  {
    std::string altered = at137;
    altered.replace(altered.find("\n137\n"), 5, "\n136\n");
    add("checkpoint with its size altered", false,
        {{"kind", "checkpoint"},
         {"note", altered},
         {"origin", "prongsai.test/1045"}});
  }
  {
    NoteSigner other = *NoteSigner::Generate(std::string(testing::kLogName));
    add("checkpoint re-signed with another key", false,
        {{"kind", "checkpoint"},
         {"note", *other.Sign(at137.substr(0, at137.find("\n\n") + 1))},
         {"origin", "prongsai.test/1045"}});
  }

  for (uint64_t sequence : {1u, 2u, 63u, 64u, 65u, 100u, 136u, 137u}) {
    v1::InclusionProof proof = Inclusion(sequence, 137);
    add("inclusion of " + std::to_string(sequence), true,
        {{"kind", "inclusion"},
         {"note", at137},
         {"index", sequence - 1},
         {"record", B64(proof.record().record_bytes())},
         {"proof", ProofJson(proof.hashes())}});
  }
  {
    v1::InclusionProof proof = Inclusion(10, 64);
    add("inclusion of 10 in the tree of 64", true,
        {{"kind", "inclusion"},
         {"note", at64},
         {"index", 9},
         {"record", B64(proof.record().record_bytes())},
         {"proof", ProofJson(proof.hashes())}});
    std::string tampered = proof.record().record_bytes();
    tampered[tampered.size() / 2] ^= 0x01;
    add("inclusion of a modified record", false,
        {{"kind", "inclusion"},
         {"note", at64},
         {"index", 9},
         {"record", B64(tampered)},
         {"proof", ProofJson(proof.hashes())}});
    add("inclusion at another index", false,
        {{"kind", "inclusion"},
         {"note", at64},
         {"index", 11},
         {"record", B64(proof.record().record_bytes())},
         {"proof", ProofJson(proof.hashes())}});
  }

  {
    v1::ConsistencyProof proof = Consistency(64, 137);
    add("consistency 64 to 137", true,
        {{"kind", "consistency"},
         {"old_note", at64},
         {"note", at137},
         {"proof", ProofJson(proof.hashes())}});
    json flipped = ProofJson(proof.hashes());
    std::string bytes = proof.hashes(0);
    bytes[0] ^= 0x01;
    flipped[0] = B64(bytes);
    add("consistency with an altered proof", false,
        {{"kind", "consistency"},
         {"old_note", at64},
         {"note", at137},
         {"proof", flipped}});
  }
  {
    // A checkpoint of size 64 from another history, signed with the real key:
    // what a server that forked would publish.
    std::vector<std::string> forked(records.begin(), records.begin() + 64);
    forked[30][forked[30].size() - 2] ^= 0x01;
    CompactTree tree;
    for (const std::string& r : forked) {
      tree.Append(LeafHash(r));
    }
    absl::StatusOr<NoteSigner> key =
        ReadSignerKeyFile(dir_.Sub("checkpoint.key"));
    ASSERT_TRUE(key.ok()) << key.status();
    Checkpoint fork;
    fork.origin = "prongsai.test/1045";
    fork.size = 64;
    fork.root = tree.Root();
    const std::string forked_note = *key->Sign(FormatCheckpoint(fork));
    v1::ConsistencyProof proof = Consistency(64, 137);
    add("consistency from a forked checkpoint", false,
        {{"kind", "consistency"},
         {"old_note", forked_note},
         {"note", at137},
         {"proof", ProofJson(proof.hashes())}});
  }
  for (uint64_t from : {1u, 7u, 100u, 137u}) {
    v1::ConsistencyProof proof = Consistency(from, 137);
    // The tree head at `from`, signed with the server's key.
    absl::StatusOr<NoteSigner> key =
        ReadSignerKeyFile(dir_.Sub("checkpoint.key"));
    Checkpoint old_cp;
    old_cp.origin = "prongsai.test/1045";
    old_cp.size = from;
    HashFromBytes(proof.from_root(), &old_cp.root);
    add("consistency " + std::to_string(from) + " to 137", true,
        {{"kind", "consistency"},
         {"old_note", *key->Sign(FormatCheckpoint(old_cp))},
         {"note", at137},
         {"proof", ProofJson(proof.hashes())}});
  }

  add("tree of all 137 records", true,
      {{"kind", "tree"}, {"note", at137}, {"records", all_records}});
  {
    json modified = all_records;
    std::string bytes = records[99];
    bytes[bytes.size() - 3] ^= 0x20;
    modified[99] = B64(bytes);
    add("tree with one record modified", false,
        {{"kind", "tree"}, {"note", at137}, {"records", modified}});
  }

  const std::map<std::string, std::string> verdicts = RunGo(cases);
  ASSERT_EQ(verdicts.size(), expect.size());
  for (const auto& [name, accepted] : expect) {
    SCOPED_TRACE(name);
    auto it = verdicts.find(name);
    ASSERT_NE(it, verdicts.end());
    if (accepted) {
      EXPECT_EQ(it->second, "OK");
    } else {
      EXPECT_EQ(it->second.substr(0, 8), "REJECTED");
    }
  }
}

}  // namespace
}  // namespace prongsai::audit

#include "core/audit/note.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "core/audit/checkpoint.h"
#include "core/audit/merkle.h"
#include "tests/testing/testing.h"

namespace prongsai::audit {
namespace {

// The published example of golang.org/x/mod/sumdb/note.
constexpr absl::string_view kGoSignerKey =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+"
    "Y7hfZx09iUvxdXHKDFz";
constexpr absl::string_view kGoVerifierKey =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr absl::string_view kGoText =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr absl::string_view kGoNote =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/"
    "SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnA"
    "M=\n";

TEST(NoteTest, SignsByteForByteAsGo) {
  absl::StatusOr<NoteSigner> signer = NoteSigner::Parse(kGoSignerKey);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_EQ(signer->name(), "PeterNeumann");
  EXPECT_EQ(signer->key_id(), 0xc74f20a3u);
  EXPECT_EQ(signer->VerifierKey(), kGoVerifierKey);
  EXPECT_EQ(signer->SignerKey(), kGoSignerKey);
  absl::StatusOr<std::string> note = signer->Sign(kGoText);
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(*note, kGoNote);
}

TEST(NoteTest, OpensGoNotes) {
  absl::StatusOr<NoteVerifier> verifier = NoteVerifier::Parse(kGoVerifierKey);
  ASSERT_TRUE(verifier.ok()) << verifier.status();
  EXPECT_EQ(verifier->VerifierKey(), kGoVerifierKey);
  absl::StatusOr<Note> note = OpenNote(kGoNote, {*verifier});
  ASSERT_TRUE(note.ok()) << note.status();
  EXPECT_EQ(note->text, kGoText);
  ASSERT_EQ(note->verified.size(), 1u);
  EXPECT_EQ(note->verified[0].key_id, 0xc74f20a3u);
}

TEST(NoteTest, RejectsWhatGoRejects) {
  const NoteVerifier verifier = *NoteVerifier::Parse(kGoVerifierKey);
  const NoteSigner other = *NoteSigner::Generate("PeterNeumann");
  std::string flipped(kGoNote);
  flipped[3] = 'X';  // text changed after signing
  struct Case {
    std::string name;
    std::string note;
    absl::StatusCode code;
  } cases[] = {
      {"text changed", flipped, absl::StatusCode::kUnauthenticated},
      {"other key", *other.Sign(kGoText), absl::StatusCode::kUnauthenticated},
      {"no blank line", std::string(kGoText),
       absl::StatusCode::kInvalidArgument},
      {"ascii dash", absl::StrCat(kGoText, "\n-- PeterNeumann AAAA\n"),
       absl::StatusCode::kInvalidArgument},
      {"no final newline", std::string(kGoNote.substr(0, kGoNote.size() - 1)),
       absl::StatusCode::kInvalidArgument},
      {"control character",
       absl::StrCat("a\tb\n", kGoNote.substr(kGoText.size())),
       absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::StatusOr<Note> note = OpenNote(c.note, {verifier});
    ASSERT_FALSE(note.ok());
    EXPECT_EQ(note.status().code(), c.code) << note.status();
  }
}

TEST(NoteTest, BadKeysNameTheProblem) {
  for (absl::string_view key : {
           "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "PeterNeumann+c74f20a3+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "Peter "
           "Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
           "PeterNeumann+c74f20a3",
           "PeterNeumann+c74f20a3+!!!!",
       }) {
    SCOPED_TRACE(key);
    absl::StatusOr<NoteVerifier> verifier = NoteVerifier::Parse(key);
    ASSERT_FALSE(verifier.ok());
    EXPECT_EQ(verifier.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(verifier.status().message().find("verifier key"),
              absl::string_view::npos);
  }
  EXPECT_FALSE(NoteSigner::Parse("PRIVATE+KEY+PeterNeumann+c74f20a4+"
                                 "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
                   .ok());
}

TEST(NoteTest, KeyFileIsPrivateAndNeverOverwritten) {
  testing::TempDir dir;
  const std::string path = dir.Sub("keys/checkpoint.key");
  bool created = false;
  absl::StatusOr<NoteSigner> signer =
      LoadOrCreateSignerKey(path, "prongsai.test", &created);
  ASSERT_TRUE(signer.ok()) << signer.status();
  EXPECT_TRUE(created);
  struct stat info;
  ASSERT_EQ(stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600);
  std::ifstream pub(path + ".pub");
  std::string vkey;
  std::getline(pub, vkey);
  EXPECT_EQ(vkey, signer->VerifierKey());

  // A second start loads the same key.
  absl::StatusOr<NoteSigner> again =
      LoadOrCreateSignerKey(path, "prongsai.test", &created);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(created);
  EXPECT_EQ(again->SignerKey(), signer->SignerKey());

  absl::Status overwrite =
      WriteSignerKeyFile(path, *NoteSigner::Generate("prongsai.test"));
  EXPECT_EQ(overwrite.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadSignerKeyFile(path)->SignerKey(), signer->SignerKey());

  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  absl::StatusOr<NoteSigner> exposed = ReadSignerKeyFile(path);
  EXPECT_EQ(exposed.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(CheckpointTest, FormatsAndParsesTlogCheckpoints) {
  Checkpoint checkpoint;
  checkpoint.origin = StreamOrigin("prongsai.bangkok.go.th/ledger", "1045");
  checkpoint.size = 20852163;
  checkpoint.root = LeafHash("x");
  const std::string text = FormatCheckpoint(checkpoint);
  EXPECT_EQ(text, absl::StrCat("prongsai.bangkok.go.th/ledger/1045\n20852163\n",
                               Base64Encode(AsBytes(checkpoint.root)), "\n"));
  absl::StatusOr<Checkpoint> parsed = ParseCheckpoint(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->origin, checkpoint.origin);
  EXPECT_EQ(parsed->size, checkpoint.size);
  EXPECT_EQ(parsed->root, checkpoint.root);

  checkpoint.extensions = {"extension one"};
  EXPECT_EQ(ParseCheckpoint(FormatCheckpoint(checkpoint))->extensions,
            checkpoint.extensions);

  for (absl::string_view bad : {
           "origin\n012\nAAAA\n",
           "origin\n12\n",
           "\n12\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
           "origin\n-1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
           "origin\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=\n",
           "origin\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n\n",
           "origin\n1\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
       }) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseCheckpoint(bad).ok());
  }
}

TEST(CheckpointTest, CityCheckpointListsStreamsSorted) {
  CityCheckpoint city;
  city.log_name = "prongsai";
  city.streams.push_back({.origin = StreamOrigin("prongsai", "city"),
                          .size = 2,
                          .root = LeafHash("c"),
                          .extensions = {}});
  city.streams.push_back({.origin = StreamOrigin("prongsai", "1045"),
                          .size = 7,
                          .root = LeafHash("a"),
                          .extensions = {}});
  const std::string text = FormatCityCheckpoint(city);
  EXPECT_EQ(text.substr(0, text.find('\n', 9) + 1),
            "prongsai\nprongsai/1045 7 " +
                Base64Encode(AsBytes(LeafHash("a"))) + "\n");
  absl::StatusOr<CityCheckpoint> parsed = ParseCityCheckpoint(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  ASSERT_EQ(parsed->streams.size(), 2u);
  EXPECT_EQ(parsed->streams[0].origin, "prongsai/1045");
  EXPECT_EQ(parsed->streams[1].size, 2u);
  EXPECT_FALSE(ParseCityCheckpoint("prongsai\nprongsai/1045 x y\n").ok());
}

}  // namespace
}  // namespace prongsai::audit

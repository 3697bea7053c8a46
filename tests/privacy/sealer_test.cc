// Sealing of personal fields: the round trip, and that a value opens only
// with its own key, its own bytes and its own associated data.
#include "core/privacy/sealer.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "core/privacy/cipher.h"
#include "core/privacy/key_store.h"
#include "tests/testing/testing.h"

namespace prongsai::privacy {
namespace {

using ::prongsai::testing::MeetingEvent;
using ::prongsai::testing::TempDir;

// Keys in memory, which a test can swap or destroy.
class MapKeys : public SubjectKeys {
 public:
  absl::StatusOr<SubjectKey> KeyFor(absl::string_view subject) override {
    auto it = keys_.find(subject);
    if (it == keys_.end()) {
      SubjectKey key;
      key.key_id = absl::StrCat("k", ++made_);
      key.key = *NewRandomKey();
      it = keys_.emplace(std::string(subject), key).first;
    }
    return it->second;
  }
  absl::StatusOr<KeyLookup> Find(absl::string_view subject,
                                 absl::string_view key_id) override {
    KeyLookup lookup;
    auto it = keys_.find(subject);
    if (it != keys_.end() && it->second.key_id == key_id) {
      lookup.state = KeyState::kLive;
      lookup.key = it->second.key;
    } else if (erased_.contains(absl::StrCat(subject, "/", key_id))) {
      lookup.state = KeyState::kErased;
    }
    return lookup;
  }
  void Replace(const std::string& subject) {
    keys_[subject].key = *NewRandomKey();
  }
  // `to` gets the key (and key id) of `from`.
  void Alias(const std::string& from, const std::string& to) {
    keys_[to] = keys_[from];
  }
  void Destroy(const std::string& subject) {
    erased_.insert(absl::StrCat(subject, "/", keys_[subject].key_id));
    keys_.erase(subject);
  }

 private:
  absl::flat_hash_map<std::string, SubjectKey> keys_;
  absl::flat_hash_set<std::string> erased_;
  int made_ = 0;
};

v1::Event GiftEvent() {
  v1::Event event = MeetingEvent("unused");
  event.mutable_actor()->set_name("สมศรี บันทึกดี");
  v1::GiftReportFiled* gift = event.mutable_gift_report_filed();
  gift->set_report_id("G-1");
  gift->mutable_official()->set_subject_id("p-official");
  gift->mutable_official()->set_name("สมหญิง รักดี");
  gift->mutable_official()->set_contact("081-234-5678");
  gift->mutable_official()->set_position("นักจัดการงานทั่วไป");
  gift->mutable_giver()->set_subject_id("p-giver");
  gift->mutable_giver()->set_name("นายให้ ของขวัญ");
  gift->set_description("กระเช้าผลไม้");
  return event;
}

class SealerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto sealer = PersonalFieldSealer::Create(&keys_);
    ASSERT_TRUE(sealer.ok()) << sealer.status();
    sealer_ = std::move(*sealer);
  }

  v1::Event Sealed(const v1::Event& event) {
    absl::StatusOr<std::string> bytes = sealer_->Seal(event);
    EXPECT_TRUE(bytes.ok()) << bytes.status();
    v1::Event stored;
    EXPECT_TRUE(stored.ParseFromString(bytes.value_or("")));
    return stored;
  }

  MapKeys keys_;
  std::unique_ptr<PersonalFieldSealer> sealer_;
};

TEST_F(SealerTest, RoundTripRestoresTheEventAsSent) {
  const v1::Event event = GiftEvent();
  const std::string bytes = *sealer_->Seal(event);
  for (const std::string& plain :
       {std::string("สมหญิง รักดี"), std::string("081-234-5678"),
        std::string("นายให้ ของขวัญ"), std::string("สมศรี บันทึกดี")}) {
    EXPECT_EQ(bytes.find(plain), std::string::npos) << plain;
  }
  v1::Event stored;
  ASSERT_TRUE(stored.ParseFromString(bytes));
  const v1::Person& official = stored.gift_report_filed().official();
  EXPECT_TRUE(absl::StartsWith(official.name(), "pdpa:v1:p-official:"));
  EXPECT_TRUE(absl::StartsWith(official.contact(), "pdpa:v1:p-official:"));
  EXPECT_TRUE(absl::StartsWith(stored.gift_report_filed().giver().name(),
                               "pdpa:v1:p-giver:"));
  EXPECT_TRUE(absl::StartsWith(stored.actor().name(), "pdpa:v1:1045-ita-01:"));
  // Fields that are not personal stay readable.
  EXPECT_EQ(official.position(), "นักจัดการงานทั่วไป");
  EXPECT_EQ(stored.gift_report_filed().description(), "กระเช้าผลไม้");
  // Two seals of one value differ (a fresh nonce each).
  EXPECT_NE(Sealed(event).gift_report_filed().official().name(),
            official.name());

  PersonalFieldOpener(&keys_).Open(&stored);
  EXPECT_EQ(stored.SerializeAsString(), event.SerializeAsString());
}

TEST_F(SealerTest, EventWithoutPersonalDataIsStoredAsSent) {
  const v1::Event meeting = MeetingEvent("m");
  EXPECT_FALSE(sealer_->MayHoldPersonalData(meeting));
  EXPECT_EQ(*sealer_->Seal(meeting), meeting.SerializeAsString());

  v1::Event gift = GiftEvent();
  gift.mutable_actor()->clear_name();
  gift.mutable_gift_report_filed()->mutable_official()->clear_name();
  gift.mutable_gift_report_filed()->mutable_official()->clear_contact();
  gift.mutable_gift_report_filed()->mutable_giver()->clear_name();
  EXPECT_EQ(*sealer_->Seal(gift), gift.SerializeAsString());
}

TEST_F(SealerTest, WrongKeyDoesNotOpen) {
  v1::Event stored = Sealed(GiftEvent());
  keys_.Replace("p-official");
  PersonalFieldOpener(&keys_).Open(&stored);
  EXPECT_EQ(stored.gift_report_filed().official().name(), kUnavailableMarker);
  EXPECT_EQ(stored.gift_report_filed().giver().name(), "นายให้ ของขวัญ");

  const KeyBytes a = *NewRandomKey();
  const KeyBytes b = *NewRandomKey();
  const std::string box = *SealBox(a, "สมชาย", "aad");
  EXPECT_EQ(*OpenBox(a, box, "aad"), "สมชาย");
  EXPECT_EQ(OpenBox(b, box, "aad").status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST_F(SealerTest, TamperedCiphertextDoesNotOpen) {
  const KeyBytes key = *NewRandomKey();
  const std::string box = *SealBox(key, "0812345678", "aad");
  for (size_t i = 0; i < box.size(); ++i) {
    SCOPED_TRACE(i);
    std::string changed = box;
    changed[i] ^= 0x01;
    EXPECT_FALSE(OpenBox(key, changed, "aad").ok());
  }
  EXPECT_FALSE(OpenBox(key, box.substr(0, box.size() - 1), "aad").ok());
  EXPECT_FALSE(OpenBox(key, box.substr(0, 10), "aad").ok());

  v1::Event stored = Sealed(GiftEvent());
  absl::StatusOr<SealedValue> value =
      ParseSealed(stored.gift_report_filed().official().name());
  ASSERT_TRUE(value.ok()) << value.status();
  value->box[value->box.size() / 2] ^= 0x20;
  stored.mutable_gift_report_filed()->mutable_official()->set_name(
      FormatSealed(value->subject, value->key_id, value->box));
  PersonalFieldOpener(&keys_).Open(&stored);
  EXPECT_EQ(stored.gift_report_filed().official().name(), kUnavailableMarker);
  EXPECT_EQ(stored.gift_report_filed().official().contact(), "081-234-5678");
}

TEST_F(SealerTest, AssociatedDataBindsFieldSubjectAndKey) {
  const KeyBytes key = *NewRandomKey();
  const std::string box = *SealBox(key, "x", "aad-1");
  EXPECT_FALSE(OpenBox(key, box, "aad-2").ok());

  const v1::Event stored = Sealed(GiftEvent());
  const PersonalFieldOpener opener(&keys_);
  // A name moved into the contact field does not open.
  v1::Event moved = stored;
  moved.mutable_gift_report_filed()->mutable_official()->set_contact(
      stored.gift_report_filed().official().name());
  opener.Open(&moved);
  EXPECT_EQ(moved.gift_report_filed().official().contact(), kUnavailableMarker);
  EXPECT_EQ(moved.gift_report_filed().official().name(), "สมหญิง รักดี");
  // Nor does an actor's name moved into a Person.
  v1::Event actor_moved = stored;
  actor_moved.mutable_gift_report_filed()->mutable_giver()->set_name(
      stored.actor().name());
  opener.Open(&actor_moved);
  EXPECT_EQ(actor_moved.gift_report_filed().giver().name(), kUnavailableMarker);
  // Nor a value relabelled with another subject, even one holding the very
  // same key.
  SealedValue value = *ParseSealed(stored.gift_report_filed().giver().name());
  keys_.Alias("p-giver", "p-official");
  v1::Event relabelled = stored;
  relabelled.mutable_gift_report_filed()->mutable_giver()->set_name(
      FormatSealed("p-official", value.key_id, value.box));
  opener.Open(&relabelled);
  EXPECT_EQ(relabelled.gift_report_filed().giver().name(), kUnavailableMarker);
  v1::Event unchanged = stored;
  unchanged.mutable_gift_report_filed()->clear_official();
  opener.Open(&unchanged);
  EXPECT_EQ(unchanged.gift_report_filed().giver().name(), "นายให้ ของขวัญ");
}

TEST_F(SealerTest, PersonalFieldWithoutSubjectIsRefusedNamingTheField) {
  v1::Event event = GiftEvent();
  event.mutable_gift_report_filed()->mutable_giver()->clear_subject_id();
  absl::Status status = sealer_->Seal(event).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StartsWith(status.message(),
                               "gift_report_filed.giver.subject_id: required "
                               "when gift_report_filed.giver.name is set"))
      << status;

  v1::Event group = MeetingEvent("g");
  auto* appointed = group.mutable_working_group_appointed();
  appointed->add_members()->mutable_person()->set_subject_id("p-1");
  appointed->add_members()->mutable_person()->set_contact("02-111-2222");
  status = sealer_->Seal(group).status();
  EXPECT_TRUE(absl::StartsWith(
      status.message(),
      "working_group_appointed.members[1].person.subject_id: required"))
      << status;

  v1::Event bad_subject = GiftEvent();
  bad_subject.mutable_gift_report_filed()->mutable_giver()->set_subject_id(
      "a b");
  status = sealer_->Seal(bad_subject).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(SealerTest, SealsReplacementsOfCorrections) {
  v1::Event correction = MeetingEvent("c");
  v1::EventCorrected* corrected = correction.mutable_event_corrected();
  corrected->set_corrected_event_id("x");
  v1::GiftReportFiled* gift =
      corrected->mutable_replacement()->mutable_gift_report_filed();
  *gift = GiftEvent().gift_report_filed();
  v1::Event stored = Sealed(correction);
  EXPECT_TRUE(IsSealed(stored.event_corrected()
                           .replacement()
                           .gift_report_filed()
                           .official()
                           .name()));
  PersonalFieldOpener(&keys_).Open(&stored);
  EXPECT_EQ(stored.SerializeAsString(), correction.SerializeAsString());
}

TEST_F(SealerTest, ErasedSubjectShowsTheMarkerOthersStillOpen) {
  v1::Event stored = Sealed(GiftEvent());
  keys_.Destroy("p-official");
  PersonalFieldOpener(&keys_).Open(&stored);
  EXPECT_EQ(stored.gift_report_filed().official().name(), kErasedMarker);
  EXPECT_EQ(stored.gift_report_filed().official().contact(), kErasedMarker);
  EXPECT_EQ(stored.gift_report_filed().giver().name(), "นายให้ ของขวัญ");
}

TEST(SealedValueTest, ParsesSubjectsWithColons) {
  const std::string text = FormatSealed("urn:x:1", "00ff", "\x01\x02\x03");
  absl::StatusOr<SealedValue> value = ParseSealed(text);
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(value->subject, "urn:x:1");
  EXPECT_EQ(value->key_id, "00ff");
  EXPECT_EQ(value->box, "\x01\x02\x03");
  EXPECT_FALSE(ParseSealed("pdpa:v1:nokey").ok());
  EXPECT_FALSE(ParseSealed("pdpa:v1:s:k:not base64!").ok());
  EXPECT_FALSE(ParseSealed("สมชาย").ok());
}

TEST(SealerWithKeyStoreTest, ErasureThenANewKeyForTheSameSubject) {
  TempDir dir;
  auto store = KeyStore::Open({.path = dir.Sub("keystore")});
  ASSERT_TRUE(store.ok()) << store.status();
  auto sealer = PersonalFieldSealer::Create(store->get());
  ASSERT_TRUE(sealer.ok());
  const PersonalFieldOpener opener(store->get());

  v1::Event before;
  ASSERT_TRUE(before.ParseFromString(*(*sealer)->Seal(GiftEvent())));
  ASSERT_TRUE((*store)->Erase("p-official", "test").ok());
  v1::Event after;
  ASSERT_TRUE(after.ParseFromString(*(*sealer)->Seal(GiftEvent())));
  EXPECT_NE(ParseSealed(before.gift_report_filed().official().name())->key_id,
            ParseSealed(after.gift_report_filed().official().name())->key_id);

  opener.Open(&before);
  opener.Open(&after);
  EXPECT_EQ(before.gift_report_filed().official().name(), kErasedMarker);
  EXPECT_EQ(before.gift_report_filed().giver().name(), "นายให้ ของขวัญ");
  EXPECT_EQ(after.gift_report_filed().official().name(), "สมหญิง รักดี");
}

}  // namespace
}  // namespace prongsai::privacy

// The BMA OSS bridge on an in-process ingest: the record contract, the
// mapping to events, idempotent landing, dead letters, the webhook and the
// resumable import.
#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "core/log/rocksdb_log.h"
#include "services/ingest/ingestor.h"
#include "services/oss_bridge/bridge.h"
#include "services/oss_bridge/catalog.h"
#include "services/oss_bridge/csv.h"
#include "services/oss_bridge/importer.h"
#include "services/oss_bridge/mapping.h"
#include "services/oss_bridge/webhook.h"
#include "tests/oss/oss_testing.h"
#include "tests/testing/testing.h"

namespace prongsai::oss {
namespace {

using ::prongsai::testing::TempDir;
using testing::BangkokText;
using testing::IngestorLedger;
using testing::Record;

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01Z

std::vector<std::string> ReadLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(line);
  }
  return lines;
}

// --- The contract ---------------------------------------------------------

TEST(OssCatalogTest, ShipsTheServicesOfADistrictOfficeWithTheirStandardTimes) {
  const ServiceCatalog& catalog = ServiceCatalog::Shipped();
  EXPECT_GE(catalog.services().size(), 40u);
  for (const char* group :
       {"Civil registration", "Building control", "Revenue",
        "Business registration", "Public health and environment"}) {
    SCOPED_TRACE(group);
    EXPECT_TRUE(std::any_of(
        catalog.services().begin(), catalog.services().end(),
        [&](const CatalogService& s) { return s.group_en == group; }));
  }
  const CatalogService* permit = catalog.Find("BLD-PERMIT");
  ASSERT_NE(permit, nullptr);
  EXPECT_EQ(permit->standard_days, 45);
  EXPECT_EQ(permit->name_th, "ขออนุญาตก่อสร้างอาคาร");
  EXPECT_EQ(catalog.Find("NOPE"), nullptr);

  // The deadline is the end of the Bangkok day, standard_days later.
  const absl::Time requested = *ParseIsoTime("2024-10-15T10:00:00+07:00");
  EXPECT_EQ(FormatBangkok(Deadline(*permit, requested)),
            "2024-11-29T23:59:59+07:00");
  EXPECT_EQ(FormatBangkok(Deadline(*catalog.Find("REG-BIRTH"), requested)),
            "2024-10-15T23:59:59+07:00");
}

TEST(OssCatalogTest, RefusesABrokenCatalogNamingTheLine) {
  const std::string header =
      "service_code,name_th,name_en,group_th,group_en,standard_days\n";
  auto bad_days = ServiceCatalog::Parse(header + "A,ก,A,ก,G,soon\n");
  ASSERT_FALSE(bad_days.ok());
  EXPECT_TRUE(absl::StrContains(bad_days.status().message(), "line 2"));
  EXPECT_TRUE(absl::StrContains(bad_days.status().message(), "standard_days"));
  auto twice = ServiceCatalog::Parse(header + "A,ก,A,ก,G,1\nA,ข,B,ก,G,2\n");
  ASSERT_FALSE(twice.ok());
  EXPECT_TRUE(absl::StrContains(twice.status().message(), "twice"));
}

TEST(OssTimeTest, ParsesIso8601WithATimeZone) {
  struct Case {
    std::string text;
    int64_t unix_seconds;
    int64_t nanos;
  };
  const std::vector<Case> ok = {
      {"2024-10-15T09:30:00+07:00", 1728959400, 0},
      {"2024-10-15T02:30:00Z", 1728959400, 0},
      {"2024-10-15t02:30:00z", 1728959400, 0},
      {"2024-10-15T09:30:00+0700", 1728959400, 0},
      {"2024-10-15T09:30+07:00", 1728959400, 0},
      {"2024-10-15T02:30:00.250Z", 1728959400, 250'000'000},
      {"2024-10-14T21:30:00-05:00", 1728959400, 0},
  };
  for (const Case& c : ok) {
    SCOPED_TRACE(c.text);
    absl::StatusOr<absl::Time> t = ParseIsoTime(c.text);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(
        *t, absl::FromUnixSeconds(c.unix_seconds) + absl::Nanoseconds(c.nanos));
  }
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"2024-10-15T09:30:00", "no time zone"},
      {"2024-10-15", "no time of day"},
      {"2024-02-30T09:30:00+07:00", "no such date"},
      {"2024-10-15T25:00:00+07:00", "no such date"},
      {"15/10/2024 09:30", "YYYY-MM-DD"},
      {"2024-10-15T09:30:00+07:00 ", "unexpected text"},
      {"", "YYYY-MM-DD"},
  };
  for (const auto& [text, why] : bad) {
    SCOPED_TRACE(text);
    absl::StatusOr<absl::Time> t = ParseIsoTime(text);
    ASSERT_FALSE(t.ok());
    EXPECT_TRUE(absl::StrContains(t.status().message(), why))
        << t.status().message();
  }
}

TEST(OssDistrictTest, AcceptsTheCodeOrTheThaiOrEnglishName) {
  for (const char* text :
       {"1045", "วังทองหลาง", "เขตวังทองหลาง", "สำนักงานเขตวังทองหลาง",
        "Wang Thonglang", "wang thonglang district", " WANG THONGLANG ",
        "Wang Thonglang District Office"}) {
    SCOPED_TRACE(text);
    const domain::District* d = ResolveDistrict(text);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->code, "1045");
  }
  for (const char* text : {"Atlantis", "", "1051", "เขต"}) {
    SCOPED_TRACE(text);
    EXPECT_EQ(ResolveDistrict(text), nullptr);
  }
}

TEST(OssMappingTest, RefusesWhatCannotBeMappedNamingTheField) {
  const absl::CivilSecond t(2024, 11, 5, 10, 0, 0);
  struct Case {
    std::string name;
    std::function<void(OssRecord&)> edit;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"missing id", [](OssRecord& r) { r.service_request_id.clear(); },
       "service_request_id: required"},
      {"id with a space", [](OssRecord& r) { r.service_request_id = "A 1"; },
       "service_request_id"},
      {"unknown status", [](OssRecord& r) { r.status = "pending"; },
       "status: must be \"open\" or \"closed\""},
      {"unknown district",
       [](OssRecord& r) { r.agency_responsible = "Atlantis"; },
       "agency_responsible: unknown district \"Atlantis\""},
      {"unknown service", [](OssRecord& r) { r.service_code = "XYZ"; },
       "service_code: \"XYZ\" is not in the service catalog"},
      {"unknown channel", [](OssRecord& r) { r.channel = "fax"; },
       "channel: must be online, counter, phone or other"},
      {"bad time",
       [](OssRecord& r) { r.requested_datetime = "2024-11-31T10:00:00Z"; },
       "requested_datetime: \"2024-11-31T10:00:00Z\" is not an ISO 8601"},
      {"before 2000",
       [](OssRecord& r) {
         r.requested_datetime = "1999-12-31T10:00:00+07:00";
         r.updated_datetime = "";
       },
       "requested_datetime: \"1999-12-31T10:00:00+07:00\" is before"},
      {"in the future",
       [](OssRecord& r) { r.updated_datetime = "2026-03-01T10:00:00+07:00"; },
       "updated_datetime: \"2026-03-01T10:00:00+07:00\" is more than a day"},
      {"update before request",
       [](OssRecord& r) { r.updated_datetime = "2024-11-01T10:00:00+07:00"; },
       "updated_datetime: is before requested_datetime"},
      {"completed but open",
       [](OssRecord& r) { r.completed_datetime = r.updated_datetime; },
       "completed_datetime: given, but the status is \"open\""},
      {"deadline before request",
       [](OssRecord& r) { r.expected_datetime = "2024-11-01T10:00:00Z"; },
       "expected_datetime: is before requested_datetime"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    OssRecord r = Record("R-1", "open", t, t + 3600);
    c.edit(r);
    absl::StatusOr<MappedRecord> m =
        MapRecord(r, ServiceCatalog::Shipped(), kNow);
    ASSERT_FALSE(m.ok());
    EXPECT_TRUE(absl::StrContains(m.status().message(), c.reason))
        << m.status().message();
  }
}

TEST(OssMappingTest, MapsEachStateToItsEventsWithStableIds) {
  const absl::CivilSecond t(2024, 11, 5, 10, 0, 0);
  const ServiceCatalog& catalog = ServiceCatalog::Shipped();

  // A request as first received: its receipt only.
  OssRecord opened = Record("R-1", "open", t, t);
  opened.agency_responsible = "Wang Thonglang";
  absl::StatusOr<MappedRecord> receipt = MapRecord(opened, catalog, kNow);
  ASSERT_TRUE(receipt.ok()) << receipt.status();
  EXPECT_EQ(receipt->district, "1045");
  EXPECT_FALSE(receipt->change.has_value());
  const v1::ServiceRequestReceived& r =
      receipt->received.service_request_received();
  EXPECT_EQ(r.service_name(), "ขออนุญาตก่อสร้างอาคาร");
  EXPECT_EQ(r.channel(), v1::SERVICE_CHANNEL_ONLINE);
  EXPECT_EQ(FormatBangkok(absl::FromUnixSeconds(r.expected_at().seconds())),
            "2024-12-20T23:59:59+07:00");
  EXPECT_EQ(receipt->received.actor().id(), "bma-oss-bridge");

  // An update with notes, a closing without a time, a completion.
  absl::StatusOr<MappedRecord> update = MapRecord(
      Record("R-1", "open", t, t + 3600, "ตรวจเอกสาร"), catalog, kNow);
  ASSERT_TRUE(update.ok());
  ASSERT_TRUE(update->change.has_value());
  EXPECT_EQ(update->change->service_request_status_changed().status(), "open");
  EXPECT_EQ(update->received.event_id(), receipt->received.event_id());

  absl::StatusOr<MappedRecord> closed =
      MapRecord(Record("R-1", "closed", t, t + 7200), catalog, kNow);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->change->service_request_status_changed().status(),
            "closed");
  EXPECT_NE(closed->change->event_id(), update->change->event_id());

  OssRecord done_record = Record("R-1", "closed", t, t + 86400, "อนุญาตแล้ว");
  done_record.completed_datetime = BangkokText(t + 86400);
  done_record.expected_datetime = "2024-11-30T16:30:00+07:00";
  absl::StatusOr<MappedRecord> done = MapRecord(done_record, catalog, kNow);
  ASSERT_TRUE(done.ok());
  ASSERT_TRUE(done->change->has_service_request_completed());
  EXPECT_EQ(done->change->service_request_completed().completed_at().seconds(),
            absl::ToUnixSeconds(*ParseIsoTime(BangkokText(t + 86400))));
  EXPECT_EQ(
      FormatBangkok(absl::FromUnixSeconds(
          done->received.service_request_received().expected_at().seconds())),
      "2024-11-30T16:30:00+07:00");

  // The same record gives the same events, byte for byte.
  absl::StatusOr<MappedRecord> again = MapRecord(done_record, catalog, kNow);
  EXPECT_EQ(again->change->SerializeAsString(),
            done->change->SerializeAsString());
}

TEST(OssCsvTest, ReadsQuotedFieldsAcrossLines) {
  std::istringstream in(
      "a,\"b, with comma\",\"say \"\"hi\"\"\"\r\n"
      "x,\"two\nlines\",\r\n"
      "last,row,end");
  std::string text;
  size_t bytes = 0;
  size_t lines = 0;
  ASSERT_TRUE(ReadCsvRecord(in, &text, &bytes, &lines));
  EXPECT_EQ(*SplitCsvRecord(text),
            (std::vector<std::string>{"a", "b, with comma", "say \"hi\""}));
  EXPECT_EQ(bytes, 32u);
  ASSERT_TRUE(ReadCsvRecord(in, &text, &bytes, &lines));
  EXPECT_EQ(lines, 2u);
  EXPECT_EQ(*SplitCsvRecord(text),
            (std::vector<std::string>{"x", "two\nlines", ""}));
  ASSERT_TRUE(ReadCsvRecord(in, &text, &bytes, &lines));
  EXPECT_EQ(bytes, 12u);
  EXPECT_FALSE(ReadCsvRecord(in, &text, &bytes, &lines));

  EXPECT_FALSE(SplitCsvRecord("a,b\"c\"").ok());
  EXPECT_FALSE(SplitCsvRecord("\"open").ok());
  EXPECT_FALSE(SplitCsvRecord("\"a\"b").ok());
}

// --- Landing --------------------------------------------------------------

class OssBridgeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("log"), .sync = false});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    auto ingestor = ingest::Ingestor::Start(log_.get());
    ASSERT_TRUE(ingestor.ok()) << ingestor.status();
    ingestor_ = std::move(*ingestor);
    ledger_ = std::make_unique<IngestorLedger>(ingestor_.get());
    dead_letters_ = std::make_unique<DeadLetterFile>(dead_letter_path());
    bridge_ = NewBridge();
  }

  std::unique_ptr<Bridge> NewBridge() {
    BridgeOptions options;
    options.clock = [] { return kNow; };
    return std::make_unique<Bridge>(ledger_.get(), dead_letters_.get(),
                                    &ServiceCatalog::Shipped(), options);
  }

  std::string dead_letter_path() const { return dir_.Sub("dead.jsonl"); }

  static std::vector<InputRecord> Inputs(
      const std::vector<OssRecord>& records) {
    std::vector<InputRecord> out;
    for (size_t i = 0; i < records.size(); ++i) {
      InputRecord input;
      input.record = records[i];
      input.original = RecordToJson(records[i]);
      input.source = "test";
      input.index = i;
      out.push_back(std::move(input));
    }
    return out;
  }

  BatchResult Submit(const std::vector<OssRecord>& records,
                     Bridge* bridge = nullptr) {
    absl::StatusOr<BatchResult> result =
        (bridge == nullptr ? bridge_.get() : bridge)->Submit(Inputs(records));
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : BatchResult();
  }

  uint64_t Events() const { return log_->LastPosition(); }

  TempDir dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<IngestorLedger> ledger_;
  std::unique_ptr<DeadLetterFile> dead_letters_;
  std::unique_ptr<Bridge> bridge_;
  const absl::CivilSecond t_{2024, 11, 5, 10, 0, 0};
};

TEST_F(OssBridgeTest, LandsRecordsOnceHoweverOftenTheyAreSent) {
  OssRecord done = Record("R-2", "closed", t_, t_ + 86400);
  done.completed_datetime = BangkokText(t_ + 86400);
  const std::vector<OssRecord> records = {
      Record("R-1", "open", t_, t_), Record("R-1", "open", t_, t_ + 60, "ตรวจ"),
      Record("R-2", "open", t_, t_), done};
  BatchResult first = Submit(records);
  EXPECT_EQ(first.accepted, 4u);
  EXPECT_EQ(first.duplicates, 0u);
  EXPECT_EQ(first.events_appended, 4u);  // 2 receipts, an update, a completion
  const uint64_t events = Events();

  // Again, through this bridge and through a fresh one that remembers
  // nothing, record by record and all together.
  BatchResult again = Submit(records);
  EXPECT_EQ(again.duplicates, 4u);
  EXPECT_EQ(again.events_appended, 0u);
  auto fresh = NewBridge();
  BatchResult cold = Submit(records, fresh.get());
  EXPECT_EQ(cold.duplicates, 4u);
  for (const OssRecord& r : records) {
    EXPECT_EQ(Submit({r}, NewBridge().get()).duplicates, 1u);
  }
  EXPECT_EQ(Events(), events);
  EXPECT_TRUE(ReadLines(dead_letter_path()).empty());
}

TEST_F(OssBridgeTest, PartlyStoredBatchAddsOnlyWhatIsNew) {
  Submit({Record("R-1", "open", t_, t_), Record("R-2", "open", t_, t_)});
  const uint64_t events = Events();
  // A bridge that restarted: it sends the receipts again with new updates.
  auto restarted = NewBridge();
  BatchResult result = Submit(
      {Record("R-1", "open", t_, t_), Record("R-1", "open", t_, t_ + 60, "a"),
       Record("R-2", "open", t_, t_ + 120, "b"), Record("R-3", "open", t_, t_)},
      restarted.get());
  EXPECT_EQ(result.accepted, 3u);
  EXPECT_EQ(result.duplicates, 1u);
  EXPECT_EQ(result.events_appended, 3u);
  EXPECT_EQ(Events(), events + 3);
}

TEST_F(OssBridgeTest, DeadLettersBadRecordsAndLandsTheRest) {
  std::vector<InputRecord> inputs =
      Inputs({Record("R-1", "open", t_, t_), Record("R-2", "open", t_, t_),
              Record("R-3", "open", t_, t_)});
  inputs[1].record.agency_responsible = "Atlantis";
  InputRecord unreadable;
  unreadable.error = "malformed JSON at byte 3: unexpected end of input";
  unreadable.original = "{\"a";
  unreadable.source = "test";
  unreadable.index = 3;
  inputs.push_back(unreadable);
  absl::StatusOr<BatchResult> result = bridge_->Submit(inputs);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->accepted, 2u);
  ASSERT_EQ(result->dead_lettered.size(), 2u);
  EXPECT_EQ(result->dead_lettered[0].index, 1u);
  EXPECT_TRUE(absl::StrContains(result->dead_lettered[0].reason,
                                "unknown district \"Atlantis\""));
  EXPECT_EQ(result->dead_lettered[1].index, 3u);

  const std::vector<std::string> lines = ReadLines(dead_letter_path());
  ASSERT_EQ(lines.size(), 2u);
  const nlohmann::json first = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(first["record"]["service_request_id"], "R-2");
  EXPECT_EQ(first["source"], "test");
  EXPECT_EQ(first["index"], 1);
  EXPECT_TRUE(
      absl::StrContains(first["reason"].get<std::string>(), "Atlantis"));
  EXPECT_EQ(nlohmann::json::parse(lines[1])["record"], "{\"a");
}

TEST_F(OssBridgeTest, OlderUpdatesAreKeptAndAConflictIsDeadLettered) {
  Submit({Record("R-1", "open", t_, t_),
          Record("R-1", "open", t_, t_ + 7200, "รอผู้อนุมัติ")});
  // Older than what is known: still recorded.
  BatchResult older = Submit({Record("R-1", "open", t_, t_ + 3600, "ตรวจ")});
  EXPECT_EQ(older.accepted, 1u);
  // Same request, status and time as a stored update, other notes.
  BatchResult conflict =
      Submit({Record("R-1", "open", t_, t_ + 3600, "ข้อความอื่น")});
  ASSERT_EQ(conflict.dead_lettered.size(), 1u);
  EXPECT_TRUE(absl::StrContains(conflict.dead_lettered[0].reason, "conflicts"));

  // After completion, an update made before it is still history and is
  // recorded; one made after it is not taken.
  OssRecord done = Record("R-1", "closed", t_, t_ + 86400);
  done.completed_datetime = BangkokText(t_ + 86400);
  EXPECT_EQ(Submit({done}).accepted, 1u);
  EXPECT_EQ(Submit({Record("R-1", "open", t_, t_ + 5000, "ช้า")}).accepted, 1u);
  BatchResult late =
      Submit({Record("R-1", "open", t_, t_ + 4 * 86400, "หลังเสร็จ")});
  ASSERT_EQ(late.dead_lettered.size(), 1u);
  EXPECT_TRUE(
      absl::StrContains(late.dead_lettered[0].reason, "already completed"))
      << late.dead_lettered[0].reason;
  // Within one batch, the completion lands after the older updates.
  OssRecord done2 = Record("R-9", "closed", t_, t_ + 86400);
  done2.completed_datetime = BangkokText(t_ + 86400);
  BatchResult mixed = Submit({done2, Record("R-9", "open", t_, t_ + 60, "x"),
                              Record("R-9", "open", t_, t_)});
  EXPECT_EQ(mixed.accepted, 3u);
  EXPECT_TRUE(mixed.dead_lettered.empty());
}

TEST_F(OssBridgeTest, TheSameRecordTwiceInOneBatchLandsOnce) {
  const OssRecord update = Record("R-1", "open", t_, t_ + 60, "ตรวจ");
  OssRecord changed = update;
  changed.status_notes = "อื่น";
  BatchResult result =
      Submit({Record("R-1", "open", t_, t_), update, update, changed});
  EXPECT_EQ(result.accepted, 2u);
  EXPECT_EQ(result.duplicates, 1u);
  ASSERT_EQ(result.dead_lettered.size(), 1u);
  EXPECT_EQ(result.dead_lettered[0].index, 3u);
  EXPECT_TRUE(
      absl::StrContains(result.dead_lettered[0].reason, "record at index 1"));
}

TEST_F(OssBridgeTest, AcknowledgesNothingWhileTheLedgerIsDown) {
  ledger_->down = true;
  std::vector<InputRecord> inputs = Inputs({Record("R-1", "open", t_, t_)});
  inputs.push_back(inputs[0]);
  inputs[1].record.agency_responsible = "Atlantis";
  inputs[1].index = 1;
  absl::StatusOr<BatchResult> result = bridge_->Submit(inputs);
  EXPECT_EQ(result.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ReadLines(dead_letter_path()).empty());
  ledger_->down = false;
  result = bridge_->Submit(inputs);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->accepted, 1u);
  EXPECT_EQ(ReadLines(dead_letter_path()).size(), 1u);
}

// --- The webhook ----------------------------------------------------------

class OssWebhookTest : public OssBridgeTest {
 protected:
  void SetUp() override {
    OssBridgeTest::SetUp();
    RegisterWebhook(http_, bridge_.get());
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
    ASSERT_TRUE(
        ::prongsai::testing::WaitFor([&] { return http_.is_running(); }));
  }
  void TearDown() override {
    http_.stop();
    thread_.join();
  }

  httplib::Result Post(const std::string& body) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(60, 0);
    return client.Post(std::string(kWebhookPath), body, "application/json");
  }

  httplib::Server http_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(OssWebhookTest, AnswersWithCountsAndTheRightStatus) {
  const std::string one = RecordToJson(Record("R-1", "open", t_, t_)).dump();
  httplib::Result single = Post(one);
  ASSERT_TRUE(single);
  EXPECT_EQ(single->status, 200);
  nlohmann::json body = nlohmann::json::parse(single->body);
  EXPECT_EQ(body["accepted"], 1);
  EXPECT_EQ(body["dead_lettered"].size(), 0u);

  OssRecord bad = Record("R-2", "open", t_, t_);
  bad.requested_datetime = "yesterday";
  const std::string batch =
      absl::StrCat("[", one, ",", RecordToJson(bad).dump(), ",42,",
                   RecordToJson(Record("R-3", "open", t_, t_)).dump(), "]");
  httplib::Result multi = Post(batch);
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->status, 207);
  body = nlohmann::json::parse(multi->body);
  EXPECT_EQ(body["accepted"], 1);
  EXPECT_EQ(body["duplicates"], 1);
  ASSERT_EQ(body["dead_lettered"].size(), 2u);
  EXPECT_EQ(body["dead_lettered"][0]["index"], 1);
  EXPECT_TRUE(
      absl::StrContains(body["dead_lettered"][0]["reason"].get<std::string>(),
                        "requested_datetime"));
  EXPECT_EQ(body["dead_lettered"][1]["index"], 2);
  EXPECT_TRUE(
      absl::StrContains(body["dead_lettered"][1]["reason"].get<std::string>(),
                        "must be a JSON object"));

  for (const char* unparseable : {"{\"service_request_id\": ", "[]", "\"x\""}) {
    SCOPED_TRACE(unparseable);
    httplib::Result res = Post(unparseable);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400);
    EXPECT_TRUE(nlohmann::json::parse(res->body).contains("error"));
  }

  ledger_->down = true;
  httplib::Result down =
      Post(RecordToJson(Record("R-4", "open", t_, t_)).dump());
  ASSERT_TRUE(down);
  EXPECT_EQ(down->status, 503);
  EXPECT_TRUE(down->has_header("Retry-After"));
}

TEST_F(OssWebhookTest, MetricsCountEveryRecordByOutcome) {
  const std::string one = RecordToJson(Record("R-1", "open", t_, t_)).dump();
  ASSERT_TRUE(Post(one));
  ASSERT_TRUE(Post(absl::StrCat("[", one, ",42]")));
  ledger_->down = true;
  ASSERT_TRUE(Post(RecordToJson(Record("R-4", "open", t_, t_)).dump()));

  httplib::Client client("127.0.0.1", port_);
  httplib::Result res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(absl::StartsWith(res->get_header_value("Content-Type"),
                               "text/plain; version=0.0.4"));
  for (const char* line : {"prongsai_oss_batches_total 3\n",
                           "prongsai_oss_batches_failed_total 1\n",
                           "prongsai_oss_records_total{outcome=\"accepted\"} 1\n",
                           "prongsai_oss_records_total{outcome=\"duplicate\"} 1\n",
                           "prongsai_oss_records_total{outcome=\"dead_lettered\"} 1\n",
                           "prongsai_oss_records_total{outcome=\"unacknowledged\"} 1\n",
                           "# TYPE prongsai_oss_events_appended_total counter\n"}) {
    EXPECT_TRUE(absl::StrContains(res->body, line)) << line << res->body;
  }
}

// --- The import -----------------------------------------------------------

TEST_F(OssBridgeTest, ImportsCsvAndResumesWhereItStopped) {
  const std::string path = dir_.Sub("export.csv");
  {
    std::ofstream out(path, std::ios::binary);
    out << "\xEF\xBB\xBF"
           "service_request_id,status,status_notes,service_code,"
           "agency_responsible,requested_datetime,updated_datetime\r\n";
    for (int i = 0; i < 25; ++i) {
      out << "R-" << i << ",open,\"ตรวจเอกสาร, รอ\nผล\",REG-NAME,"
          << (i == 7 ? "Atlantis" : "วังทองหลาง") << "," << BangkokText(t_ + i)
          << "," << BangkokText(t_ + i + 60) << "\r\n";
    }
  }
  ImportOptions options;
  options.batch_records = 10;
  options.max_records = 10;
  absl::StatusOr<ImportSummary> first = ImportFile(path, *bridge_, options);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->complete);
  EXPECT_EQ(first->totals.records, 10u);
  EXPECT_EQ(first->totals.line, 21u);  // header + 10 two-line records

  options.max_records = 0;
  absl::StatusOr<ImportSummary> rest = ImportFile(path, *NewBridge(), options);
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_TRUE(rest->complete);
  EXPECT_EQ(rest->records_this_run, 15u);
  EXPECT_EQ(rest->totals.records, 25u);
  EXPECT_EQ(rest->totals.accepted, 24u);
  EXPECT_EQ(rest->totals.duplicates, 0u);
  EXPECT_EQ(rest->totals.dead_lettered, 1u);
  EXPECT_EQ(rest->totals.events_appended, 48u);
  const std::vector<std::string> dead = ReadLines(dead_letter_path());
  ASSERT_EQ(dead.size(), 1u);
  const nlohmann::json entry = nlohmann::json::parse(dead[0]);
  EXPECT_EQ(entry["source"], path + ":16");
  EXPECT_EQ(entry["record"]["agency_responsible"], "Atlantis");

  // Nothing left: a re-run reads nothing; from the start, adds nothing.
  absl::StatusOr<ImportSummary> done = ImportFile(path, *bridge_, options);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->records_this_run, 0u);
  const uint64_t events = Events();
  options.from_start = true;
  absl::StatusOr<ImportSummary> again = ImportFile(path, *bridge_, options);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->totals.duplicates, 24u);
  EXPECT_EQ(Events(), events);

  // A file changed under a saved position is refused.
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(120);
    f.put('X');
  }
  options.from_start = false;
  EXPECT_EQ(ImportFile(path, *bridge_, options).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(OssBridgeTest, ImportKeepsItsPlaceWhenTheLedgerGoesAway) {
  const std::string path = dir_.Sub("export.jsonl");
  {
    std::ofstream out(path);
    for (int i = 0; i < 30; ++i) {
      out << RecordToJson(Record(absl::StrCat("R-", i), "open", t_, t_)).dump()
          << "\n";
    }
  }
  ImportOptions options;
  options.batch_records = 10;
  options.on_batch = [&](const ImportProgress& p) {
    if (p.records == 10) {
      ledger_->down = true;
    }
  };
  absl::StatusOr<ImportSummary> cut = ImportFile(path, *bridge_, options);
  EXPECT_EQ(cut.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Events(), 10u);

  ledger_->down = false;
  options.on_batch = nullptr;
  absl::StatusOr<ImportSummary> resumed = ImportFile(path, *bridge_, options);
  ASSERT_TRUE(resumed.ok()) << resumed.status();
  uint64_t ten_lines = 0;
  const std::vector<std::string> lines = ReadLines(path);
  for (int i = 0; i < 10; ++i) {
    ten_lines += lines[i].size() + 1;
  }
  EXPECT_EQ(resumed->resumed_at, ten_lines);
  EXPECT_EQ(resumed->records_this_run, 20u);
  EXPECT_EQ(resumed->totals.accepted, 30u);
  EXPECT_EQ(resumed->totals.duplicates, 0u);
  EXPECT_EQ(Events(), 30u);
}

}  // namespace
}  // namespace prongsai::oss

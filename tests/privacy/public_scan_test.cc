// Public and city views never contain personal data: a ledger seeded with
// known names, phone numbers and Thai ID numbers, every public HTTP endpoint
// and public or city gRPC read walked, and none of the seeded values found,
// nor in the stored records.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "prongsai/v1/audit.grpc.pb.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "services/server/server.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::NewUuid;
using ::prongsai::testing::TempDir;
using ::prongsai::testing::WaitFor;

// Every value below is personal and must never appear outside the key
// store's ciphertext. Thai ID numbers are written both plain and grouped.
const std::vector<std::string>& SeededValues() {
  static const auto* values = new std::vector<std::string>{
      "นางสาวมาลี ศรีสุข",    "นายสมปอง ผู้ให้",      "นางวันดี ร้องเรียน",
      "นายประยุทธ์ ผู้รับเรื่อง", "นายกิตติ กรรมการ",    "นายบันทึก ผู้บันทึก",
      "นางสาวแก้ไข ชื่อใหม่",  "081-777-1234",      "0817771234",
      "02-999-8888",       "1103700123456",     "1-1037-00123-45-6",
      "3100600987654",     "3-1006-00987-65-4",
  };
  return *values;
}

int64_t Bangkok(int year, int month, int day) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(year, month, day, 10, 0, 0),
                      absl::FixedTimeZone(7 * 3600)));
}

v1::Date MakeDate(int year, int month, int day) {
  v1::Date d;
  d.set_year(year);
  d.set_month(month);
  d.set_day(day);
  return d;
}

v1::Event NewEvent(int64_t seconds, bool named_actor = true) {
  v1::Event e;
  e.set_event_id(NewUuid());
  e.mutable_occurred_at()->set_seconds(seconds);
  e.mutable_actor()->set_id("1045-desk");
  if (named_actor) {
    e.mutable_actor()->set_name("นายบันทึก ผู้บันทึก");
  }
  return e;
}

v1::Person MakePerson(const std::string& subject, const std::string& name,
                      const std::string& contact) {
  v1::Person p;
  p.set_subject_id(subject);
  p.set_name(name);
  p.set_contact(contact);
  p.set_position("เจ้าพนักงานธุรการ");
  p.set_division("ฝ่ายปกครอง");
  return p;
}

// The events of the seeded ledger on stream 1045.
std::vector<v1::Event> SeedEvents() {
  std::vector<v1::Event> events;

  v1::Event gift = NewEvent(Bangkok(2024, 12, 3));
  v1::GiftReportFiled* g = gift.mutable_gift_report_filed();
  g->set_report_id("G-2568-001");
  *g->mutable_official() =
      MakePerson("p-malee", "นางสาวมาลี ศรีสุข", "081-777-1234 / 1103700123456");
  *g->mutable_giver() =
      MakePerson("p-sompong", "นายสมปอง ผู้ให้", "1-1037-00123-45-6");
  g->set_giver_category(v1::GIVER_CATEGORY_CITIZEN);
  g->set_description("กระเช้าผลไม้");
  g->set_estimated_value_satang(250'000);
  *g->mutable_received_on() = MakeDate(2024, 12, 3);
  g->set_disposition(v1::GIFT_DISPOSITION_RETURNED);
  events.push_back(gift);

  v1::Event submitted = NewEvent(Bangkok(2025, 4, 2));
  v1::GiftReportsSubmitted* s = submitted.mutable_gift_reports_submitted();
  s->set_submission_id("S-2568-H1");
  s->set_fiscal_year(2568);
  s->set_round(v1::ROUND_H1);
  s->add_report_ids("G-2568-001");
  *s->mutable_submitted_on() = MakeDate(2025, 4, 2);
  events.push_back(submitted);

  v1::Event complaint = NewEvent(Bangkok(2024, 11, 20));
  v1::ComplaintReceived* c = complaint.mutable_complaint_received();
  c->set_complaint_id("C-2568-001");
  c->set_channel(v1::COMPLAINT_CHANNEL_WALK_IN);
  c->set_category(v1::COMPLAINT_CATEGORY_SERVICE_DELAY);
  c->set_summary("ร้องเรียนการให้บริการล่าช้า");
  *c->mutable_complainant()->mutable_person() =
      MakePerson("p-wandee", "นางวันดี ร้องเรียน", "0817771234, 3100600987654");
  c->set_whistleblower_protection_requested(true);
  *c->mutable_received_on() = MakeDate(2024, 11, 20);
  events.push_back(complaint);

  v1::Event assigned = NewEvent(Bangkok(2024, 11, 21));
  v1::ComplaintAssigned* a = assigned.mutable_complaint_assigned();
  a->set_complaint_id("C-2568-001");
  a->set_division("ฝ่ายปกครอง");
  *a->mutable_assignee() =
      MakePerson("p-prayut", "นายประยุทธ์ ผู้รับเรื่อง", "02-999-8888");
  events.push_back(assigned);

  v1::Event group = NewEvent(Bangkok(2024, 10, 7));
  v1::WorkingGroupAppointed* w = group.mutable_working_group_appointed();
  w->set_group_id("WG-2568");
  w->set_title("คณะทำงานขับเคลื่อน ITA");
  w->set_order_ref("คำสั่งเขตวังทองหลาง ที่ 12/2568");
  *w->mutable_date() = MakeDate(2024, 10, 7);
  v1::WorkingGroupMember* m = w->add_members();
  *m->mutable_person() =
      MakePerson("p-kitti", "นายกิตติ กรรมการ", "3-1006-00987-65-4");
  m->set_role("ประธาน");
  events.push_back(group);

  // A correction naming a new person keeps the name sealed too.
  v1::Event corrected = NewEvent(Bangkok(2024, 12, 5));
  v1::EventCorrected* fix = corrected.mutable_event_corrected();
  fix->set_corrected_event_id(gift.event_id());
  fix->set_reason("ชื่อผู้รับไม่ถูกต้อง");
  v1::GiftReportFiled* replacement =
      fix->mutable_replacement()->mutable_gift_report_filed();
  *replacement = gift.gift_report_filed();
  replacement->mutable_official()->set_name("นางสาวแก้ไข ชื่อใหม่");
  events.push_back(corrected);

  v1::Event request = NewEvent(Bangkok(2024, 12, 9), false);
  request.mutable_actor()->set_id("bma-oss-bridge");
  v1::ServiceRequestReceived* r = request.mutable_service_request_received();
  r->set_request_id("OSS-2568-0001");
  r->set_service_code("BMA-TAX-01");
  r->set_service_name("ชำระภาษีป้าย");
  r->set_channel(v1::SERVICE_CHANNEL_ONLINE);
  r->mutable_requested_at()->set_seconds(Bangkok(2024, 12, 9));
  r->mutable_expected_at()->set_seconds(Bangkok(2024, 12, 16));
  events.push_back(request);
  return events;
}

class PublicViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.http_listen = "127.0.0.1:0";
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server_->port()),
                                   grpc::InsecureChannelCredentials());
    http_ =
        std::make_unique<httplib::Client>("127.0.0.1", server_->http_port());
    http_->set_read_timeout(30);

    v1::AppendRequest request;
    request.set_stream("1045");
    for (const v1::Event& e : SeedEvents()) {
      *request.add_events() = e;
    }
    v1::AppendResponse response;
    grpc::ClientContext context;
    grpc::Status status =
        v1::Ledger::NewStub(channel_)->Append(&context, request, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    last_position_ = response.last_position();
  }

  void TearDown() override {
    if (server_ != nullptr) {
      server_->Shutdown();
      server_->Wait();
    }
  }

  // Fails the test for every seeded value found in `text`.
  void ExpectNoSeededValue(const std::string& where, const std::string& text) {
    for (const std::string& value : SeededValues()) {
      EXPECT_FALSE(absl::StrContains(text, value))
          << where << " contains \"" << value << "\"";
    }
  }

  // GETs `path` (waiting for the views to reach the seed) and checks it.
  std::string Get(const std::string& path) {
    SCOPED_TRACE(path);
    const std::string sep = absl::StrContains(path, "?") ? "&" : "?";
    httplib::Result result =
        http_->Get(absl::StrCat(path, sep, "min_position=", last_position_));
    EXPECT_TRUE(result) << "no answer";
    if (!result) {
      return "";
    }
    EXPECT_EQ(result->status, 200) << result->body.substr(0, 300);
    EXPECT_FALSE(result->body.empty());
    ExpectNoSeededValue(path, result->body);
    return result->body;
  }

  v1::ReadOptions ReadAfterSeed() {
    v1::ReadOptions read;
    read.set_min_position(last_position_);
    return read;
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<httplib::Client> http_;
  uint64_t last_position_ = 0;
};

TEST_F(PublicViewsTest, NoEndpointShowsTheSeededPersonalData) {
  // A signed checkpoint of the seeded stream, for its export: the audit
  // views follow the log in the background, so ask until they hold it.
  auto audit = v1::Audit::NewStub(channel_);
  {
    v1::GetCheckpointRequest request;
    request.set_stream("1045");
    request.set_refresh(true);
    v1::GetCheckpointResponse answer;
    grpc::Status status;
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    do {
      grpc::ClientContext context;
      status = audit->GetCheckpoint(&context, request, &answer);
      if (!status.ok()) {
        absl::SleepFor(absl::Milliseconds(50));
      }
    } while (!status.ok() && absl::Now() < deadline);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ExpectNoSeededValue("GetCheckpoint", answer.SerializeAsString());
  }

  // Reports and registers over HTTP, in every format that is text.
  for (const char* format : {"json", "html", "csv"}) {
    Get(absl::StrCat("/v1/districts/1045/ita-report?fy=2568&round=H1&format=",
                     format));
  }
  Get("/v1/districts/1045/scorecard?fy=2568");
  const std::string reg =
      Get("/v1/districts/1045/gift-register?fy=2568&round=H1");
  // The walk covers the seeded records: the gift is there, its names not.
  EXPECT_TRUE(absl::StrContains(reg, "G-2568-001")) << reg.substr(0, 500);
  EXPECT_TRUE(absl::StrContains(reg, "p-malee"));
  Get("/v1/districts/1045/gift-register?fy=2568&round=FULL_YEAR");
  const std::string complaints = Get("/v1/districts/1045/complaints?fy=2568");
  Get("/v1/city/gift-register?fy=2568&round=H1");
  Get("/v1/city/complaints?fy=2568");
  Get("/v1/city/overview?fy=2568");
  Get("/healthz");

  // The dashboard and its JSON.
  Get("/");
  Get("/districts/1045");
  Get("/v1/about");
  Get("/v1/districts/1045/meetings?fy=2568");
  Get("/v1/districts/1045/services?fy=2568");
  Get("/v1/city/services?fy=2568");
  Get("/v1/districts/1045/audit");
  Get("/v1/districts/city/audit");
  // The export the dashboard links: the stored records, sealed.
  const std::string exported = Get("/v1/districts/1045/export");
  EXPECT_TRUE(absl::StrContains(exported, "pdpa:v1:p-wandee:"));

  // The Open311 read side.
  Get("/open311/v2/services.json");
  const std::string requests =
      Get("/open311/v2/requests.json?start_date=2024-10-01T00:00:00%2B07:00"
          "&end_date=2025-09-30T23:59:59%2B07:00");
  EXPECT_TRUE(absl::StrContains(requests, "OSS-2568-0001"));
  Get("/open311/v2/requests/OSS-2568-0001.json");

  // The same answers over gRPC, and the audit reads.
  auto reports = v1::Reports::NewStub(channel_);
  auto check = [&](const std::string& what, const grpc::Status& status,
                   const google::protobuf::Message& answer) {
    EXPECT_TRUE(status.ok()) << what << ": " << status.error_message();
    ExpectNoSeededValue(what, answer.SerializeAsString());
  };
  {
    grpc::ClientContext context;
    v1::ItaReportRequest request;
    request.set_district("1045");
    request.set_fiscal_year(2568);
    request.set_round(v1::ROUND_H1);
    *request.mutable_read() = ReadAfterSeed();
    v1::ItaReport answer;
    check("GetItaReport", reports->GetItaReport(&context, request, &answer),
          answer);
  }
  {
    grpc::ClientContext context;
    v1::ScorecardRequest request;
    request.set_district("1045");
    request.set_fiscal_year(2568);
    *request.mutable_read() = ReadAfterSeed();
    v1::Scorecard answer;
    check("GetScorecard", reports->GetScorecard(&context, request, &answer),
          answer);
  }
  for (const std::string& district : {std::string("1045"), std::string()}) {
    grpc::ClientContext context;
    v1::GiftRegisterRequest request;
    request.set_district(district);
    request.set_fiscal_year(2568);
    request.set_round(v1::ROUND_H1);
    *request.mutable_read() = ReadAfterSeed();
    v1::GiftRegister answer;
    check("GetGiftRegister " + district,
          reports->GetGiftRegister(&context, request, &answer), answer);
    EXPECT_FALSE(answer.personal_data_included());
  }
  for (const std::string& district : {std::string("1045"), std::string()}) {
    grpc::ClientContext context;
    v1::ComplaintStatsRequest request;
    request.set_district(district);
    request.set_fiscal_year(2568);
    *request.mutable_read() = ReadAfterSeed();
    v1::ComplaintStats answer;
    check("GetComplaintStats " + district,
          reports->GetComplaintStats(&context, request, &answer), answer);
  }
  {
    grpc::ClientContext context;
    v1::CityOverviewRequest request;
    request.set_fiscal_year(2568);
    *request.mutable_read() = ReadAfterSeed();
    v1::CityOverview answer;
    check("GetCityOverview",
          reports->GetCityOverview(&context, request, &answer), answer);
  }
  {
    grpc::ClientContext context;
    v1::GetTrailRequest request;
    request.set_actor_id("1045-desk");
    v1::Trail answer;
    check("GetTrail", audit->GetTrail(&context, request, &answer), answer);
  }
  {
    grpc::ClientContext context;
    v1::ReadRecordsRequest request;
    request.set_stream("1045");
    auto reader = audit->ReadRecords(&context, request);
    v1::RawRecord record;
    int records = 0;
    while (reader->Read(&record)) {
      ++records;
      ExpectNoSeededValue("ReadRecords", record.SerializeAsString());
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_EQ(records, static_cast<int>(SeedEvents().size()));
  }
}

TEST_F(PublicViewsTest, TheStoredRecordsHoldNoSeededValueInPlaintext) {
  // The records exactly as stored and hashed.
  grpc::ClientContext context;
  v1::ReadRequest request;
  request.set_stream("1045");
  auto reader = v1::Ledger::NewStub(channel_)->Read(&context, request);
  v1::Entry entry;
  int records = 0;
  bool sealed_seen = false;
  while (reader->Read(&entry)) {
    ++records;
    ExpectNoSeededValue(absl::StrCat("record ", records), entry.record_bytes());
    sealed_seen |= absl::StrContains(entry.record_bytes(), "pdpa:v1:p-kitti:");
  }
  ASSERT_TRUE(reader->Finish().ok());
  EXPECT_EQ(records, static_cast<int>(SeedEvents().size()));
  EXPECT_TRUE(sealed_seen);

  // Every file of the data directory except the key store: the log's SSTs
  // and write-ahead log, the views, the checkpoints.
  server_->Shutdown();
  server_->Wait();
  server_.reset();
  const std::filesystem::path data = dir_.Sub("data");
  int files = 0;
  for (const auto& file : std::filesystem::recursive_directory_iterator(data)) {
    if (!file.is_regular_file() ||
        absl::StartsWith(std::filesystem::relative(file.path(), data).string(),
                         "keystore")) {
      continue;
    }
    ++files;
    std::ifstream in(file.path(), std::ios::binary);
    ExpectNoSeededValue(file.path().string(),
                        std::string(std::istreambuf_iterator<char>(in), {}));
  }
  EXPECT_GT(files, 5);
}

}  // namespace
}  // namespace prongsai

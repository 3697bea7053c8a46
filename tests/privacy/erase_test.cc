// Personal data end to end: sealed in the log, opened in answers only for
// readers allowed to see it, erased by destroying the subject's key, with the
// unchanged history still verifying.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "core/audit/export.h"
#include "core/domain/bootstrap.h"
#include "core/domain/reference.h"
#include "core/log/rocksdb_log.h"
#include "core/privacy/key_store.h"
#include "core/privacy/sealer.h"
#include "projections/reports/report_projections.h"
#include "projections/runtime/runner.h"
#include "prongsai/v1/ledger.grpc.pb.h"
#include "prongsai/v1/privacy.grpc.pb.h"
#include "prongsai/v1/record.pb.h"
#include "services/ingest/ingestor.h"
#include "services/query/report_queries.h"
#include "services/server/server.h"
#include "tests/testing/process.h"
#include "tests/testing/testing.h"

namespace prongsai {
namespace {

using ::prongsai::testing::NewUuid;
using ::prongsai::testing::ProngsaiBinary;
using ::prongsai::testing::RunCommand;
using ::prongsai::testing::TempDir;
using ::prongsai::testing::WaitFor;

constexpr char kOfficialName[] = "นางสาวสมหญิง ลับเฉพาะ";
constexpr char kOfficialPhone[] = "081-555-0199";
constexpr char kGiverName[] = "นายผู้ให้ ของกำนัล";
constexpr char kActorName[] = "นายบันทึก ระบบดี";

int64_t Bangkok(int year, int month, int day) {
  return absl::ToUnixSeconds(
      absl::FromCivil(absl::CivilSecond(year, month, day, 10, 0, 0),
                      absl::FixedTimeZone(7 * 3600)));
}

v1::Event Gift(const std::string& id, const std::string& official_name,
               int day) {
  v1::Event e;
  e.set_event_id(NewUuid());
  e.mutable_occurred_at()->set_seconds(Bangkok(2024, 12, day));
  e.mutable_actor()->set_id("1045-gifts");
  e.mutable_actor()->set_name(kActorName);
  v1::GiftReportFiled* g = e.mutable_gift_report_filed();
  g->set_report_id(id);
  g->mutable_official()->set_subject_id("p-official");
  g->mutable_official()->set_name(official_name);
  g->mutable_official()->set_contact(kOfficialPhone);
  g->mutable_official()->set_position("นักจัดการงานทั่วไป");
  g->mutable_giver()->set_subject_id("p-giver");
  g->mutable_giver()->set_name(kGiverName);
  g->set_giver_category(v1::GIVER_CATEGORY_CITIZEN);
  g->set_description("กระเช้าปีใหม่");
  g->set_estimated_value_satang(150'000);
  g->mutable_received_on()->set_year(2024);
  g->mutable_received_on()->set_month(12);
  g->mutable_received_on()->set_day(day);
  g->set_disposition(v1::GIFT_DISPOSITION_RETURNED);
  return e;
}

// The ingest and the query role assembled as `prongsai serve` does, with the
// reader chosen per query.
class PersonalDataViewsTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { Close(); }

  void Open() {
    auto log = log::OpenRocksDbLog({.path = dir_.Sub("log"), .sync = false});
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = std::move(*log);
    auto keys = privacy::KeyStore::Open({.path = dir_.Sub("keystore")});
    ASSERT_TRUE(keys.ok()) << keys.status();
    keys_ = std::move(*keys);
    sealer_ = *privacy::PersonalFieldSealer::Create(keys_.get());
    opener_ = std::make_unique<privacy::PersonalFieldOpener>(keys_.get());
    ingest::IngestOptions ingest_options;
    ingest_options.seal = [this](const v1::Event& e) {
      return sealer_->Seal(e);
    };
    auto ingestor = ingest::Ingestor::Start(log_.get(), ingest_options);
    ASSERT_TRUE(ingestor.ok()) << ingestor.status();
    ingestor_ = std::move(*ingestor);
    auto runner = projections::ProjectionRunner::Start(
        log_.get(), {.path = dir_.Sub("views"), .background = false},
        reports::ReportProjections());
    ASSERT_TRUE(runner.ok()) << runner.status();
    runner_ = std::move(*runner);
    query::QueryOptions query_options;
    query_options.open_personal_data = [this](google::protobuf::Message* m) {
      opener_->Open(m);
    };
    queries_ = std::make_unique<query::ReportQueries>(log_.get(), runner_.get(),
                                                      query_options);
  }

  void Close() {
    queries_.reset();
    if (runner_ != nullptr) {
      runner_->Stop();
    }
    runner_.reset();
    if (ingestor_ != nullptr) {
      ingestor_->Stop();
    }
    ingestor_.reset();
    opener_.reset();
    sealer_.reset();
    keys_.reset();
    log_.reset();
  }

  absl::Status Append(const std::string& stream,
                      std::vector<v1::Event> events) {
    v1::AppendRequest request;
    request.set_stream(stream);
    for (v1::Event& e : events) {
      *request.add_events() = std::move(e);
    }
    absl::Status status = ingestor_->Append(request).status();
    if (!status.ok()) {
      return status;
    }
    return runner_->CatchUp();
  }

  v1::GiftRegister Register(bool personal, uint64_t as_of_position = 0) {
    v1::GiftRegisterRequest request;
    request.set_district("1045");
    request.set_fiscal_year(2568);
    request.set_round(v1::ROUND_H1);
    if (as_of_position != 0) {
      request.mutable_read()->mutable_as_of()->set_position(as_of_position);
    }
    query::Reader reader;
    reader.may_see_personal_data = personal;
    absl::StatusOr<v1::GiftRegister> answer =
        queries_->GiftRegister(request, reader);
    EXPECT_TRUE(answer.ok()) << answer.status();
    return answer.value_or(v1::GiftRegister());
  }

  // Every stored record's bytes, in log order.
  std::string AllRecordBytes() {
    std::string all;
    EXPECT_TRUE(log_->Scan(1,
                           [&](const log::LogEntry& entry) {
                             absl::StrAppend(&all, entry.record_bytes);
                             return true;
                           })
                    .ok());
    return all;
  }

  TempDir dir_;
  std::unique_ptr<log::EventLog> log_;
  std::unique_ptr<privacy::KeyStore> keys_;
  std::unique_ptr<privacy::PersonalFieldSealer> sealer_;
  std::unique_ptr<privacy::PersonalFieldOpener> opener_;
  std::unique_ptr<ingest::Ingestor> ingestor_;
  std::unique_ptr<projections::ProjectionRunner> runner_;
  std::unique_ptr<query::ReportQueries> queries_;
};

TEST_F(PersonalDataViewsTest,
       OpenForAllowedReadersStrippedForOthersErasedMarked) {
  ASSERT_TRUE(
      Append(std::string(domain::kCityStream), domain::CityBootstrapEvents())
          .ok());
  ASSERT_TRUE(Append("1045", {Gift("G1", kOfficialName, 10)}).ok());
  const uint64_t before_erasure = log_->LastPosition();

  // The log holds ciphertext only.
  const std::string stored = AllRecordBytes();
  for (const char* plain :
       {kOfficialName, kOfficialPhone, kGiverName, kActorName}) {
    EXPECT_FALSE(absl::StrContains(stored, plain)) << plain;
  }
  EXPECT_TRUE(absl::StrContains(stored, "pdpa:v1:p-official:"));

  v1::GiftRegister allowed = Register(true);
  ASSERT_EQ(allowed.entries_size(), 1);
  EXPECT_TRUE(allowed.personal_data_included());
  EXPECT_EQ(allowed.entries(0).official().name(), kOfficialName);
  EXPECT_EQ(allowed.entries(0).official().contact(), kOfficialPhone);
  EXPECT_EQ(allowed.entries(0).giver().name(), kGiverName);

  v1::GiftRegister stripped = Register(false);
  ASSERT_EQ(stripped.entries_size(), 1);
  EXPECT_FALSE(stripped.personal_data_included());
  EXPECT_EQ(stripped.entries(0).official().name(), "");
  EXPECT_EQ(stripped.entries(0).official().contact(), "");
  EXPECT_EQ(stripped.entries(0).giver().name(), "");
  EXPECT_EQ(stripped.entries(0).official().subject_id(), "p-official");

  absl::StatusOr<privacy::EraseOutcome> erased =
      keys_->Erase("p-official", "PDPA request 2568/001");
  ASSERT_TRUE(erased.ok()) << erased.status();

  allowed = Register(true);
  EXPECT_EQ(allowed.entries(0).official().name(), privacy::kErasedMarker);
  EXPECT_EQ(allowed.entries(0).official().contact(), privacy::kErasedMarker);
  EXPECT_EQ(allowed.entries(0).giver().name(), kGiverName);
  stripped = Register(false);
  EXPECT_EQ(stripped.entries(0).official().name(), "");
  // A replay of the past shows the same: the history holds no key.
  v1::GiftRegister past = Register(true, before_erasure);
  ASSERT_EQ(past.entries_size(), 1);
  EXPECT_EQ(past.entries(0).official().name(), privacy::kErasedMarker);
  // And so does a rebuilt view.
  ASSERT_TRUE(runner_->Rebuild("gifts").ok());
  EXPECT_EQ(Register(true).entries(0).official().name(),
            privacy::kErasedMarker);
  EXPECT_EQ(AllRecordBytes(), stored);

  // The same subject named again: a new key, readable, while the old stays
  // erased, also after a restart.
  ASSERT_TRUE(Append("1045", {Gift("G2", "นางสาวสมหญิง ชื่อใหม่", 11)}).ok());
  Close();
  Open();
  allowed = Register(true);
  ASSERT_EQ(allowed.entries_size(), 2);
  EXPECT_EQ(allowed.entries(0).official().name(), privacy::kErasedMarker);
  EXPECT_EQ(allowed.entries(1).official().name(), "นางสาวสมหญิง ชื่อใหม่");
  EXPECT_EQ(allowed.entries(1).official().contact(), kOfficialPhone);
}

TEST_F(PersonalDataViewsTest, PersonalFieldWithoutSubjectIsRefused) {
  ASSERT_TRUE(
      Append(std::string(domain::kCityStream), domain::CityBootstrapEvents())
          .ok());
  const uint64_t before = log_->LastPosition();
  v1::Event gift = Gift("G1", kOfficialName, 10);
  gift.mutable_gift_report_filed()->mutable_giver()->clear_subject_id();
  absl::Status status = Append("1045", {gift});
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(
      absl::StrContains(status.message(), "gift_report_filed.giver.subject_id"))
      << status;
  // Nothing was stored. (Searching the stored bytes for "G1" would also
  // meet those two bytes inside a hash now and then.)
  EXPECT_EQ(log_->LastPosition(), before);
  EXPECT_FALSE(absl::StrContains(AllRecordBytes(), gift.event_id()));
}

// `prongsai serve` in process, and the real binary for erase, export and
// verify.
class EraseEndToEndTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start() {
    server::ServerOptions options;
    options.data_dir = dir_.Sub("data");
    options.listen = "127.0.0.1:0";
    options.http_listen = "";
    auto server = server::Server::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    auto channel =
        grpc::CreateChannel(address(), grpc::InsecureChannelCredentials());
    ledger_ = v1::Ledger::NewStub(channel);
    privacy_ = v1::Privacy::NewStub(channel);
  }

  void Stop() {
    server_->Shutdown();
    server_->Wait();
    server_.reset();
  }

  std::string address() const {
    return absl::StrCat("127.0.0.1:", server_->port());
  }

  grpc::Status Append(const v1::Event& event) {
    v1::AppendRequest request;
    request.set_stream("1045");
    *request.add_events() = event;
    v1::AppendResponse response;
    grpc::ClientContext context;
    return ledger_->Append(&context, request, &response);
  }

  std::vector<v1::Entry> Read() {
    grpc::ClientContext context;
    v1::ReadRequest request;
    request.set_stream("1045");
    request.set_from_sequence(1);
    auto reader = ledger_->Read(&context, request);
    std::vector<v1::Entry> out;
    v1::Entry entry;
    while (reader->Read(&entry)) {
      out.push_back(entry);
    }
    EXPECT_TRUE(reader->Finish().ok());
    return out;
  }

  // Exports stream 1045 and verifies the file with the binary; returns the
  // file's bytes.
  std::string ExportAndVerify(const std::string& name) {
    const std::string path = dir_.Sub(name);
    // The export asks the server to sign the stream's current tree, which
    // the audit views reach in the background: ask until it answers.
    testing::CommandResult exported;
    EXPECT_TRUE(WaitFor(
        [&] {
          exported = RunCommand({ProngsaiBinary(), "export", "--server",
                                 address(), "--stream", "1045", "--out", path});
          return exported.exit_code == 0;
        },
        absl::Seconds(30)))
        << exported.err;
    testing::CommandResult verified = RunCommand(
        {ProngsaiBinary(), "verify", path, "--key", server_->verifier_key()});
    EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
    EXPECT_TRUE(absl::StartsWith(verified.out, "OK 1045")) << verified.out;
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  TempDir dir_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<v1::Ledger::Stub> ledger_;
  std::unique_ptr<v1::Privacy::Stub> privacy_;
};

TEST_F(EraseEndToEndTest,
       EraseKeepsTheHistoryVerifiableAndItsFieldsUnreadable) {
  ASSERT_TRUE(Append(Gift("G1", kOfficialName, 10)).ok());
  ASSERT_TRUE(Append(Gift("G2", kOfficialName, 11)).ok());
  const std::vector<v1::Entry> before = Read();
  ASSERT_EQ(before.size(), 2u);
  const std::string export_before = ExportAndVerify("before.export");
  for (const char* plain :
       {kOfficialName, kOfficialPhone, kGiverName, kActorName}) {
    EXPECT_FALSE(absl::StrContains(export_before, plain)) << plain;
  }
  v1::Record first;
  ASSERT_TRUE(first.ParseFromString(before[0].record_bytes()));
  const std::string sealed_name =
      first.event().gift_report_filed().official().name();
  ASSERT_TRUE(privacy::IsSealed(sealed_name));

  testing::CommandResult erase =
      RunCommand({ProngsaiBinary(), "erase", "--subject", "p-official",
                  "--reason", "PDPA request 2568/014", "--server", address()});
  EXPECT_EQ(erase.exit_code, 0) << erase.err;
  EXPECT_TRUE(
      absl::StartsWith(erase.out, "erased data subject p-official: key "))
      << erase.out;

  // The history is unchanged and still verifies; exports carry ciphertext.
  const std::vector<v1::Entry> after = Read();
  ASSERT_EQ(after.size(), before.size());
  for (size_t i = 0; i < after.size(); ++i) {
    EXPECT_EQ(after[i].record_bytes(), before[i].record_bytes());
    EXPECT_EQ(after[i].hash(), before[i].hash());
  }
  const std::string export_after = ExportAndVerify("after.export");
  EXPECT_TRUE(absl::StrContains(export_after, sealed_name));
  EXPECT_FALSE(absl::StrContains(export_after, kOfficialName));

  // The erasure is recorded, without personal data.
  {
    grpc::ClientContext context;
    v1::ListErasuresResponse list;
    ASSERT_TRUE(privacy_->ListErasures(&context, {}, &list).ok());
    ASSERT_EQ(list.erasures_size(), 1);
    EXPECT_EQ(list.erasures(0).subject_id(), "p-official");
    EXPECT_EQ(list.erasures(0).reason(), "PDPA request 2568/014");
    EXPECT_EQ(list.erasures(0).key_ids(0),
              privacy::ParseSealed(sealed_name)->key_id);
    EXPECT_FALSE(absl::StrContains(list.DebugString(), kOfficialName));
  }

  // Erasing again destroys nothing; an unknown subject is NOT_FOUND.
  testing::CommandResult again =
      RunCommand({ProngsaiBinary(), "erase", "--subject", "p-official",
                  "--server", address()});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_TRUE(absl::StrContains(again.out, "was erased before")) << again.out;
  testing::CommandResult unknown =
      RunCommand({ProngsaiBinary(), "erase", "--subject", "p-nobody",
                  "--server", address()});
  EXPECT_EQ(unknown.exit_code, 3) << unknown.err;
  testing::CommandResult usage =
      RunCommand({ProngsaiBinary(), "erase", "--server", address()});
  EXPECT_EQ(usage.exit_code, 2);
  {
    grpc::ClientContext context;
    v1::EraseRequest request;
    v1::EraseResponse response;
    EXPECT_EQ(privacy_->Erase(&context, request, &response).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }

  // A new event about the same subject is sealed under a new key; the
  // erasure survives a restart.
  ASSERT_TRUE(Append(Gift("G3", "นางสาวสมหญิง ชื่อใหม่", 12)).ok());
  Stop();
  Start();
  const std::vector<v1::Entry> later = Read();
  ASSERT_EQ(later.size(), 3u);
  v1::Record third;
  ASSERT_TRUE(third.ParseFromString(later[2].record_bytes()));
  EXPECT_NE(
      privacy::ParseSealed(third.event().gift_report_filed().official().name())
          ->key_id,
      privacy::ParseSealed(sealed_name)->key_id);
  ExportAndVerify("later.export");
  grpc::ClientContext context;
  v1::EraseRequest request;
  request.set_subject_id("p-official");
  v1::EraseResponse response;
  ASSERT_TRUE(privacy_->Erase(&context, request, &response).ok());
  EXPECT_FALSE(response.already_erased());
  EXPECT_EQ(response.erasure().sequence(), 2u);
}

}  // namespace
}  // namespace prongsai

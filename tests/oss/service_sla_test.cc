// The service_sla view, driven record by record on an in-memory view.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "core/domain/bootstrap.h"
#include "projections/service_sla/service_sla_projection.h"
#include "projections/service_sla/sla_reader.h"
#include "tests/oss/oss_testing.h"

namespace prongsai::service_sla {
namespace {

using oss::testing::MemoryView;

int64_t Bangkok(absl::CivilSecond s) {
  return absl::ToUnixSeconds(absl::FromCivil(s, absl::FixedTimeZone(7 * 3600)));
}

class ServiceSlaTest : public ::testing::Test {
 protected:
  // Applies `event` as the next record of `district`; returns its id.
  std::string Apply(v1::Event event, const std::string& district = "1045") {
    if (event.event_id().empty()) {
      event.set_event_id(domain::NameBasedUuid(absl::StrCat("e", ++ids_)));
    }
    v1::Record record;
    record.set_stream(district);
    record.set_sequence(++position_);
    *record.mutable_event() = event;
    EXPECT_TRUE(projection_.Wants(record));
    const absl::Status status =
        projection_.Apply({record, position_, "", ""}, view_);
    EXPECT_TRUE(status.ok()) << status;
    return event.event_id();
  }

  std::string Received(const std::string& id, int64_t requested,
                       int64_t expected, const std::string& service = "S1",
                       const std::string& district = "1045") {
    v1::Event e;
    auto* p = e.mutable_service_request_received();
    p->set_request_id(id);
    p->set_service_code(service);
    p->set_service_name("บริการ");
    p->set_channel(v1::SERVICE_CHANNEL_ONLINE);
    p->mutable_requested_at()->set_seconds(requested);
    if (expected != 0) {
      p->mutable_expected_at()->set_seconds(expected);
    }
    return Apply(e, district);
  }

  std::string Status(const std::string& id, const std::string& status,
                     int64_t updated) {
    v1::Event e;
    auto* p = e.mutable_service_request_status_changed();
    p->set_request_id(id);
    p->set_status(status);
    p->mutable_updated_at()->set_seconds(updated);
    return Apply(e);
  }

  std::string Completed(const std::string& id, int64_t completed) {
    v1::Event e;
    auto* p = e.mutable_service_request_completed();
    p->set_request_id(id);
    p->mutable_completed_at()->set_seconds(completed);
    return Apply(e);
  }

  ServiceRequestState State(const std::string& id) {
    auto state = FindServiceRequest(view_, "1045", id);
    EXPECT_TRUE(state.ok() && state->has_value()) << id;
    return state.ok() && state->has_value() ? **state : ServiceRequestState();
  }

  SlaSeries Series(SlaQuery query = {}) {
    auto series = ReadServiceSla(view_, query);
    EXPECT_TRUE(series.ok()) << series.status();
    EXPECT_EQ(series->size(), 1u);
    return series->empty() ? SlaSeries() : series->front();
  }

  ServiceSlaProjection projection_;
  MemoryView view_;
  uint64_t position_ = 0;
  int ids_ = 0;
};

TEST_F(ServiceSlaTest, LatestUpdateTimeWinsWhateverTheArrivalOrder) {
  struct Case {
    std::string name;
    // (status, hour of update), in arrival order.
    std::vector<std::pair<std::string, int>> updates;
    std::string want_status;
    bool want_closed;
  };
  const std::vector<Case> cases = {
      {"in order",
       {{"open", 1}, {"in_review", 2}, {"closed", 3}},
       "closed",
       true},
      {"newest first",
       {{"closed", 3}, {"in_review", 2}, {"open", 1}},
       "closed",
       true},
      {"older update arrives last",
       {{"open", 1}, {"closed", 5}, {"open", 2}},
       "closed",
       true},
      {"reopened later",
       {{"closed", 2}, {"open", 4}, {"in_review", 3}},
       "open",
       false},
  };
  const int64_t t0 = Bangkok(absl::CivilSecond(2024, 11, 4, 9, 0, 0));
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Received(c.name, t0, t0 + 86400);
    for (const auto& [status, hour] : c.updates) {
      Status(c.name, status, t0 + hour * 3600);
    }
    const ServiceRequestState s = State(c.name);
    EXPECT_EQ(s.status, c.want_status);
    EXPECT_EQ(s.closed, c.want_closed);
    int max_hour = 0;
    for (const auto& [status, hour] : c.updates) {
      max_hour = std::max(max_hour, hour);
    }
    EXPECT_EQ(s.updated, absl::FromUnixSeconds(t0 + max_hour * 3600));
  }
}

TEST_F(ServiceSlaTest, CompletionClosesTheRequestForGood) {
  const int64_t t0 = Bangkok(absl::CivilSecond(2024, 11, 4, 9, 0, 0));
  Received("R1", t0, t0 + 2 * 86400);
  Status("R1", "open", t0 + 3600);
  Completed("R1", t0 + 86400);
  // An update older than the completion, stored for the record.
  Status("R1", "open", t0 + 7200);
  const ServiceRequestState s = State("R1");
  EXPECT_TRUE(s.closed);
  ASSERT_TRUE(s.completed.has_value());
  EXPECT_EQ(*s.completed, absl::FromUnixSeconds(t0 + 86400));
  const SlaSeries series = Series();
  EXPECT_EQ(series.total.received, 1);
  EXPECT_EQ(series.total.completed, 1);
  EXPECT_EQ(series.total.on_time, 1);
  EXPECT_EQ(series.total.backlog, 0);
}

TEST_F(ServiceSlaTest, CountsOnTimeLateMedianAndBacklogByMonthAndRound) {
  // Four requests in March 2025 (H1 of FY 2568), deadline 3 days later;
  // done in 1, 2 and 10 days (the last in April, H2); one still open.
  const absl::CivilSecond march(2025, 3, 10, 10, 0, 0);
  const int64_t day = 86400;
  for (int i = 0; i < 4; ++i) {
    const int64_t requested = Bangkok(march + i * 60);
    Received(absl::StrCat("R", i), requested, requested + 3 * day);
  }
  Completed("R0", Bangkok(march) + 1 * day);
  Completed("R1", Bangkok(march + 60) + 2 * day);
  Completed("R2", Bangkok(march + 120) + 25 * day);

  const SlaSeries s = Series();
  ASSERT_EQ(s.months.size(), 2u);
  EXPECT_EQ(s.months[0].month, absl::CivilMonth(2025, 3));
  EXPECT_EQ(s.months[0].figures.received, 4);
  EXPECT_EQ(s.months[0].figures.completed, 2);
  EXPECT_EQ(s.months[0].figures.on_time, 2);
  EXPECT_EQ(s.months[0].figures.median_days, 1.5);
  EXPECT_EQ(s.months[0].figures.backlog, 2);
  EXPECT_EQ(s.months[1].month, absl::CivilMonth(2025, 4));
  EXPECT_EQ(s.months[1].figures.received, 0);
  EXPECT_EQ(s.months[1].figures.late, 1);
  EXPECT_EQ(s.months[1].figures.median_days, 25);
  EXPECT_EQ(s.months[1].figures.backlog, 1);

  ASSERT_EQ(s.rounds.size(), 3u);
  EXPECT_EQ(s.rounds[0].round, v1::ROUND_H1);
  EXPECT_EQ(s.rounds[0].fiscal_year, 2568);
  EXPECT_EQ(s.rounds[0].figures.completed, 2);
  EXPECT_EQ(s.rounds[0].figures.backlog, 2);
  EXPECT_EQ(s.rounds[1].round, v1::ROUND_H2);
  EXPECT_EQ(s.rounds[1].figures.late, 1);
  EXPECT_EQ(s.rounds[1].figures.backlog, 1);
  EXPECT_EQ(s.rounds[2].round, v1::ROUND_FULL_YEAR);
  EXPECT_EQ(s.rounds[2].figures.received, 4);
  EXPECT_EQ(s.rounds[2].figures.completed, 3);
  EXPECT_EQ(s.rounds[2].figures.median_days, 2);
  EXPECT_EQ(s.total.backlog, 1);
}

TEST_F(ServiceSlaTest, ClosedWithoutCompletionLeavesTheBacklog) {
  const int64_t t0 = Bangkok(absl::CivilSecond(2024, 12, 2, 9, 0, 0));
  Received("W", t0, t0 + 86400);
  Status("W", "closed", t0 + 3600);
  SlaSeries s = Series();
  EXPECT_EQ(s.total.closed_without_completion, 1);
  EXPECT_EQ(s.total.completed, 0);
  EXPECT_EQ(s.total.backlog, 0);
  EXPECT_FALSE(s.total.median_days.has_value());
}

TEST_F(ServiceSlaTest, CorrectionsAndRetractionsChangeTheFigures) {
  const int64_t t0 = Bangkok(absl::CivilSecond(2025, 1, 6, 9, 0, 0));
  const std::string receipt = Received("R", t0, t0 + 86400, "S1");
  const std::string done = Completed("R", t0 + 5 * 86400);
  EXPECT_EQ(Series().total.late, 1);

  // The completion was recorded with the wrong time.
  v1::Event correction;
  auto* c = correction.mutable_event_corrected();
  c->set_corrected_event_id(done);
  c->mutable_replacement()->mutable_service_request_completed()->set_request_id(
      "R");
  c->mutable_replacement()
      ->mutable_service_request_completed()
      ->mutable_completed_at()
      ->set_seconds(t0 + 3600);
  Apply(correction);
  SlaSeries s = Series();
  EXPECT_EQ(s.total.late, 0);
  EXPECT_EQ(s.total.on_time, 1);
  EXPECT_EQ(s.total.median_days, 0);

  // The receipt named the wrong service.
  v1::Event service;
  auto* r = service.mutable_event_corrected();
  r->set_corrected_event_id(receipt);
  auto* p = r->mutable_replacement()->mutable_service_request_received();
  p->set_request_id("R");
  p->set_service_code("S2");
  p->set_service_name("บริการ");
  p->set_channel(v1::SERVICE_CHANNEL_COUNTER);
  p->mutable_requested_at()->set_seconds(t0);
  p->mutable_expected_at()->set_seconds(t0 + 86400);
  Apply(service);
  s = Series();
  EXPECT_EQ(s.service_code, "S2");
  EXPECT_EQ(s.total.on_time, 1);

  // The completion is withdrawn: the request is open again.
  v1::Event retraction;
  retraction.mutable_event_retracted()->set_retracted_event_id(done);
  Apply(retraction);
  s = Series();
  EXPECT_EQ(s.total.completed, 0);
  EXPECT_EQ(s.total.backlog, 1);
  EXPECT_FALSE(State("R").closed);
}

TEST_F(ServiceSlaTest, ReaderFiltersAndMerges) {
  const int64_t oct = Bangkok(absl::CivilSecond(2024, 10, 7, 9, 0, 0));
  const int64_t next_year = Bangkok(absl::CivilSecond(2025, 10, 7, 9, 0, 0));
  Received("A", oct, oct + 86400, "S1", "1045");
  Received("B", oct, oct + 86400, "S2", "1045");
  Received("C", next_year, next_year + 86400, "S1", "1001");

  auto all = ReadServiceSla(view_, {});
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].district, "1001");

  SlaQuery by_district;
  by_district.district = "1045";
  by_district.merge_services = true;
  auto merged = ReadServiceSla(view_, by_district);
  ASSERT_TRUE(merged.ok());
  ASSERT_EQ(merged->size(), 1u);
  EXPECT_EQ(merged->front().service_code, "");
  EXPECT_EQ(merged->front().total.received, 2);

  SlaQuery by_service;
  by_service.service_code = "S1";
  by_service.fiscal_year = 2568;
  by_service.merge_districts = true;
  auto city = ReadServiceSla(view_, by_service);
  ASSERT_TRUE(city.ok());
  ASSERT_EQ(city->size(), 1u);
  EXPECT_EQ(city->front().total.received, 1);
  EXPECT_EQ(city->front().rounds.size(), 3u);

  SlaQuery bad;
  bad.district = "10";
  EXPECT_FALSE(ReadServiceSla(view_, bad).ok());
}

TEST_F(ServiceSlaTest, KeepsNoTextAndIgnoresOtherEvents) {
  const int64_t t0 = Bangkok(absl::CivilSecond(2024, 11, 4, 9, 0, 0));
  Received("R", t0, t0 + 86400);
  v1::Event e;
  auto* p = e.mutable_service_request_status_changed();
  p->set_request_id("R");
  p->set_status("open");
  p->set_status_notes("นายสมชาย ใจดี โทร 081-234-5678");
  p->mutable_updated_at()->set_seconds(t0 + 60);
  Apply(e);
  for (const auto& [key, value] : view_.rows()) {
    EXPECT_EQ(value.find("สมชาย"), std::string::npos) << key;
    EXPECT_EQ(value.find("บริการ"), std::string::npos) << key;
  }
  v1::Record meeting;
  meeting.set_stream("1045");
  meeting.mutable_event()->mutable_meeting_held()->set_meeting_id("m");
  EXPECT_FALSE(projection_.Wants(meeting));
}

}  // namespace
}  // namespace prongsai::service_sla

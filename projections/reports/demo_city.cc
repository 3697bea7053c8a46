#include "projections/reports/demo_city.h"

#include <algorithm>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/base/hash.h"
#include "core/base/status.h"
#include "core/domain/bootstrap.h"
#include "core/domain/calendar.h"
#include "core/domain/reference.h"

namespace prongsai::reports {
namespace {

// ---------------------------------------------------------------------------
// Words the generated texts are made of.

constexpr const char* kMeasureTitles[] = {
    "เผยแพร่ประชาสัมพันธ์คู่มือ/มาตรฐานการปฏิบัติงานของหน่วยงานผ่านทางเว็บไซต์ของสำนักงานเขต",
    "จัดประชุมชี้แจง ซักซ้อมทำความเข้าใจแนวทางการปฏิบัติงานให้แก่เจ้าหน้าที่",
    "ผู้บริหารกำชับ กำกับ ติดตามให้เจ้าหน้าที่ปฏิบัติตามกฎหมาย ระเบียบ อย่างเคร่งครัด",
    "จัดทำช่องทางการรับเรื่องร้องเรียนการทุจริตและประพฤติมิชอบ",
    "เผยแพร่บทลงโทษของการรับของขวัญจากการปฏิบัติหน้าที่",
    "มอบหมายเจ้าหน้าที่รวบรวมรายงานการรับของขวัญและของกำนัล",
    "ติดตามการใช้จ่ายงบประมาณทุก 3 เดือน และรายงานผู้บริหาร",
    "ตรวจสอบวัสดุและครุภัณฑ์ของทุกฝ่ายเป็นระยะ",
    "จัดทำคู่มือการใช้ทรัพย์สินของราชการ",
    "เปิดเผยสถิติเรื่องร้องเรียนและความก้าวหน้าในการดำเนินการ",
    "ประชาสัมพันธ์ให้ประชาชนยื่นคำขอผ่านระบบ BMA OSS",
    "จัดอบรมการให้บริการผ่านระบบ E-service แก่เจ้าหน้าที่",
    "สำรวจความพึงพอใจของผู้รับบริการและนำผลมาปรับปรุงการให้บริการ",
    "ผู้บริหารประกาศเจตนารมณ์ต่อต้านการทุจริตทุกรูปแบบ",
    "มอบหมายผู้รับผิดชอบการเปิดเผยข้อมูลตามหัวข้อที่กำหนด",
    "ปรับปรุงข้อมูลบนเว็บไซต์ตามข้อเสนอแนะของผลการประเมิน",
    "เปิดโอกาสให้ผู้มีส่วนได้ส่วนเสียแสดงความคิดเห็นต่อการดำเนินงาน",
    "จัดทำหลักเกณฑ์การบริหารงานบุคคลที่โปร่งใสและเผยแพร่ให้บุคลากรทราบ",
};

constexpr const char* kMeasureDescriptions[] = {
    "เพื่อให้ผู้ปฏิบัติงานและผู้รับบริการรับทราบอย่างทั่วถึง",
    "ในที่ประชุมข้าราชการและลูกจ้างประจำเดือน",
    "และรายงานผลให้ผู้อำนวยการเขตทราบทุกไตรมาส",
    "โดยเผยแพร่ผ่านช่องทางต่าง ๆ ของหน่วยงาน",
    "",
    "",
};

constexpr const char* kIssues[] = {
    "การให้บริการบางกระบวนงานยังไม่เป็นไปตามกรอบระยะเวลาที่กำหนด",
    "เจ้าหน้าที่บางส่วนยังไม่เข้าใจขั้นตอนการปฏิบัติงานตามคู่มืออย่างครบถ้วน",
    "การจัดซื้อจัดจ้างบางครั้งดำเนินการไม่ครบถ้วนตามระเบียบ",
    "ผู้รับบริการบางส่วนยังไม่ทราบช่องทางการร้องเรียน",
    "ข้อมูลที่เผยแพร่บนเว็บไซต์ยังปรับปรุงให้มีคุณภาพมากกว่านี้ได้",
    "การยับยั้งการทุจริตของหน่วยงานยังไม่ประสบผลสำเร็จเท่าที่ควร",
    "เจ้าหน้าที่บางคนยังนำทรัพย์สินของราชการไปใช้โดยไม่ได้ขออนุญาต",
};

constexpr const char* kResultLeads[] = {
    "ดำเนินการแล้ว โดย",
    "อยู่ระหว่างดำเนินการ โดย",
    "ได้ดำเนินการ",
};

constexpr const char* kCaptions[] = {
    "ภาพการประชุมข้าราชการและลูกจ้างประจำเดือน",
    "ภาพหน้าจอเว็บไซต์สำนักงานเขต",
    "ภาพบอร์ดประชาสัมพันธ์",
    "ภาพการประชุมผู้บริหาร",
    "ภาพการลงพื้นที่ให้บริการประชาชน",
    "สำเนาหนังสือเวียนแจ้ง",
    "",
};

constexpr const char* kServices[][2] = {
    {"BMA-REG-01", "แจ้งเกิด"},
    {"BMA-REG-07", "ย้ายที่อยู่"},
    {"BMA-REG-12", "ทำบัตรประจำตัวประชาชน"},
    {"BMA-BLD-03", "ขออนุญาตก่อสร้างอาคาร"},
    {"BMA-TAX-02", "ชำระภาษีที่ดินและสิ่งปลูกสร้าง"},
    {"BMA-HLT-05", "ขออนุญาตประกอบกิจการที่เป็นอันตรายต่อสุขภาพ"},
    {"BMA-ENV-04", "ขอรับบริการจัดเก็บขยะชิ้นใหญ่"},
    {"BMA-CLN-02", "ขอลอกท่อระบายน้ำ"},
    {"BMA-WEL-01", "ลงทะเบียนรับเบี้ยยังชีพผู้สูงอายุ"},
    {"BMA-MKT-03", "ขออนุญาตจำหน่ายสินค้าในที่สาธารณะ"},
};

constexpr const char* kServiceStatuses[] = {
    "accepted", "in_progress", "waiting_documents", "site_inspection"};

constexpr const char* kComplaintSummaries[] = {
    "ร้องเรียนเจ้าหน้าที่เรียกรับเงินเพื่ออำนวยความสะดวกในการขออนุญาต",
    "ร้องเรียนการให้บริการล่าช้าเกินกรอบระยะเวลาที่กำหนด",
    "ร้องเรียนการจัดซื้อจัดจ้างไม่โปร่งใส",
    "ร้องเรียนเจ้าหน้าที่ใช้รถราชการไปทำธุระส่วนตัว",
    "ร้องเรียนการเลือกปฏิบัติในการให้บริการ",
    "ร้องเรียนพฤติกรรมไม่เหมาะสมของเจ้าหน้าที่",
};

constexpr const char* kGiftDescriptions[] = {
    "กระเช้าของขวัญปีใหม่",     "ขนมและผลไม้",     "บัตรกำนัลห้างสรรพสินค้า",
    "ของที่ระลึกจากหน่วยงานอื่น", "ปฏิทินและสมุดบันทึก", "เงินสดใส่ซอง",
};

constexpr const char* kDivisions[] = {
    "ฝ่ายปกครอง",
    "ฝ่ายทะเบียน",
    "ฝ่ายการคลัง",
    "ฝ่ายรายได้",
    "ฝ่ายโยธา",
    "ฝ่ายรักษาความสะอาดและสวนสาธารณะ",
    "ฝ่ายเทศกิจ",
    "ฝ่ายสิ่งแวดล้อมและสุขาภิบาล",
    "ฝ่ายพัฒนาชุมชนและสวัสดิการสังคม",
    "ฝ่ายการศึกษา",
};

constexpr const char* kGivenNames[] = {"สมชาย",  "สมหญิง", "วิไล",   "ประเสริฐ",
                                       "กาญจนา", "ธนพล",  "ณัฐธิดา", "อนุชา"};
constexpr const char* kFamilyNames[] = {"ทดสอบระบบ", "ตัวอย่างดี", "สาธิตผล",
                                        "จำลองใจ"};

constexpr const char* kDisclosureTitles[] = {
    "โครงสร้างหน่วยงาน",
    "ข้อมูลผู้บริหาร",
    "แผนการดำเนินงานประจำปี",
    "รายงานผลการจัดซื้อจัดจ้าง",
    "คู่มือการให้บริการ",
    "สถิติการให้บริการ",
    "รายงานการกำกับติดตามการใช้จ่ายงบประมาณ",
    "มาตรการส่งเสริมคุณธรรมและความโปร่งใส",
};

// ---------------------------------------------------------------------------

struct FrameworkShape {
  struct Item {
    std::string code;
    v1::Tool tool;
    int indicator;
  };
  std::vector<Item> items;
  // Indices of items, per indicator, in framework order.
  std::vector<std::vector<int>> indicators;
};

FrameworkShape ShapeOf(const v1::FrameworkPublished& framework) {
  FrameworkShape shape;
  for (const v1::FrameworkItem& item : framework.items()) {
    const int index = static_cast<int>(shape.items.size());
    shape.items.push_back({item.code(), item.tool(), item.indicator()});
    if (shape.indicators.empty() ||
        shape.items[shape.indicators.back()[0]].indicator != item.indicator()) {
      shape.indicators.push_back({});
    }
    shape.indicators.back().push_back(index);
  }
  return shape;
}

v1::Date DateOf(absl::CivilDay day) { return domain::ToDate(day); }

void SetTime(absl::Time t, google::protobuf::Timestamp* out) {
  out->set_seconds(absl::ToUnixSeconds(t));
}

struct Measure {
  std::string id;
  std::string event_id;
  v1::MeasurePlanned planned;
  v1::ProgressStatus status = v1::PROGRESS_STATUS_NOT_STARTED;
};

struct Complaint {
  std::string id;
  absl::Time received;
  absl::Time close_at;  // InfinitePast: stays open
  absl::Time assigned_at;
  bool assigned = false;
  bool closed = false;
  bool reopened = false;
};

struct ServiceRequest {
  std::string id;
  absl::Time received;
  absl::Time complete_at;
  bool status_sent = false;
};

// One event waiting to be put in order.
struct Timed {
  absl::Time at;
  int64_t order;
  v1::Event event;
};

class DistrictSim {
 public:
  DistrictSim(const DemoCityOptions& options, const domain::District& district,
              const FrameworkShape& shape, absl::Time limit)
      : options_(options),
        district_(district),
        shape_(shape),
        limit_(limit),
        rng_(options.seed * 1'000'003 +
             std::hash<std::string>()(district.code)) {}

  // The events of `month` (none after the limit), in append order. Fills
  // with service requests up to `target` events generated so far.
  std::vector<v1::Event> Month(absl::CivilMonth month, int64_t target) {
    month_ = month;
    pending_.clear();
    const absl::CivilDay first(month);
    absl::CivilDay last = absl::CivilDay(month + 1) - 1;
    const absl::CivilDay limit_day = domain::BangkokDay(limit_);
    last = std::min(last, limit_day);
    if (last < first) {
      return {};
    }
    first_day_ = first;
    last_day_ = last;
    const int fy = domain::FiscalYearOf(first);
    const int month_of_year = month.month();

    if (month_of_year == 10) {
      PlanYear(fy);
      SubmitGifts(fy - 1, v1::ROUND_FULL_YEAR);
      BudgetReview(fy - 1, 4);
    }
    if (month_of_year == 1 || month_of_year == 4 || month_of_year == 7) {
      BudgetReview(fy, month_of_year == 1 ? 1 : month_of_year == 4 ? 2 : 3);
    }
    if (month_of_year == 4) {
      SubmitGifts(fy, v1::ROUND_H1);
    }
    if (month_of_year == 3 || month_of_year == 9) {
      Disciplinary(fy, month_of_year == 3 ? v1::ROUND_H1 : v1::ROUND_H2);
    }
    if (month_of_year == 9) {
      AssetInspection(fy);
    }
    if (month_of_year >= 11 || month_of_year == 1) {
      CommunityProjects(fy);
    }
    Meetings(fy);
    Progress(fy, month_of_year);
    Evidence(fy);
    Disclosures(fy);
    Gifts(fy, month_of_year);
    Complaints();
    Corrections();
    ServiceRequests(target);

    std::stable_sort(pending_.begin(), pending_.end(),
                     [](const Timed& a, const Timed& b) {
                       return a.at != b.at ? a.at < b.at : a.order < b.order;
                     });
    std::vector<v1::Event> out;
    out.reserve(pending_.size());
    for (Timed& t : pending_) {
      out.push_back(std::move(t.event));
    }
    generated_ += static_cast<int64_t>(out.size());
    return out;
  }

  int64_t generated() const { return generated_; }

 private:
  // --- randomness and time ---------------------------------------------

  int Uniform(int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng_);
  }
  bool Chance(double p) {
    return std::uniform_real_distribution<double>(0, 1)(rng_) < p;
  }
  template <typename T, size_t N>
  const T& Pick(const T (&values)[N]) {
    return values[Uniform(0, static_cast<int>(N) - 1)];
  }

  // A moment on `day` during office hours, not after the limit.
  absl::Time At(absl::CivilDay day, int hour_lo = 8, int hour_hi = 16) {
    day = std::clamp(day, first_day_, last_day_);
    const absl::Time t =
        absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(),
                                          Uniform(hour_lo, hour_hi),
                                          Uniform(0, 59), Uniform(0, 59)),
                        domain::BangkokTimeZone());
    return std::min(t, limit_);
  }
  absl::CivilDay Day(int lo = 1, int hi = 31) {
    const int span = static_cast<int>(last_day_ - first_day_);
    const int from = std::clamp(lo - 1, 0, span);
    const int to = std::clamp(hi - 1, from, span);
    return first_day_ + Uniform(from, to);
  }
  absl::Time AnyTime() { return At(Day()); }

  // A new event at `at`, to be ordered with the month's others.
  v1::Event* New(absl::Time at) {
    Timed& t = pending_.emplace_back();
    t.at = at;
    t.order = order_++;
    t.event.set_event_id(domain::NameBasedUuid(absl::StrCat(
        "demo/", options_.seed, "/", district_.code, "/", serial_++)));
    SetTime(at, t.event.mutable_occurred_at());
    t.event.mutable_actor()->set_id(std::string(kDemoActor));
    t.event.mutable_actor()->set_division(
        absl::StrCat("สำนักงานเขต", district_.name_th));
    return &t.event;
  }

  std::string Id(absl::string_view kind) {
    return absl::StrCat(kind, "-", district_.code, "-", ++ids_);
  }

  v1::Person NewPerson() {
    v1::Person person;
    const int n = Uniform(1, 400);
    person.set_subject_id(absl::StrCat("demo-person-", district_.code, "-", n));
    person.set_name(
        absl::StrCat(kGivenNames[n % 8], " ", kFamilyNames[(n / 8) % 4]));
    person.set_position(Chance(0.5) ? "นักจัดการงานทั่วไป" : "เจ้าพนักงานธุรการ");
    person.set_division(Pick(kDivisions));
    return person;
  }

  // --- the ITA year ------------------------------------------------------

  void PlanYear(int fy) {
    std::vector<Measure>& measures = measures_[fy];
    const absl::CivilDay start = domain::FiscalYearRange(fy).first;
    for (size_t i = 0; i < shape_.items.size(); ++i) {
      const FrameworkShape::Item& item = shape_.items[i];
      const double score =
          Chance(0.4)
              ? 100.0
              : std::clamp(
                    std::round(std::normal_distribution<double>(90, 9)(rng_) *
                               100) /
                        100,
                    35.0, 99.99);
      v1::Event* e = New(At(start + Uniform(0, 4)));
      v1::ScoreRecorded* s = e->mutable_score_recorded();
      s->set_fiscal_year(fy);
      s->set_item_code(item.code);
      s->set_score(score);
      s->set_source(
          absl::StrCat("ผลการประเมิน ITA ประจำปีงบประมาณ พ.ศ. ", fy - 1));
      s->set_assessment_year(fy - 1);
      if (score < 100 || Chance(0.5)) {
        v1::Event* issue = New(At(start + Uniform(5, 9)));
        v1::ImprovementIssueIdentified* p =
            issue->mutable_improvement_issue_identified();
        p->set_issue_id(Id("I"));
        p->set_fiscal_year(fy);
        p->set_item_code(item.code);
        p->set_text(Pick(kIssues));
      }
    }
    for (const std::vector<int>& indicator : shape_.indicators) {
      const bool shared = indicator.size() > 1 && Chance(0.5);
      std::vector<std::vector<std::string>> holders;
      if (shared) {
        std::vector<std::string> codes;
        for (int i : indicator) {
          codes.push_back(shape_.items[i].code);
        }
        holders.push_back(codes);
      } else {
        for (int i : indicator) {
          if (Chance(0.06)) {
            continue;  // an item left without measures
          }
          holders.push_back({shape_.items[i].code});
        }
      }
      for (const std::vector<std::string>& codes : holders) {
        const int count = Uniform(2, shared ? 6 : 4);
        for (int n = 1; n <= count; ++n) {
          Measure m;
          m.id = Id("M");
          v1::Event* e = New(At(start + Uniform(10, 20)));
          m.event_id = e->event_id();
          v1::MeasurePlanned* p = e->mutable_measure_planned();
          p->set_measure_id(m.id);
          p->set_fiscal_year(fy);
          for (const std::string& code : codes) {
            p->add_item_codes(code);
          }
          p->set_number(n);
          p->set_title(Pick(kMeasureTitles));
          p->set_description(Pick(kMeasureDescriptions));
          const int r = Uniform(0, 9);
          p->set_round(r == 0   ? v1::ROUND_H1
                       : r == 1 ? v1::ROUND_H2
                                : v1::ROUND_FULL_YEAR);
          if (Chance(0.3)) {
            p->set_responsible_division(Pick(kDivisions));
          }
          if (Chance(0.5)) {
            const domain::DayRange range = domain::RoundRange(fy, p->round());
            const int span = static_cast<int>(range.last - range.first);
            const absl::CivilDay end = range.first + Uniform(span / 2, span);
            *p->mutable_planned_start() = DateOf(range.first);
            *p->mutable_planned_end() = DateOf(end);
          }
          m.planned = *p;
          measures.push_back(std::move(m));
        }
      }
    }
    // Policies, the working group and the disclosure checklist.
    for (v1::PolicyKind kind :
         {v1::POLICY_KIND_NO_GIFT, v1::POLICY_KIND_ANTI_BRIBERY}) {
      v1::Event* e = New(At(start + Uniform(10, 30)));
      v1::PolicyAnnounced* p = e->mutable_policy_announced();
      p->set_policy_id(Id("P"));
      p->set_kind(kind);
      p->set_title(kind == v1::POLICY_KIND_NO_GIFT ? "No Gift Policy"
                                                   : "Anti-Bribery Policy");
      p->set_announced_by("ผู้อำนวยการเขต");
      *p->mutable_date() = DateOf(domain::BangkokDay(
          absl::FromUnixSeconds(e->occurred_at().seconds())));
    }
    v1::Event* group = New(At(start + Uniform(3, 12)));
    v1::WorkingGroupAppointed* g = group->mutable_working_group_appointed();
    g->set_group_id(Id("WG"));
    g->set_title("คณะทำงานขับเคลื่อน ITA ของสำนักงานเขต");
    g->set_order_ref(absl::StrCat("คำสั่งสำนักงานเขต", district_.name_th, " ที่ ",
                                  Uniform(1, 90), "/", fy));
    *g->mutable_date() = DateOf(domain::BangkokDay(
        absl::FromUnixSeconds(group->occurred_at().seconds())));
    for (int k = 0; k < 5; ++k) {
      v1::WorkingGroupMember* member = g->add_members();
      *member->mutable_person() = NewPerson();
      member->set_role(k == 0 ? "ประธาน" : k == 4 ? "เลขานุการ" : "คณะทำงาน");
    }
    v1::Event* checklist = New(At(start + Uniform(12, 25)));
    v1::DisclosureChecklistAssigned* c =
        checklist->mutable_disclosure_checklist_assigned();
    c->set_fiscal_year(fy);
    for (int k = 1; k <= 22; ++k) {
      v1::DisclosureAssignment* a = c->add_assignments();
      a->set_item_code(absl::StrCat("O", k));
      a->set_division(kDivisions[k % 10]);
    }
  }

  std::vector<Measure>* Measures(int fy) {
    auto it = measures_.find(fy);
    return it == measures_.end() || it->second.empty() ? nullptr : &it->second;
  }

  void Meetings(int fy) {
    std::vector<Measure>* measures = Measures(fy);
    struct Kind {
      v1::MeetingKind kind;
      const char* title;
      int day_lo;
      int day_hi;
    };
    std::vector<Kind> kinds = {
        {v1::MEETING_KIND_MONTHLY_STAFF, "ประชุมข้าราชการและลูกจ้างประจำเดือน", 3,
         10},
        {v1::MEETING_KIND_EXECUTIVES, "ประชุมผู้บริหาร", 12, 20}};
    if (month_.month() % 3 == 0) {
      kinds.push_back({v1::MEETING_KIND_COMMUNITY_COMMITTEE,
                       "ประชุมคณะกรรมการชุมชน", 20, 28});
    }
    for (const Kind& kind : kinds) {
      const absl::CivilDay day = Day(kind.day_lo, kind.day_hi);
      v1::Event* e = New(At(day, 9, 11));
      v1::MeetingHeld* m = e->mutable_meeting_held();
      m->set_meeting_id(Id("MT"));
      m->set_kind(kind.kind);
      m->set_title(
          absl::StrCat(kind.title, " ", domain::FormatMonthTh(month_)));
      *m->mutable_date() = DateOf(day);
      m->set_attendees(Uniform(12, 80));
      // In October the year's measures are planned after the first
      // meetings.
      if (measures != nullptr && month_.month() != 10) {
        for (int k = Uniform(1, 3); k > 0; --k) {
          const Measure& measure =
              (*measures)[Uniform(0, static_cast<int>(measures->size()) - 1)];
          v1::AgendaItem* agenda = m->add_agenda_items();
          agenda->set_text(absl::StrCat("เน้นย้ำ", measure.planned.title()));
          agenda->add_measure_ids(measure.id);
        }
      }
      if (Chance(0.3)) {
        const std::string meeting_id = m->meeting_id();
        v1::Event* ev = New(At(day, 13, 16));
        FillEvidence(ev->mutable_evidence_attached());
        ev->mutable_evidence_attached()->set_meeting_id(meeting_id);
      }
    }
  }

  void FillEvidence(v1::EvidenceAttached* e) {
    e->set_evidence_id(Id("EV"));
    const std::string caption = Pick(kCaptions);
    const Hash hash = Sha256(absl::StrCat(e->evidence_id(), "\n", caption));
    e->set_sha256(std::string(AsBytes(hash)));
    e->set_media_type(Chance(0.85) ? "image/jpeg" : "application/pdf");
    e->set_size_bytes(Uniform(40'000, 900'000));
    e->set_caption(caption);
    if (Chance(0.4)) {
      e->set_uri(absl::StrCat("https://evidence.demo.invalid/", district_.code,
                              "/", e->evidence_id()));
    }
  }

  static bool InRound(v1::Round planned, v1::Round round) {
    return planned == v1::ROUND_FULL_YEAR || planned == round;
  }

  void ReportProgress(Measure& m, int fy, v1::Round round, bool final_report) {
    v1::ProgressStatus status = v1::PROGRESS_STATUS_IN_PROGRESS;
    if (final_report) {
      const int r = Uniform(0, 99);
      status = r < (round == v1::ROUND_H1 ? 50 : 70) ? v1::PROGRESS_STATUS_DONE
               : r < 95 ? v1::PROGRESS_STATUS_IN_PROGRESS
               : r < 98 ? v1::PROGRESS_STATUS_NOT_STARTED
                        : v1::PROGRESS_STATUS_DROPPED;
    }
    if (m.status == v1::PROGRESS_STATUS_DONE ||
        m.status == v1::PROGRESS_STATUS_DROPPED) {
      status = m.status;
    }
    const absl::CivilDay round_start = domain::RoundRange(fy, round).first;
    absl::CivilDay day = Day(final_report ? 20 : 10, final_report ? 31 : 25);
    day = std::max(day, round_start);
    v1::Event* e = New(At(day));
    v1::MeasureProgressReported* p = e->mutable_measure_progress_reported();
    p->set_measure_id(m.id);
    p->set_fiscal_year(fy);
    p->set_round(round);
    p->set_status(status);
    if (status == v1::PROGRESS_STATUS_IN_PROGRESS ||
        status == v1::PROGRESS_STATUS_DONE) {
      p->set_result_text(absl::StrCat(m.planned.number(), ". ",
                                      Pick(kResultLeads), m.planned.title(),
                                      " เมื่อ", domain::FormatDateTh(day)));
    }
    m.status = status;
    last_progress_ = {e->event_id(), *p};
  }

  void Progress(int fy, int month_of_year) {
    std::vector<Measure>* measures = Measures(fy);
    if (measures == nullptr) {
      return;
    }
    struct Step {
      int month;
      v1::Round round;
      bool final_report;
      double chance;
    };
    constexpr Step kSteps[] = {{1, v1::ROUND_H1, false, 0.15},
                               {3, v1::ROUND_H1, true, 0.9},
                               {6, v1::ROUND_H2, false, 0.15},
                               {9, v1::ROUND_H2, true, 0.9}};
    for (const Step& step : kSteps) {
      if (step.month != month_of_year) {
        continue;
      }
      for (Measure& m : *measures) {
        if (InRound(m.planned.round(), step.round) && Chance(step.chance)) {
          ReportProgress(m, fy, step.round, step.final_report);
        }
      }
    }
  }

  void Evidence(int fy) {
    std::vector<Measure>* measures = Measures(fy);
    if (measures == nullptr) {
      return;
    }
    for (int k = Uniform(3, 7); k > 0; --k) {
      const Measure& m =
          (*measures)[Uniform(0, static_cast<int>(measures->size()) - 1)];
      // Measures are planned by the 21st of October.
      v1::Event* e = New(At(Day(month_.month() == 10 ? 22 : 1, 31)));
      FillEvidence(e->mutable_evidence_attached());
      e->mutable_evidence_attached()->set_measure_id(m.id);
      last_evidence_ = e->event_id();
    }
  }

  void Disclosures(int fy) {
    for (int k = Uniform(2, 4); k > 0; --k) {
      const absl::CivilDay day = Day();
      v1::Event* e = New(At(day));
      v1::DisclosurePublished* d = e->mutable_disclosure_published();
      d->set_disclosure_id(Id("D"));
      d->set_fiscal_year(fy);
      const int item = Uniform(1, 22);
      d->set_item_code(absl::StrCat("O", item));
      d->set_title(Pick(kDisclosureTitles));
      d->set_url(absl::StrCat("https://www.demo.invalid/", district_.code, "/o",
                              item, "/", d->disclosure_id()));
      *d->mutable_date() = DateOf(day);
      d->set_responsible_division(Pick(kDivisions));
    }
  }

  // --- integrity ---------------------------------------------------------

  void Gifts(int fy, int month_of_year) {
    const bool festive =
        month_of_year == 12 || month_of_year == 1 || month_of_year == 4;
    for (int k = Uniform(festive ? 2 : 0, festive ? 6 : 2); k > 0; --k) {
      const absl::CivilDay day = Day();
      v1::Event* e = New(At(day));
      v1::GiftReportFiled* g = e->mutable_gift_report_filed();
      g->set_report_id(Id("G"));
      *g->mutable_official() = NewPerson();
      if (Chance(0.6)) {
        *g->mutable_giver() = NewPerson();
      }
      g->set_giver_category(static_cast<v1::GiverCategory>(Uniform(1, 6)));
      g->set_description(Pick(kGiftDescriptions));
      const int band = Uniform(0, 9);
      g->set_estimated_value_satang(band == 0  ? 0
                                    : band < 8 ? Uniform(100, 3'000) * 100
                                               : Uniform(3'001, 20'000) * 100);
      *g->mutable_received_on() = DateOf(day);
      const int d = Uniform(0, 9);
      g->set_disposition(d < 4   ? v1::GIFT_DISPOSITION_DECLINED
                         : d < 7 ? v1::GIFT_DISPOSITION_RETURNED
                         : d < 9 ? v1::GIFT_DISPOSITION_HANDED_TO_AGENCY
                                 : v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION);
      if (g->disposition() == v1::GIFT_DISPOSITION_KEPT_UNDER_EXCEPTION) {
        g->set_exception_reason("ของที่ระลึกตามประเพณีนิยม มูลค่าไม่เกินที่ระเบียบกำหนด");
      }
      gifts_[fy][domain::RoundOf(day)].push_back(g->report_id());
      last_gift_ = {e->event_id(), *g};
    }
  }

  void SubmitGifts(int fy, v1::Round round) {
    auto year = gifts_.find(fy);
    if (year == gifts_.end() || Chance(0.08)) {
      return;  // some districts miss a submission
    }
    v1::Event* e = New(At(Day(5, 25)));
    v1::GiftReportsSubmitted* s = e->mutable_gift_reports_submitted();
    s->set_submission_id(Id("GS"));
    s->set_fiscal_year(fy);
    s->set_round(round);
    for (v1::Round half : {v1::ROUND_H1, v1::ROUND_H2}) {
      if (round == v1::ROUND_H1 && half != v1::ROUND_H1) {
        continue;
      }
      for (const std::string& id : year->second[half]) {
        s->add_report_ids(id);
      }
    }
    *s->mutable_submitted_on() = DateOf(
        domain::BangkokDay(absl::FromUnixSeconds(e->occurred_at().seconds())));
  }

  void Complaints() {
    // New complaints.
    for (int k = Uniform(2, 6); k > 0; --k) {
      const absl::CivilDay day = Day();
      const absl::Time at = At(day);
      v1::Event* e = New(at);
      v1::ComplaintReceived* c = e->mutable_complaint_received();
      Complaint complaint;
      complaint.id = Id("C");
      complaint.received = at;
      const int r = Uniform(0, 99);
      complaint.close_at = r < 85 ? at + absl::Hours(24 * Uniform(3, 75))
                                  : absl::InfiniteFuture();
      c->set_complaint_id(complaint.id);
      c->set_channel(static_cast<v1::ComplaintChannel>(Uniform(1, 7)));
      c->set_category(static_cast<v1::ComplaintCategory>(Uniform(1, 8)));
      c->set_summary(Pick(kComplaintSummaries));
      if (Chance(0.6)) {
        c->mutable_complainant()->set_anonymous(true);
      } else {
        *c->mutable_complainant()->mutable_person() = NewPerson();
      }
      c->set_whistleblower_protection_requested(Chance(0.2));
      *c->mutable_received_on() = DateOf(day);
      complaints_.push_back(std::move(complaint));
    }
    // Life cycles of the open ones.
    const absl::Time month_end = At(last_day_, 16, 16);
    for (Complaint& c : complaints_) {
      if (c.closed) {
        continue;
      }
      if (!c.assigned) {
        const absl::Time at = std::max(c.received + absl::Hours(26), AnyTime());
        if (at > month_end) {
          continue;
        }
        v1::Event* e = New(at);
        e->mutable_complaint_assigned()->set_complaint_id(c.id);
        e->mutable_complaint_assigned()->set_division(Pick(kDivisions));
        c.assigned = true;
        c.assigned_at = at;
        if (Chance(0.6)) {
          v1::Event* s = New(std::min(at + absl::Hours(30), limit_));
          s->mutable_complaint_status_changed()->set_complaint_id(c.id);
          s->mutable_complaint_status_changed()->set_status(
              Chance(0.7) ? v1::COMPLAINT_STATUS_INVESTIGATING
                          : v1::COMPLAINT_STATUS_UNDER_REVIEW);
        }
        continue;
      }
      if (c.close_at <= month_end &&
          c.close_at > c.received + absl::Hours(60)) {
        const absl::Time closed_at = std::min(
            std::max(c.close_at, c.assigned_at + absl::Hours(31)), limit_);
        v1::Event* e = New(closed_at);
        v1::ComplaintClosed* closed = e->mutable_complaint_closed();
        closed->set_complaint_id(c.id);
        const int r = Uniform(0, 9);
        closed->set_outcome(r < 3   ? v1::COMPLAINT_OUTCOME_SUBSTANTIATED
                            : r < 7 ? v1::COMPLAINT_OUTCOME_UNSUBSTANTIATED
                            : r < 9 ? v1::COMPLAINT_OUTCOME_REFERRED
                                    : v1::COMPLAINT_OUTCOME_WITHDRAWN);
        closed->set_action_taken("ตรวจสอบข้อเท็จจริงและแจ้งผลให้ผู้ร้องทราบ");
        c.closed = true;
        if (!c.reopened && Chance(0.05)) {
          const absl::Time reopen_at = closed_at + absl::Hours(48);
          if (reopen_at <= month_end) {
            v1::Event* r2 = New(reopen_at);
            r2->mutable_complaint_reopened()->set_complaint_id(c.id);
            r2->mutable_complaint_reopened()->set_reason("ผู้ร้องส่งข้อมูลเพิ่มเติม");
            c.closed = false;
            c.reopened = true;
            c.close_at = reopen_at + absl::Hours(24 * Uniform(5, 30));
          }
        }
      }
    }
    complaints_.erase(
        std::remove_if(complaints_.begin(), complaints_.end(),
                       [](const Complaint& c) { return c.closed; }),
        complaints_.end());
  }

  void BudgetReview(int fy, int quarter) {
    if (measures_.find(fy) == measures_.end()) {
      return;
    }
    const absl::CivilDay day = Day(5, 20);
    if (day < domain::QuarterRange(fy, quarter).first) {
      return;
    }
    v1::Event* e = New(At(day));
    v1::BudgetReviewHeld* b = e->mutable_budget_review_held();
    b->set_review_id(Id("B"));
    b->set_fiscal_year(fy);
    b->set_quarter(quarter);
    const int64_t planned = int64_t{Uniform(5'000, 40'000)} * 100'000;
    b->set_planned_satang(planned);
    b->set_disbursed_satang(planned * Uniform(55, 100) / 100);
    *b->mutable_date() = DateOf(day);
    b->set_note("ติดตามการใช้จ่ายงบประมาณรายไตรมาส");
  }

  void Disciplinary(int fy, v1::Round round) {
    const absl::CivilDay day = Day(20, 31);
    v1::Event* e = New(At(day));
    v1::DisciplinaryReportMade* d = e->mutable_disciplinary_report_made();
    d->set_report_id(Id("DR"));
    d->set_fiscal_year(fy);
    d->set_round(round);
    *d->mutable_date() = DateOf(day);
    d->set_cases(Uniform(0, 3));
    d->set_summary("รายงานการดำเนินการทางวินัยให้ผู้บริหารทราบ");
  }

  void AssetInspection(int fy) {
    const absl::CivilDay day = Day(10, 28);
    v1::Event* e = New(At(day));
    v1::AssetInspectionCompleted* a = e->mutable_asset_inspection_completed();
    a->set_inspection_id(Id("AI"));
    a->set_fiscal_year(fy);
    a->set_items_checked(Uniform(300, 2'000));
    a->set_discrepancies(Uniform(0, 12));
    *a->mutable_reported_on() = DateOf(day);
    a->set_note("รายงานผลการตรวจสอบพัสดุประจำปีให้ผู้บริหารทราบ");
  }

  void CommunityProjects(int fy) {
    for (int k = Uniform(2, 12); k > 0; --k) {
      const absl::CivilDay day = Day();
      v1::Event* e = New(At(day));
      v1::CommunityProjectApproved* p = e->mutable_community_project_approved();
      p->set_project_id(Id("CP"));
      p->set_fiscal_year(fy);
      p->set_name(absl::StrCat("โครงการที่ประชาชนเป็นผู้ดำเนินการเอง ชุมชนที่ ",
                               Uniform(1, 40)));
      p->set_community(absl::StrCat("ชุมชนที่ ", Uniform(1, 40)));
      p->set_amount_satang(int64_t{Uniform(50'000, 300'000)} * 100);
      *p->mutable_approved_on() = DateOf(day);
    }
  }

  // A few corrections and retractions of this month's and earlier events.
  void Corrections() {
    // After everything else of the month (or at the limit, in creation
    // order), so that the events named come first.
    const absl::Time at = At(last_day_, 17, 18);
    if (!last_gift_.first.empty() && Chance(0.15)) {
      v1::Event* e = New(at);
      v1::EventCorrected* c = e->mutable_event_corrected();
      c->set_corrected_event_id(last_gift_.first);
      c->set_reason("แก้ไขมูลค่าของขวัญให้ตรงกับใบเสร็จ");
      v1::GiftReportFiled g = last_gift_.second;
      g.set_estimated_value_satang(g.estimated_value_satang() / 2);
      *c->mutable_replacement()->mutable_gift_report_filed() = g;
      last_gift_.second = g;
    }
    if (!last_progress_.first.empty() && Chance(0.25)) {
      v1::Event* e = New(at + absl::Seconds(1));
      v1::EventCorrected* c = e->mutable_event_corrected();
      c->set_corrected_event_id(last_progress_.first);
      c->set_reason("แก้ไขผลการดำเนินการตามรายงานของฝ่าย");
      v1::MeasureProgressReported p = last_progress_.second;
      p.set_result_text(absl::StrCat(p.result_text(), " (ปรับปรุงข้อมูล)"));
      if (p.result_text().size() < 20) {
        p.set_status(v1::PROGRESS_STATUS_NOT_STARTED);
      }
      *c->mutable_replacement()->mutable_measure_progress_reported() = p;
      last_progress_.first.clear();
    }
    if (!last_evidence_.empty() && Chance(0.1)) {
      v1::Event* e = New(at + absl::Seconds(2));
      e->mutable_event_retracted()->set_retracted_event_id(last_evidence_);
      e->mutable_event_retracted()->set_reason("แนบภาพผิดมาตรการ");
      last_evidence_.clear();
    }
  }

  // --- service requests ---------------------------------------------------

  void ServiceRequests(int64_t target) {
    const absl::Time month_end = At(last_day_, 16, 16);
    // Those carried over from earlier months.
    std::vector<ServiceRequest> carried;
    for (ServiceRequest& r : open_requests_) {
      EmitRequestSteps(r, month_end, &carried);
    }
    open_requests_ = std::move(carried);
    // New requests until the district's share of the volume is reached.
    while (generated_ + static_cast<int64_t>(pending_.size()) < target) {
      const absl::Time at = At(Day(), 8, 15);
      const auto& service = Pick(kServices);
      v1::Event* e = New(at);
      v1::ServiceRequestReceived* r = e->mutable_service_request_received();
      ServiceRequest request;
      request.id = Id("SR");
      request.received = at;
      request.complete_at =
          at + absl::Hours(Chance(0.8) ? Uniform(1, 72) : Uniform(72, 24 * 30));
      r->set_request_id(request.id);
      r->set_service_code(service[0]);
      r->set_service_name(service[1]);
      r->set_channel(Chance(0.55) ? v1::SERVICE_CHANNEL_ONLINE
                                  : v1::SERVICE_CHANNEL_COUNTER);
      SetTime(at, r->mutable_requested_at());
      SetTime(at + absl::Hours(72), r->mutable_expected_at());
      EmitRequestSteps(request, month_end, &open_requests_);
    }
  }

  // Emits the steps of `r` due by `until`; keeps it in `open` if not done.
  void EmitRequestSteps(ServiceRequest& r, absl::Time until,
                        std::vector<ServiceRequest>* open) {
    if (!r.status_sent) {
      const absl::Time at = r.received + absl::Minutes(Uniform(10, 240));
      if (at <= until && at < r.complete_at) {
        v1::Event* e = New(at);
        v1::ServiceRequestStatusChanged* s =
            e->mutable_service_request_status_changed();
        s->set_request_id(r.id);
        s->set_status(Pick(kServiceStatuses));
        SetTime(at, s->mutable_updated_at());
        r.status_sent = true;
      }
    }
    if (r.complete_at <= until && r.complete_at <= limit_) {
      v1::Event* e = New(r.complete_at);
      v1::ServiceRequestCompleted* c = e->mutable_service_request_completed();
      c->set_request_id(r.id);
      SetTime(r.complete_at, c->mutable_completed_at());
      c->set_status_notes("ดำเนินการแล้วเสร็จ");
      return;
    }
    open->push_back(r);
  }

  const DemoCityOptions& options_;
  const domain::District& district_;
  const FrameworkShape& shape_;
  const absl::Time limit_;
  std::mt19937_64 rng_;

  absl::CivilMonth month_;
  absl::CivilDay first_day_;
  absl::CivilDay last_day_;
  std::vector<Timed> pending_;
  int64_t order_ = 0;
  int64_t serial_ = 0;
  int64_t ids_ = 0;
  int64_t generated_ = 0;

  std::map<int, std::vector<Measure>> measures_;
  std::map<int, std::map<v1::Round, std::vector<std::string>>> gifts_;
  std::vector<Complaint> complaints_;
  std::vector<ServiceRequest> open_requests_;
  std::pair<std::string, v1::GiftReportFiled> last_gift_;
  std::pair<std::string, v1::MeasureProgressReported> last_progress_;
  std::string last_evidence_;
};

std::string KindOf(const v1::Event& event) {
  const google::protobuf::FieldDescriptor* field =
      event.GetDescriptor()->FindFieldByNumber(event.payload_case());
  return field == nullptr ? "unknown" : field->name();
}

absl::Status Emit(DemoBatch& batch, const DemoCityOptions& options,
                  const std::function<absl::Status(DemoBatch&)>& emit,
                  DemoCityStats& stats) {
  for (const v1::Event& event : batch.events) {
    ++stats.by_kind[KindOf(event)];
  }
  stats.events += static_cast<int64_t>(batch.events.size());
  ++stats.batches;
  return emit(batch);
}

}  // namespace

absl::StatusOr<DemoCityStats> GenerateDemoCity(
    const DemoCityOptions& options,
    const std::function<absl::Status(DemoBatch&)>& emit) {
  if (options.fiscal_years < 1) {
    return absl::InvalidArgumentError("fiscal_years: must be at least 1");
  }
  const std::vector<v1::FrameworkPublished>& shipped =
      domain::ShippedFrameworks();
  if (shipped.empty()) {
    return absl::FailedPreconditionError("no ITA framework is shipped");
  }
  std::set<int> published = options.published_frameworks;
  if (published.empty()) {
    for (const v1::FrameworkPublished& f : shipped) {
      published.insert(f.fiscal_year());
    }
  }
  // Facts end an hour before `now`, so no date is in the future.
  const absl::Time limit = options.now - absl::Hours(1);
  const absl::CivilDay today = domain::BangkokDay(limit);
  const int current = domain::FiscalYearOf(today);
  const int first_year = current - options.fiscal_years + 1;

  std::vector<const domain::District*> districts;
  if (options.districts.empty()) {
    for (const domain::District& d : domain::Districts()) {
      districts.push_back(&d);
    }
  } else {
    for (const std::string& code : options.districts) {
      const domain::District* d = domain::FindDistrict(code);
      if (d == nullptr) {
        return absl::InvalidArgumentError(
            absl::StrCat("districts: unknown district code \"", code, "\""));
      }
      districts.push_back(d);
    }
  }

  DemoCityStats stats;
  // The frameworks of the years the city has none for: the latest shipped
  // one's items under the year.
  DemoBatch city;
  city.stream = std::string(domain::kCityStream);
  for (int fy = first_year; fy <= current; ++fy) {
    if (published.count(fy) > 0) {
      continue;
    }
    v1::Event event;
    SetTime(absl::FromCivil(
                absl::CivilSecond(domain::FiscalYearRange(fy).first.year(), 10,
                                  1, 8, 0, 0),
                domain::BangkokTimeZone()),
            event.mutable_occurred_at());
    event.set_event_id(domain::NameBasedUuid(
        absl::StrCat("demo/", options.seed, "/framework/", fy)));
    event.mutable_actor()->set_id(std::string(kDemoActor));
    *event.mutable_framework_published() = shipped.back();
    event.mutable_framework_published()->set_fiscal_year(fy);
    if (absl::FromUnixSeconds(event.occurred_at().seconds()) > limit) {
      SetTime(limit, event.mutable_occurred_at());
    }
    city.events.push_back(std::move(event));
  }
  if (!city.events.empty()) {
    RETURN_IF_ERROR(Emit(city, options, emit, stats));
  }

  const FrameworkShape shape = ShapeOf(shipped.back());
  std::vector<std::unique_ptr<DistrictSim>> sims;
  for (const domain::District* d : districts) {
    sims.push_back(std::make_unique<DistrictSim>(options, *d, shape, limit));
  }
  const absl::CivilMonth first_month(domain::FiscalYearRange(first_year).first);
  const absl::CivilMonth last_month(today);
  const int64_t months = (last_month - first_month) + 1;
  const int64_t per_district =
      options.events / static_cast<int64_t>(districts.size());
  for (absl::CivilMonth m = first_month; m <= last_month; ++m) {
    const int64_t index = (m - first_month) + 1;
    const int64_t target = per_district * index / months;
    for (std::unique_ptr<DistrictSim>& sim : sims) {
      std::vector<v1::Event> events = sim->Month(m, target);
      const std::string& code = districts[&sim - sims.data()]->code;
      for (size_t start = 0; start < events.size();
           start += static_cast<size_t>(options.max_batch_events)) {
        DemoBatch batch;
        batch.stream = code;
        const size_t end =
            std::min(events.size(),
                     start + static_cast<size_t>(options.max_batch_events));
        batch.events.assign(std::make_move_iterator(events.begin() + start),
                            std::make_move_iterator(events.begin() + end));
        RETURN_IF_ERROR(Emit(batch, options, emit, stats));
      }
    }
  }
  return stats;
}

}  // namespace prongsai::reports

#include "projections/reports/progress_projection.h"

#include "projections/reports/view_rows.pb.h"

namespace prongsai::reports {
namespace {

std::string PositionSuffix(uint64_t position) {
  std::string out;
  AppendPosition(position, &out);
  return out;
}

void SetStamp(const Fact& fact, Stamp* stamp) {
  stamp->set_position(fact.position);
  stamp->set_occurred_seconds(fact.occurred_seconds);
  stamp->set_corrected(fact.corrected);
}

}  // namespace

bool ProgressProjection::Tracks(v1::Event::PayloadCase kind) const {
  switch (kind) {
    case v1::Event::kFrameworkPublished:
    case v1::Event::kDistrictRegistered:
    case v1::Event::kScoreRecorded:
    case v1::Event::kImprovementIssueIdentified:
    case v1::Event::kMeasurePlanned:
    case v1::Event::kMeasureProgressReported:
    case v1::Event::kEvidenceAttached:
      return true;
    default:
      return false;
  }
}

absl::StatusOr<std::string> ProgressProjection::Do(
    const Fact& fact, const v1::Event& event, projections::ViewWriter& view) {
  const absl::string_view d = fact.stream;
  std::string key;
  switch (event.payload_case()) {
    case v1::Event::kFrameworkPublished: {
      FrameworkRow row;
      *row.mutable_framework() = event.framework_published();
      SetStamp(fact, row.mutable_stamp());
      key = Key('F', FiscalYearKey(event.framework_published().fiscal_year()));
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kDistrictRegistered: {
      DistrictRow row;
      *row.mutable_district() = event.district_registered();
      SetStamp(fact, row.mutable_stamp());
      key = Key('D', event.district_registered().code());
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kScoreRecorded: {
      const v1::ScoreRecorded& score = event.score_recorded();
      ScoreRow row;
      *row.mutable_score() = score;
      SetStamp(fact, row.mutable_stamp());
      key = Key('S', d, FiscalYearKey(score.fiscal_year()), score.item_code(),
                absl::string_view("\0", 1));
      AppendPosition(fact.position, &key);
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kImprovementIssueIdentified: {
      const v1::ImprovementIssueIdentified& issue =
          event.improvement_issue_identified();
      IssueRow row;
      *row.mutable_issue() = issue;
      SetStamp(fact, row.mutable_stamp());
      key = Key('I', d, FiscalYearKey(issue.fiscal_year()), issue.item_code(),
                absl::string_view("\0", 1));
      AppendPosition(fact.position, &key);
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kMeasurePlanned: {
      const v1::MeasurePlanned& measure = event.measure_planned();
      MeasureRow row;
      *row.mutable_measure() = measure;
      SetStamp(fact, row.mutable_stamp());
      key = Key('M', d, FiscalYearKey(measure.fiscal_year()),
                PositionSuffix(fact.position));
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kMeasureProgressReported: {
      const v1::MeasureProgressReported& progress =
          event.measure_progress_reported();
      ProgressRow row;
      *row.mutable_progress() = progress;
      SetStamp(fact, row.mutable_stamp());
      key = Key('R', d, progress.measure_id(), absl::string_view("\0G", 2),
                PositionSuffix(fact.position));
      WriteRow(view, key, row);
      break;
    }
    case v1::Event::kEvidenceAttached: {
      const v1::EvidenceAttached& evidence = event.evidence_attached();
      if (evidence.subject_case() != v1::EvidenceAttached::kMeasureId) {
        // Evidence of a meeting is not part of a measure's row.
        break;
      }
      EvidenceRow row;
      *row.mutable_evidence() = evidence;
      SetStamp(fact, row.mutable_stamp());
      key = Key('R', d, evidence.measure_id(), absl::string_view("\0V", 2),
                PositionSuffix(fact.position));
      WriteRow(view, key, row);
      break;
    }
    default:
      break;
  }
  return key;
}

absl::Status ProgressProjection::Undo(const Fact& fact, absl::string_view key,
                                      projections::ViewWriter& view) {
  if (!key.empty()) {
    view.Delete(key);
  }
  return absl::OkStatus();
}

}  // namespace prongsai::reports

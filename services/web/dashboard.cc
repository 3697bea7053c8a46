#include "services/web/dashboard.h"

#include <httplib.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/audit/checkpoint.h"
#include "core/audit/export.h"
#include "core/audit/note.h"
#include "core/domain/reference.h"
#include "projections/service_sla/service_sla_projection.h"
#include "projections/service_sla/sla_reader.h"
#include "services/oss_bridge/catalog.h"
#include "prongsai/v1/record.pb.h"

namespace prongsai::web {
namespace {

struct EmbeddedAsset {
  absl::string_view name;
  absl::string_view content;
};

// Generated from web/ at build time.
#include "web_assets.inc"

// How many signed checkpoints of a stream a downloaded export carries (the
// newest; `prongsai verify` checks each is consistent with the records).
constexpr size_t kExportCheckpoints = 16;

// The actor of the generated demo city (projections/reports/demo_city.h).
constexpr absl::string_view kDemoActor = "demo-generator";
// How long one live stream lasts before the browser reconnects: keeps the
// HTTP worker threads from being held forever by idle tabs.
constexpr absl::Duration kLiveStreamLifetime = absl::Minutes(5);
constexpr absl::Duration kLiveTick = absl::Seconds(1);
constexpr int kHeartbeatTicks = 15;

std::optional<absl::string_view> Asset(absl::string_view name) {
  for (const EmbeddedAsset& asset : kAssets) {
    if (asset.name == name) {
      return asset.content;
    }
  }
  return std::nullopt;
}

std::string ContentTypeOf(absl::string_view name) {
  if (absl::EndsWith(name, ".css")) {
    return "text/css; charset=utf-8";
  }
  if (absl::EndsWith(name, ".js")) {
    return "text/javascript; charset=utf-8";
  }
  return "text/html; charset=utf-8";
}

std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(&out, "\\u00",
                          absl::Hex(static_cast<unsigned char>(c),
                                    absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

void SendError(int status, absl::string_view code, absl::string_view message,
               httplib::Response& res) {
  res.status = status;
  res.set_content(absl::StrCat("{\"code\":", JsonString(code),
                               ",\"message\":", JsonString(message), "}\n"),
                  "application/json; charset=utf-8");
}

// The figures of a period as JSON; onTimeRate is the share (percent) of the
// requests completed with a deadline that met it, null when none did.
std::string SlaFiguresJson(const service_sla::SlaFigures& f) {
  const int64_t judged = f.on_time + f.late;
  return absl::StrCat(
      "{\"received\":", f.received, ",\"completed\":", f.completed,
      ",\"onTime\":", f.on_time, ",\"late\":", f.late,
      ",\"closedWithoutCompletion\":", f.closed_without_completion,
      ",\"backlog\":", f.backlog, ",\"medianDays\":",
      f.median_days.has_value() ? absl::StrCat(*f.median_days)
                                : std::string("null"),
      ",\"onTimeRate\":",
      judged > 0 ? absl::StrCat(std::round(1000.0 * f.on_time / judged) / 10)
                 : std::string("null"),
      "}");
}

std::string Rfc3339(absl::Time t) {
  return absl::FormatTime(absl::RFC3339_sec, t, absl::UTCTimeZone());
}

// Whether the log holds demo data: scans the records not seen yet, once,
// and stops at the first one by the demo actor.
class DemoDetector {
 public:
  explicit DemoDetector(log::EventLog* log) : log_(log) {}

  bool Demo() {
    absl::MutexLock lock(&mu_);
    if (demo_) {
      return true;
    }
    const uint64_t last = log_->LastPosition();
    if (last <= scanned_) {
      return false;
    }
    v1::Record record;
    absl::Status status =
        log_->Scan(scanned_ + 1, [&](const log::LogEntry& entry) {
          scanned_ = entry.position;
          if (record.ParseFromArray(entry.record_bytes.data(),
                                    static_cast<int>(entry.record_bytes.size())) &&
              record.event().actor().id() == kDemoActor) {
            demo_ = true;
            return false;
          }
          return entry.position < last;
        });
    if (!status.ok()) {
      // Tried again on the next request.
      scanned_ = std::min(scanned_, last);
    }
    return demo_;
  }

 private:
  log::EventLog* const log_;
  absl::Mutex mu_;
  uint64_t scanned_ ABSL_GUARDED_BY(mu_) = 0;
  bool demo_ ABSL_GUARDED_BY(mu_) = false;
};

// The least position every view has consumed.
uint64_t ViewPosition(projections::ProjectionRunner& runner) {
  std::optional<uint64_t> least;
  for (const projections::ProjectionStatus& s : runner.Status()) {
    least = least.has_value() ? std::min(*least, s.position) : s.position;
  }
  return least.value_or(0);
}

class Dashboard {
 public:
  explicit Dashboard(const DashboardContext& context)
      : context_(context), demo_(context.log) {}

  void About(httplib::Response& res) {
    const bool demo = demo_.Demo();
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        absl::StrCat("{\"demo\":", demo ? "true" : "false",
                     ",\"demoActor\":", JsonString(kDemoActor),
                     ",\"logPosition\":", context_.log->LastPosition(),
                     ",\"viewPosition\":", ViewPosition(*context_.runner),
                     ",\"now\":", JsonString(Rfc3339(absl::Now())), "}\n"),
        "application/json; charset=utf-8");
  }

  // Server-sent events: "position" with the log position the views have
  // consumed, first right away and then whenever it advances.
  void Live(const httplib::Server& server, httplib::Response& res) {
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    log::EventLog* log = context_.log;
    projections::ProjectionRunner* runner = context_.runner;
    auto sent = std::make_shared<std::optional<uint64_t>>();
    auto ticks = std::make_shared<int>(0);
    const absl::Time end = absl::Now() + kLiveStreamLifetime;
    res.set_chunked_content_provider(
        "text/event-stream",
        [&server, log, runner, sent, ticks, end](size_t,
                                                 httplib::DataSink& sink) {
          if (!server.is_running() || absl::Now() > end) {
            sink.done();
            return true;
          }
          if (!sent->has_value()) {
            const uint64_t position = ViewPosition(*runner);
            *sent = position;
            const std::string event =
                absl::StrCat("retry: 1000\nevent: position\ndata: ", position,
                             "\n\n");
            return sink.write(event.data(), event.size());
          }
          const absl::Time deadline = absl::Now() + kLiveTick;
          const uint64_t target = log->WaitForPosition(**sent + 1, deadline);
          if (target > **sent && runner->WaitForPosition(target, deadline)) {
            *sent = target;
            *ticks = 0;
            const std::string event =
                absl::StrCat("event: position\ndata: ", target, "\n\n");
            return sink.write(event.data(), event.size());
          }
          if (++*ticks >= kHeartbeatTicks) {
            *ticks = 0;
            constexpr absl::string_view kPing = ": ping\n\n";
            return sink.write(kPing.data(), kPing.size());
          }
          return true;
        });
  }

  // The meetings a district recorded in a fiscal year (all when fy is 0),
  // newest first.
  void Meetings(const std::string& district, int fiscal_year,
                httplib::Response& res) {
    std::vector<const v1::Record*> kept;
    std::vector<std::unique_ptr<v1::Record>> records;
    absl::Status status = context_.log->ReadStream(
        district, 1, [&](const log::LogEntry& entry) {
          auto record = std::make_unique<v1::Record>();
          if (record->ParseFromArray(
                  entry.record_bytes.data(),
                  static_cast<int>(entry.record_bytes.size())) &&
              record->event().has_meeting_held()) {
            const v1::Date& date = record->event().meeting_held().date();
            // Fiscal year (Buddhist era) starts on 1 October.
            const int fy = date.year() + 543 + (date.month() >= 10 ? 1 : 0);
            if (fiscal_year == 0 || fy == fiscal_year) {
              records.push_back(std::move(record));
            }
          }
          return true;
        });
    if (!status.ok()) {
      SendError(503, "UNAVAILABLE", status.message(), res);
      return;
    }
    std::string items;
    for (auto it = records.rbegin(); it != records.rend(); ++it) {
      const v1::MeetingHeld& m = (*it)->event().meeting_held();
      std::string agenda;
      for (const v1::AgendaItem& item : m.agenda_items()) {
        absl::StrAppend(&agenda, agenda.empty() ? "" : ",",
                        JsonString(item.text()));
      }
      absl::StrAppend(
          &items, items.empty() ? "" : ",", "{\"meetingId\":",
          JsonString(m.meeting_id()), ",\"kind\":",
          JsonString(v1::MeetingKind_Name(m.kind())), ",\"title\":",
          JsonString(m.title()), ",\"date\":{\"year\":", m.date().year(),
          ",\"month\":", m.date().month(), ",\"day\":", m.date().day(),
          "},\"attendees\":", m.attendees(), ",\"agenda\":[", agenda, "]}");
    }
    res.set_content(absl::StrCat("{\"district\":", JsonString(district),
                                 ",\"fiscalYear\":", fiscal_year,
                                 ",\"meetings\":[", items, "]}\n"),
                    "application/json; charset=utf-8");
  }

  // BMA OSS service timeliness of a fiscal year (all years when 0): with an
  // empty district, the city total and one entry per district; with a
  // district, its total and one entry per service, named from the catalog.
  void Services(const std::string& district, int fiscal_year,
                httplib::Response& res) {
    absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> snapshot =
        context_.runner->Snapshot();
    if (!snapshot.ok()) {
      SendError(503, "UNAVAILABLE", snapshot.status().message(), res);
      return;
    }
    const projections::ViewReader& view =
        (*snapshot)->view(service_sla::kServiceSlaView);
    const bool city = district.empty();
    absl::StatusOr<std::vector<service_sla::SlaSeries>> totals =
        service_sla::ReadServiceSla(view, {.district = district,
                                           .fiscal_year = fiscal_year,
                                           .merge_services = true,
                                           .merge_districts = true});
    absl::StatusOr<std::vector<service_sla::SlaSeries>> parts =
        service_sla::ReadServiceSla(view, {.district = district,
                                           .fiscal_year = fiscal_year,
                                           .merge_services = city,
                                           .merge_districts = !city});
    if (!totals.ok() || !parts.ok()) {
      const absl::Status& error =
          totals.ok() ? parts.status() : totals.status();
      SendError(503, "UNAVAILABLE", error.message(), res);
      return;
    }
    const oss::ServiceCatalog& catalog = oss::ServiceCatalog::Shipped();
    std::string entries;
    for (const service_sla::SlaSeries& series : *parts) {
      absl::StrAppend(&entries, entries.empty() ? "" : ",", "{");
      if (city) {
        const domain::District* d = domain::FindDistrict(series.district);
        absl::StrAppend(&entries, "\"district\":", JsonString(series.district),
                        ",\"name\":{\"th\":",
                        JsonString(d != nullptr ? d->name_th : ""),
                        ",\"en\":", JsonString(d != nullptr ? d->name_en : ""),
                        "}");
      } else {
        const oss::CatalogService* s = catalog.Find(series.service_code);
        absl::StrAppend(
            &entries, "\"serviceCode\":", JsonString(series.service_code),
            ",\"name\":{\"th\":",
            JsonString(s != nullptr ? s->name_th : series.service_code),
            ",\"en\":",
            JsonString(s != nullptr ? s->name_en : series.service_code),
            "},\"standardDays\":",
            s != nullptr ? absl::StrCat(s->standard_days) : "null");
      }
      absl::StrAppend(&entries, ",\"figures\":", SlaFiguresJson(series.total),
                      "}");
    }
    const service_sla::SlaFigures none;
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        absl::StrCat("{\"district\":", city ? "null" : JsonString(district),
                     ",\"fiscalYear\":", fiscal_year, ",\"position\":",
                     (*snapshot)->position(service_sla::kServiceSlaView),
                     ",\"total\":",
                     SlaFiguresJson(totals->empty() ? none : totals->front().total),
                     city ? ",\"districts\":[" : ",\"services\":[", entries,
                     "]}\n"),
        "application/json; charset=utf-8");
  }

  // The export file of a stream for `prongsai verify`: its recent signed
  // checkpoints and every record up to the latest one, as stored.
  void Export(const std::string& stream, httplib::Response& res) {
    if (context_.checkpointer == nullptr) {
      SendError(404, "NOT_FOUND", "this server keeps no checkpoints", res);
      return;
    }
    absl::StatusOr<std::vector<audit_service::SignedCheckpoint>> history =
        context_.checkpointer->History(stream, kExportCheckpoints);
    if (!history.ok()) {
      SendError(503, "UNAVAILABLE", history.status().message(), res);
      return;
    }
    if (history->empty()) {
      SendError(404, "NOT_FOUND",
                absl::StrCat("stream ", stream,
                             " has no signed checkpoint yet; try again after "
                             "the next checkpoint round"),
                res);
      return;
    }
    const uint64_t size = history->back().checkpoint.size;
    std::string body;
    audit::ExportEncoder encoder(&body, stream);
    for (const audit_service::SignedCheckpoint& c : *history) {
      if (absl::Status status = encoder.AddCheckpoint(c.note); !status.ok()) {
        SendError(500, "INTERNAL", status.message(), res);
        return;
      }
    }
    absl::Status read = context_.log->ReadStream(
        stream, 1, [&](const log::LogEntry& entry) {
          if (entry.sequence > size) {
            return false;
          }
          encoder.AddRecord(entry.position, entry.sequence, entry.hash,
                            entry.record_bytes);
          return entry.sequence < size;
        });
    if (!read.ok()) {
      SendError(503, "UNAVAILABLE", read.message(), res);
      return;
    }
    encoder.Finish();
    res.set_header("Cache-Control", "no-store");
    res.set_header("Content-Disposition",
                   absl::StrCat("attachment; filename=\"", stream,
                                ".prongsai-export\""));
    res.set_content(std::move(body), "application/octet-stream");
  }

  // The stream's latest signed checkpoint, its signature checked now against
  // the server's verifier key, and whether it covers every stored record.
  void Audit(const std::string& stream, httplib::Response& res) {
    const std::string server =
        context_.grpc_address.empty() ? std::string("HOST:PORT")
                                      : context_.grpc_address;
    const std::string file = absl::StrCat(stream, ".prongsai-export");
    std::string body = absl::StrCat(
        "{\"stream\":", JsonString(stream), ",\"exportCommand\":",
        JsonString(absl::StrCat("prongsai export --stream ", stream,
                                " --out ", file, " --server ", server)),
        ",\"downloadPath\":",
        JsonString(absl::StrCat("/v1/districts/", stream, "/export")),
        ",\"verifyCommand\":",
        JsonString(absl::StrCat(
            "prongsai verify ", file, " --key ",
            context_.checkpointer != nullptr
                ? absl::StrCat("'", context_.checkpointer->VerifierKey(), "'")
                : std::string("KEY"))));
    absl::StatusOr<log::StreamHead> head = context_.log->LoadHead(stream);
    if (head.ok()) {
      absl::StrAppend(&body, ",\"records\":", head->sequence);
    }
    if (context_.checkpointer == nullptr) {
      absl::StrAppend(&body, ",\"checkpoint\":null}\n");
      res.set_content(body, "application/json; charset=utf-8");
      return;
    }
    const std::string key = context_.checkpointer->VerifierKey();
    absl::StrAppend(&body, ",\"verifierKey\":", JsonString(key));
    absl::StatusOr<std::optional<audit_service::SignedCheckpoint>> latest =
        context_.checkpointer->Latest(stream);
    if (!latest.ok()) {
      SendError(503, "UNAVAILABLE", latest.status().message(), res);
      return;
    }
    if (!latest->has_value()) {
      absl::StrAppend(&body, ",\"checkpoint\":null}\n");
      res.set_content(body, "application/json; charset=utf-8");
      return;
    }
    const audit_service::SignedCheckpoint& signed_checkpoint = **latest;
    bool verified = false;
    std::string problem;
    absl::StatusOr<audit::NoteVerifier> verifier =
        audit::NoteVerifier::Parse(key);
    if (verifier.ok()) {
      absl::StatusOr<audit::Note> note = audit::OpenNote(
          signed_checkpoint.note, absl::MakeConstSpan(&*verifier, 1));
      verified = note.ok() && !note->verified.empty();
      if (!note.ok()) {
        problem = std::string(note.status().message());
      }
    } else {
      problem = std::string(verifier.status().message());
    }
    const audit::Checkpoint& c = signed_checkpoint.checkpoint;
    absl::StrAppend(
        &body, ",\"checkpoint\":{\"origin\":", JsonString(c.origin),
        ",\"treeSize\":", c.size, ",\"rootBase64\":",
        JsonString(audit::Base64Encode(absl::string_view(
            reinterpret_cast<const char*>(c.root.data()), c.root.size()))),
        ",\"note\":", JsonString(signed_checkpoint.note),
        ",\"signatureValid\":", verified ? "true" : "false",
        ",\"checkedAt\":", JsonString(Rfc3339(absl::Now())),
        problem.empty() ? std::string()
                        : absl::StrCat(",\"problem\":", JsonString(problem)),
        "}}\n");
    res.set_header("Cache-Control", "no-store");
    res.set_content(body, "application/json; charset=utf-8");
  }

 private:
  const DashboardContext context_;
  DemoDetector demo_;
};

bool IsDistrict(absl::string_view code) {
  return domain::FindDistrict(code) != nullptr;
}

// The optional "fy" parameter (0 when absent); answers 400 and gives
// nullopt when it is not a fiscal year.
std::optional<int> FiscalYearParam(const httplib::Request& req,
                                   httplib::Response& res) {
  int fy = 0;
  if (req.has_param("fy") &&
      (!absl::SimpleAtoi(req.get_param_value("fy"), &fy) || fy < 0)) {
    SendError(400, "INVALID_ARGUMENT",
              absl::StrCat("fy: \"", req.get_param_value("fy"),
                           "\" is not a fiscal year"),
              res);
    return std::nullopt;
  }
  return fy;
}

void SendPage(httplib::Response& res) {
  std::optional<absl::string_view> page = Asset("index.html");
  res.set_header("Cache-Control", "no-cache");
  res.set_content(std::string(page.value_or("")), "text/html; charset=utf-8");
}

}  // namespace

void RegisterDashboard(httplib::Server& server,
                       const DashboardContext& context) {
  auto dashboard = std::make_shared<Dashboard>(context);
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    SendPage(res);
  });
  server.Get(R"(/districts/([^/]+)/?)",
             [](const httplib::Request& req, httplib::Response& res) {
               const std::string code = req.matches[1].str();
               if (!IsDistrict(code)) {
                 SendError(404, "NOT_FOUND",
                           absl::StrCat("no district with code \"", code,
                                        "\"; codes run from 1001 to 1050"),
                           res);
                 return;
               }
               SendPage(res);
             });
  server.Get(R"(/assets/([A-Za-z0-9_.-]+))",
             [](const httplib::Request& req, httplib::Response& res) {
               const std::string name = req.matches[1].str();
               std::optional<absl::string_view> asset = Asset(name);
               if (!asset.has_value() || name == "index.html") {
                 SendError(404, "NOT_FOUND",
                           absl::StrCat("no such asset: ", name), res);
                 return;
               }
               res.set_header("Cache-Control", "no-cache");
               res.set_content(std::string(*asset), ContentTypeOf(name));
             });
  server.Get("/v1/about",
             [dashboard](const httplib::Request&, httplib::Response& res) {
               dashboard->About(res);
             });
  server.Get("/v1/live", [dashboard, &server](const httplib::Request&,
                                              httplib::Response& res) {
    dashboard->Live(server, res);
  });
  // The routes of one stream: a district, or with `city` also the city
  // stream; anything else is answered 404 before `handle` runs.
  auto stream_route = [&server](const std::string& pattern, bool city,
                                auto handle) {
    server.Get(pattern, [city, handle](const httplib::Request& req,
                                       httplib::Response& res) {
      const std::string code = req.matches[1].str();
      if (!IsDistrict(code) && !(city && code == domain::kCityStream)) {
        SendError(404, "NOT_FOUND",
                  absl::StrCat("no district with code \"", code, "\""), res);
        return;
      }
      handle(code, req, res);
    });
  };
  stream_route(R"(/v1/districts/([^/]+)/meetings)", false,
               [dashboard](const std::string& code, const httplib::Request& req,
                           httplib::Response& res) {
                 if (std::optional<int> fy = FiscalYearParam(req, res)) {
                   dashboard->Meetings(code, *fy, res);
                 }
               });
  stream_route(R"(/v1/districts/([^/]+)/services)", false,
               [dashboard](const std::string& code, const httplib::Request& req,
                           httplib::Response& res) {
                 if (std::optional<int> fy = FiscalYearParam(req, res)) {
                   dashboard->Services(code, *fy, res);
                 }
               });
  stream_route(R"(/v1/districts/([^/]+)/audit)", true,
               [dashboard](const std::string& code, const httplib::Request&,
                           httplib::Response& res) {
                 dashboard->Audit(code, res);
               });
  stream_route(R"(/v1/districts/([^/]+)/export)", true,
               [dashboard](const std::string& code, const httplib::Request&,
                           httplib::Response& res) {
                 dashboard->Export(code, res);
               });
  server.Get("/v1/city/services",
             [dashboard](const httplib::Request& req, httplib::Response& res) {
               if (std::optional<int> fy = FiscalYearParam(req, res)) {
                 dashboard->Services("", *fy, res);
               }
             });
}

}  // namespace prongsai::web

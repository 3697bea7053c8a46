#include "services/query/http_server.h"

#include <httplib.h>

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/base/status.h"
#include "core/domain/calendar.h"
#include "core/security/http_guard.h"
#include "core/security/policy.h"
#include "services/http/listener.h"
#include "services/query/render.h"

namespace prongsai::query {
namespace {

std::string CodeName(absl::StatusCode code) {
  return absl::StatusCodeToString(code);
}

// JSON string literal of `text` (UTF-8 passes through).
std::string JsonString(absl::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppend(
              &out, "\\u00",
              absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

void SendError(const absl::Status& status, httplib::Response& res) {
  res.status = HttpStatusOf(status.code());
  res.set_content(
      absl::StrCat("{\"code\":", JsonString(CodeName(status.code())),
                   ",\"message\":", JsonString(status.message()), "}\n"),
      "application/json; charset=utf-8");
}

absl::StatusOr<int> IntParam(const httplib::Request& req,
                             const std::string& name) {
  if (!req.has_param(name.c_str())) {
    return 0;
  }
  const std::string value = req.get_param_value(name.c_str());
  int out = 0;
  if (!absl::SimpleAtoi(value, &out)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": \"", value, "\" is not a number"));
  }
  return out;
}

// Fills the read options every query takes.
absl::Status ReadParams(const httplib::Request& req, absl::Time now,
                        v1::ReadOptions* read) {
  if (req.has_param("as_of")) {
    RETURN_IF_ERROR(
        ParseAsOf(req.get_param_value("as_of"), now, read->mutable_as_of()));
  }
  if (req.has_param("min_position")) {
    const std::string value = req.get_param_value("min_position");
    uint64_t position = 0;
    if (!absl::SimpleAtoi(value, &position)) {
      return absl::InvalidArgumentError(
          absl::StrCat("min_position: \"", value, "\" is not a log position"));
    }
    read->set_min_position(position);
  }
  if (req.has_param("wait")) {
    const std::string value = req.get_param_value("wait");
    absl::Duration wait;
    if (!absl::ParseDuration(value, &wait) || wait < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "wait: \"", value, "\" is not a duration; e.g. 5s or 500ms"));
    }
    read->mutable_wait_timeout()->set_seconds(
        absl::IDivDuration(wait, absl::Seconds(1), &wait));
    read->mutable_wait_timeout()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(wait)));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Round> RoundParam(const httplib::Request& req,
                                     bool required) {
  if (!req.has_param("round")) {
    if (required) {
      return absl::InvalidArgumentError(
          "round: required; H1 (October - March), H2 (April - September) or "
          "FULL_YEAR");
    }
    return v1::ROUND_UNSPECIFIED;
  }
  return ParseRound(req.get_param_value("round"));
}

class HttpServerImpl final : public HttpServer {
 public:
  HttpServerImpl(ReportQueries* queries, projections::ProjectionRunner* runner,
                 HttpOptions options)
      : queries_(queries),
        runner_(runner),
        options_(WithGuard(std::move(options))),
        server_(
            options_.tls_cert.empty()
                ? std::make_unique<httplib::Server>()
                : std::make_unique<httplib::SSLServer>(
                      options_.tls_cert.c_str(), options_.tls_key.c_str())) {}

  ~HttpServerImpl() override { Stop(); }

  int port() const override { return port_; }

  void Stop() override { listener_.Stop(); }

  absl::Status Bind() {
    const size_t colon = options_.listen.rfind(':');
    int port = 0;
    if (colon == std::string::npos ||
        !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port) ||
        port < 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat(
          "HTTP listen address \"", options_.listen, "\" is not host:port"));
    }
    const std::string host = options_.listen.substr(0, colon);
    if (!server_->is_valid()) {
      return absl::InvalidArgumentError(
          absl::StrCat("HTTPS: the certificate ", options_.tls_cert,
                       " or the key ", options_.tls_key, " does not load"));
    }
    const auto timeout = absl::ToChronoMilliseconds(options_.io_timeout);
    server_->set_read_timeout(timeout);
    server_->set_write_timeout(timeout);
    server_->set_payload_max_length(options_.max_body_bytes);
    Routes();
    if (port == 0) {
      port_ = server_->bind_to_any_port(host);
    } else {
      port_ = server_->bind_to_port(host, port) ? port : -1;
    }
    if (port_ <= 0) {
      return absl::UnavailableError(
          absl::StrCat("could not listen for HTTP on ", options_.listen));
    }
    listener_.Start(*server_);
    return absl::OkStatus();
  }

 private:
  static HttpOptions WithGuard(HttpOptions options) {
    if (options.guard == nullptr) {
      options.guard = &security::Guard::InsecureDev();
    }
    return options;
  }

  // What the request's principal may see; the guard in front of every route
  // has already let it through.
  Reader ReaderOf(
      const httplib::Request& req = {}, absl::string_view district = "",
      std::optional<security::PersonalKind> personal = std::nullopt) const {
    Reader reader;
    if (personal.has_value()) {
      absl::StatusOr<security::Principal> who =
          security::HttpPrincipal(*options_.guard, req);
      reader.may_see_personal_data =
          who.ok() && security::MaySeePersonal(*who, *personal, district);
    }
    return reader;
  }

  // Answers `message` as JSON, or its error.
  template <typename T>
  void SendJson(const absl::StatusOr<T>& answer, httplib::Response& res) {
    if (!answer.ok()) {
      SendError(answer.status(), res);
      return;
    }
    absl::StatusOr<std::string> json = ToJson(*answer);
    if (!json.ok()) {
      SendError(json.status(), res);
      return;
    }
    res.set_header("X-Prongsai-Position",
                   absl::StrCat(answer->reflects().position()));
    res.set_content(*json, "application/json; charset=utf-8");
  }

  void ItaReport(const httplib::Request& req, httplib::Response& res) {
    const absl::Time now = queries_->options().clock();
    v1::ItaReportRequest request;
    request.set_district(req.matches[1].str());
    absl::StatusOr<int> fy = IntParam(req, "fy");
    absl::StatusOr<v1::Round> round = RoundParam(req, true);
    absl::StatusOr<ReportFormat> format = ParseFormat(
        req.has_param("format") ? req.get_param_value("format") : "json");
    absl::Status read = ReadParams(req, now, request.mutable_read());
    for (const absl::Status& s :
         {fy.status(), round.status(), format.status(), read}) {
      if (!s.ok()) {
        SendError(s, res);
        return;
      }
    }
    request.set_fiscal_year(*fy);
    request.set_round(*round);
    absl::StatusOr<v1::ItaReport> report =
        queries_->ItaReport(request, ReaderOf());
    if (!report.ok()) {
      SendError(report.status(), res);
      return;
    }
    HtmlOptions html;
    html.english = req.get_param_value("lang") == "en";
    absl::StatusOr<std::string> body = RenderItaReport(*report, *format, html);
    if (!body.ok()) {
      SendError(body.status(), res);
      return;
    }
    res.set_header("X-Prongsai-Position",
                   absl::StrCat(report->reflects().position()));
    if (*format == ReportFormat::kCsv || *format == ReportFormat::kXlsx) {
      res.set_header("Content-Disposition",
                     absl::StrCat("attachment; filename=\"",
                                  ReportFileName(*report, *format), "\""));
    }
    res.set_content(*body, std::string(ContentType(*format)));
  }

  void Scorecard(const httplib::Request& req, httplib::Response& res) {
    v1::ScorecardRequest request;
    request.set_district(req.matches[1].str());
    absl::StatusOr<int> fy = IntParam(req, "fy");
    absl::Status read =
        ReadParams(req, queries_->options().clock(), request.mutable_read());
    if (!fy.ok() || !read.ok()) {
      SendError(fy.ok() ? read : fy.status(), res);
      return;
    }
    request.set_fiscal_year(*fy);
    SendJson(queries_->Scorecard(request, ReaderOf()), res);
  }

  void GiftRegister(const httplib::Request& req, httplib::Response& res,
                    std::string district) {
    v1::GiftRegisterRequest request;
    request.set_district(std::move(district));
    absl::StatusOr<int> fy = IntParam(req, "fy");
    absl::StatusOr<v1::Round> round = RoundParam(req, true);
    absl::Status read =
        ReadParams(req, queries_->options().clock(), request.mutable_read());
    for (const absl::Status& s : {fy.status(), round.status(), read}) {
      if (!s.ok()) {
        SendError(s, res);
        return;
      }
    }
    request.set_fiscal_year(*fy);
    request.set_round(*round);
    SendJson(queries_->GiftRegister(
                 request, ReaderOf(req, request.district(),
                                   security::PersonalKind::kGiftGiver)),
             res);
  }

  void Complaints(const httplib::Request& req, httplib::Response& res,
                  std::string district) {
    v1::ComplaintStatsRequest request;
    request.set_district(std::move(district));
    absl::StatusOr<int> fy = IntParam(req, "fy");
    absl::StatusOr<v1::Round> round = RoundParam(req, false);
    absl::Status read =
        ReadParams(req, queries_->options().clock(), request.mutable_read());
    for (const absl::Status& s : {fy.status(), round.status(), read}) {
      if (!s.ok()) {
        SendError(s, res);
        return;
      }
    }
    request.set_fiscal_year(*fy);
    request.set_round(*round);
    SendJson(queries_->ComplaintStats(
                 request, ReaderOf(req, request.district(),
                                   security::PersonalKind::kComplainant)),
             res);
  }

  void Overview(const httplib::Request& req, httplib::Response& res) {
    v1::CityOverviewRequest request;
    absl::StatusOr<int> fy = IntParam(req, "fy");
    absl::Status read =
        ReadParams(req, queries_->options().clock(), request.mutable_read());
    if (!fy.ok() || !read.ok()) {
      SendError(fy.ok() ? read : fy.status(), res);
      return;
    }
    request.set_fiscal_year(*fy);
    SendJson(queries_->CityOverview(request, ReaderOf()), res);
  }

  void Health(httplib::Response& res) {
    std::string views;
    bool healthy = true;
    for (const projections::ProjectionStatus& s : runner_->Status()) {
      healthy = healthy && s.error.empty();
      absl::StrAppend(
          &views, views.empty() ? "" : ",", "{\"name\":", JsonString(s.name),
          ",\"position\":", s.position, ",\"logPosition\":", s.log_position,
          s.error.empty() ? std::string()
                          : absl::StrCat(",\"error\":", JsonString(s.error)),
          "}");
    }
    res.status = healthy ? 200 : 503;
    res.set_content(absl::StrCat("{\"status\":\"", healthy ? "ok" : "degraded",
                                 "\",\"views\":[", views, "]}\n"),
                    "application/json; charset=utf-8");
  }

  void Font(const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1].str();
    std::ifstream in(absl::StrCat(options_.font_dir, "/", name),
                     std::ios::binary);
    if (!in) {
      SendError(absl::NotFoundError(absl::StrCat("font ", name,
                                                 " is not installed (package "
                                                 "fonts-thai-tlwg)")),
                res);
      return;
    }
    std::ostringstream bytes;
    bytes << in.rdbuf();
    res.set_header("Cache-Control", "public, max-age=86400");
    res.set_content(bytes.str(), "font/ttf");
  }

  void Routes() {
    // The policy first, in front of every route (this one's and the extra
    // routes alike).
    security::InstallHttpGuard(*server_, *options_.guard);
    httplib::Server& http = *server_;
    const std::string district = R"(/v1/districts/([^/]*))";
    http.Get(district + "/ita-report",
             [this](const httplib::Request& req, httplib::Response& res) {
               ItaReport(req, res);
             });
    http.Get(district + "/scorecard",
             [this](const httplib::Request& req, httplib::Response& res) {
               Scorecard(req, res);
             });
    http.Get(district + "/gift-register",
             [this](const httplib::Request& req, httplib::Response& res) {
               GiftRegister(req, res, req.matches[1].str());
             });
    http.Get(district + "/complaints",
             [this](const httplib::Request& req, httplib::Response& res) {
               Complaints(req, res, req.matches[1].str());
             });
    http.Get("/v1/city/gift-register",
             [this](const httplib::Request& req, httplib::Response& res) {
               GiftRegister(req, res, "");
             });
    http.Get("/v1/city/complaints",
             [this](const httplib::Request& req, httplib::Response& res) {
               Complaints(req, res, "");
             });
    http.Get("/v1/city/overview",
             [this](const httplib::Request& req, httplib::Response& res) {
               Overview(req, res);
             });
    http.Get("/healthz", [this](const httplib::Request&,
                                httplib::Response& res) { Health(res); });
    http.Get(R"(/fonts/([A-Za-z0-9_-]+\.ttf))",
             [this](const httplib::Request& req, httplib::Response& res) {
               Font(req, res);
             });
    if (options_.extra_routes) {
      options_.extra_routes(http);
    }
    http.set_error_handler(
        [](const httplib::Request& req, httplib::Response& res) {
          if (res.body.empty()) {
            const int status = res.status;
            SendError(absl::NotFoundError(absl::StrCat(
                          "no such resource: ", req.method, " ", req.path)),
                      res);
            if (status != 404) {
              res.status = status;
            }
          }
        });
  }

  ReportQueries* const queries_;
  projections::ProjectionRunner* const runner_;
  const HttpOptions options_;
  std::unique_ptr<httplib::Server> server_;
  http::Listener listener_;
  int port_ = 0;
};

}  // namespace

absl::StatusOr<v1::Round> ParseRound(absl::string_view text) {
  const std::string upper = absl::AsciiStrToUpper(text);
  if (upper == "H1" || upper == "ROUND_H1") {
    return v1::ROUND_H1;
  }
  if (upper == "H2" || upper == "ROUND_H2") {
    return v1::ROUND_H2;
  }
  if (upper == "FULL_YEAR" || upper == "ROUND_FULL_YEAR" || upper == "FULL" ||
      upper == "YEAR") {
    return v1::ROUND_FULL_YEAR;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "round: \"", text,
      "\" is not a round; use H1 (October - March), H2 (April - September) "
      "or FULL_YEAR"));
}

absl::Status ParseAsOf(absl::string_view text, absl::Time now,
                       v1::AsOf* as_of) {
  if (text.empty()) {
    return absl::InvalidArgumentError(
        "as_of: empty; give a log position, a date (2025-03-31) or an RFC "
        "3339 time");
  }
  uint64_t position = 0;
  if (absl::SimpleAtoi(text, &position)) {
    as_of->set_position(position);
    return absl::OkStatus();
  }
  absl::Time t;
  std::string error;
  absl::CivilDay day;
  if (absl::ParseCivilTime(text, &day)) {
    // The end of that day in Bangkok; for today, now.
    t = absl::FromCivil(day + 1, domain::BangkokTimeZone()) -
        absl::Nanoseconds(1);
    if (day == domain::BangkokDay(now)) {
      t = now;
    }
  } else if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "as_of: \"", text,
        "\" is neither a log position, a date (2025-03-31) nor an RFC 3339 "
        "time (2025-03-31T17:00:00+07:00)"));
  }
  const int64_t nanos = absl::ToUnixNanos(t);
  as_of->mutable_time()->set_seconds(nanos / 1'000'000'000);
  as_of->mutable_time()->set_nanos(static_cast<int32_t>(nanos % 1'000'000'000));
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(
    ReportQueries* queries, projections::ProjectionRunner* runner,
    HttpOptions options) {
  auto server =
      std::make_unique<HttpServerImpl>(queries, runner, std::move(options));
  RETURN_IF_ERROR(server->Bind());
  return server;
}

}  // namespace prongsai::query

#include "core/security/http_guard.h"

#include <httplib.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/security/policy.h"

namespace prongsai::security {
namespace {

std::optional<absl::string_view> Authorization(const httplib::Request& req) {
  auto it = req.headers.find("Authorization");
  if (it == req.headers.end()) {
    return std::nullopt;
  }
  return absl::string_view(it->second);
}

std::string JsonEscape(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(
          &out, "\\u00",
          absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out.push_back(c);
    }
  }
  return out;
}

void Refuse(const absl::Status& status, httplib::Response& res) {
  res.status = HttpStatusOf(status.code());
  if (status.code() == absl::StatusCode::kUnauthenticated) {
    res.set_header("WWW-Authenticate", "Bearer");
  }
  if (auto retry = status.GetPayload(kRetryAfterPayload); retry.has_value()) {
    int64_t ms = 1000;
    (void)absl::SimpleAtoi(std::string(*retry), &ms);
    res.set_header("Retry-After", std::to_string((ms + 999) / 1000));
  }
  res.set_content(
      absl::StrCat("{\"code\":\"", absl::StatusCodeToString(status.code()),
                   "\",\"message\":\"", JsonEscape(status.message()), "\"}\n"),
      "application/json; charset=utf-8");
}

}  // namespace

void InstallHttpGuard(httplib::Server& server, Guard& guard) {
  server.set_pre_routing_handler([&guard](const httplib::Request& req,
                                          httplib::Response& res) {
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    std::optional<HttpMatch> match = MatchHttp(method, req.path);
    if (!match.has_value()) {
      for (absl::string_view segment : absl::StrSplit(req.path, '/')) {
        if (segment == "." || segment == "..") {
          Refuse(absl::InvalidArgumentError(
                     "path: \".\" and \"..\" segments are not allowed"),
                 res);
          return httplib::Server::HandlerResponse::Handled;
        }
      }
      Refuse(absl::NotFoundError(absl::StrCat("no such resource: ", method, " ",
                                              req.path.substr(0, 200))),
             res);
      return httplib::Server::HandlerResponse::Handled;
    }
    std::vector<std::string> districts;
    if (!match->district.empty()) {
      districts.push_back(match->district);
    }
    absl::StatusOr<Principal> principal =
        guard.Check({.authorization = Authorization(req),
                     .peer = req.remote_addr,
                     .operation = match->rule->operation,
                     .districts = std::move(districts)});
    if (!principal.ok()) {
      Refuse(principal.status(), res);
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
}

absl::StatusOr<Principal> HttpPrincipal(const Guard& guard,
                                        const httplib::Request& req) {
  return guard.Authenticate(Authorization(req));
}

int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kFailedPrecondition:
      return 412;
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}

}  // namespace prongsai::security

#include "services/oss_bridge/open311.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "core/domain/reference.h"
#include "projections/service_sla/service_sla_projection.h"
#include "projections/service_sla/sla_reader.h"
#include "services/oss_bridge/mapping.h"
#include "services/oss_bridge/record.h"

namespace prongsai::oss {
namespace {

using nlohmann::json;
using service_sla::ServiceRequestState;

void SendJson(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // A public read API: browsers of any origin may read it.
  res.set_header("Access-Control-Allow-Origin", "*");
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace),
                  "application/json; charset=utf-8");
}

void SendError(httplib::Response& res, int status,
               const std::string& description) {
  SendJson(res, status,
           json::array({{{"code", status}, {"description", description}}}));
}

std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(value, ',')) {
    part = absl::StripAsciiWhitespace(part);
    if (!part.empty()) {
      out.emplace_back(part);
    }
  }
  return out;
}

class Open311 {
 public:
  Open311(SnapshotSource snapshots, const ServiceCatalog* catalog,
          Open311Options options)
      : snapshots_(std::move(snapshots)),
        catalog_(catalog),
        options_(std::move(options)) {}

  void Services(const httplib::Request& req, httplib::Response& res) const {
    const bool english = req.get_param_value("lang") == "en";
    json out = json::array();
    for (const CatalogService& s : catalog_->services()) {
      std::string description;
      if (english) {
        description =
            s.standard_days == 0
                ? absl::StrCat(s.name_en, ". Standard time: the same day.")
                : absl::StrCat(s.name_en, ". Standard time: ", s.standard_days,
                               " days.");
      } else {
        description =
            s.standard_days == 0
                ? absl::StrCat(s.name_th,
                               " ระยะเวลามาตรฐาน: แล้วเสร็จภายในวันที่ยื่นคำขอ")
                : absl::StrCat(s.name_th, " ระยะเวลามาตรฐาน: ", s.standard_days,
                               " วัน");
      }
      out.push_back({{"service_code", s.code},
                     {"service_name", english ? s.name_en : s.name_th},
                     {"description", description},
                     {"metadata", false},
                     {"type", "realtime"},
                     {"keywords", ""},
                     {"group", english ? s.group_en : s.group_th},
                     {"standard_days", s.standard_days}});
    }
    SendJson(res, 200, out);
  }

  void Requests(const httplib::Request& req, httplib::Response& res) const {
    const bool english = req.get_param_value("lang") == "en";
    std::string district;
    if (!ReadDistrict(req, res, &district)) {
      return;
    }
    const std::vector<std::string> ids =
        SplitList(req.get_param_value("service_request_id"));
    absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> snapshot =
        snapshots_();
    if (!snapshot.ok()) {
      SendError(res, 503, std::string(snapshot.status().message()));
      return;
    }
    const projections::ViewReader& view =
        (*snapshot)->view(service_sla::kServiceSlaView);
    std::vector<ServiceRequestState> found;
    if (!ids.empty()) {
      for (const std::string& id : ids) {
        if (absl::Status status = Lookup(view, district, id, &found);
            !status.ok()) {
          SendError(res, 500, std::string(status.message()));
          return;
        }
      }
      SendJson(res, 200, ToJson(found, english));
      return;
    }

    absl::flat_hash_set<std::string> codes;
    for (std::string& code : SplitList(req.get_param_value("service_code"))) {
      codes.insert(std::move(code));
    }
    bool want_open = true;
    bool want_closed = true;
    if (req.has_param("status")) {
      want_open = false;
      want_closed = false;
      for (const std::string& s : SplitList(req.get_param_value("status"))) {
        const std::string lower = absl::AsciiStrToLower(s);
        if (lower == "open") {
          want_open = true;
        } else if (lower == "closed") {
          want_closed = true;
        } else {
          SendError(
              res, 400,
              absl::StrCat("status: expected open or closed, got \"", s, "\""));
          return;
        }
      }
    }
    absl::Time end = options_.clock();
    if (req.has_param("end_date")) {
      absl::StatusOr<absl::Time> t =
          ParseIsoTime(req.get_param_value("end_date"));
      if (!t.ok()) {
        SendError(res, 400, absl::StrCat("end_date: ", t.status().message()));
        return;
      }
      end = *t;
    }
    absl::Time start = end - options_.default_window;
    if (req.has_param("start_date")) {
      absl::StatusOr<absl::Time> t =
          ParseIsoTime(req.get_param_value("start_date"));
      if (!t.ok()) {
        SendError(res, 400, absl::StrCat("start_date: ", t.status().message()));
        return;
      }
      start = *t;
    }
    if (start > end) {
      SendError(res, 400, "start_date is after end_date");
      return;
    }
    absl::Status scan = service_sla::ScanServiceRequests(
        view, district, [&](const ServiceRequestState& s) {
          if (s.requested < start || s.requested > end) {
            return true;
          }
          if (!codes.empty() && !codes.contains(s.service_code)) {
            return true;
          }
          if (s.closed ? !want_closed : !want_open) {
            return true;
          }
          found.push_back(s);
          return true;
        });
    if (!scan.ok()) {
      SendError(res, 500, std::string(scan.message()));
      return;
    }
    std::sort(found.begin(), found.end(),
              [](const ServiceRequestState& a, const ServiceRequestState& b) {
                return std::tie(b.requested, a.district, a.request_id) <
                       std::tie(a.requested, b.district, b.request_id);
              });
    if (found.size() > static_cast<size_t>(options_.max_requests)) {
      found.resize(static_cast<size_t>(options_.max_requests));
    }
    SendJson(res, 200, ToJson(found, english));
  }

  void Request(const httplib::Request& req, httplib::Response& res) const {
    const bool english = req.get_param_value("lang") == "en";
    std::string district;
    if (!ReadDistrict(req, res, &district)) {
      return;
    }
    const std::string id = req.matches[1];
    absl::StatusOr<std::unique_ptr<projections::ViewSnapshot>> snapshot =
        snapshots_();
    if (!snapshot.ok()) {
      SendError(res, 503, std::string(snapshot.status().message()));
      return;
    }
    std::vector<ServiceRequestState> found;
    if (absl::Status status =
            Lookup((*snapshot)->view(service_sla::kServiceSlaView), district,
                   id, &found);
        !status.ok()) {
      SendError(res, 500, std::string(status.message()));
      return;
    }
    if (found.empty()) {
      SendError(res, 404, absl::StrCat("no service request ", id));
      return;
    }
    SendJson(res, 200, ToJson(found, english));
  }

 private:
  // Reads agency_responsible into a district code ("" when absent); answers
  // 400 and returns false when it names no district.
  bool ReadDistrict(const httplib::Request& req, httplib::Response& res,
                    std::string* district) const {
    if (!req.has_param("agency_responsible")) {
      return true;
    }
    const std::string text = req.get_param_value("agency_responsible");
    const domain::District* d = ResolveDistrict(text);
    if (d == nullptr) {
      SendError(res, 400,
                absl::StrCat("agency_responsible: unknown district \"", text,
                             "\"; give a district code 1001-1050 or its "
                             "Thai or English name"));
      return false;
    }
    *district = d->code;
    return true;
  }

  static absl::Status Lookup(const projections::ViewReader& view,
                             const std::string& district, const std::string& id,
                             std::vector<ServiceRequestState>* found) {
    for (const domain::District& d : domain::Districts()) {
      if (!district.empty() && d.code != district) {
        continue;
      }
      absl::StatusOr<std::optional<ServiceRequestState>> state =
          service_sla::FindServiceRequest(view, d.code, id);
      if (!state.ok()) {
        return state.status();
      }
      if (state->has_value()) {
        found->push_back(std::move(**state));
      }
    }
    return absl::OkStatus();
  }

  json ToJson(const std::vector<ServiceRequestState>& states,
              bool english) const {
    json out = json::array();
    for (const ServiceRequestState& s : states) {
      const CatalogService* service = catalog_->Find(s.service_code);
      const domain::District* d = domain::FindDistrict(s.district);
      std::string agency = s.district;
      if (d != nullptr) {
        agency = english ? absl::StrCat(d->name_en, " District Office")
                         : absl::StrCat("สำนักงานเขต", d->name_th);
      }
      json item = {
          {"service_request_id", s.request_id},
          {"status", s.closed ? "closed" : "open"},
          {"service_code", s.service_code},
          {"service_name", service == nullptr ? s.service_code
                           : english          ? service->name_en
                                              : service->name_th},
          {"agency_responsible", agency},
          {"requested_datetime", FormatBangkok(s.requested)},
          {"updated_datetime", FormatBangkok(s.updated)},
      };
      if (s.expected.has_value()) {
        item["expected_datetime"] = FormatBangkok(*s.expected);
      }
      out.push_back(std::move(item));
    }
    return out;
  }

  const SnapshotSource snapshots_;
  const ServiceCatalog* const catalog_;
  const Open311Options options_;
};

}  // namespace

void RegisterOpen311Routes(httplib::Server& server, SnapshotSource snapshots,
                           const ServiceCatalog* catalog,
                           Open311Options options) {
  auto handler = std::make_shared<Open311>(std::move(snapshots), catalog,
                                           std::move(options));
  server.Get("/open311/v2/services.json",
             [handler](const httplib::Request& req, httplib::Response& res) {
               handler->Services(req, res);
             });
  server.Get("/open311/v2/requests.json",
             [handler](const httplib::Request& req, httplib::Response& res) {
               handler->Requests(req, res);
             });
  server.Get(R"(/open311/v2/requests/([^/]+)\.json)",
             [handler](const httplib::Request& req, httplib::Response& res) {
               handler->Request(req, res);
             });
}

}  // namespace prongsai::oss

#include "services/cli/report_commands.h"

#include <grpcpp/grpcpp.h>

#include <filesystem>
#include <fstream>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prongsai/v1/reports.grpc.pb.h"
#include "services/query/http_server.h"
#include "services/query/render.h"
#include "services/cli/dial.h"

namespace prongsai::cli {
namespace {

constexpr int kExitError = 1;
constexpr int kExitUsage = 2;
constexpr absl::Duration kCallTimeout = absl::Seconds(60);

int Fail(const absl::Status& status) {
  std::cerr << "error: " << status.message() << "\n";
  return status.code() == absl::StatusCode::kInvalidArgument ? kExitUsage
                                                             : kExitError;
}

int Fail(const grpc::Status& status) {
  std::cerr << "error: "
            << absl::StatusCodeToString(
                   static_cast<absl::StatusCode>(status.error_code()))
            << ": " << status.error_message() << "\n";
  return kExitError;
}

// The report's subcommand, and -o FILE (Args keeps both as positional).
struct Positional {
  std::string what;
  std::string output;
};

absl::StatusOr<Positional> ParsePositional(const Args& args) {
  Positional p;
  const std::vector<std::string>& words = args.positional();
  for (size_t i = 0; i < words.size(); ++i) {
    if (words[i] == "-o") {
      if (i + 1 >= words.size()) {
        return absl::InvalidArgumentError("-o needs a file name");
      }
      p.output = words[++i];
    } else if (p.what.empty()) {
      p.what = words[i];
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("unexpected argument '", words[i], "'"));
    }
  }
  if (args.has("output")) {
    p.output = args.get("output");
  }
  if (p.what.empty()) {
    return absl::InvalidArgumentError(
        "say which report: ita, scorecard, gifts, complaints or city");
  }
  return p;
}

absl::StatusOr<int> FiscalYearFlag(const Args& args) {
  if (!args.has("fy")) {
    return 0;
  }
  int fy = 0;
  if (!absl::SimpleAtoi(args.get("fy"), &fy)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "--fy: \"", args.get("fy"), "\" is not a fiscal year such as 2568"));
  }
  return fy;
}

absl::Status ReadFlags(const Args& args, v1::ReadOptions* read) {
  if (args.has("as-of")) {
    absl::Status status =
        query::ParseAsOf(args.get("as-of"), absl::Now(), read->mutable_as_of());
    if (!status.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--", status.message()));
    }
  }
  if (args.has("min-position")) {
    uint64_t position = 0;
    if (!absl::SimpleAtoi(args.get("min-position"), &position)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--min-position: \"", args.get("min-position"),
                       "\" is not a log position"));
    }
    read->set_min_position(position);
  }
  if (args.has("wait")) {
    absl::Duration wait;
    if (!absl::ParseDuration(args.get("wait"), &wait) ||
        wait < absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--wait: \"", args.get("wait"), "\" is not a duration like 5s"));
    }
    read->mutable_wait_timeout()->set_seconds(absl::ToInt64Seconds(wait));
    read->mutable_wait_timeout()->set_nanos(
        static_cast<int32_t>(absl::ToInt64Nanoseconds(
            wait - absl::Seconds(absl::ToInt64Seconds(wait)))));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::Round> RoundFlag(const Args& args, bool required) {
  if (!args.has("round")) {
    if (required) {
      return absl::InvalidArgumentError(
          "--round is required: H1, H2 or FULL_YEAR");
    }
    return v1::ROUND_UNSPECIFIED;
  }
  absl::StatusOr<v1::Round> round = query::ParseRound(args.get("round"));
  if (!round.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--", round.status().message()));
  }
  return round;
}

// The format asked for, or the one the output file's name implies.
absl::StatusOr<query::ReportFormat> FormatFlag(const Args& args,
                                               const std::string& output) {
  if (args.has("format")) {
    absl::StatusOr<query::ReportFormat> format =
        query::ParseFormat(args.get("format"));
    if (!format.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", format.status().message()));
    }
    return format;
  }
  const std::string extension =
      absl::AsciiStrToLower(std::filesystem::path(output).extension().string());
  if (extension == ".html" || extension == ".htm") {
    return query::ReportFormat::kHtml;
  }
  if (extension == ".csv") {
    return query::ReportFormat::kCsv;
  }
  if (extension == ".xlsx") {
    return query::ReportFormat::kXlsx;
  }
  return query::ReportFormat::kJson;
}

int Write(const std::string& output, const std::string& bytes,
          absl::string_view what, uint64_t position) {
  if (output.empty() || output == "-") {
    std::cout << bytes;
    if (!bytes.empty() && bytes.back() != '\n') {
      std::cout << "\n";
    }
    return std::cout.good() ? 0 : kExitError;
  }
  std::ofstream out(output, std::ios::binary | std::ios::trunc);
  out << bytes;
  out.close();
  if (!out) {
    std::cerr << "error: cannot write " << output << "\n";
    return kExitError;
  }
  std::cerr << "wrote " << output << " (" << what << ", log position "
            << position << ")\n";
  return 0;
}

void SetDeadline(grpc::ClientContext& context) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(kCallTimeout));
}

template <typename T>
int WriteJson(const T& answer, const std::string& output,
              absl::string_view what) {
  absl::StatusOr<std::string> json = query::ToJson(answer);
  if (!json.ok()) {
    return Fail(json.status());
  }
  return Write(output, *json, what, answer.reflects().position());
}

int RunIta(const Args& args, v1::Reports::Stub& stub,
           const Positional& positional) {
  absl::StatusOr<query::ReportFormat> format =
      FormatFlag(args, positional.output);
  absl::StatusOr<int> fy = FiscalYearFlag(args);
  absl::StatusOr<v1::Round> round = RoundFlag(args, true);
  v1::ItaReportRequest request;
  absl::Status read = ReadFlags(args, request.mutable_read());
  for (const absl::Status& s :
       {format.status(), fy.status(), round.status(), read}) {
    if (!s.ok()) {
      return Fail(s);
    }
  }
  if (*format == query::ReportFormat::kXlsx && positional.output.empty()) {
    return Fail(absl::InvalidArgumentError(
        "an XLSX report is binary; give a file with -o report.xlsx"));
  }
  request.set_district(args.get("district"));
  request.set_fiscal_year(*fy);
  request.set_round(*round);
  grpc::ClientContext context;
  SetDeadline(context);
  v1::ItaReport report;
  if (grpc::Status status = stub.GetItaReport(&context, request, &report);
      !status.ok()) {
    return Fail(status);
  }
  query::HtmlOptions html;
  html.english = args.get("lang") == "en";
  // A file opened from disk finds the Thai font of this machine directly.
  if (std::filesystem::exists(std::string(query::kThaiFontDir))) {
    html.font_url_prefix = absl::StrCat("file://", query::kThaiFontDir, "/");
  }
  absl::StatusOr<std::string> bytes =
      query::RenderItaReport(report, *format, html);
  if (!bytes.ok()) {
    return Fail(bytes.status());
  }
  return Write(positional.output, *bytes,
               query::ReportFileName(report, *format),
               report.reflects().position());
}

absl::Status JsonOnly(const Args& args) {
  if (args.has("format") &&
      absl::AsciiStrToLower(args.get("format")) != "json") {
    return absl::InvalidArgumentError(
        "--format: this report comes as json only; html, csv and xlsx are "
        "for `report ita`");
  }
  return absl::OkStatus();
}

int RunOther(const Args& args, v1::Reports::Stub& stub,
             const Positional& positional) {
  absl::StatusOr<int> fy = FiscalYearFlag(args);
  v1::ReadOptions read;
  absl::Status read_status = ReadFlags(args, &read);
  for (const absl::Status& s : {fy.status(), read_status, JsonOnly(args)}) {
    if (!s.ok()) {
      return Fail(s);
    }
  }
  grpc::ClientContext context;
  SetDeadline(context);
  const std::string& district = args.get("district");
  if (positional.what == "scorecard") {
    v1::ScorecardRequest request;
    request.set_district(district);
    request.set_fiscal_year(*fy);
    *request.mutable_read() = read;
    v1::Scorecard answer;
    if (grpc::Status s = stub.GetScorecard(&context, request, &answer);
        !s.ok()) {
      return Fail(s);
    }
    return WriteJson(answer, positional.output, "scorecard");
  }
  if (positional.what == "gifts") {
    absl::StatusOr<v1::Round> round = RoundFlag(args, true);
    if (!round.ok()) {
      return Fail(round.status());
    }
    v1::GiftRegisterRequest request;
    request.set_district(district);
    request.set_fiscal_year(*fy);
    request.set_round(*round);
    *request.mutable_read() = read;
    v1::GiftRegister answer;
    if (grpc::Status s = stub.GetGiftRegister(&context, request, &answer);
        !s.ok()) {
      return Fail(s);
    }
    return WriteJson(answer, positional.output, "gift register");
  }
  if (positional.what == "complaints") {
    absl::StatusOr<v1::Round> round = RoundFlag(args, false);
    if (!round.ok()) {
      return Fail(round.status());
    }
    v1::ComplaintStatsRequest request;
    request.set_district(district);
    request.set_fiscal_year(*fy);
    request.set_round(*round);
    *request.mutable_read() = read;
    v1::ComplaintStats answer;
    if (grpc::Status s = stub.GetComplaintStats(&context, request, &answer);
        !s.ok()) {
      return Fail(s);
    }
    return WriteJson(answer, positional.output, "complaint statistics");
  }
  if (positional.what == "city") {
    v1::CityOverviewRequest request;
    request.set_fiscal_year(*fy);
    *request.mutable_read() = read;
    v1::CityOverview answer;
    if (grpc::Status s = stub.GetCityOverview(&context, request, &answer);
        !s.ok()) {
      return Fail(s);
    }
    return WriteJson(answer, positional.output, "city overview");
  }
  std::cerr << "error: unknown report '" << positional.what
            << "'; use ita, scorecard, gifts, complaints or city\n\n"
            << HelpText(kReportCommand);
  return kExitUsage;
}

}  // namespace

const CommandSpec kReportCommand{
    "report",
    "Print or save a report from a running server (prongsai.v1.Reports):\n"
    "  ita         the ITA progress report of a district, fiscal year and\n"
    "              round: json, html (A4 landscape, Thai font), csv (UTF-8\n"
    "              with BOM) or xlsx; the format follows -o's extension\n"
    "  scorecard   per ITA item: score band, measures by status, evidence\n"
    "  gifts       the gift register and the report to ศปท.กทม.; without\n"
    "              --district, every district's summary\n"
    "  complaints  complaint statistics (no personal data); without\n"
    "              --district, the whole city\n"
    "  city        all 50 districts by indicator, with alerts\n"
    "--as-of draws a report as the ledger stood then: a log position, a date\n"
    "(the end of that day in Bangkok) or an RFC 3339 time. --min-position\n"
    "waits until the views have a write of yours (--wait bounds it).",
    "prongsai report ita|scorecard|gifts|complaints|city [--district CODE] "
    "[--fy YEAR] [--round H1|H2|FULL_YEAR] [--format FORMAT] [-o FILE] "
    "[--as-of WHEN] [--server HOST:PORT]",
    {{"server", "HOST:PORT", "127.0.0.1:50051",
      "address of a running `prongsai serve`"},
     {"district", "CODE", "", "district code 1001-1050"},
     {"fy", "YEAR", "",
      "Buddhist-era fiscal year, e.g. 2568; default the "
      "current one"},
     {"round", "ROUND", "",
      "H1 (Oct-Mar, the 6-month report), H2 (Apr-Sep) "
      "or FULL_YEAR (the 12-month report)"},
     {"format", "FORMAT", "", "json, html, csv or xlsx (ita only)"},
     {"output", "FILE", "",
      "write to FILE instead of standard output (also "
      "-o FILE)"},
     {"lang", "LANG", "th", "labels of the HTML report: th or en"},
     {"as-of", "WHEN", "", "a log position, a date or an RFC 3339 time"},
     {"min-position", "N", "", "wait until the views reach log position N"},
     {"wait", "DURATION", "5s", "how long --min-position may wait"}}};

int RunReport(const Args& args) {
  absl::StatusOr<Positional> positional = ParsePositional(args);
  if (!positional.ok()) {
    std::cerr << "error: " << positional.status().message() << "\n\n"
              << HelpText(kReportCommand);
    return kExitUsage;
  }
  std::unique_ptr<v1::Reports::Stub> stub =
      v1::Reports::NewStub(Dial(args));
  if (positional->what == "ita") {
    return RunIta(args, *stub, *positional);
  }
  return RunOther(args, *stub, *positional);
}

}  // namespace prongsai::cli

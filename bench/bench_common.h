// What every benchmark program shares: the description of the machine at the
// top of its output, and the machine-readable result rows that `bench/run`
// gathers into one table.
//
// A row is one tab-separated line on stdout:
//
//   row <key> <what> <value> <unit> <baseline> <baseline what> <note>
//
// `key` names the measurement for bench/run (which knows its target);
// `baseline` is empty when there is none. Rows are printed only when the
// program was given --rows; the human-readable output stays as it is.
//
// Example:
//   bench::EnableRowsIf(argc, argv);  // strips --rows from argv
//   bench::PrintMachine();
//   bench::Row("ingest.batch1000", "gRPC append, batch 1000", 123456,
//   "events/s")
//       .Baseline(456789, "synced RocksDB WriteBatch")
//       .Emit();
#pragma once

#include <rocksdb/db.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace prongsai::bench {

// CPU model, cores, memory and kernel, e.g.
// "AMD EPYC 7B13, 2 cores, 23.5 GiB, Linux 6.1.0-18-amd64".
inline std::string MachineDescription() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  std::string model = "unknown CPU";
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("model name", 0) == 0) {
      model = line.substr(line.find(':') + 2);
      break;
    }
  }
  struct sysinfo info {};
  sysinfo(&info);
  const double gib = static_cast<double>(info.totalram) * info.mem_unit /
                     (1024.0 * 1024.0 * 1024.0);
  utsname name{};
  uname(&name);
  return absl::StrFormat("%s, %u cores, %.1f GiB, %s %s", model,
                         std::thread::hardware_concurrency(), gib, name.sysname,
                         name.release);
}

inline bool& RowsEnabled() {
  static bool enabled = false;
  return enabled;
}

// Turns rows on when --rows is among the arguments, and removes it so that
// each program's own flag parsing never sees it.
inline void EnableRowsIf(int& argc, char** argv) {
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--rows") {
      RowsEnabled() = true;
    } else {
      argv[out++] = argv[i];
    }
  }
  argc = out;
}

// "machine: ..." and the date; with --rows also a machine-readable line.
inline void PrintMachine() {
  const std::string machine = MachineDescription();
  std::printf("machine: %s\n", machine.c_str());
  if (RowsEnabled()) {
    std::printf("machine\t%s\t%s\n", machine.c_str(),
                absl::FormatTime("%Y-%m-%d %H:%M:%S %Ez", absl::Now(),
                                 absl::LocalTimeZone())
                    .c_str());
  }
}

// One result row; printed by Emit() when rows are enabled.
class Row {
 public:
  Row(std::string key, std::string what, double value, std::string unit)
      : key_(std::move(key)),
        what_(std::move(what)),
        value_(value),
        unit_(std::move(unit)) {}

  Row& Baseline(double value, std::string what) {
    baseline_ = value;
    baseline_what_ = std::move(what);
    return *this;
  }
  Row& Note(std::string note) {
    note_ = std::move(note);
    return *this;
  }

  void Emit() const {
    if (!RowsEnabled()) {
      return;
    }
    std::printf(
        "row\t%s\t%s\t%.6g\t%s\t%s\t%s\t%s\n", Clean(key_).c_str(),
        Clean(what_).c_str(), value_, Clean(unit_).c_str(),
        std::isnan(baseline_) ? "" : absl::StrFormat("%.6g", baseline_).c_str(),
        Clean(baseline_what_).c_str(), Clean(note_).c_str());
    std::fflush(stdout);
  }

 private:
  static std::string Clean(const std::string& text) {
    return absl::StrReplaceAll(text, {{"\t", " "}, {"\n", " "}});
  }

  std::string key_;
  std::string what_;
  double value_;
  std::string unit_;
  double baseline_ = std::nan("");
  std::string baseline_what_;
  std::string note_;
};

// Compacts every column family of the RocksDB store at `path` (closed by
// its owner first) down to its last level, as a long-running server's
// background compactions eventually do: figures taken right after a bulk
// load otherwise share the cores and caches with those compactions.
inline absl::Status CompactStore(const std::string& path) {
  std::vector<std::string> names;
  rocksdb::Status status =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names);
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  for (const std::string& name : names) {
    families.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (status.ok()) {
    status =
        rocksdb::DB::Open(rocksdb::DBOptions(), path, families, &handles, &raw);
  }
  if (!status.ok()) {
    return absl::UnavailableError(status.ToString());
  }
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction =
      rocksdb::BottommostLevelCompaction::kForce;
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    if (status.ok()) {
      status = db->CompactRange(compact, handle, nullptr, nullptr);
    }
    db->DestroyColumnFamilyHandle(handle);
  }
  return status.ok() ? absl::OkStatus()
                     : absl::UnavailableError(status.ToString());
}

}  // namespace prongsai::bench

// How long-running operations show their progress on stderr (--progress):
//   plain  one line per finished unit of work ("copied sha256:0123abcd 12.0 MiB") and warnings
//   tty    one status line rewritten in place (units done, bytes, speed), warnings above it
//   json   one JSON object per event, for scripts
//   quiet  warnings only
// auto is tty when stderr is a terminal, else plain. Safe to call from several threads.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>

#include "base/reporter.h"

namespace anyarch::cli {

class ProgressReporter final : public Reporter {
 public:
  // mode: auto, plain, tty, json, quiet. Unknown modes act as plain.
  ProgressReporter(std::string mode, std::ostream& out);
  ~ProgressReporter() override;
  void Progress(const ProgressEvent& event) override;
  void Warn(const std::string& message) override;
  // Clears the tty status line (before the command prints its result).
  void Finish();

 private:
  void DrawLocked();
  std::mutex mu_;
  std::string mode_;
  std::ostream& out_;
  struct Unit {
    std::uint64_t current = 0, total = 0;
    bool done = false;
    std::string action;
  };
  std::map<std::string, Unit> units_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  bool drawn_ = false;
};

}  // namespace anyarch::cli

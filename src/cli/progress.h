// How long-running operations show their progress on stderr (--progress):
//   plain  one line per finished unit of work ("copied sha256:0123abcd 12.0 MiB") and warnings
//   tty    one bar per blob being copied or fetched (bytes done and total, percentage, rate,
//          time left), redrawn in place at most ~10 times a second, with a totals line under
//          them; Finish() erases the bars and leaves one summary line ("copied 3 blobs
//          (2.4 MiB) in 0.8s, 1 already there"); warnings print above the bars
//   json   one JSON object per event, for scripts
//   quiet  warnings only
// auto is tty when stderr is a terminal (and TERM is not dumb), else plain. "fetch" events (the
// bytes run reads while it unpacks layers) are drawn in tty mode only, so that plain and json
// show exactly the events they always have. Safe to call from several threads.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "base/reporter.h"
#include "cli/style.h"

namespace anyarch::cli {

class ProgressReporter final : public Reporter {
 public:
  // mode: auto, plain, tty, json, quiet. Unknown modes act as plain. `style` colours warnings
  // and finished bars. `columns` is the terminal's width; 0 asks stderr (80 when it cannot say).
  ProgressReporter(std::string mode, std::ostream& out, Style style = Style(), int columns = 0);
  ~ProgressReporter() override;
  void Progress(const ProgressEvent& event) override;
  void Warn(const std::string& message) override;
  // Ends the tty display: the bars give way to one summary line. Events after it start a new
  // display. Does nothing in the other modes.
  void Finish();
  // The mode in effect (auto resolved).
  const std::string& mode() const { return mode_; }

 private:
  struct Unit {
    std::uint64_t current = 0, total = 0;
    std::uint64_t first_bytes = 0;  // the count when `first` was taken, for the rate
    bool done = false, bytes = false;
    std::string action, detail;
    std::chrono::steady_clock::time_point first, last;
  };
  void PlainLocked(const ProgressEvent& e);
  void DrawLocked();
  void ClearLocked();
  std::string BarLine(const std::string& id, const Unit& u) const;
  std::string TotalsLine() const;
  std::string SummaryLocked() const;

  std::mutex mu_;
  std::string mode_;
  std::ostream& out_;
  Style style_;
  std::size_t columns_;
  std::map<std::string, Unit> units_;
  std::vector<std::string> order_;  // ids by first appearance
  std::chrono::steady_clock::time_point start_, last_draw_;
  int drawn_ = 0;  // lines of the tty display on screen
};

}  // namespace anyarch::cli

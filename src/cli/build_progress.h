// How `anyarch build` shows its events (build/events.h) on stderr:
//   plain: every line prefixed with its platform, stage and step:
//          "[linux/arm64 builder 3/7] RUN make", its output lines, "CACHED", "DONE 12.4s";
//   tty:   one line per running step with its elapsed time and last output line, redrawn in
//          place; finished steps collapse to one line above;
//   json:  one JSON object per event and line;
//   quiet: warnings and errors only.
// "auto" is tty when stderr is a terminal, else plain. Colour (`style`) is used in tty mode only:
// warnings yellow, DONE green, ERROR red; plain and json output never hold escape codes.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "build/events.h"
#include "cli/style.h"

namespace anyarch::cli {

class BuildProgress final : public build::EventSink {
 public:
  BuildProgress(std::string mode, std::ostream& out, Style style = Style());
  ~BuildProgress() override;
  void OnEvent(const build::Event& event) override;
  // Ends the tty display (before the result is printed).
  void Finish();
  // The mode in effect (auto resolved).
  const std::string& mode() const { return mode_; }

 private:
  struct Running {
    std::string label, last;
    std::chrono::steady_clock::time_point start;
  };
  void Redraw();
  void Clear();

  std::mutex mu_;
  std::string mode_;
  std::ostream& out_;
  Style style_;
  std::map<std::string, Running> running_;  // by step id
  std::vector<std::string> order_;
  int drawn_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace anyarch::cli

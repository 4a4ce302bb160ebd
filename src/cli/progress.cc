#include "cli/progress.h"

#include <unistd.h>

#include "base/json.h"
#include "base/strings.h"

namespace anyarch::cli {

ProgressReporter::ProgressReporter(std::string mode, std::ostream& out)
    : mode_(std::move(mode)), out_(out) {
  if (mode_ == "auto" || mode_.empty()) mode_ = ::isatty(STDERR_FILENO) ? "tty" : "plain";
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() { Finish(); }

void ProgressReporter::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (drawn_) {
    out_ << "\r\033[K" << std::flush;
    drawn_ = false;
  }
}

void ProgressReporter::Warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == "json") {
    OrderedJson j{{"warning", message}};
    out_ << j.dump() << "\n" << std::flush;
    return;
  }
  if (drawn_) out_ << "\r\033[K";
  out_ << "anyarch: warning: " << message << "\n";
  drawn_ = false;
  if (mode_ == "tty") DrawLocked();
  out_ << std::flush;
}

void ProgressReporter::Progress(const ProgressEvent& e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == "quiet") return;
  if (mode_ == "json") {
    OrderedJson j{{"id", e.id},
                  {"action", e.action},
                  {"current", e.current},
                  {"total", e.total},
                  {"done", e.done}};
    if (!e.detail.empty()) j["detail"] = e.detail;
    out_ << j.dump() << "\n" << std::flush;
    return;
  }
  Unit& u = units_[e.id];
  u.current = e.current;
  if (e.total) u.total = e.total;
  u.done = u.done || e.done;
  u.action = e.action;
  if (mode_ == "plain") {
    if (!e.done) return;
    std::string id = e.id.rfind("sha256:", 0) == 0 ? e.id.substr(0, 19) : e.id;
    std::string verb = e.action == "copy"    ? "copied"
                       : e.action == "mount" ? "mounted"
                       : e.action == "skip"  ? "already there"
                                             : e.action;
    out_ << verb << " " << id;
    if (e.total && e.action == "copy") out_ << " (" << HumanSize(e.total) << ")";
    if (!e.detail.empty()) out_ << ": " << e.detail;
    out_ << "\n" << std::flush;
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (!e.done && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  DrawLocked();
}

void ProgressReporter::DrawLocked() {
  std::size_t done = 0;
  std::uint64_t bytes = 0, total = 0;
  for (const auto& [id, u] : units_) {
    if (u.done) ++done;
    if (u.action == "copy") {
      bytes += u.current;
      total += u.total;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  out_ << "\r\033[K" << done << "/" << units_.size() << " done";
  if (total) {
    out_ << ", " << HumanSize(bytes) << " of " << HumanSize(total);
    if (secs > 0.5) out_ << ", " << HumanSize(static_cast<std::uint64_t>(bytes / secs)) << "/s";
  }
  out_ << std::flush;
  drawn_ = true;
}

}  // namespace anyarch::cli

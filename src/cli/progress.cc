#include "cli/progress.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "base/json.h"
#include "base/strings.h"

namespace anyarch::cli {

namespace {

constexpr std::size_t kMaxBars = 8;
constexpr int kBarWidth = 12;
constexpr auto kRedrawEvery = std::chrono::milliseconds(100);

std::size_t TerminalColumns() {
  struct winsize ws {};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

std::string ShortName(const std::string& id) {
  if (id.rfind("sha256:", 0) == 0) return id.substr(7, 12);
  return id.size() <= 20 ? id : id.substr(0, 17) + "...";
}

std::string Seconds(double s) {
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.0fs", s);
  } else {
    std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(s) / 60, static_cast<int>(s) % 60);
  }
  return buf;
}

std::string Plural(std::size_t n, const char* word) {
  return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

bool ByteAction(const std::string& action) { return action == "copy" || action == "fetch"; }

}  // namespace

ProgressReporter::ProgressReporter(std::string mode, std::ostream& out, Style style, int columns)
    : mode_(std::move(mode)), out_(out), style_(style) {
  if (mode_ == "auto" || mode_.empty()) {
    const char* term = std::getenv("TERM");
    bool dumb = term && std::string(term) == "dumb";
    mode_ = ::isatty(STDERR_FILENO) && !dumb ? "tty" : "plain";
  }
  columns_ = columns > 0 ? static_cast<std::size_t>(columns) : TerminalColumns();
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() { Finish(); }

void ProgressReporter::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ != "tty" || units_.empty()) return;
  ClearLocked();
  std::string summary = SummaryLocked();
  if (!summary.empty()) out_ << summary << "\n";
  out_ << std::flush;
  units_.clear();
  order_.clear();
}

void ProgressReporter::Warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == "json") {
    OrderedJson j{{"warning", message}};
    out_ << j.dump() << "\n" << std::flush;
    return;
  }
  if (mode_ != "tty") {
    out_ << "anyarch: warning: " << message << "\n" << std::flush;
    return;
  }
  ClearLocked();
  out_ << style_.Yellow("anyarch: warning:") << " " << message << "\n";
  if (!units_.empty()) DrawLocked();
  out_ << std::flush;
}

void ProgressReporter::Progress(const ProgressEvent& e) {
  std::lock_guard<std::mutex> lock(mu_);
  if (mode_ == "quiet") return;
  if (e.action == "fetch" && mode_ != "tty") return;
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
  if (mode_ != "tty") return PlainLocked(e);
  auto now = std::chrono::steady_clock::now();
  if (units_.empty()) start_ = now;
  auto [it, added] = units_.try_emplace(e.id);
  Unit& u = it->second;
  if (added) {
    order_.push_back(e.id);
    u.first = now;
  }
  // A byte count (copy, fetch) outranks the step that announced the unit (unpack).
  if (ByteAction(e.action) || !u.bytes) u.action = e.action;
  if (ByteAction(e.action)) {
    // A unit that starts with a byte count began before it: its rate counts from here. One
    // announced first (unpack) began reading then.
    if (added) u.first_bytes = e.current;
    u.bytes = true;
    u.current = e.current;
    if (e.total) u.total = e.total;
  }
  if (!e.detail.empty()) u.detail = e.detail;
  u.done = u.done || e.done;
  u.last = now;
  if (!added && !e.done && now - last_draw_ < kRedrawEvery) return;
  DrawLocked();
}

void ProgressReporter::PlainLocked(const ProgressEvent& e) {
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
}

void ProgressReporter::ClearLocked() {
  for (int i = 0; i < drawn_; ++i) out_ << "\033[1A\033[2K";
  out_ << "\r";
  drawn_ = 0;
}

// "<id>  [=====>      ]   45%  1.1 MiB / 2.4 MiB  3.2 MiB/s  ETA 1s" while running (79
// columns at most, so it fits an 80-column terminal), "... 100% ...  copied" when done;
// "<id>  mounted" for units without a byte count.
std::string ProgressReporter::BarLine(const std::string& id, const Unit& u) const {
  std::string verb = u.action == "copy"    ? (u.done ? "copied" : "copying")
                     : u.action == "fetch" ? (u.done ? "fetched" : "fetching")
                     : u.action == "mount" ? "mounted"
                     : u.action == "skip"  ? "already there"
                                           : u.action;
  std::string line = ShortName(id) + "  ";
  std::string done_verb;
  if (u.bytes && u.total) {
    std::uint64_t cur = std::min(u.current, u.total);
    int filled = static_cast<int>(cur * kBarWidth / u.total);
    std::string bar(static_cast<std::size_t>(filled), '=');
    if (filled < kBarWidth) bar += ">";
    bar.resize(kBarWidth, ' ');
    char pct[8];
    std::snprintf(pct, sizeof pct, "%3d%%", static_cast<int>(cur * 100 / u.total));
    line += "[" + bar + "]  " + pct + "  " + HumanSize(cur) + " / " + HumanSize(u.total);
    double secs = std::chrono::duration<double>(u.last - u.first).count();
    if (u.done) {
      done_verb = verb;
    } else if (secs > 0.2 && cur > u.first_bytes) {
      double rate = static_cast<double>(cur - u.first_bytes) / secs;
      line += "  " + HumanSize(static_cast<std::uint64_t>(rate)) + "/s";
      line += "  ETA " + Seconds(static_cast<double>(u.total - cur) / rate);
    }
  } else if (u.bytes) {
    line += verb + "  " + HumanSize(u.current);
  } else if (u.done) {
    done_verb = verb;
  } else {
    line += verb;
  }
  std::size_t room = columns_ > 1 ? columns_ - 1 : 79;
  // Cut before colouring: a line wider than the terminal wraps and breaks the redraw.
  if (!done_verb.empty()) {
    std::string with = line + (u.bytes ? "  " : "") + done_verb;
    if (with.size() <= room) return line + (u.bytes ? "  " : "") + style_.Green(done_verb);
    line = with;
  }
  if (!u.detail.empty()) line += "  " + u.detail;
  if (line.size() > room) line.resize(room);
  return line;
}

std::string ProgressReporter::TotalsLine() const {
  std::size_t done = 0;
  std::uint64_t bytes = 0, total = 0;
  for (const auto& [id, u] : units_) {
    if (u.done) ++done;
    if (u.bytes) {
      bytes += u.current;
      total += u.total;
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string line = std::to_string(done) + "/" + std::to_string(units_.size()) + " done";
  if (total) {
    line += ", " + HumanSize(bytes) + " of " + HumanSize(total);
    if (secs > 0.5) line += ", " + HumanSize(static_cast<std::uint64_t>(bytes / secs)) + "/s";
  }
  return line;
}

void ProgressReporter::DrawLocked() {
  ClearLocked();
  // Running units first, then the most recently finished, at most kMaxBars in all.
  std::vector<const std::string*> shown;
  for (const auto& id : order_)
    if (!units_.at(id).done && shown.size() < kMaxBars) shown.push_back(&id);
  for (auto it = order_.rbegin(); it != order_.rend() && shown.size() < kMaxBars; ++it)
    if (units_.at(*it).done) shown.push_back(&*it);
  for (const std::string* id : shown) {
    out_ << BarLine(*id, units_.at(*id)) << "\n";
    ++drawn_;
  }
  out_ << TotalsLine() << "\n" << std::flush;
  ++drawn_;
  last_draw_ = std::chrono::steady_clock::now();
}

std::string ProgressReporter::SummaryLocked() const {
  std::size_t copied = 0, fetched = 0, mounted = 0, skipped = 0;
  std::uint64_t copied_bytes = 0, fetched_bytes = 0;
  for (const auto& [id, u] : units_) {
    if (u.action == "copy" && u.done) {
      ++copied;
      copied_bytes += u.total;
    } else if (u.action == "fetch" && u.done) {
      ++fetched;
      fetched_bytes += u.total;
    } else if (u.action == "mount") {
      ++mounted;
    } else if (u.action == "skip") {
      ++skipped;
    }
  }
  std::vector<std::string> parts;
  if (copied)
    parts.push_back("copied " + Plural(copied, "blob") + " (" + HumanSize(copied_bytes) + ")");
  if (fetched)
    parts.push_back("fetched " + Plural(fetched, "layer") + " (" + HumanSize(fetched_bytes) + ")");
  if (mounted) parts.push_back(std::to_string(mounted) + " mounted");
  if (skipped) parts.push_back(std::to_string(skipped) + " already there");
  if (parts.empty()) return "";
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  char took[32];
  std::snprintf(took, sizeof took, " in %.1fs", secs);
  return style_.Green("done:") + " " + Join(parts, ", ") + took;
}

}  // namespace anyarch::cli

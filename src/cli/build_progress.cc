#include "cli/build_progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "base/json.h"

namespace anyarch::cli {

namespace {

std::string Label(const build::Event& e) {
  std::string l = "[" + e.platform;
  if (!e.stage.empty()) l += " " + e.stage;
  if (e.steps > 0) l += " " + std::to_string(e.step) + "/" + std::to_string(e.steps);
  return l + "]";
}

std::string Id(const build::Event& e) {
  return e.platform + "|" + e.stage + "|" + std::to_string(e.step);
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1fs", s);
  return buf;
}

std::string Cut(const std::string& s, std::size_t n) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

}  // namespace

BuildProgress::BuildProgress(std::string mode, std::ostream& out, Style style)
    : mode_(std::move(mode)), out_(out), style_(style) {
  if (mode_ == "auto") mode_ = ::isatty(STDERR_FILENO) ? "tty" : "plain";
  if (mode_ == "tty" && std::getenv("TERM") && std::string(std::getenv("TERM")) == "dumb")
    mode_ = "plain";
}

BuildProgress::~BuildProgress() { Finish(); }

void BuildProgress::Finish() {
  std::lock_guard<std::mutex> lock(mu_);
  Clear();
  out_.flush();
}

void BuildProgress::Clear() {
  if (mode_ != "tty") return;
  for (int i = 0; i < drawn_; ++i) out_ << "\x1b[1A\x1b[2K";
  drawn_ = 0;
}

void BuildProgress::Redraw() {
  Clear();
  auto now = std::chrono::steady_clock::now();
  for (const auto& id : order_) {
    auto it = running_.find(id);
    if (it == running_.end()) continue;
    double secs = std::chrono::duration<double>(now - it->second.start).count();
    out_ << Cut(it->second.label, 100) << "  " << Seconds(secs) << "\n";
    ++drawn_;
    if (!it->second.last.empty()) {
      out_ << "  " << Cut(it->second.last, 110) << "\n";
      ++drawn_;
    }
  }
  out_.flush();
  last_draw_ = now;
}

void BuildProgress::OnEvent(const build::Event& e) {
  std::lock_guard<std::mutex> lock(mu_);
  using build::EventKind;
  if (mode_ == "json") {
    OrderedJson j;
    j["event"] = build::EventKindName(e.kind);
    if (!e.platform.empty()) j["platform"] = e.platform;
    if (!e.stage.empty()) j["stage"] = e.stage;
    if (e.step) j["step"] = e.step;
    if (e.steps) j["steps"] = e.steps;
    if (e.line) j["line"] = e.line;
    if (!e.instruction.empty()) j["instruction"] = e.instruction;
    if (!e.text.empty()) j["text"] = e.text;
    if (e.kind == EventKind::kStepDone) j["seconds"] = e.seconds;
    out_ << j.dump() << "\n";
    out_.flush();
    return;
  }
  const bool quiet = mode_ == "quiet";
  if (e.kind == EventKind::kWarning) {
    Clear();
    out_ << (mode_ == "tty" ? style_.Yellow("anyarch: warning:") : "anyarch: warning:") << " "
         << (e.platform.empty() ? "" : e.platform + ": ") << e.text << "\n";
    if (mode_ == "tty") Redraw();
    return;
  }
  if (quiet) return;
  std::string label = Label(e);
  if (mode_ == "plain") {
    switch (e.kind) {
      case EventKind::kStepStarted:
        out_ << label << " " << e.instruction << "\n";
        break;
      case EventKind::kStepOutput:
        out_ << label << " " << e.text << "\n";
        break;
      case EventKind::kStepCached:
        out_ << label << " CACHED " << e.instruction << "\n";
        break;
      case EventKind::kStepDone:
        out_ << label << " DONE " << Seconds(e.seconds) << "\n";
        break;
      case EventKind::kStepError:
        out_ << label << " ERROR " << e.text << "\n";
        break;
      case EventKind::kResolved:
        out_ << "[" << e.platform << "] resolved " << e.text << "\n";
        break;
      case EventKind::kLayerPushed:
      case EventKind::kExported:
        out_ << "exported " << e.text << "\n";
        break;
      case EventKind::kCache:
        out_ << "cache: " << e.text << "\n";
        break;
      case EventKind::kWarning:
        break;
    }
    out_.flush();
    return;
  }
  // tty
  std::string id = Id(e);
  switch (e.kind) {
    case EventKind::kStepStarted:
      running_[id] = {label + " " + e.instruction, "", std::chrono::steady_clock::now()};
      order_.push_back(id);
      Redraw();
      break;
    case EventKind::kStepOutput: {
      auto it = running_.find(id);
      if (it != running_.end()) it->second.last = e.text;
      if (std::chrono::steady_clock::now() - last_draw_ > std::chrono::milliseconds(100)) Redraw();
      break;
    }
    case EventKind::kStepCached:
    case EventKind::kStepDone:
    case EventKind::kStepError: {
      auto it = running_.find(id);
      std::string text = it != running_.end() ? it->second.label : label + " " + e.instruction;
      if (it != running_.end()) running_.erase(it);
      order_.erase(std::remove(order_.begin(), order_.end(), id), order_.end());
      Clear();
      if (e.kind == EventKind::kStepCached) {
        out_ << Cut(label + " CACHED " + e.instruction, 118) << "\n";
      } else if (e.kind == EventKind::kStepDone) {
        out_ << Cut(text, 108) << "  " << style_.Green(Seconds(e.seconds)) << "\n";
      } else {
        out_ << Cut(text, 110) << "  " << style_.Red("ERROR") << "\n";
      }
      Redraw();
      break;
    }
    case EventKind::kCache:
      Clear();
      out_ << "cache: " << e.text << "\n";
      Redraw();
      break;
    default:
      break;
  }
}

}  // namespace anyarch::cli

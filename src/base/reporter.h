// Progress and warnings from long operations. The library reports events; cli/ decides how to
// show them (plain lines, a tty display, or JSON lines). The default reporter discards them.
#pragma once

#include <cstdint>
#include <string>

namespace anyarch {

struct ProgressEvent {
  std::string id;      // stable key of the unit of work, e.g. a blob digest or a step name
  std::string action;  // "pull", "push", "mount", "skip", "copy", "unpack", ...
  std::uint64_t current = 0;
  std::uint64_t total = 0;  // 0 when unknown
  bool done = false;
  std::string detail;  // free text for people
};

class Reporter {
 public:
  virtual ~Reporter() = default;
  virtual void Progress(const ProgressEvent& event) = 0;
  // Something the user should know that is not an error.
  virtual void Warn(const std::string& message) = 0;
};

class NullReporter final : public Reporter {
 public:
  void Progress(const ProgressEvent&) override {}
  void Warn(const std::string&) override {}
};

// A process-wide NullReporter, for callers that want no progress.
Reporter& DiscardReporter();

}  // namespace anyarch

// What a build reports while it runs: a stream of typed events that the CLI renders as a tty
// display, plain lines or JSON lines (--progress). The builder never prints.
//
// Events for one step arrive in order (started, output..., then cached or done or error); steps
// of different platforms and stages interleave. Calls come from several threads: a sink must
// be thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace anyarch::build {

enum class EventKind {
  kStepStarted,  // a step begins to execute
  kStepOutput,   // a line of the step's output (stdout and stderr of a RUN)
  kStepCached,   // the step's result came from the cache; it did not execute
  kStepDone,     // the step finished; seconds is its duration
  kStepError,    // the step failed; text is the error
  kResolved,     // a base image was resolved (text: "image -> digest (platform)")
  kLayerPushed,  // a blob or manifest reached an output (text: digest)
  kExported,     // an output was written (text: where)
  kWarning,      // something the user should know (text)
  kCache,        // a --cache-from import or --cache-to export finished (text: what and where)
};

const char* EventKindName(EventKind kind);

struct Event {
  EventKind kind = EventKind::kWarning;
  std::string platform;     // "linux/arm64"; empty for events of the whole build
  std::string stage;        // the stage's name, or its index as text
  int step = 0;             // 1-based within the stage; 0 for the FROM and for build events
  int steps = 0;            // steps in the stage
  int line = 0;             // Dockerfile line of the instruction
  std::string instruction;  // "RUN make", as written (continuation lines joined)
  std::string text;
  double seconds = 0;
};

class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void OnEvent(const Event& event) = 0;
};

class NullEventSink final : public EventSink {
 public:
  void OnEvent(const Event&) override {}
};

}  // namespace anyarch::build

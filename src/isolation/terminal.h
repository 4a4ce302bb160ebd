// A terminal of the container's own, for `anyarch run -t` (as `docker run -t` gives one): a
// pseudo-terminal pair whose slave the program gets as stdin, stdout, stderr and controlling
// terminal (ContainerSpec::controlling_tty), and whose master a thread relays to and from
// anyarch's stdin and stdout.
//
// Why not the caller's terminal itself: a program whose controlling terminal is the caller's
// can push keystrokes into it with TIOCSTI, and the caller's shell runs them once anyarch exits.
// A keystroke pushed into this terminal reaches only the container.
//
// While a Terminal lives:
// - anyarch's stdin, when it is a terminal, is in raw mode: every key, Ctrl-C included, goes to
//   the container's terminal, whose line discipline makes signals of them for the container's
//   foreground process group. The previous mode comes back in Finish (not after a SIGKILL);
// - the container's window size follows the caller's terminal (checked four times a second, so
//   no SIGWINCH handler is needed); 80x24 when anyarch has no terminal;
// - the relay thread moves bytes: stdin to the master until stdin ends (then the terminal's
//   EOF character, when the program reads lines: a pty has no end of file of its own), the
//   master to stdout until every copy of the slave is closed. It never blocks on the master, so
//   a program that writes before it reads is drained, and holds at most one read of input. A
//   stdout that goes away (`| head`) drops the rest of the output; it never kills anyarch.
#pragma once

#include <termios.h>

#include <atomic>
#include <memory>
#include <optional>
#include <thread>

#include "base/error.h"
#include "base/fs.h"

namespace anyarch::isolation {

class Terminal {
 public:
  // Opens the pair and starts the relay between `in_fd`/`out_fd` (anyarch's) and the master.
  // kIo when the system has no pseudo-terminal to give.
  static Result<std::unique_ptr<Terminal>> Open(int in_fd = 0, int out_fd = 1);
  ~Terminal();  // Finish()
  Terminal(const Terminal&) = delete;
  Terminal& operator=(const Terminal&) = delete;

  // The slave, for ContainerSpec::stdin_fd, stdout_fd and stderr_fd. Valid until Finish.
  int slave() const { return slave_.get(); }

  // After the container has ended: closes anyarch's copy of the slave, writes out what the
  // program left in the terminal, stops the relay and puts the caller's terminal mode back.
  void Finish();

 private:
  Terminal() = default;
  void Relay();

  int in_fd_ = 0, out_fd_ = 1;
  UniqueFd master_, slave_;
  UniqueFd wake_read_, wake_write_;    // Finish wakes the relay's poll through this pipe
  std::optional<termios> saved_mode_;  // the caller's mode, while it is raw
  std::atomic<bool> finishing_{false};
  std::thread relay_;
};

}  // namespace anyarch::isolation

#include "isolation/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <string>

namespace anyarch::isolation {

namespace {

// Writes all of `n` bytes, retrying on EINTR and short writes; false when `fd` refuses them.
bool WriteAll(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// The caller's window size: from stdout, else stdin; 80x24 when neither is a terminal.
winsize CallerSize(int in_fd, int out_fd) {
  winsize ws{};
  if (::ioctl(out_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws;
  if (::ioctl(in_fd, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0) return ws;
  ws = {};
  ws.ws_row = 24;
  ws.ws_col = 80;
  return ws;
}

// End of input for the program: a pty has no end of file of its own, so stdin's end is passed
// on as the slave's EOF character when it reads lines (twice after an unfinished line: the first
// only ends the line), as `script` does; a program reading raw bytes gets nothing.
std::string EndOfInput(int master, bool mid_line) {
  UniqueFd peer(::ioctl(master, TIOCGPTPEER, O_RDONLY | O_NOCTTY | O_CLOEXEC));
  termios mode{};
  if (peer.get() < 0 || ::tcgetattr(peer.get(), &mode) != 0 || !(mode.c_lflag & ICANON) ||
      mode.c_cc[VEOF] == _POSIX_VDISABLE)
    return {};
  return std::string(mid_line ? 2 : 1, static_cast<char>(mode.c_cc[VEOF]));
}

}  // namespace

Result<std::unique_ptr<Terminal>> Terminal::Open(int in_fd, int out_fd) {
  std::unique_ptr<Terminal> t(new Terminal());
  t->in_fd_ = in_fd;
  t->out_fd_ = out_fd;
  t->master_ = UniqueFd(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (t->master_.get() < 0) return Unexpected(ErrnoError(errno, "opening a pseudo-terminal"));
  if (::grantpt(t->master_.get()) != 0 || ::unlockpt(t->master_.get()) != 0)
    return Unexpected(ErrnoError(errno, "unlocking a pseudo-terminal"));
  // TIOCGPTPEER opens the slave from the master itself, never through a path in /dev/pts.
  t->slave_ = UniqueFd(::ioctl(t->master_.get(), TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (t->slave_.get() < 0)
    return Unexpected(ErrnoError(errno, "opening the pseudo-terminal's slave"));
  winsize ws = CallerSize(in_fd, out_fd);
  ::ioctl(t->master_.get(), TIOCSWINSZ, &ws);
  int wake[2];
  if (::pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  t->wake_read_ = UniqueFd(wake[0]);
  t->wake_write_ = UniqueFd(wake[1]);
  termios mode{};
  if (::isatty(in_fd) && ::tcgetattr(in_fd, &mode) == 0) {
    termios raw = mode;
    ::cfmakeraw(&raw);
    if (::tcsetattr(in_fd, TCSANOW, &raw) == 0) t->saved_mode_ = mode;
  }
  Terminal* self = t.get();
  t->relay_ = std::thread([self] { self->Relay(); });
  return t;
}

void Terminal::Relay() {
  // A reader of anyarch's stdout that goes away must not kill anyarch (leaving the caller's
  // terminal raw): writes fail with EPIPE instead, and the program's output is then dropped.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  ::pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);
  // The master never blocks the relay: input waits in `pending` until the program takes it, so
  // a program that writes before it reads is still drained.
  ::fcntl(master_.get(), F_SETFL, ::fcntl(master_.get(), F_GETFL) | O_NONBLOCK);
  char buf[16384];
  std::string pending;
  bool in_open = true, out_open = true, finishing = false, mid_line = false;
  winsize last = CallerSize(in_fd_, out_fd_);
  auto next_size_check = std::chrono::steady_clock::now();
  for (;;) {
    short master_events = POLLIN | (pending.empty() ? 0 : POLLOUT);
    pollfd fds[3] = {
        {master_.get(), master_events, 0}, {wake_read_.get(), POLLIN, 0}, {in_fd_, POLLIN, 0}};
    // Input is read only once the program has taken what came before (bounded memory).
    bool read_in = in_open && pending.empty();
    // After Finish, a second with nothing to relay ends it: only a slave copy that outlives the
    // container (none should) keeps the master from reaching EIO.
    int n = ::poll(fds, read_in ? 3 : 2, finishing ? 1000 : 250);
    if (n < 0 && errno != EINTR) return;
    if (n == 0 && finishing) return;
    // The window size four times a second, not once per chunk of a busy program's output.
    if (std::chrono::steady_clock::now() >= next_size_check) {
      next_size_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(250);
      winsize now = CallerSize(in_fd_, out_fd_);
      if (now.ws_row != last.ws_row || now.ws_col != last.ws_col) {
        ::ioctl(master_.get(), TIOCSWINSZ, &now);
        last = now;
      }
    }
    if (n <= 0) continue;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = ::read(master_.get(), buf, sizeof buf);
      // EIO: every copy of the slave is closed, so the program and all it started are gone, and
      // the kernel has handed over everything they wrote.
      if (r < 0 && errno != EINTR && errno != EAGAIN) return;
      if (r == 0) return;
      if (r > 0 && out_open) out_open = WriteAll(out_fd_, buf, static_cast<std::size_t>(r));
    }
    if ((fds[0].revents & POLLOUT) && !pending.empty()) {
      ssize_t w = ::write(master_.get(), pending.data(), pending.size());
      if (w > 0) pending.erase(0, static_cast<std::size_t>(w));
      if (w < 0 && errno != EINTR && errno != EAGAIN) pending.clear();
    }
    if (read_in && fds[2].revents) {
      ssize_t r = ::read(in_fd_, buf, sizeof buf);
      if (r > 0) {
        pending.assign(buf, static_cast<std::size_t>(r));
        mid_line = buf[r - 1] != '\n' && buf[r - 1] != '\r';
      } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
        in_open = false;
        pending = EndOfInput(master_.get(), mid_line);
      }
    }
    if (fds[1].revents) {
      char drop[16];
      while (::read(wake_read_.get(), drop, sizeof drop) > 0) {
      }
      finishing = true;
    }
  }
}

void Terminal::Finish() {
  if (finishing_.exchange(true)) return;
  slave_ = UniqueFd();  // the master now reads what is left, then EIO
  if (relay_.joinable()) {
    // The relay ends on EIO by itself; the wake-up is for a slave copy that outlives the
    // container (none should), so that Finish never hangs.
    char c = 0;
    if (::write(wake_write_.get(), &c, 1) < 0) {
    }
    relay_.join();
  }
  if (saved_mode_) ::tcsetattr(in_fd_, TCSANOW, &*saved_mode_);
  saved_mode_.reset();
}

Terminal::~Terminal() { Finish(); }

}  // namespace anyarch::isolation

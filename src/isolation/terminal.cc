#include "isolation/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <optional>

namespace anyarch::isolation {

struct Terminal::Saved {
  termios mode{};
};

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
  if (::isatty(in_fd)) {
    t->saved_ = std::make_unique<Saved>();
    if (::tcgetattr(in_fd, &t->saved_->mode) == 0) {
      termios raw = t->saved_->mode;
      ::cfmakeraw(&raw);
      if (::tcsetattr(in_fd, TCSANOW, &raw) == 0) t->restore_mode_ = true;
    }
  }
  Terminal* self = t.get();
  t->relay_ = std::thread([self] { self->Relay(); });
  return t;
}

void Terminal::Relay() {
  char buf[16384];
  bool in_open = true;
  std::optional<std::chrono::steady_clock::time_point> finish_by;
  winsize last = CallerSize(in_fd_, out_fd_);
  for (;;) {
    pollfd fds[3] = {
        {master_.get(), POLLIN, 0}, {wake_read_.get(), POLLIN, 0}, {in_fd_, POLLIN, 0}};
    int n = ::poll(fds, in_open ? 3 : 2, 250);
    if (n < 0 && errno != EINTR) return;
    winsize now = CallerSize(in_fd_, out_fd_);
    if (now.ws_row != last.ws_row || now.ws_col != last.ws_col) {
      ::ioctl(master_.get(), TIOCSWINSZ, &now);
      last = now;
    }
    if (n <= 0) continue;
    if (fds[0].revents) {
      ssize_t r = ::read(master_.get(), buf, sizeof buf);
      // EIO: every copy of the slave is closed, so the program and all it started are gone.
      if (r <= 0 && errno != EINTR && errno != EAGAIN) return;
      if (r > 0 && !WriteAll(out_fd_, buf, static_cast<std::size_t>(r))) return;
    }
    if (in_open && fds[2].revents) {
      ssize_t r = ::read(in_fd_, buf, sizeof buf);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) {
        in_open = false;  // stdin ended: the program reads end of file once it empties the queue
      } else if (r > 0 && !WriteAll(master_.get(), buf, static_cast<std::size_t>(r))) {
        in_open = false;
      }
    }
    // Finish asked. The relay still ends on EIO, after the kernel has handed over what the
    // program wrote last (it may still be on its way through the line discipline); only a
    // slave copy that outlives the container (none should) makes it stop after a second.
    if (fds[1].revents) {
      char drop[16];
      while (::read(wake_read_.get(), drop, sizeof drop) > 0) {
      }
      if (!finish_by) finish_by = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
    if (finish_by && std::chrono::steady_clock::now() > *finish_by) return;
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
  if (restore_mode_) ::tcsetattr(in_fd_, TCSANOW, &saved_->mode);
  restore_mode_ = false;
}

Terminal::~Terminal() { Finish(); }

}  // namespace anyarch::isolation

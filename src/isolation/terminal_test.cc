// The relay of a container's terminal, with pipes standing in for anyarch's stdio (no terminal,
// so no raw mode) and the test playing the program on the slave.
#include "isolation/terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace anyarch::isolation {
namespace {

// Reads from `fd` until `want` has arrived or two seconds pass; returns what arrived.
std::string ReadUntil(int fd, const std::string& want) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (got.find(want) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    char buf[256];
    ssize_t r = ::read(fd, buf, sizeof buf);
    if (r <= 0) break;
    got.append(buf, static_cast<std::size_t>(r));
  }
  return got;
}

struct Pipes {
  int in[2], out[2];
  Pipes() {
    EXPECT_EQ(::pipe(in), 0);
    EXPECT_EQ(::pipe(out), 0);
  }
  ~Pipes() {
    for (int fd : {in[0], in[1], out[0], out[1]})
      if (fd >= 0) ::close(fd);
  }
};

TEST(Terminal, RelaysBothWaysAndIsATerminalForTheProgram) {
  Pipes p;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t) << t.error().ToString();
  int slave = (*t)->slave();
  EXPECT_TRUE(::isatty(slave));
  winsize ws{};
  ASSERT_EQ(::ioctl(slave, TIOCGWINSZ, &ws), 0);
  EXPECT_EQ(ws.ws_row, 24);  // no terminal on the caller's side
  EXPECT_EQ(ws.ws_col, 80);
  // The program's output reaches anyarch's stdout (the line discipline adds the CR).
  ASSERT_EQ(::write(slave, "out\n", 4), 4);
  EXPECT_EQ(ReadUntil(p.out[0], "out\r\n"), "out\r\n");
  // What anyarch reads reaches the program as typed input.
  ASSERT_EQ(::write(p.in[1], "typed\n", 6), 6);
  EXPECT_NE(ReadUntil(slave, "typed\n").find("typed\n"), std::string::npos);
  (*t)->Finish();
}

TEST(Terminal, FinishWritesOutWhatTheProgramLeftAndReturns) {
  Pipes p;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t);
  // The program wrote its last words and exited; only anyarch's copy of the slave is left.
  ASSERT_EQ(::write((*t)->slave(), "bye\n", 4), 4);
  (*t)->Finish();  // returns: the relay ends on EIO once the last slave copy is closed
  EXPECT_EQ(ReadUntil(p.out[0], "bye\r\n"), "bye\r\n");
  (*t)->Finish();  // a second call does nothing
}

}  // namespace
}  // namespace anyarch::isolation

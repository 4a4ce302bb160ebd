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
#include <thread>

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

TEST(Terminal, EndOfStdinIsEndOfFileForAProgramReadingLines) {
  Pipes p;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t);
  ASSERT_EQ(::write(p.in[1], "partial", 7), 7);  // no newline: two EOF characters needed
  ::close(p.in[1]);
  p.in[1] = -1;
  int slave = (*t)->slave();
  EXPECT_EQ(ReadUntil(slave, "partial"), "partial");
  char c;
  EXPECT_EQ(::read(slave, &c, 1), 0);  // end of file, not a hang
  (*t)->Finish();
}

TEST(Terminal, DrainsAProgramThatWritesBeforeItReads) {
  Pipes p;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t);
  int slave = (*t)->slave();
  // Far more input than a pty holds is waiting, and the program first writes far more than the
  // pty holds: a relay that blocked on either would hang here.
  std::thread feed([&] {
    std::string line(99, 'i');
    line += '\n';
    for (int i = 0; i < 3000; ++i) ASSERT_EQ(::write(p.in[1], line.data(), line.size()), 100);
  });
  std::thread drain([&] {
    char buf[4096];  // the output and the echo of the input, until the relay's end closes
    while (::read(p.out[0], buf, sizeof buf) > 0) {
    }
  });
  std::string out(100, 'o');
  out.back() = '\n';
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(::write(slave, out.data(), out.size()), 100);
  std::size_t read_in = 0;
  char buf[4096];
  while (read_in < 300000) {
    ssize_t r = ::read(slave, buf, sizeof buf);
    ASSERT_GT(r, 0);
    read_in += static_cast<std::size_t>(r);
  }
  EXPECT_EQ(read_in, 300000u);
  feed.join();
  (*t)->Finish();
  ::close(p.out[1]);  // the relay's end: the drain thread sees end of file
  p.out[1] = -1;
  drain.join();
}

TEST(Terminal, AStdoutThatGoesAwayDropsOutputAndKillsNothing) {
  Pipes p;
  ::close(p.out[0]);  // `| head` has exited: writes to stdout fail with EPIPE, or SIGPIPE
  p.out[0] = -1;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t);
  std::string out(100, 'o');
  out.back() = '\n';
  for (int i = 0; i < 2000; ++i) ASSERT_EQ(::write((*t)->slave(), out.data(), out.size()), 100);
  (*t)->Finish();  // still drained to the end: the program was never blocked
}

TEST(Terminal, FinishReturnsWhenACopyOfTheSlaveOutlivesTheProgram) {
  Pipes p;
  auto t = Terminal::Open(p.in[0], p.out[1]);
  ASSERT_TRUE(t);
  int leaked = ::dup((*t)->slave());  // the master never reaches EIO while this is open
  (*t)->Finish();                     // ends after a quiet second
  ::close(leaked);
}

}  // namespace
}  // namespace anyarch::isolation

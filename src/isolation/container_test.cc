// Runs real containers (root needed; skipped otherwise) on a root filesystem made of the host's
// static busybox, so each property is checked against the kernel, not a fake.
#include "isolation/container.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <algorithm>

#include "base/fs.h"
#include "base/process.h"
#include "isolation/network.h"

namespace anyarch::isolation {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBusybox = "/bin/busybox";

class ContainerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (!fs::exists(kBusybox)) GTEST_SKIP() << "needs a static busybox";
    auto t = TempDir::Create("container-test");
    ASSERT_TRUE(t);
    tmp_ = std::make_unique<TempDir>(std::move(*t));
    lower_ = tmp_->path() / "lower";
    fs::create_directories(lower_ / "bin");
    fs::copy_file(kBusybox, lower_ / "bin/busybox");
    for (const char* tool : {"sh", "cat", "ls", "echo", "sleep", "unshare", "id", "test", "stat",
                             "mount", "tr", "ip", "hostname", "true", "wc", "nc"})
      fs::create_symlink("busybox", lower_ / "bin" / tool);
  }

  ContainerSpec Spec(std::vector<std::string> argv, const std::string& name = "c") {
    ContainerSpec spec;
    spec.rootfs = lower_.string();
    spec.state_dir = (tmp_->path() / name).string();
    spec.argv = std::move(argv);
    spec.env = {"PATH=/bin"};
    spec.network = Network::kNone;
    return spec;
  }

  // Runs a shell command, returns its stdout (through stdout_fd) and exit code.
  std::pair<std::string, int> Sh(ContainerSpec spec) {
    int p[2];
    EXPECT_EQ(::pipe2(p, O_CLOEXEC), 0);
    spec.stdout_fd = p[1];
    std::string out;
    std::thread reader([&] {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(p[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
    });
    auto r = isolation::Run(spec);
    ::close(p[1]);
    reader.join();
    ::close(p[0]);
    EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
    return {out, r ? r->exit_code : -1};
  }

  std::unique_ptr<TempDir> tmp_;
  fs::path lower_;
};

TEST_F(ContainerTest, StdoutExitCodeAndEtcFiles) {
  auto spec = Spec({"sh", "-c", "cat /etc/hostname; grep -c localhost /etc/hosts; exit 3"});
  spec.hostname = "box1";
  auto [out, code] = Sh(spec);
  EXPECT_EQ(code, 3);
  EXPECT_EQ(out, "box1\n2\n");
}

TEST_F(ContainerTest, MountStubsLeaveNothingInUpper) {
  fs::path data = tmp_->path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "f") << "hello";
  // /etc is in the image: the overlay copies it up to hold the /etc/hosts mount point.
  fs::create_directories(lower_ / "etc");
  auto spec = Spec({"sh", "-c", "cat /deep/mnt/f; echo kept > /kept"});
  spec.mounts = {{.source = data.string(), .target = "/deep/mnt", .readonly = true},
                 {.type = Mount::Type::kTmpfs, .target = "/scratch", .options = "size=1m"}};
  auto [out, code] = Sh(spec);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "hello");
  fs::path upper = fs::path(spec.state_dir) / "upper";
  std::vector<std::string> left;
  for (auto& e : fs::recursive_directory_iterator(upper))
    left.push_back(fs::relative(e.path(), upper).string());
  std::sort(left.begin(), left.end());
  // /dev, /proc and /sys stay, empty, as runc and BuildKit leave them in a layer; every other
  // mount point (the binds, the tmpfs, /etc/hosts and its copied-up /etc) is gone.
  EXPECT_EQ(left, (std::vector<std::string>{"dev", "kept", "proc", "sys"}));
  // The state directory is private: whatever the program left in upper/ is out of reach.
  struct stat st {};
  ASSERT_EQ(::stat(spec.state_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(ContainerTest, StubsStayWhenAsked) {
  auto spec = Spec({"true"});
  spec.remove_mount_stubs = false;
  auto [out, code] = Sh(spec);
  EXPECT_EQ(code, 0);
  fs::path upper = fs::path(spec.state_dir) / "upper";
  EXPECT_TRUE(fs::exists(upper / "proc"));
  EXPECT_TRUE(fs::exists(upper / "etc/hosts"));
}

TEST_F(ContainerTest, ReadonlyBindRefusesWrites) {
  fs::path data = tmp_->path() / "ro";
  fs::create_directories(data);
  auto spec = Spec({"sh", "-c", "echo x > /ro/new"});
  spec.mounts = {{.source = data.string(), .target = "/ro", .readonly = true}};
  auto [out, code] = Sh(spec);
  EXPECT_NE(code, 0);
  EXPECT_FALSE(fs::exists(data / "new"));
}

TEST_F(ContainerTest, SymlinkedTargetStaysInsideTheRoot) {
  // /escape -> an absolute host path: the mount must land under the container's root.
  fs::path host_dir = tmp_->path() / "host-side";
  fs::create_directories(host_dir);
  fs::create_symlink(host_dir, lower_ / "escape");
  fs::path data = tmp_->path() / "data";
  fs::create_directories(data);
  std::ofstream(data / "f") << "inside";
  auto spec = Spec({"cat", "/escape/m/f"});
  spec.mounts = {{.source = data.string(), .target = "/escape/m"}};
  auto [out, code] = Sh(spec);
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out, "inside");
  EXPECT_TRUE(fs::is_empty(host_dir)) << "a mount point was created outside the root";
}

TEST_F(ContainerTest, MissingBindSourceIsAnError) {
  auto spec = Spec({"true"});
  spec.mounts = {{.source = (tmp_->path() / "nope").string(), .target = "/x"}};
  auto r = isolation::Run(spec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code(), ErrorCode::kNotFound);
}

TEST_F(ContainerTest, LowersTopmostFirst) {
  fs::path top = tmp_->path() / "top";
  fs::create_directories(top);
  std::ofstream(top / "who") << "top";
  std::ofstream(lower_ / "who") << "bottom";
  auto spec = Spec({"cat", "/who"});
  spec.lowers = {top.string(), lower_.string()};
  auto [out, code] = Sh(spec);
  EXPECT_EQ(out, "top");
  spec.lowers = {"/a,b"};
  EXPECT_FALSE(isolation::Run(spec));
}

TEST_F(ContainerTest, InitShowsNothingOfTheHost) {
  ::setenv("ANYARCH_TEST_HOST_SECRET", "s3cret", 1);
  auto spec =
      Spec({"sh", "-c", "cat /proc/1/environ /proc/1/cmdline | tr '\\0' '\\n'; ls -l /proc/1/exe"});
  spec.env.push_back("MINE=1");
  auto [out, code] = Sh(spec);
  ::unsetenv("ANYARCH_TEST_HOST_SECRET");
  EXPECT_EQ(code, 0);
  EXPECT_EQ(out.find("s3cret"), std::string::npos) << out;
  EXPECT_NE(out.find("MINE=1"), std::string::npos) << out;
  EXPECT_EQ(out.find("anyarch_isolation_test"), std::string::npos) << out;
  EXPECT_NE(out.find("memfd:init"), std::string::npos) << out;
}

TEST_F(ContainerTest, SeccompRefusesNamespacesAndMounts) {
  auto spec = Spec({"sh", "-c", "unshare -U true && echo userns; mount -t tmpfs t /tmp && echo m"});
  auto [out, code] = Sh(spec);
  EXPECT_EQ(out, "");
  spec.seccomp = false;
  spec.state_dir += "-unconfined";
  auto [out2, code2] = Sh(spec);
  EXPECT_NE(out2.find("userns"), std::string::npos) << out2;
}

TEST_F(ContainerTest, NetworkNoneHasOnlyLoopback) {
  auto spec = Spec({"sh", "-c", "ls /sys/class/net"});
  auto [out, code] = Sh(spec);
  EXPECT_EQ(out, "lo\n");
}

// A listener on the host's 127.0.0.1: whether a container's connection arrives there.
bool HostLoopbackReached(ContainerTest* t, Network network, ContainerSpec spec) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len);
  ::listen(s, 4);
  spec.network = network;
  spec.argv = {"sh", "-c", "echo hi | nc 127.0.0.1 " + std::to_string(ntohs(addr.sin_port))};
  bool reached = false;
  std::thread acceptor([&] {
    pollfd p{s, POLLIN, 0};
    if (::poll(&p, 1, 8000) > 0) {
      int c = ::accept(s, nullptr, nullptr);
      reached = c >= 0;
      if (c >= 0) ::close(c);
    }
  });
  auto r = isolation::Run(spec);
  EXPECT_TRUE(r) << (r ? "" : r.error().ToString());
  ::shutdown(s, SHUT_RDWR);
  acceptor.join();
  ::close(s);
  (void)t;
  return reached;
}

TEST_F(ContainerTest, DefaultNetworkKeepsTheHostLoopbackOut) {
  if (FindInPath("slirp4netns").empty()) GTEST_SKIP() << "needs slirp4netns";
  EXPECT_FALSE(HostLoopbackReached(this, Network::kDefault, Spec({}, "net-default")));
  EXPECT_TRUE(HostLoopbackReached(this, Network::kHost, Spec({}, "net-host")));
  // The default network has an interface besides loopback, and DNS pointing at slirp4netns.
  auto spec = Spec({"sh", "-c", "ls /sys/class/net | tr '\\n' ' '; cat /etc/resolv.conf"}, "n2");
  spec.network = Network::kDefault;
  auto [out, code] = Sh(spec);
  EXPECT_EQ(out, std::string("lo tap0 nameserver ") + kDefaultNetworkDns + "\n");
}

TEST_F(ContainerTest, CancelKillsTheContainer) {
  std::atomic<bool> cancel{false};
  auto spec = Spec({"sleep", "100"});
  spec.cancel = &cancel;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancel = true;
  });
  auto start = std::chrono::steady_clock::now();
  auto r = isolation::Run(spec);
  t.join();
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->cancelled);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_F(ContainerTest, TimeoutKillsTheContainer) {
  auto spec = Spec({"sleep", "100"});
  spec.timeout = std::chrono::seconds(1);
  auto r = isolation::Run(spec);
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->exit_code, 124);
}

TEST_F(ContainerTest, ConcurrentRunsDoNotDisturbEachOther) {
  constexpr int kN = 4;
  std::vector<std::pair<std::string, int>> results(kN);
  std::vector<std::thread> threads;
  for (int i = 0; i < kN; ++i) {
    threads.emplace_back([&, i] {
      auto spec = Spec({"sh", "-c", "sleep 0.$((RANDOM % 5)); echo " + std::to_string(i)},
                       "c" + std::to_string(i));
      results[i] = Sh(spec);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kN; ++i) {
    EXPECT_EQ(results[i].first, std::to_string(i) + "\n");
    EXPECT_EQ(results[i].second, 0);
  }
}

TEST_F(ContainerTest, CommandNotFound) {
  auto r = isolation::Run(Spec({"no-such-command"}));
  ASSERT_TRUE(r) << r.error().ToString();
  EXPECT_EQ(r->exit_code, kExitCannotStart);
  EXPECT_NE(r->start_error.find("no-such-command"), std::string::npos);
}

}  // namespace
}  // namespace anyarch::isolation

#include "base/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "base/fs.h"

extern char** environ;

namespace anyarch {

std::string FindInPath(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return ::access(name.c_str(), X_OK) == 0 ? name : std::string();
  }
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin";
  std::size_t start = 0;
  while (start <= p.size()) {
    std::size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    struct stat st;
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        ::access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
    start = end + 1;
  }
  return {};
}

Result<ProcessResult> RunProcess(const std::vector<std::string>& argv, const RunOptions& options) {
  if (argv.empty()) return MakeError(ErrorCode::kInvalid, "RunProcess: empty argv");
  std::string program = FindInPath(argv[0]);
  if (program.empty()) return MakeError(ErrorCode::kNotFound, argv[0] + ": program not found");

  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe2(in_pipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) return Unexpected(ErrnoError(errno, "pipe"));

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in_pipe[0], 0);
  if (options.capture_stdout) posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
  if (options.capture_stderr) posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
  if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, options.cwd.c_str());

  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  std::vector<std::string> env_strings;
  std::vector<char*> cenv;
  char** envp = environ;
  if (options.env) {
    for (const auto& [k, v] : *options.env) env_strings.push_back(k + "=" + v);
    for (auto& s : env_strings) cenv.push_back(s.data());
    cenv.push_back(nullptr);
    envp = cenv.data();
  }
  pid_t pid = 0;
  int rc = ::posix_spawn(&pid, program.c_str(), &fa, nullptr, cargv.data(), envp);
  posix_spawn_file_actions_destroy(&fa);
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (rc != 0) {
    ::close(in_pipe[1]);
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return Unexpected(ErrnoError(rc, "starting " + argv[0]));
  }

  ProcessResult result;
  std::size_t in_off = 0;
  int in_fd = in_pipe[1];
  if (options.stdin_data.empty()) {
    ::close(in_fd);
    in_fd = -1;
  } else {
    ::fcntl(in_fd, F_SETFL, O_NONBLOCK);
  }
  int out_fd = out_pipe[0], err_fd = err_pipe[0];
  auto deadline = std::chrono::steady_clock::now() + options.timeout;
  bool timed_out = false;
  // SIGPIPE from a child that closes stdin early must not kill us.
  struct sigaction ign {
  }, old{};
  ign.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ign, &old);
  while (in_fd >= 0 || out_fd >= 0 || err_fd >= 0) {
    pollfd fds[3];
    int n = 0;
    if (in_fd >= 0) fds[n++] = {in_fd, POLLOUT, 0};
    if (out_fd >= 0) fds[n++] = {out_fd, POLLIN, 0};
    if (err_fd >= 0) fds[n++] = {err_fd, POLLIN, 0};
    int wait_ms = -1;
    if (options.timeout.count() > 0) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(left.count());
    }
    int pr = ::poll(fds, n, wait_ms);
    if (pr < 0 && errno == EINTR) continue;
    if (pr <= 0) continue;
    for (int i = 0; i < n; ++i) {
      if (fds[i].revents == 0) continue;
      if (fds[i].fd == in_fd) {
        ssize_t w =
            ::write(in_fd, options.stdin_data.data() + in_off, options.stdin_data.size() - in_off);
        if (w > 0) in_off += static_cast<std::size_t>(w);
        if (w < 0 && errno != EAGAIN && errno != EINTR) in_off = options.stdin_data.size();
        if (in_off >= options.stdin_data.size()) {
          ::close(in_fd);
          in_fd = -1;
        }
      } else {
        char buf[65536];
        ssize_t r = ::read(fds[i].fd, buf, sizeof buf);
        if (r > 0) {
          (fds[i].fd == out_fd ? result.stdout_data : result.stderr_data)
              .append(buf, static_cast<std::size_t>(r));
        } else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
          ::close(fds[i].fd);
          if (fds[i].fd == out_fd)
            out_fd = -1;
          else
            err_fd = -1;
        }
      }
    }
  }
  ::sigaction(SIGPIPE, &old, nullptr);
  for (int fd : {in_fd, out_fd, err_fd}) {
    if (fd >= 0) ::close(fd);
  }
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out) {
    return MakeError(ErrorCode::kTimeout, argv[0] + " did not finish within " +
                                              std::to_string(options.timeout.count()) + " ms");
  }
  if (WIFEXITED(status))
    result.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    result.exit_code = 128 + WTERMSIG(status);
  return result;
}

bool ProcessAlive(long pid) {
  if (pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

long LeadingPid(const std::string& name) {
  std::size_t n = 0;
  while (n < name.size() && n < 10 && name[n] >= '0' && name[n] <= '9') ++n;
  if (n == 0 || (n < name.size() && name[n] >= '0' && name[n] <= '9')) return -1;
  return std::stol(name.substr(0, n));
}

}  // namespace anyarch

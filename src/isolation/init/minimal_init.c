/* The init that is pid 1 of every container: a small static program, embedded in the anyarch
 * binary and executed from a memfd, so that /proc/1/exe, /proc/1/cmdline and /proc/1/environ
 * show this program, its few options and the container's own environment, never the host
 * process that started it (a fork of anyarch would carry the caller's environment, CI tokens
 * included, and its command line).
 *
 * Usage: init -u UID -g GID [-G GID,GID...] [-3] [-e FD] -- PROGRAM [ARG...]
 *   -3     PER_LINUX32 personality for the program
 *   -e FD  a close-on-exec pipe on which a failure to start the program is reported
 *
 * It starts the program (user and group set, every signal disposition at its default, PATH from
 * its own environment searched inside the new root), forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT,
 * SIGUSR1, SIGUSR2 and SIGWINCH to it, reaps orphans, and exits with the program's status (128+N
 * when it died from signal N). The signals are blocked and taken with sigwaitinfo, as tini does:
 * pid 1 of a namespace gets no signal that has no handler, except blocked ones, which stay pending
 * until taken.
 *
 * Written against the C library only (no C++ runtime) so the static binary stays small. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

enum { kExitCannotStart = 127, kExitSetup = 125 };

static const int kForwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

static void Report(int fd, const char* a, const char* b, int err) {
  if (fd < 0) return;
  char buf[600];
  size_t n = 0;
  const char* parts[] = {a, b, ": ", strerror(err)};
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; ++i) {
    size_t len = strlen(parts[i]);
    if (n + len >= sizeof buf) len = sizeof buf - 1 - n;
    memcpy(buf + n, parts[i], len);
    n += len;
  }
  if (err == ENOEXEC) {
    const char* hint =
        " (no emulator registered for this architecture? run: anyarch binfmt install)";
    size_t len = strlen(hint);
    if (n + len < sizeof buf) {
      memcpy(buf + n, hint, len);
      n += len;
    }
  }
  ssize_t ignored = write(fd, buf, n);
  (void)ignored;
}

static unsigned ParseId(const char* s) {
  char* end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (!s[0] || *end || v > 0xffffffffUL) _exit(kExitSetup);
  return (unsigned)v;
}

/* The program: user, personality, signals back to default, exec with PATH lookup. */
enum { kMaxGroups = 64 };

/* "1,2,3" into groups; the count. Anything malformed or too long is a setup error. */
static size_t ParseGroups(const char* s, gid_t* groups) {
  size_t n = 0;
  char buf[16];
  while (*s) {
    const char* end = strchrnul(s, ',');
    size_t len = (size_t)(end - s);
    if (n == kMaxGroups || len == 0 || len >= sizeof buf) _exit(kExitSetup);
    memcpy(buf, s, len);
    buf[len] = 0;
    groups[n++] = (gid_t)ParseId(buf);
    s = *end ? end + 1 : end;
  }
  return n;
}

static void ExecProgram(char** argv, unsigned uid, unsigned gid, const gid_t* groups,
                        size_t ngroups, int linux32, int errfd) {
  if (errfd >= 0) fcntl(errfd, F_SETFD, FD_CLOEXEC);
  /* With a controlling terminal (run -t), the program gets a process group of its own in the
   * terminal's foreground, as under tini: Ctrl-C reaches it and what it starts, never this init
   * (which would pass it on a second time). SIGTTOU is blocked while a background group takes
   * the terminal. */
  if (tcgetsid(0) == getsid(0)) {
    sigset_t ttou;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    sigprocmask(SIG_BLOCK, &ttou, NULL);
    setpgid(0, 0);
    tcsetpgrp(0, getpid());
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  if (linux32 && personality(PER_LINUX32) < 0) {
    Report(errfd, "personality", "", errno);
    _exit(kExitSetup);
  }
  if (setgroups(ngroups, groups) != 0 && uid != 0) {
    Report(errfd, "setgroups", "", errno);
    _exit(kExitSetup);
  }
  if (setgid(gid) != 0 || setuid(uid) != 0) {
    Report(errfd, "setting the user", "", errno);
    _exit(kExitSetup);
  }
  const char* cmd = argv[0];
  int last = ENOENT;
  if (strchr(cmd, '/')) {
    execv(cmd, argv);
    last = errno;
  } else {
    const char* path = getenv("PATH");
    if (!path) path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    size_t clen = strlen(cmd);
    for (const char* p = path;; ++p) {
      const char* end = strchrnul(p, ':');
      size_t dlen = (size_t)(end - p);
      char candidate[4096];
      if (dlen + 1 + clen + 1 <= sizeof candidate) {
        if (dlen == 0) {
          candidate[0] = '.';
          dlen = 1;
        } else {
          memcpy(candidate, p, dlen);
        }
        candidate[dlen] = '/';
        memcpy(candidate + dlen + 1, cmd, clen + 1);
        execv(candidate, argv);
        if (errno != ENOENT && errno != ENOTDIR) {
          last = errno;
          break;
        }
      }
      if (!*end) break;
      p = end;
    }
  }
  Report(errfd, "exec ", cmd, last);
  _exit(kExitCannotStart);
}

/* A signal ignored by whoever started anyarch (nohup's SIGHUP, a CI agent's or Python's SIGPIPE,
 * or anyarch's own SIGPIPE while it feeds a helper's stdin) stays ignored across fork and exec.
 * The program would inherit it: `yes | head -n 1` would print "Broken pipe" instead of dying
 * quietly, and an ignored SIGCHLD would leave this init unable to wait for the program. Every
 * disposition goes back to its default first, as a process started by runc has them. */
static void DefaultDispositions(void) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) sigaction(sig, &dfl, NULL); /* EINVAL for libc's own */
  }
}

int main(int argc, char** argv) {
  DefaultDispositions();
  unsigned uid = 0, gid = 0;
  gid_t groups[kMaxGroups];
  size_t ngroups = 0;
  int linux32 = 0, errfd = -1, i = 1;
  for (; i < argc; ++i) {
    if (strcmp(argv[i], "--") == 0) {
      ++i;
      break;
    }
    if (strcmp(argv[i], "-3") == 0) {
      linux32 = 1;
    } else if (i + 1 < argc && strcmp(argv[i], "-u") == 0) {
      uid = ParseId(argv[++i]);
    } else if (i + 1 < argc && strcmp(argv[i], "-g") == 0) {
      gid = ParseId(argv[++i]);
    } else if (i + 1 < argc && strcmp(argv[i], "-G") == 0) {
      ngroups = ParseGroups(argv[++i], groups);
    } else if (i + 1 < argc && strcmp(argv[i], "-e") == 0) {
      errfd = (int)ParseId(argv[++i]);
    } else {
      _exit(kExitSetup);
    }
  }
  if (i >= argc) _exit(kExitSetup);
  sigset_t set;
  sigemptyset(&set);
  for (size_t k = 0; k < sizeof kForwarded / sizeof kForwarded[0]; ++k)
    sigaddset(&set, kForwarded[k]);
  sigaddset(&set, SIGCHLD);
  sigprocmask(SIG_BLOCK, &set, NULL);
  pid_t child = fork();
  if (child < 0) {
    Report(errfd, "fork", "", errno);
    _exit(kExitSetup);
  }
  if (child == 0) ExecProgram(argv + i, uid, gid, groups, ngroups, linux32, errfd);
  if (errfd >= 0) close(errfd);
  for (;;) {
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig < 0) continue; /* EINTR */
    if (sig != SIGCHLD) {
      kill(child, sig);
      continue;
    }
    for (;;) {
      int status = 0;
      pid_t r = waitpid(-1, &status, WNOHANG | WUNTRACED);
      if (r <= 0) break;
      /* Ctrl-Z on the container's terminal (run -t) stops the program, and nothing inside would
       * ever continue it (a stopped program keeps even SIGTERM pending): it goes on at once, as
       * a container's pid 1 would not have stopped. Job control inside a shell is the shell's
       * own business: the shell itself does not stop, and its jobs are not this init's
       * children. */
      if (WIFSTOPPED(status)) {
        /* Its whole process group (what it runs stopped with it), else the program alone. */
        if (r == child && kill(-child, SIGCONT) != 0) kill(child, SIGCONT);
        continue;
      }
      if (r == child) _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    }
  }
}

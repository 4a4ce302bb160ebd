/* An attacker's program for e2e.run_hardening: started inside a container whose stdio is a
 * terminal, it tries to push a command into that terminal's input with TIOCSTI, through its
 * standard input and through /dev/tty. Were it to work, the shell that started anyarch would run
 * the command once anyarch exits. Prints the device of the terminal on its stdin ("terminal
 * 88:3", major and minor in hex, as stat's %t:%T), then one line per attempt ("fd 0: refused
 * (...)" or "fd 0: injected"), and exits 1 when any attempt worked. Static, so it runs in any
 * image. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static int Inject(const char* what, int fd) {
  static const char kCommand[] = "echo injected-from-the-container\n";
  if (fd < 0) {
    printf("%s: refused (%s)\n", what, strerror(errno));
    return 0;
  }
  for (const char* p = kCommand; *p; ++p) {
    if (ioctl(fd, TIOCSTI, p) != 0) {
      printf("%s: refused (%s)\n", what, strerror(errno));
      return 0;
    }
  }
  printf("%s: injected\n", what);
  return 1;
}

int main(void) {
  struct stat st;
  if (fstat(0, &st) == 0) printf("terminal %x:%x\n", major(st.st_rdev), minor(st.st_rdev));
  int worked = Inject("fd 0", 0);
  worked |= Inject("/dev/tty", open("/dev/tty", O_RDWR | O_NOCTTY));
  return worked;
}

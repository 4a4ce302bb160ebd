#include "cli/style.h"

#include <unistd.h>

#include <cstdlib>

namespace anyarch::cli {

bool ColourWanted(const std::string& mode, int fd) {
  if (mode == "always") return true;
  if (mode == "never") return false;
  if (const char* n = std::getenv("NO_COLOR"); n && *n) return false;
  return ::isatty(fd) == 1;
}

}  // namespace anyarch::cli

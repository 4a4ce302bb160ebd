#include "cli/app.h"

namespace anyarch::cli {

void RegisterAuthCommands(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace anyarch::cli

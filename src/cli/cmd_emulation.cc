#include "cli/app.h"

namespace anyarch::cli {

void RegisterEmulationCommands(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace anyarch::cli

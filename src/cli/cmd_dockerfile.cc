#include "cli/app.h"

namespace anyarch::cli {

void RegisterDockerfileCommands(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace anyarch::cli

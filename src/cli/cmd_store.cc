#include "cli/app.h"

namespace anyarch::cli {

void RegisterStoreCommands(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace anyarch::cli

#include "cli/app.h"

namespace anyarch::cli {

void RegisterTransferCommands(CLI::App& app, Cli& cli) {
  (void)app;
  (void)cli;
}

}  // namespace anyarch::cli

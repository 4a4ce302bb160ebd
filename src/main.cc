#include "cli/app.h"

int main(int argc, char** argv) { return anyarch::cli::Main(argc, argv); }

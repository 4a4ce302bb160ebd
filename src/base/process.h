// Running a child process and collecting its output (credential helpers, probes, tests).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch {

struct RunOptions {
  std::string stdin_data;  // written to the child's stdin, then closed
  std::optional<std::map<std::string, std::string>> env;  // replaces the environment if set
  std::string cwd;                                        // empty: inherit
  std::chrono::milliseconds timeout{0};                   // 0: none; else SIGKILL and kTimeout
  bool capture_stdout = true;
  bool capture_stderr = true;
};

struct ProcessResult {
  int exit_code = 0;  // exit status, or 128 + signal number if it was killed by a signal
  std::string stdout_data;
  std::string stderr_data;
};

// Runs argv[0] (searched in PATH) and waits. kNotFound if the program does not exist, kTimeout if
// it outlived options.timeout; a non-zero exit is not an error (see exit_code).
Result<ProcessResult> RunProcess(const std::vector<std::string>& argv,
                                 const RunOptions& options = {});

// Finds a program in PATH; empty if absent.
std::string FindInPath(const std::string& name);

// Whether a process with this pid exists (it may belong to another user). Used to tell the
// leftovers of killed processes, named after their pid, from work in progress.
bool ProcessAlive(long pid);

// The pid a leftover's name starts with ("1234.Xy", "1234-mounts..."), or -1 when it starts
// with none.
long LeadingPid(const std::string& name);

}  // namespace anyarch

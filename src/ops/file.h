// anyarch file: what platform a file is built for.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "elf/elf.h"

namespace anyarch::ops {

struct FileReport {
  enum class Kind { kElf, kScript, kOther, kDirectory, kError };
  std::string path;
  Kind kind = Kind::kOther;
  std::optional<elf::ElfInfo> elf;  // kElf
  std::string script_interpreter;   // kScript: the #! line's program
  std::string note;                 // kOther: what it is instead; kError: the error text
};

// Inspects each path; a path that cannot be read gives a kError report (the others go on).
std::vector<FileReport> InspectFiles(const std::vector<std::string>& paths);

const char* FileKindName(FileReport::Kind kind);

}  // namespace anyarch::ops

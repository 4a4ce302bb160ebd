// anyarch verify: every ELF file of every platform's image matches that platform.
#pragma once

#include <string>
#include <vector>

#include "base/error.h"
#include "base/reporter.h"
#include "platform/platform.h"

namespace anyarch::ops {

struct VerifyMismatch {
  std::string path;  // absolute path in the image
  // "wrong-platform", "missing-interpreter", "config-platform", "unsupported-elf" (an ELF file
  // whose e_machine has no OCI platform), "malformed-elf" (one that cannot be parsed)
  std::string kind;
  std::string found;     // the file's platform (or the interpreter path, or what the file is)
  std::string expected;  // the image's platform
  std::string detail;    // for unsupported-elf and malformed-elf: why, from the ELF reader
};

struct VerifyPlatformResult {
  platform::Platform platform;
  std::string manifest_digest;
  std::size_t files = 0;
  std::size_t elf_files = 0;
  std::vector<VerifyMismatch> mismatches;
};

struct VerifyReport {
  std::string source;
  std::vector<VerifyPlatformResult> platforms;
  bool ok() const;
};

struct VerifyRequest {
  std::string location;                       // oci:DIR[:TAG]
  std::vector<platform::Platform> platforms;  // empty: every platform of the index
  bool insecure = false;
  std::string config_path;  // registries config
  std::string store_root;   // for local:REF
  Reporter* reporter = nullptr;
};

// Streams each selected platform's layers in order (never unpacking to disk), applies
// whiteouts and opaque directories, and checks the final filesystem. Errors: the source cannot
// be read, a blob does not match its digest, a layer is malformed, or a requested platform is
// not in the index (the message lists the ones it has).
Result<VerifyReport> Verify(const VerifyRequest& request);

}  // namespace anyarch::ops

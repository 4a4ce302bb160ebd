// Containers that `anyarch run` keeps (run without --rm), as `docker ps -a` lists them:
//   <store>/containers/<id>/container.json   the record below
//   <store>/containers/<id>/upper/            what the program wrote (its writable layer)
// The record is written before the program starts (status "running", with anyarch's pid) and
// rewritten when it ends ("exited" and the exit code). A record that says running but whose pid
// is gone, or a directory without a record, is a container whose anyarch was killed: "dead".
// Every directory here is 0700 (see container.h: what a program leaves, a setuid file say, is
// root's only).
#pragma once

#include <string>
#include <vector>

#include "base/error.h"

namespace anyarch::isolation {

struct KeptContainer {
  std::string id;
  std::string image;     // as given to run
  std::string platform;  // os/arch[/variant]
  std::vector<std::string> command;
  std::string created;  // RFC 3339, UTC
  std::string status;   // "running", "exited" or "dead"
  int exit_code = 0;    // for "exited"
  long pid = 0;         // anyarch's, while running
  std::string dir;      // the container's directory
};

// Writes `dir`/container.json atomically.
Status WriteKeptRecord(const std::string& dir, const KeptContainer& record);

// Every kept container, newest first. A malformed record is listed as dead, never an error.
Result<std::vector<KeptContainer>> ListKept(const std::string& store_root);

// Removes the containers named by id or unique id prefix (at least 4 characters). A running
// one is kInvalid (it is in use); an unknown or ambiguous name is kNotFound/kInvalid naming it;
// nothing is removed unless every name resolves.
Result<std::vector<std::string>> RemoveKept(const std::string& store_root,
                                            const std::vector<std::string>& names);

// Removes every container that is not running; returns their ids.
Result<std::vector<std::string>> PruneKept(const std::string& store_root);

}  // namespace anyarch::isolation

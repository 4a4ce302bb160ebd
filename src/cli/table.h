// The human tables of the CLI (images, ps, manifest lists, binfmt status, inspect, the build
// summary): columns as wide as their widest cell, three spaces apart, the last column
// unpadded, so no cell runs into the next however long a name is. Cells are never cut here:
// commands shorten ids (ShortId) unless --no-trunc is given. Scripts read --json instead; a
// table's layout is for people and may change.
#pragma once

#include <string>
#include <vector>

#include "cli/style.h"

namespace anyarch::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  // A row with fewer cells than the header is padded with empty ones. Cells may hold colour
  // (Style): its codes take no width.
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header (bold when `style` is on) and every row, one line each.
  std::string Render(const Style& style = Style()) const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// An id or digest as tables show it: "sha256:<64 hex>" or "<hex>" becomes its first 12 hex
// digits, as docker shows image ids; everything when `no_trunc`.
std::string ShortId(const std::string& id, bool no_trunc = false);

}  // namespace anyarch::cli

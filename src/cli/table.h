// The human tables of the CLI (images, ps, ...): columns as wide as their widest cell, three
// spaces apart, the last column unpadded, so no cell runs into the next however long a name
// is. Scripts read --json instead; a table's layout is for people and may change.
#pragma once

#include <string>
#include <vector>

namespace anyarch::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  // A row with fewer cells than the header is padded with empty ones.
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // The header and every row, one line each.
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace anyarch::cli

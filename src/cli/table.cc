#include "cli/table.h"

#include <algorithm>

namespace anyarch::cli {

namespace {

// Display width: UTF-8 continuation bytes take no column.
std::size_t Width(const std::string& s) {
  return static_cast<std::size_t>(std::count_if(
      s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

}  // namespace

std::string Table::Render() const {
  const std::size_t columns = rows_.front().size();
  std::vector<std::size_t> width(columns, 0);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < columns && i < row.size(); ++i)
      width[i] = std::max(width[i], Width(row[i]));
  std::string out;
  for (const auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < columns; ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < columns) line.append(width[i] - Width(cell) + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  return out;
}

}  // namespace anyarch::cli

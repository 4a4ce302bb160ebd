#include "cli/table.h"

#include <algorithm>

namespace anyarch::cli {

namespace {

// Display width: UTF-8 continuation bytes and SGR colour codes ("\033[...m") take no column.
std::size_t Width(const std::string& s) {
  std::size_t w = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\033' && i + 1 < s.size() && s[i + 1] == '[') {
      std::size_t m = s.find('m', i);
      if (m != std::string::npos) {
        i = m;
        continue;
      }
    }
    if ((static_cast<unsigned char>(s[i]) & 0xc0) != 0x80) ++w;
  }
  return w;
}

}  // namespace

std::string Table::Render(const Style& style) const {
  const std::size_t columns = rows_.front().size();
  std::vector<std::size_t> width(columns, 0);
  for (const auto& row : rows_)
    for (std::size_t i = 0; i < columns && i < row.size(); ++i)
      width[i] = std::max(width[i], Width(row[i]));
  std::string out;
  for (std::size_t r = 0; r < rows_.size(); ++r) {
    const auto& row = rows_[r];
    std::string line;
    for (std::size_t i = 0; i < columns; ++i) {
      const std::string cell = i < row.size() ? row[i] : "";
      line += cell;
      if (i + 1 < columns) line.append(width[i] - Width(cell) + 3, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += (r == 0 ? style.Bold(line) : line) + "\n";
  }
  return out;
}

std::string ShortId(const std::string& id, bool no_trunc) {
  if (no_trunc) return id;
  std::size_t colon = id.find(':');
  std::string hex = colon == std::string::npos ? id : id.substr(colon + 1);
  return hex.substr(0, 12);
}

}  // namespace anyarch::cli

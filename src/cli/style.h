// Colour in the CLI's output, used sparingly: errors red, warnings yellow, finished work green,
// table headers bold. Colour is on only when the stream it goes to is a terminal and NO_COLOR
// (https://no-color.org: any non-empty value) is unset, or when --color=always asks for it;
// --color=never turns it off. Piped or redirected output therefore never holds escape codes.
#pragma once

#include <string>

namespace anyarch::cli {

// Whether output to file descriptor `fd` is coloured under --color `mode` (auto, always,
// never; anything else acts as auto).
bool ColourWanted(const std::string& mode, int fd);

// Wraps text in SGR codes when `on`, else returns it unchanged.
class Style {
 public:
  explicit Style(bool on = false) : on_(on) {}
  bool on() const { return on_; }
  std::string Bold(const std::string& s) const { return Wrap("1", s); }
  std::string Red(const std::string& s) const { return Wrap("1;31", s); }
  std::string Yellow(const std::string& s) const { return Wrap("1;33", s); }
  std::string Green(const std::string& s) const { return Wrap("32", s); }

 private:
  std::string Wrap(const char* sgr, const std::string& s) const {
    return on_ ? "\033[" + std::string(sgr) + "m" + s + "\033[0m" : s;
  }
  bool on_;
};

}  // namespace anyarch::cli

// Small string helpers used across modules.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace anyarch {

std::vector<std::string> Split(std::string_view s, char sep);
std::string Join(const std::vector<std::string>& parts, std::string_view sep);
std::string_view TrimSpace(std::string_view s);
std::string ToLower(std::string_view s);
// "1.5 MiB", "320 B": binary units with one decimal.
std::string HumanSize(std::uint64_t bytes);
// Replaces anything that is not printable ASCII by \xNN, for echoing untrusted input in errors.
std::string Printable(std::string_view s, std::size_t max_len = 200);

}  // namespace anyarch

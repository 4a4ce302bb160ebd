// Small string helpers used across modules.
#pragma once

#include <cstdint>
#include <optional>
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
// "512", "10MB", "1.5GiB", "2g": a size in bytes, units 1024-based whatever their spelling (as
// docker's --keep-storage reads them); std::nullopt for anything else or past 2^64.
std::optional<std::uint64_t> ParseHumanSize(std::string_view text);
// A UTC time as RFC 3339 ("2026-12-01T15:04:05Z"): `epoch` seconds, or now when nullopt.
std::string Rfc3339(std::optional<std::int64_t> epoch);
// Percent-encodes everything but RFC 3986 unreserved characters (for URL query values).
std::string UrlEncode(std::string_view s);
// Standard base64 (RFC 4648, with padding), through OpenSSL.
std::string Base64Encode(std::string_view data);
// Decodes standard base64; std::nullopt for malformed input (bad characters or length).
std::optional<std::string> Base64Decode(std::string_view text);
// Replaces anything that is not printable ASCII by \xNN, for echoing untrusted input in errors.
std::string Printable(std::string_view s, std::size_t max_len = 200);
// Levenshtein distance (insertions, deletions, substitutions; a swap of two neighbours counts
// one), for "did you mean" suggestions.
std::size_t EditDistance(std::string_view a, std::string_view b);
// The word of `candidates` closest to `word` when it is close enough to be a likely typo (at
// most 2 edits, and fewer than half of `word`'s length), or a word `word` is a prefix of;
// std::nullopt otherwise.
std::optional<std::string> ClosestWord(std::string_view word,
                                       const std::vector<std::string>& candidates);

}  // namespace anyarch

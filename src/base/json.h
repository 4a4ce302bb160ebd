// JSON through nlohmann::json, with its exceptions kept inside this module's helpers.
// Where a digest depends on the bytes, callers keep the raw text and only read from the parsed
// value; they never re-serialise it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/error.h"

namespace anyarch {

using Json = nlohmann::json;
using OrderedJson = nlohmann::ordered_json;

// Parses text; kInvalid with "<what>: <parser message>" on malformed input.
Result<Json> ParseJson(std::string_view text, std::string_view what);
Result<OrderedJson> ParseOrderedJson(std::string_view text, std::string_view what);

// Typed field access that reports "<what>: field \"key\" must be a string" instead of throwing.
// A missing key gives std::nullopt for the Optional* forms and kInvalid for the others.
Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view what);
Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key,
                                                     std::string_view what);
Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view what);

}  // namespace anyarch

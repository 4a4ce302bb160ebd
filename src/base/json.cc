#include "base/json.h"

namespace anyarch {

Result<Json> ParseJson(std::string_view text, std::string_view what) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    // Parse again with exceptions only to recover the parser's position message.
    try {
      Json discard = Json::parse(text);
      (void)discard;
    } catch (const Json::exception& e) {
      return MakeError(ErrorCode::kInvalid, std::string(what) + ": malformed JSON: " + e.what());
    }
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": malformed JSON");
  }
  return j;
}

Result<OrderedJson> ParseOrderedJson(std::string_view text, std::string_view what) {
  OrderedJson j = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    try {
      OrderedJson discard = OrderedJson::parse(text);
      (void)discard;
    } catch (const OrderedJson::exception& e) {
      return MakeError(ErrorCode::kInvalid, std::string(what) + ": malformed JSON: " + e.what());
    }
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": malformed JSON");
  }
  return j;
}

Result<std::optional<std::string>> GetOptionalString(const Json& obj, std::string_view key,
                                                     std::string_view what) {
  if (!obj.is_object())
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": not an object");
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return std::optional<std::string>();
  if (!it->is_string()) {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + ": field \"" + std::string(key) + "\" must be a string");
  }
  return std::optional<std::string>(it->get<std::string>());
}

Result<std::string> GetString(const Json& obj, std::string_view key, std::string_view what) {
  ANYARCH_TRY(auto v, GetOptionalString(obj, key, what));
  if (!v) {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + ": missing field \"" + std::string(key) + "\"");
  }
  return *v;
}

Result<std::int64_t> GetInt(const Json& obj, std::string_view key, std::string_view what) {
  if (!obj.is_object())
    return MakeError(ErrorCode::kInvalid, std::string(what) + ": not an object");
  auto it = obj.find(key);
  if (it == obj.end()) {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + ": missing field \"" + std::string(key) + "\"");
  }
  if (!it->is_number_integer()) {
    return MakeError(ErrorCode::kInvalid,
                     std::string(what) + ": field \"" + std::string(key) + "\" must be an integer");
  }
  return it->get<std::int64_t>();
}

}  // namespace anyarch

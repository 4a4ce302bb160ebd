// Traps handled: an error body may be any JSON (errors not an array, entries not objects, codes
// that are numbers) or no JSON at all; a token server may send expires_in as a float, a negative
// number or 10^18 (a time point that far away overflows the clock); a Link header may hold
// several links in any order, with rel quoted or not, in any case, and with commas inside the
// URL; a Content-Range may claim a range that ends before it starts or past the total, or
// numbers longer than 64 bits.
#include "registry/wire.h"

#include <algorithm>
#include <charconv>

#include "base/json.h"
#include "base/strings.h"

namespace anyarch::registry {

namespace {

// Parses all of `s` as a decimal number; std::nullopt for anything else (sign, spaces, overflow).
std::optional<std::uint64_t> Decimal(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::uint64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// True when the space-separated list of link relation types `rels` holds "next".
bool HasNext(std::string_view rels) {
  for (const auto& r : Split(rels, ' ')) {
    if (ToLower(r) == "next") return true;
  }
  return false;
}

}  // namespace

ErrorBody ParseErrorBody(std::string_view body) {
  ErrorBody out;
  auto j = ParseJson(body, "error");
  if (!j || !j->is_object()) return out;
  auto errors = j->find("errors");
  if (errors == j->end() || !errors->is_array() || errors->empty()) return out;
  const auto& e = (*errors)[0];
  if (!e.is_object()) return out;
  if (auto c = e.find("code"); c != e.end() && c->is_string()) out.code = c->get<std::string>();
  if (auto m = e.find("message"); m != e.end() && m->is_string())
    out.message = m->get<std::string>();
  return out;
}

Result<TokenResponse> ParseTokenResponse(std::string_view body, const std::string& who) {
  auto j = ParseJson(body, "token response");
  if (!j || !j->is_object()) return MakeError(ErrorCode::kInvalid, who + " sent no JSON");
  TokenResponse t;
  for (const char* k : {"access_token", "token"}) {
    auto it = j->find(k);
    if (t.token.empty() && it != j->end() && it->is_string()) t.token = it->get<std::string>();
  }
  if (t.token.empty()) return MakeError(ErrorCode::kUnauthorized, who + " gave no token");
  if (auto e = j->find("expires_in"); e != j->end() && e->is_number()) {
    // Compare as doubles: an integer of 2^64 or a float of 1e300 must clamp, not wrap.
    double secs = e->get<double>();
    if (secs > static_cast<double>(kMaxTokenLifetime)) {
      t.expires_in = kMaxTokenLifetime;
    } else if (secs > 60) {
      t.expires_in = static_cast<std::int64_t>(secs);
    }
  }
  return t;
}

std::optional<std::string> NextLink(std::string_view h) {
  std::size_t i = 0;
  while (i < h.size()) {
    auto lt = h.find('<', i);
    if (lt == std::string_view::npos) return std::nullopt;
    auto gt = h.find('>', lt + 1);
    if (gt == std::string_view::npos) return std::nullopt;
    std::string_view target = h.substr(lt + 1, gt - lt - 1);
    // The parameters run to the next link, which starts with ',' followed by '<'. A quoted
    // parameter value may hold commas, so quotes are skipped over.
    std::size_t p = gt + 1;
    bool quoted = false;
    for (; p < h.size(); ++p) {
      if (h[p] == '"') quoted = !quoted;
      if (!quoted && h[p] == ',' && h.find_first_not_of(" \t", p + 1) != std::string_view::npos &&
          h[h.find_first_not_of(" \t", p + 1)] == '<') {
        break;
      }
    }
    std::string_view params = h.substr(gt + 1, p - gt - 1);
    for (const auto& param : Split(params, ';')) {
      std::string_view kv = TrimSpace(param);
      auto eq = kv.find('=');
      if (eq == std::string_view::npos || ToLower(TrimSpace(kv.substr(0, eq))) != "rel") continue;
      std::string_view v = TrimSpace(kv.substr(eq + 1));
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      if (HasNext(v)) return std::string(target);
    }
    i = p;
  }
  return std::nullopt;
}

std::optional<ContentRange> ParseContentRange(std::string_view value) {
  std::string_view v = TrimSpace(value);
  constexpr std::string_view kUnit = "bytes ";
  if (v.size() < kUnit.size() || ToLower(v.substr(0, kUnit.size())) != kUnit) return std::nullopt;
  v = TrimSpace(v.substr(kUnit.size()));
  auto dash = v.find('-');
  auto slash = v.find('/');
  if (dash == std::string_view::npos || slash == std::string_view::npos || slash < dash) {
    return std::nullopt;
  }
  auto first = Decimal(v.substr(0, dash));
  auto last = Decimal(v.substr(dash + 1, slash - dash - 1));
  if (!first || !last || *last < *first) return std::nullopt;
  ContentRange r{.first = *first, .last = *last, .total = std::nullopt};
  std::string_view total = v.substr(slash + 1);
  if (total != "*") {
    auto t = Decimal(total);
    if (!t || *last >= *t) return std::nullopt;
    r.total = *t;
  }
  return r;
}

}  // namespace anyarch::registry

#include "ref/reference.h"

#include <cctype>

#include "base/strings.h"

namespace anyarch::ref {
namespace {

constexpr std::size_t kMaxNameLength = 255;
constexpr std::size_t kMaxTagLength = 128;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

Error Bad(std::string_view input, const std::string& why) {
  return Error(ErrorCode::kInvalid, "invalid reference \"" + Printable(input) + "\": " + why);
}

// host := domain-name | IPv4 | "[" IPv6 "]", port := digits.
bool IsValidRegistry(std::string_view r) {
  if (r.empty()) return false;
  std::string_view host = r;
  std::string_view port;
  if (r.front() == '[') {
    auto close = r.find(']');
    if (close == std::string_view::npos) return false;
    std::string_view inner = r.substr(1, close - 1);
    if (inner.empty()) return false;
    for (char c : inner) {
      if (!(std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.')) return false;
    }
    std::string_view rest = r.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    host = {};
  } else {
    auto colon = r.find(':');
    if (colon != std::string_view::npos) {
      host = r.substr(0, colon);
      port = r.substr(colon + 1);
      if (port.empty()) return false;
    }
  }
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  if (port.size() > 5) return false;
  if (!host.empty()) {
    // Labels of letters, digits and hyphens, separated by dots; no empty label.
    for (const auto& label : Split(host, '.')) {
      if (label.empty() || label.front() == '-' || label.back() == '-') return false;
      for (char c : label) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-')) return false;
      }
    }
  }
  return true;
}

}  // namespace

bool IsValidTag(std::string_view tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) return false;
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  if (!word(tag[0])) return false;
  for (char c : tag.substr(1)) {
    if (!(word(c) || c == '.' || c == '-')) return false;
  }
  return true;
}

// path-component := alnum+ (separator alnum+)*, separator := "." | "_" | "__" | "-"+
bool IsValidPathComponent(std::string_view c) {
  if (c.empty() || !IsLowerAlnum(c.front()) || !IsLowerAlnum(c.back())) return false;
  std::size_t i = 0;
  while (i < c.size()) {
    if (IsLowerAlnum(c[i])) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < c.size() && !IsLowerAlnum(c[i])) ++i;
    std::string_view sep = c.substr(start, i - start);
    bool ok = sep == "." || sep == "_" || sep == "__" ||
              sep.find_first_not_of('-') == std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

Result<Reference> Parse(std::string_view text, const ParseOptions& options) {
  std::string_view input = TrimSpace(text);
  if (input.empty()) return Unexpected(Bad(text, "it is empty"));
  for (char c : input) {
    if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
      return Unexpected(Bad(input, "it contains a space or a non-ASCII character"));
    }
  }
  if (input.find("://") != std::string_view::npos) {
    return Unexpected(Bad(input,
                          "a reference has no scheme; write host/repository:tag "
                          "without http:// or docker://"));
  }

  Reference ref;
  std::string_view rest = input;
  if (auto at = rest.find('@'); at != std::string_view::npos) {
    auto d = Digest::Parse(rest.substr(at + 1));
    if (!d) return Unexpected(Bad(input, "bad digest: " + d.error().message()));
    ref.digest = *d;
    rest = rest.substr(0, at);
  }
  // A tag follows the last ':' only if no '/' comes after it (else that ':' is a port).
  auto last_colon = rest.rfind(':');
  auto last_slash = rest.rfind('/');
  if (last_colon != std::string_view::npos &&
      (last_slash == std::string_view::npos || last_colon > last_slash)) {
    std::string_view tag = rest.substr(last_colon + 1);
    if (!IsValidTag(tag)) {
      return Unexpected(Bad(input, "invalid tag \"" + std::string(tag) +
                                       "\": a tag is 1 to 128 letters, digits, '_', '.' or '-', "
                                       "and does not start with '.' or '-'"));
    }
    ref.tag = std::string(tag);
    rest = rest.substr(0, last_colon);
  }
  if (rest.empty()) return Unexpected(Bad(input, "the repository name is missing"));

  std::string_view path = rest;
  auto first_slash = rest.find('/');
  if (first_slash != std::string_view::npos) {
    std::string_view first = rest.substr(0, first_slash);
    bool is_host = first.find_first_of(".:") != std::string_view::npos || first == "localhost" ||
                   ToLower(first) != first;
    if (is_host) {
      if (!IsValidRegistry(first)) {
        return Unexpected(Bad(input, "invalid registry host \"" + std::string(first) + "\""));
      }
      ref.registry = std::string(first);
      path = rest.substr(first_slash + 1);
    }
  }
  if (ref.registry.empty() || ref.registry == "index.docker.io" ||
      ref.registry == "registry-1.docker.io") {
    ref.registry = std::string(kDockerHub);
  }
  if (path.empty()) return Unexpected(Bad(input, "the repository name is missing"));
  for (const auto& component : Split(path, '/')) {
    if (component.empty()) {
      return Unexpected(Bad(input, "the repository name has an empty path component"));
    }
    if (ToLower(component) != component) {
      return Unexpected(
          Bad(input, "repository name \"" + std::string(path) + "\" must be lowercase"));
    }
    if (!IsValidPathComponent(component)) {
      return Unexpected(Bad(input, "invalid repository path component \"" + component +
                                       "\": use lowercase letters and digits separated by '.', "
                                       "'_', '__' or '-'"));
    }
  }
  ref.repository = std::string(path);
  if (ref.registry == kDockerHub && ref.repository.find('/') == std::string::npos) {
    ref.repository = "library/" + ref.repository;
  }
  if (ref.Name().size() > kMaxNameLength) {
    return Unexpected(Bad(input, "the name is longer than 255 characters"));
  }
  if (ref.tag.empty() && !ref.digest && options.default_tag) ref.tag = std::string(kDefaultTag);
  return ref;
}

std::string Reference::Name() const { return registry + "/" + repository; }

std::string Reference::ToString() const {
  std::string s = Name();
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->ToString();
  return s;
}

std::string Reference::Familiar() const {
  std::string s;
  if (registry == kDockerHub) {
    s = repository.rfind("library/", 0) == 0 ? repository.substr(8) : repository;
  } else {
    s = Name();
  }
  if (!tag.empty()) s += ":" + tag;
  if (digest) s += "@" + digest->ToString();
  return s;
}

std::string Reference::ApiHost() const {
  return registry == kDockerHub ? std::string(kDockerHubApiHost) : registry;
}

std::string Reference::Identifier() const {
  if (digest) return digest->ToString();
  return tag.empty() ? std::string(kDefaultTag) : tag;
}

Reference Reference::WithTag(std::string new_tag) const {
  Reference r = *this;
  r.tag = std::move(new_tag);
  r.digest.reset();
  return r;
}

Reference Reference::WithDigest(Digest d) const {
  Reference r = *this;
  r.digest = std::move(d);
  return r;
}

Reference Reference::WithRepository(std::string repo) const {
  Reference r = *this;
  r.repository = std::move(repo);
  return r;
}

}  // namespace anyarch::ref

#include "ops/tags.h"

#include "ref/reference.h"
#include "registry/client.h"

namespace anyarch::ops {

Result<TagList> ListTags(const std::string& repository, const transport::Env& env) {
  ANYARCH_TRY(auto r, ref::Parse(repository, {.default_tag = false}));
  transport::Transports t(env);
  ANYARCH_TRY(auto session, t.Session());
  ANYARCH_TRY(auto reg, session->Get(r.registry));
  ANYARCH_TRY(auto tags, reg->ListTags(r.repository));
  return TagList{.repository = r.Name(), .tags = std::move(tags)};
}

}  // namespace anyarch::ops

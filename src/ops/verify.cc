#include "ops/verify.h"

#include <algorithm>

#include "transport/location.h"

namespace anyarch::ops {

bool VerifyReport::ok() const {
  return !platforms.empty() && std::all_of(platforms.begin(), platforms.end(),
                                           [](const VerifyPlatformResult& p) { return p.ok(); });
}

Result<VerifyReport> Verify(const VerifyRequest& req) {
  Reporter& rep = req.reporter ? *req.reporter : DiscardReporter();
  ANYARCH_TRY(auto src, transport::OpenSource(req.location, {.insecure = req.insecure,
                                                             .store_root = req.store_root,
                                                             .config_path = req.config_path}));
  VerifyReport report;
  report.source = src->Describe();
  ANYARCH_TRY(auto root, src->GetRootManifest());
  auto checks = inspect::CheckImages(*src, root, req.platforms, rep);
  if (!checks) return Unexpected(std::move(checks.error()).With(report.source));
  report.platforms = std::move(*checks);
  return report;
}

}  // namespace anyarch::ops

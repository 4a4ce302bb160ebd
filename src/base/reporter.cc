#include "base/reporter.h"

namespace anyarch {

Reporter& DiscardReporter() {
  static NullReporter r;
  return r;
}

}  // namespace anyarch

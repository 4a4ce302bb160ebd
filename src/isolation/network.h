// The default network of a container: a network namespace of its own, connected to the outside
// by slirp4netns (user-mode TCP/IP in a host process; Debian's slirp4netns package). The
// container sees 10.0.2.100/24, the gateway 10.0.2.2 and a DNS forwarder at 10.0.2.3; its
// connections leave through ordinary sockets of the slirp4netns process, and
// --disable-host-loopback refuses every connection to the host's 127.0.0.0/8, so services that
// listen on the host's loopback stay out of reach. NET_RAW inside applies to the namespace's
// tap interface, never to the host's.
//
// Why slirp4netns and not pasta: Debian 12's pasta, started by root for a namespace owned by the
// initial user namespace, changes to nobody and drops its capabilities before it opens the
// namespace, and then cannot open it ("Couldn't open network namespace"); slirp4netns keeps
// working as root, and was measured (docs/run.md) at about 30 ms to bring a namespace up.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/error.h"

namespace anyarch::isolation {

// The resolver address a container on the default network uses (slirp4netns' DNS forwarder).
inline constexpr const char* kDefaultNetworkDns = "10.0.2.3";

// A running slirp4netns attached to a process's network namespace. Destroying it stops the
// helper (through its exit descriptor) and reaps it.
class UserNetwork {
 public:
  UserNetwork() = default;
  ~UserNetwork();
  UserNetwork(UserNetwork&& o) noexcept;
  UserNetwork& operator=(UserNetwork&&) = delete;
  UserNetwork(const UserNetwork&) = delete;

  // Starts slirp4netns for the network namespace of `pid` and waits (up to 10 s) until it has
  // configured the interface. Its messages go to `log_path`. Errors: kUnavailable when
  // slirp4netns is missing (says how to install it, or to use --network host|none) or fails
  // (with the end of its log).
  static Result<UserNetwork> Start(pid_t pid, const std::string& log_path);

 private:
  pid_t pid_ = -1;
  int exit_fd_ = -1;
};

}  // namespace anyarch::isolation

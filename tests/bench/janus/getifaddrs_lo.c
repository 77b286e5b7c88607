/* LD_PRELOAD shim for Debian's janus in the benchmarks (scripts/bench.sh): Janus 1.1.x skips
 * loopback interfaces when it gathers ICE candidates, even with ice_enforce_list = "lo", so on
 * a loopback-only benchmark it would offer no candidate at all. This wraps getifaddrs() so that
 * `lo` is reported without IFF_LOOPBACK and every other interface as down: Janus then offers
 * 127.0.0.1 and nothing else. Not used by Junction, nor by any test. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <string.h>

int getifaddrs(struct ifaddrs **ifap) {
  int (*real)(struct ifaddrs **) = (int (*)(struct ifaddrs **))dlsym(RTLD_NEXT, "getifaddrs");
  if (real == NULL) return -1;
  int rc = real(ifap);
  if (rc != 0) return rc;
  for (struct ifaddrs *i = *ifap; i != NULL; i = i->ifa_next) {
    if (i->ifa_name != NULL && strcmp(i->ifa_name, "lo") == 0)
      i->ifa_flags &= ~(unsigned)IFF_LOOPBACK;
    else
      i->ifa_flags &= ~(unsigned)IFF_UP;
  }
  return 0;
}

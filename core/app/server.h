#pragma once
// The server process: the control loop, the gateway with its plugins, the transports, and an
// orderly shutdown on SIGINT/SIGTERM.
#include "core/base/config.h"

namespace junction {

// Runs until SIGINT or SIGTERM. Returns the process exit code. Throws std::runtime_error when it
// cannot start (a port is taken, ...).
int run_server(const Config& config);

}  // namespace junction

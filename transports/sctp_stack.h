#pragma once
// The process-wide side of usrsctp (internal to transports/sctp_transport.cpp).
//
// usrsctp is one stack per process. We start it with usrsctp_init_nothreads(): it makes no
// threads of its own, and its timers advance only when someone calls usrsctp_handle_timers().
// Every media worker that owns at least one association calls it from a 10 ms GLib timer; the
// elapsed time is taken from one shared clock, so however many workers tick, the stack's time
// advances once. A timer may therefore fire (a retransmission, a heartbeat) on a worker that
// does not own the association: callbacks find the owner through route() and post the work
// there, so an association's state is still only touched by its own worker.
//
// usrsctp is handed an integer id, never a pointer: a callback that arrives late for an
// association that is gone finds no owner and is dropped.
#include <cstddef>
#include <cstdint>

#include "transports/media_worker.h"

namespace junction::transports {

class SctpTransport;

namespace sctp_stack {

// usrsctp's AF_CONN output callback: one SCTP packet for the association registered as `address`.
using OutputFunction = int (*)(void* address, void* buffer, size_t length, uint8_t tos, uint8_t set_df);

// Starts usrsctp (once, with `output`) and registers `transport` on the calling worker (which must be its
// owner); returns the id that usrsctp will carry for it. Starts the worker's tick if needed.
uint64_t attach(SctpTransport* transport, OutputFunction output);
// Forgets the id (on the owning worker); stops the worker's tick with its last association.
void detach(uint64_t id);
// The transport with this id if the calling thread owns it, else null. No lock.
SctpTransport* local(uint64_t id);
// The worker that owns `id`, or null if it is gone. Takes a mutex: for the rare callbacks
// that arrive on a foreign worker only.
MediaWorker* owner(uint64_t id);

}  // namespace sctp_stack
}  // namespace junction::transports

// libFuzzer target for data channel input (transports/dcep.h, transports/data_channels.h): every
// SCTP message a peer sends on a data channel association goes through them.
//
// Checks, on every input:
// - dcep::parse_open never crashes; what it accepts builds back (build_open) to the very same
//   bytes, and parses again to the same fields.
// - The input read as a sequence of SCTP messages (stream, PPID, payload) fed to a DataChannels:
//   nothing crashes; every send it asks for is on a stream it has a channel for (or a DCEP ACK
//   on the stream being opened); a stream it resets has no channel afterwards; the channels it
//   reports as open are exactly those in channels(); message counters only count delivered ones.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <span>
#include <vector>

#include "transports/data_channels.h"
#include "transports/dcep.h"

namespace {

using namespace junction::transports;

#define FUZZ_CHECK(cond)                                                                  \
  do {                                                                                    \
    if (!(cond)) {                                                                        \
      std::fprintf(stderr, "dcep_fuzzer: check failed: %s (line %d)\n", #cond, __LINE__); \
      std::abort();                                                                       \
    }                                                                                     \
  } while (0)

void check_open(std::span<const uint8_t> bytes) {
  auto open = dcep::parse_open(bytes);
  if (!open) return;
  std::vector<uint8_t> built = dcep::build_open(*open);
  FUZZ_CHECK(built.size() == bytes.size());
  // A reliable channel's parameter is meaningless and written as 0; all else comes back as is.
  if (open->reliability != dcep::Reliability::kReliable || open->reliability_parameter == 0)
    FUZZ_CHECK(std::equal(built.begin(), built.end(), bytes.begin()));
  auto again = dcep::parse_open(built);
  FUZZ_CHECK(again && again->label == open->label && again->protocol == open->protocol &&
             again->unordered == open->unordered && again->reliability == open->reliability);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const uint8_t> input(data, size);
  check_open(input);

  std::set<uint16_t> open_streams;
  uint64_t delivered = 0;
  DataChannels* self = nullptr;
  DataChannels::Callbacks callbacks;
  callbacks.send = [&](uint16_t stream, uint32_t ppid, std::span<const uint8_t> m, const SctpSendOptions&) {
    FUZZ_CHECK(!m.empty());
    FUZZ_CHECK(ppid == dcep::kPpidDcep || self->find(stream) != nullptr);
    return true;
  };
  callbacks.reset_stream = [](uint16_t) {};
  callbacks.on_open = [&](const DataChannels::Channel& c) { open_streams.insert(c.stream); };
  callbacks.on_close = [&](const DataChannels::Channel& c) { open_streams.erase(c.stream); };
  callbacks.on_message = [&](const DataChannels::Channel& c, bool, std::span<const uint8_t>) {
    FUZZ_CHECK(open_streams.count(c.stream) == 1);
    ++delivered;
  };
  DataChannels channels(size % 2 == 0, callbacks);
  self = &channels;
  // Each message: stream (1 byte), PPID selector (1 byte), length (1 byte), payload.
  static constexpr uint32_t kPpids[] = {50, 51, 52, 53, 54, 56, 57, 0, 99};
  size_t at = 0;
  while (at + 3 <= size) {
    uint16_t stream = data[at];
    uint32_t ppid = kPpids[data[at + 1] % (sizeof kPpids / sizeof kPpids[0])];
    size_t length = std::min<size_t>(data[at + 2], size - at - 3);
    std::span<const uint8_t> payload(data + at + 3, length);
    at += 3 + length;
    if (data[at - length - 2] == 0xFF) {
      channels.on_stream_reset(stream);
      FUZZ_CHECK(channels.find(stream) == nullptr);
      continue;
    }
    channels.on_sctp_message(stream, ppid, payload);
    if (ppid == dcep::kPpidDcep) check_open(payload);
    if (ppid == 51 && stream % 3 == 0) channels.send("", "", false, payload);  // a plugin answering
  }
  FUZZ_CHECK(open_streams.size() == channels.channels().size());
  for (const auto& [stream, channel] : channels.channels()) FUZZ_CHECK(open_streams.count(stream) == 1);
  FUZZ_CHECK(channels.counters().messages_in == delivered);
  return 0;
}

// libFuzzer target for the SDP model (core/media/sdp.h, core/media/sdp_answer.h): a remote offer
// or answer arrives in a JSON `jsep` from any client.
//
// Checks, on every input:
// - parse_sdp never crashes or throws; on failure it names a reason.
// - What it parsed survives a round trip: write_sdp, then parse_sdp again succeeds and gives an
//   equal model (the model is what the server acts on, so a difference is a bug in one of the
//   two directions); writing that second model gives the same text (the writer is a fixed point).
// - validate_webrtc, every accessor of the model and make_answer (with the default options and
//   with data, simulcast and send streams enabled) run without crashing; make_answer throws
//   std::invalid_argument only for an offer without m-lines, and its answer writes out as SDP
//   that parses again.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "core/media/sdp.h"
#include "core/media/sdp_answer.h"

namespace {

using namespace junction::media;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "sdp_fuzzer: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// Reads every derived view of the model; the results only need not crash.
size_t touch(const SessionDescription& sdp) {
  size_t n = sdp.bundle_mids().size();
  for (const MediaSection& m : sdp.media) {
    n += sdp.find_mid(m.mid) != nullptr;
    n += sdp.bundle_tag_of(m) != nullptr;
    n += sdp.ice_ufrag_of(m).size() + sdp.ice_pwd_of(m).size() + sdp.fingerprint_of(m).size() +
         sdp.fingerprint_algorithm_of(m).size() + sdp.setup_of(m).size();
    n += m.is_rtp() + m.rejected() + m.media_ssrcs().size();
    n += static_cast<size_t>(m.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"));
    n += to_string(reverse(m.direction)).size() + sends(m.direction) + receives(m.direction);
    for (const RtpCodec& c : m.codecs) {
      n += m.codec(c.payload_type) != nullptr;
      n += c.rtx_apt().value_or(0);
      n += c.fmtp_param("apt").has_value() + c.is("H264");
      if (auto plid = c.fmtp_param("profile-level-id"))
        n += static_cast<size_t>(h264_baseline_rank(*plid) + 1);
    }
  }
  return n;
}

void check_answer(const SessionDescription& offer, const AnswerOptions& options) {
  SessionDescription answer;
  try {
    answer = make_answer(offer, options);
  } catch (const std::invalid_argument& e) {
    if (!offer.media.empty())
      fail("make_answer threw invalid_argument for an offer with m-lines", e.what());
    return;
  }
  if (answer.media.size() != offer.media.size())
    fail("answer has a different number of m-sections", write_sdp(answer));
  touch(answer);
  validate_webrtc(answer);
  const std::string text = write_sdp(answer);
  std::string error;
  if (!parse_sdp(text, &error)) fail("our own answer does not parse", error + "\n" + text);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  auto sdp = parse_sdp(input, &error);
  if (!sdp) {
    if (error.empty()) fail("parse_sdp failed without a reason", std::string(input));
    return 0;
  }

  const std::string written = write_sdp(*sdp);
  std::string error2;
  auto again = parse_sdp(written, &error2);
  if (!again) fail("write_sdp produced SDP that parse_sdp refuses", error2 + "\n" + written);
  if (!(*again == *sdp)) fail("parse(write(sdp)) != sdp", written + "---\n" + write_sdp(*again));
  const std::string rewritten = write_sdp(*again);
  if (rewritten != written) fail("write_sdp is not stable", written + "---\n" + rewritten);

  touch(*sdp);
  validate_webrtc(*sdp);

  check_answer(*sdp, AnswerOptions{});
  AnswerOptions wide;
  wide.accept_data = true;
  wide.video_codecs = {"h264", "vp9", "vp8", "AV1"};
  wide.audio_codecs = {"PCMU", "opus", "G722"};
  for (const MediaSection& m : sdp->media)
    wide.send_streams[m.mid] = SendStream{0x11223344, 0x55667788, "cname", "stream", "track"};
  check_answer(*sdp, wide);
  AnswerOptions recv_only;
  recv_only.send = false;
  recv_only.accept_audio = false;
  check_answer(*sdp, recv_only);
  return 0;
}

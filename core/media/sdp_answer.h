#pragma once
// Builds the media part of a WebRTC answer to a remote offer (RFC 8829 §5.3.1, RFC 3264 §6):
// one answer m-section per offered one, same order and mid. The ICE and DTLS attributes
// (ice-ufrag/pwd, fingerprint, setup, candidates) are left empty: the transport adds them.
//
// What an answer section looks like:
// - Accepted audio/video: port 9, c=IN IP4 0.0.0.0, the one chosen codec plus its rtx (if
//   offered), the offered payload type numbers and fmtp, rtcp-fb limited to nack, nack pli,
//   ccm fir, goog-remb and transport-cc (transport-cc only when the transport-wide-cc header
//   extension is kept too), the supported header extensions with the offered ids (an extmap
//   direction is reversed), rtcp-mux and rtcp-rsize echoed, direction = reverse(offer) limited
//   by what this side wants.
// - Simulcast offered on video (a=rid ... send + a=simulcast:send <list>), when the answer
//   receives: "a=rid:<id> recv" for each offered send rid (rid parameters are dropped) and
//   "a=simulcast:recv <the offered list>".
// - Accepted data (only with accept_data): same protocol and formats, a=sctp-port (offered or
//   5000; the old "DTLS/SCTP 5000" form is answered in kind, with a=sctpmap),
//   a=max-message-size:262144.
// - Rejected: port 0, a=inactive, the first offered format only (with its bare rtpmap for RTP),
//   a=mid kept, not in the BUNDLE group. An offered section that was itself rejected (port 0
//   without bundle-only) is always rejected.
// The answer's BUNDLE group lists the accepted mids of the offer's BUNDLE group, in offer order
// (none when the offer had no BUNDLE group or nothing is accepted).
// The o= line gets a fresh random session id, version 1; the gateway keeps it for
// renegotiation and must increase the version on every new answer.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/media/sdp.h"

namespace junction::media {

struct SendStream {
  uint32_t ssrc = 0;      // 0: no a=ssrc lines (msid only)
  uint32_t rtx_ssrc = 0;  // 0, or when no rtx codec is negotiated: no FID group
  std::string cname;      // "" -> "junction"
  std::string stream_id;  // "" -> "-" (RFC 8830 §2: no stream)
  std::string track_id;   // "" -> a=msid carries the stream id only
};

struct AnswerOptions {
  std::vector<std::string> audio_codecs = {"opus"};                // preference order
  std::vector<std::string> video_codecs = {"vp8", "vp9", "h264"};  // preference order
  bool accept_audio = true, accept_video = true;
  bool accept_data = false;  // data channels come later: reject application m-lines by default
  // What this side wants; the answer direction is the offer's reversed, intersected with this.
  bool send = true, receive = true;
  // By mid: written as a=msid + a=ssrc cname/msid lines (+ FID group with rtx) where the answer
  // sends.
  std::map<std::string, SendStream> send_streams;
};

// Per offered m-line picks OUR first preferred codec that the offer has (names compared
// case-insensitively). H.264 needs packetization-mode=1 and a constrained baseline or baseline
// profile-level-id (RFC 6184 §8.1; a missing one means 420010, baseline); constrained baseline
// variants are preferred over baseline, then offer order. VP9 needs profile-id 0 (or none).
// Throws std::invalid_argument only if the offer has no m-lines.
SessionDescription make_answer(const SessionDescription& offer, const AnswerOptions& options);

// RFC 6184 profile of a profile-level-id: 0 = constrained baseline, 1 = baseline, -1 = anything
// else (main, high, ...) or malformed. Exposed for tests and for plugins that pick H.264 streams.
int h264_baseline_rank(const std::string& profile_level_id);

}  // namespace junction::media

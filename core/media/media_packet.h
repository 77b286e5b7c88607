#pragma once
// What crosses from a PeerConnection to a plugin for each incoming RTP packet: the m-line it
// belongs to, its kind, the parsed header (parse once, STYLE.md) and the plain bytes, which the
// plugin may rewrite in place before relaying them.
#include <cstdint>
#include <span>

#include "core/media/rtp_packet.h"

namespace junction::media {

enum class MediaKind : uint8_t { kAudio, kVideo };

struct IncomingRtp {
  int mindex;
  MediaKind kind;
  const RtpPacket& rtp;
  std::span<uint8_t> bytes;
  // Simulcast: the layer this packet belongs to, 0 = lowest quality (core/media/simulcast.h);
  // -1 when the m-line carries no simulcast. RTX is already restored into its layer.
  int substream = -1;
};

}  // namespace junction::media

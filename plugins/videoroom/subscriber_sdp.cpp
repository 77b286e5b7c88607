#include "plugins/videoroom/subscriber_sdp.h"

#include <algorithm>
#include <set>

namespace junction::videoroom {
namespace {

constexpr int kMidExtensionId = 1;
constexpr const char* kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";

bool wanted_feedback(const std::string& fb, bool video) {
  if (!video) return false;
  return fb == "nack" || fb == "nack pli" || fb == "ccm fir" || fb == "goog-remb";
}

// The line that carries the publishers' data channel messages (we open channels on it).
media::MediaSection data_section(int mindex) {
  media::MediaSection m;
  m.kind = "application";
  m.protocol = "UDP/DTLS/SCTP";
  m.formats = {"webrtc-datachannel"};
  m.mid = std::to_string(mindex);
  m.sctp_port = 5000;
  m.max_message_size = 262144;
  return m;
}

}  // namespace

media::SessionDescription make_subscriber_offer(const std::vector<SubscribedStream>& streams, int data_mindex,
                                                uint64_t session_id, uint64_t session_version) {
  media::SessionDescription sdp;
  sdp.origin = "- " + std::to_string(session_id) + " " + std::to_string(session_version) + " IN IP4 127.0.0.1";
  sdp.session_name = "VideoRoom";
  sdp.msid_semantic = "WMS *";
  for (const SubscribedStream& s : streams) {
    if (static_cast<int>(sdp.media.size()) == data_mindex) sdp.media.push_back(data_section(data_mindex));
    media::MediaSection m;
    bool video = s.source.type == "video";
    m.kind = s.source.type;
    m.port = 9;
    m.protocol = "UDP/TLS/RTP/SAVPF";
    m.mid = s.mid;
    m.direction = s.active ? media::Direction::kSendOnly : media::Direction::kInactive;
    m.rtcp_mux = true;
    m.rtcp_rsize = true;
    media::RtpCodec codec;
    codec.payload_type = s.source.payload_type;
    codec.name = s.source.codec == "vp8" ? "VP8" : s.source.codec == "vp9" ? "VP9" : s.source.codec == "h264" ? "H264"
                 : s.source.codec;
    codec.clock_rate = s.source.clock_rate;
    codec.channels = s.source.channels;
    codec.fmtp = s.source.fmtp;
    for (const auto& fb : s.source.feedback)
      if (wanted_feedback(fb, video)) codec.feedback.push_back(fb);
    if (video && codec.feedback.empty()) codec.feedback = {"nack", "nack pli", "ccm fir", "goog-remb"};
    m.codecs.push_back(codec);
    m.formats.push_back(std::to_string(codec.payload_type));
    bool rtx = video && s.rtx_ssrc != 0;
    if (rtx) {
      int rtx_pt = s.source.rtx_payload_type;
      if (rtx_pt < 0 || rtx_pt == codec.payload_type) rtx_pt = codec.payload_type == 97 ? 98 : 97;
      media::RtpCodec r;
      r.payload_type = rtx_pt;
      r.name = "rtx";
      r.clock_rate = codec.clock_rate;
      r.fmtp = "apt=" + std::to_string(codec.payload_type);
      m.codecs.push_back(r);
      m.formats.push_back(std::to_string(rtx_pt));
    }
    m.extmaps.push_back({kMidExtensionId, "", kMidUri});
    std::string stream_id = "videoroom-" + std::to_string(s.feed_id);
    std::string track_id = stream_id + "-" + s.source.type + "-" + s.source.mid;
    std::string msid = stream_id + " " + track_id;
    std::string cname = "videoroom-" + std::to_string(s.feed_id);
    if (!s.active) {  // nothing is sent here any more: no msid, no SSRCs
      sdp.media.push_back(std::move(m));
      continue;
    }
    m.msids.push_back(msid);
    std::vector<uint32_t> ssrcs{s.ssrc};
    if (rtx) {
      ssrcs.push_back(s.rtx_ssrc);
      m.ssrc_groups.push_back({"FID", {s.ssrc, s.rtx_ssrc}});
    }
    for (uint32_t ssrc : ssrcs) {
      m.ssrcs.push_back({ssrc, "cname", cname});
      m.ssrcs.push_back({ssrc, "msid", msid});
    }
    sdp.media.push_back(std::move(m));
  }
  if (static_cast<int>(sdp.media.size()) == data_mindex) sdp.media.push_back(data_section(data_mindex));
  return sdp;
}

}  // namespace junction::videoroom

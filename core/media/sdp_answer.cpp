#include "core/media/sdp_answer.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <stdexcept>
#include <string_view>

#include "core/base/ids.h"

namespace junction::media {
namespace {

constexpr std::string_view kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

constexpr std::array<std::string_view, 5> kFeedback = {"nack", "nack pli", "ccm fir", "goog-remb",
                                                       "transport-cc"};

constexpr std::array<std::string_view, 6> kExtensions = {
    "urn:ietf:params:rtp-hdrext:sdes:mid",
    "urn:ietf:params:rtp-hdrext:ssrc-audio-level",
    "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time",
    kTransportCcUri,
    "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id",
    "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id",
};

constexpr int64_t kMaxMessageSize = 262144;
constexpr int kDefaultSctpPort = 5000;

template <size_t N>
bool contains(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

int hex_byte(const std::string& s, size_t at) {
  int value = 0;
  for (size_t i = at; i < at + 2; ++i) {
    const char c = s[i];
    int digit;
    if (c >= '0' && c <= '9') {
      digit = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      digit = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      digit = c - 'A' + 10;
    } else {
      return -1;
    }
    value = value * 16 + digit;
  }
  return value;
}

// How acceptable an offered codec is: lower is better, -1 = not acceptable.
int codec_rank(const RtpCodec& c) {
  if (c.is("H264")) {
    // Single NAL unit mode (0, the default) is not supported: only non-interleaved (RFC 6184 §6.3).
    if (c.fmtp_param("packetization-mode").value_or("0") != "1") return -1;
    return h264_baseline_rank(c.fmtp_param("profile-level-id").value_or("420010"));
  }
  if (c.is("VP9")) return c.fmtp_param("profile-id").value_or("0") == "0" ? 0 : -1;
  if (c.is("rtx") || c.is("red") || c.is("ulpfec") || c.is("flexfec-03")) return -1;
  return 0;
}

const RtpCodec* choose_codec(const MediaSection& offer, const std::vector<std::string>& prefs) {
  for (const std::string& name : prefs) {
    const RtpCodec* best = nullptr;
    int best_rank = 0;
    for (const RtpCodec& c : offer.codecs) {
      if (!c.is(name)) continue;
      const int rank = codec_rank(c);
      if (rank >= 0 && (!best || rank < best_rank)) {
        best = &c;
        best_rank = rank;
      }
    }
    if (best) return best;
  }
  return nullptr;
}

RtpCodec answer_codec(const RtpCodec& offered, bool keep_transport_cc) {
  RtpCodec c = offered;
  c.feedback.clear();
  for (const std::string& fb : offered.feedback) {
    if (!contains(kFeedback, fb)) continue;
    if (fb == "transport-cc" && !keep_transport_cc) continue;
    if (std::find(c.feedback.begin(), c.feedback.end(), fb) == c.feedback.end()) {
      c.feedback.push_back(fb);
    }
  }
  return c;
}

std::string reverse_extmap_direction(const std::string& d) {
  if (d == "sendonly") return "recvonly";
  if (d == "recvonly") return "sendonly";
  return d;
}

// The rid list the offerer sends, from "a=simulcast:send h;m;l [recv ...]" (RFC 8853 §5.1).
std::string offered_send_list(const std::string& simulcast) {
  std::string_view s = simulcast;
  size_t pos = 0;
  std::vector<std::string_view> tokens;
  while (pos < s.size()) {
    const size_t begin = s.find_first_not_of(' ', pos);
    if (begin == std::string_view::npos) break;
    size_t end = s.find(' ', begin);
    if (end == std::string_view::npos) end = s.size();
    tokens.push_back(s.substr(begin, end - begin));
    pos = end;
  }
  for (size_t i = 0; i + 1 < tokens.size(); ++i) {
    if (tokens[i] == "send") return std::string(tokens[i + 1]);
  }
  return "";
}

Direction intersect(Direction offered, const AnswerOptions& options) {
  const Direction wanted = reverse(offered);
  const bool send = sends(wanted) && options.send;
  const bool receive = receives(wanted) && options.receive;
  if (send && receive) return Direction::kSendRecv;
  if (send) return Direction::kSendOnly;
  if (receive) return Direction::kRecvOnly;
  return Direction::kInactive;
}

std::optional<int> to_int(const std::string& s) {
  int value = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || value < 0) return std::nullopt;
  return value;
}

MediaSection rejected_section(const MediaSection& offered) {
  MediaSection m;
  m.kind = offered.kind;
  m.port = 0;
  m.protocol = offered.protocol;
  if (!offered.formats.empty()) {
    m.formats.push_back(offered.formats.front());
  } else if (!offered.codecs.empty()) {
    m.formats.push_back(std::to_string(offered.codecs.front().payload_type));
  }
  // The rtpmap of that one format stays, so the line still reads as a codec (and parses back
  // to the same model); its fmtp and feedback do not.
  const std::optional<int> format = m.formats.empty() ? std::nullopt : to_int(m.formats[0]);
  if (format && offered.is_rtp()) {
    if (const RtpCodec* c = offered.codec(*format)) {
      m.codecs.push_back(RtpCodec{c->payload_type, c->name, c->clock_rate, c->channels, "", {}});
    }
  }
  if (format && *format <= 65535 && m.protocol == "DTLS/SCTP") {
    m.sctp_port = *format;  // the old data channel form: the format is the SCTP port
  }
  m.mid = offered.mid;
  m.direction = Direction::kInactive;
  return m;
}

void add_send_stream(MediaSection& m, const SendStream& s, bool has_rtx) {
  const std::string stream = s.stream_id.empty() ? "-" : s.stream_id;
  const std::string msid = s.track_id.empty() ? stream : stream + " " + s.track_id;
  const std::string cname = s.cname.empty() ? "junction" : s.cname;
  m.msids.push_back(msid);
  if (s.ssrc == 0) return;
  const bool rtx = has_rtx && s.rtx_ssrc != 0 && s.rtx_ssrc != s.ssrc;
  if (rtx) m.ssrc_groups.push_back(SsrcGroup{"FID", {s.ssrc, s.rtx_ssrc}});
  for (uint32_t ssrc :
       rtx ? std::vector<uint32_t>{s.ssrc, s.rtx_ssrc} : std::vector<uint32_t>{s.ssrc}) {
    m.ssrcs.push_back(SsrcAttribute{ssrc, "cname", cname});
    m.ssrcs.push_back(SsrcAttribute{ssrc, "msid", msid});
  }
}

// Answers an RTP audio/video section; nullopt when no codec is acceptable.
std::optional<MediaSection> answer_rtp(const MediaSection& offered, const AnswerOptions& options) {
  const bool video = offered.kind == "video";
  const RtpCodec* chosen =
      choose_codec(offered, video ? options.video_codecs : options.audio_codecs);
  if (!chosen) return std::nullopt;

  MediaSection m;
  m.kind = offered.kind;
  m.protocol = offered.protocol;
  m.mid = offered.mid;
  m.rtcp_mux = offered.rtcp_mux;
  m.rtcp_rsize = offered.rtcp_rsize;
  m.direction = intersect(offered.direction, options);
  for (const Extmap& e : offered.extmaps) {
    if (!contains(kExtensions, e.uri)) continue;
    m.extmaps.push_back(Extmap{e.id, reverse_extmap_direction(e.direction), e.uri});
  }
  const bool transport_cc = m.extmap_id(kTransportCcUri) != 0;

  m.codecs.push_back(answer_codec(*chosen, transport_cc));
  for (const RtpCodec& c : offered.codecs) {
    if (c.rtx_apt() == chosen->payload_type) {
      m.codecs.push_back(answer_codec(c, transport_cc));
      break;
    }
  }
  for (const RtpCodec& c : m.codecs) m.formats.push_back(std::to_string(c.payload_type));

  if (video && receives(m.direction) && !offered.rids.empty()) {
    const std::string list = offered_send_list(offered.simulcast);
    if (!list.empty()) {
      for (const Rid& r : offered.rids) {
        if (r.direction == "send") m.rids.push_back(Rid{r.id, "recv", ""});
      }
      if (!m.rids.empty()) m.simulcast = "recv " + list;
    }
  }

  if (sends(m.direction)) {
    const auto it = options.send_streams.find(offered.mid);
    if (it != options.send_streams.end()) add_send_stream(m, it->second, m.codecs.size() > 1);
  }
  return m;
}

MediaSection answer_data(const MediaSection& offered) {
  MediaSection m;
  m.kind = offered.kind;
  m.protocol = offered.protocol;
  m.formats = offered.formats;
  m.mid = offered.mid;
  m.sctp_port = offered.sctp_port.value_or(kDefaultSctpPort);
  m.max_message_size = kMaxMessageSize;
  if (m.protocol == "DTLS/SCTP") {
    // The old form names the SCTP association in a=sctpmap (draft-ietf-mmusic-sctp-sdp-05).
    m.other.push_back("sctpmap:" + std::to_string(*m.sctp_port) + " webrtc-datachannel 65535");
  }
  return m;
}

}  // namespace

int h264_baseline_rank(const std::string& profile_level_id) {
  if (profile_level_id.size() != 6) return -1;
  const int idc = hex_byte(profile_level_id, 0);
  int iop = hex_byte(profile_level_id, 2);
  const int level = hex_byte(profile_level_id, 4);
  if (idc < 0 || iop < 0 || level < 0) return -1;
  // Level 1b is signalled with constraint_set3_flag and level_idc 11 (RFC 6184 §8.1); that flag
  // is not a profile constraint there.
  if (level == 11 && (idc == 0x42 || idc == 0x4D)) iop &= ~0x10;
  // RFC 6184 Table 5: constrained baseline is 42 x1xx0000, 4D 1xxx0000 or 58 11xx0000.
  if ((idc == 0x42 && (iop & 0x4F) == 0x40) || (idc == 0x4D && (iop & 0x8F) == 0x80) ||
      (idc == 0x58 && (iop & 0xCF) == 0xC0)) {
    return 0;
  }
  if (idc == 0x42 && (iop & 0x4F) == 0x00) return 1;  // baseline: 42 x0xx0000
  return -1;
}

SessionDescription make_answer(const SessionDescription& offer, const AnswerOptions& options) {
  if (offer.media.empty()) throw std::invalid_argument("the offer has no m= lines");
  SessionDescription answer;
  answer.origin = "- " + std::to_string(junction::random_id()) + " 1 IN IP4 127.0.0.1";

  std::vector<std::string> accepted;
  for (const MediaSection& offered : offer.media) {
    std::optional<MediaSection> m;
    if (!offered.rejected()) {
      if ((offered.kind == "audio" && options.accept_audio) ||
          (offered.kind == "video" && options.accept_video)) {
        if (offered.is_rtp()) m = answer_rtp(offered, options);
      } else if (offered.kind == "application" && options.accept_data &&
                 offered.protocol.find("SCTP") != std::string::npos) {
        m = answer_data(offered);
      }
    }
    if (!m) {
      answer.media.push_back(rejected_section(offered));
      continue;
    }
    if (!m->msids.empty()) answer.msid_semantic = "WMS";
    if (!m->mid.empty()) accepted.push_back(m->mid);
    answer.media.push_back(std::move(*m));
  }

  const std::vector<std::string> offered_bundle = offer.bundle_mids();
  std::vector<std::string> group = {"BUNDLE"};
  for (const std::string& mid : offered_bundle) {
    if (std::find(accepted.begin(), accepted.end(), mid) != accepted.end()) group.push_back(mid);
  }
  if (group.size() > 1) answer.groups.push_back(std::move(group));
  return answer;
}

}  // namespace junction::media

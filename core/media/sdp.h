#pragma once
// The SDP model used by WebRTC offers and answers (RFC 8866 syntax, JSEP / RFC 8829 usage):
// parse, write, and check that a remote description is usable. Control-plane code.
//
// What the model keeps, and how:
// - Lines other than v=, o=, s=, t=, c=, m= and a= (b=, i=, u=, e=, p=, k=, r=, z=) are accepted
//   and dropped; t= is always written as "t=0 0". A session-level c= becomes the default c= of the
//   m-sections that have none.
// - Attributes the model does not name are kept verbatim (without "a=") in `other`, at the level
//   where they appeared, and written back there: a=rtcp, a=rtcp-xr, a=extmap-allow-mixed,
//   a=sctpmap, Firefox's session-level a=sendrecv, ...
// - rtpmap/fmtp/rtcp-fb for a payload type that is not on the m-line are tolerated, not an
//   error: such a line is kept verbatim in `other` and does not touch `codecs`.
// - RTP sections get one codec per distinct m-line format, in m-line order. A format without an
//   rtpmap takes its RFC 3551 static name (0 PCMU, 8 PCMA, 9 G722, ...) or, if it has none, an
//   empty name (such a codec matches no name and is written without an rtpmap).
// - "a=rtcp-fb:* <value>" applies to every codec of the section and is written back per payload
//   type.
// - Candidates are stored as full attribute values ("candidate:1 1 udp ...") exactly as written,
//   including mDNS (*.local) host names.
// - A second a=fingerprint is kept only if the first was not sha-256 (the other goes to `other`).
// - Writing always puts a direction attribute in every m-section (a=sendrecv by default).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace junction::media {

enum class Direction { kSendRecv, kSendOnly, kRecvOnly, kInactive };
std::string_view to_string(Direction d);  // "sendrecv", "sendonly", "recvonly", "inactive"
Direction reverse(Direction d);           // sendonly <-> recvonly, others unchanged
bool sends(Direction d);
bool receives(Direction d);
// Parses "sendrecv" etc.; nullopt for anything else.
std::optional<Direction> direction_from_string(std::string_view s);

struct RtpCodec {
  int payload_type = 0;
  std::string name;  // as written: "opus", "VP8", "H264", "rtx", "red", "ulpfec", "PCMU"...
  int clock_rate = 0;
  int channels = 0;                   // 0 when not given
  std::string fmtp;                   // raw parameters after "a=fmtp:<pt> " ("" if none)
  std::vector<std::string> feedback;  // rtcp-fb values: "nack", "nack pli", "ccm fir", ...
  // A parameter of a "k=v;k2=v2" fmtp; the key is matched case-insensitively, the value is
  // returned trimmed. Nullopt when absent.
  std::optional<std::string> fmtp_param(std::string_view key) const;
  std::optional<int> rtx_apt() const;          // "apt" of an rtx codec (nullopt for other codecs)
  bool is(std::string_view codec_name) const;  // case-insensitive name compare
  bool operator==(const RtpCodec&) const = default;
};

struct Extmap {
  int id = 0;
  std::string direction;  // "" or "sendonly" / "recvonly" / "sendrecv" / "inactive"
  std::string uri;        // everything after the id (URI plus any extension attributes)
  bool operator==(const Extmap&) const = default;
};
struct SsrcAttribute {  // a=ssrc:<ssrc> <name>[:<value>]
  uint32_t ssrc = 0;
  std::string name;
  std::string value;
  bool operator==(const SsrcAttribute&) const = default;
};
struct SsrcGroup {  // a=ssrc-group:FID 1 2
  std::string semantics;
  std::vector<uint32_t> ssrcs;
  bool operator==(const SsrcGroup&) const = default;
};
struct Rid {  // a=rid:h send [params]
  std::string id;
  std::string direction;
  std::string params;
  bool operator==(const Rid&) const = default;
};

struct MediaSection {
  std::string kind;  // "audio" | "video" | "application" | other
  uint16_t port = 9;
  std::string protocol;                       // "UDP/TLS/RTP/SAVPF", "UDP/DTLS/SCTP", "DTLS/SCTP"
  std::vector<std::string> formats;           // m-line formats as written
  std::string connection = "IN IP4 0.0.0.0";  // c= value
  std::string mid;
  Direction direction = Direction::kSendRecv;
  bool rtcp_mux = false, rtcp_rsize = false, bundle_only = false;
  std::string ice_ufrag, ice_pwd;
  std::vector<std::string> ice_options;
  std::string fingerprint_algorithm, fingerprint;  // "sha-256", "AB:CD:..."
  std::string setup;                               // "actpass" | "active" | "passive"
  std::vector<RtpCodec> codecs;  // in m-line order (RTP sections: one per distinct format)
  std::vector<Extmap> extmaps;
  std::vector<std::string> msids;  // a=msid values
  std::vector<SsrcAttribute> ssrcs;
  std::vector<SsrcGroup> ssrc_groups;
  std::vector<Rid> rids;
  std::string simulcast;                // raw a=simulcast value
  std::vector<std::string> candidates;  // full attribute values "candidate:..." as written
  bool end_of_candidates = false;
  std::optional<int> sctp_port;  // a=sctp-port, or the format of the old "DTLS/SCTP 5000" form
  std::optional<int64_t> max_message_size;
  std::vector<std::string> other;  // unknown attributes verbatim without "a="

  const RtpCodec* codec(int payload_type) const;  // nullptr if absent
  int extmap_id(std::string_view uri) const;      // 0 if absent
  bool is_rtp() const;                            // protocol contains "RTP"
  // Port 0 without a=bundle-only: the section is disabled (RFC 3264 §6, RFC 8843 §6).
  bool rejected() const { return port == 0 && !bundle_only; }
  std::vector<uint32_t> media_ssrcs() const;  // ssrcs that are not the 2nd member of a FID group
  bool operator==(const MediaSection&) const = default;
};

struct SessionDescription {
  std::string origin = "- 0 0 IN IP4 127.0.0.1";  // o= value
  std::string session_name = "-";
  std::vector<std::vector<std::string>> groups;  // each a=group: {"BUNDLE", "0", "1"}
  std::string ice_ufrag, ice_pwd;
  bool ice_lite = false;
  std::vector<std::string> ice_options;
  std::string fingerprint_algorithm, fingerprint, setup;  // session-level (media-level wins)
  std::string msid_semantic;  // value after "a=msid-semantic:", trimmed ("WMS", "WMS *")
  std::vector<std::string> other;
  std::vector<MediaSection> media;

  std::vector<std::string> bundle_mids() const;  // mids of the first BUNDLE group, or {}
  const MediaSection* find_mid(std::string_view mid) const;  // nullptr if no such mid
  // The BUNDLE-tagged section (first mid of the BUNDLE group) of the group `m` is in, or nullptr
  // when `m` is in no BUNDLE group.
  const MediaSection* bundle_tag_of(const MediaSection& m) const;

  // Effective transport attributes of a media section: media level, else (for a section in a
  // BUNDLE group, whose bundle-only sections may omit them, RFC 8843 §7.1.3) the BUNDLE-tagged
  // section's media level, else session level.
  std::string ice_ufrag_of(const MediaSection&) const;
  std::string ice_pwd_of(const MediaSection&) const;
  std::string fingerprint_of(const MediaSection&) const;
  std::string fingerprint_algorithm_of(const MediaSection&) const;
  std::string setup_of(const MediaSection&) const;
  bool operator==(const SessionDescription&) const = default;
};

// Accepts LF or CRLF line ends, codec names in any case, unknown attributes. On failure returns
// nullopt and sets *error (when not null) to a reason naming the line ("line 12: bad m= line
// ..."). Never throws (beyond std::bad_alloc).
std::optional<SessionDescription> parse_sdp(std::string_view text, std::string* error);
// CRLF line ends; v=0, o=, s=, t=0 0, session attributes, then every m-section.
std::string write_sdp(const SessionDescription& sdp);
// Checks a remote description is usable for WebRTC; returns "" or a readable reason: needs at
// least one m-line and unique mids; every section not rejected (RTP or DTLS/SCTP) needs a mid,
// ICE ufrag/pwd, a sha-256 fingerprint and a=setup (media, BUNDLE tag or session level); RTP
// sections also need rtcp-mux. BUNDLE groups must name existing mids.
std::string validate_webrtc(const SessionDescription& sdp);

}  // namespace junction::media

#include "core/media/sdp.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <set>
#include <utility>

namespace junction::media {
namespace {

constexpr std::string_view kWhitespace = " \t";

std::string_view trim(std::string_view s) {
  const size_t begin = s.find_first_not_of(kWhitespace);
  if (begin == std::string_view::npos) return {};
  const size_t end = s.find_last_not_of(kWhitespace);
  return s.substr(begin, end - begin + 1);
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    const auto lower = [](char c) {
      return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t begin = s.find_first_not_of(kWhitespace, pos);
    if (begin == std::string_view::npos) break;
    size_t end = s.find_first_of(kWhitespace, begin);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(begin, end - begin));
    pos = end;
  }
  return out;
}

// Splits "head rest" at the first run of whitespace; rest is trimmed ("" when absent).
std::pair<std::string_view, std::string_view> split_first(std::string_view s) {
  s = trim(s);
  const size_t space = s.find_first_of(kWhitespace);
  if (space == std::string_view::npos) return {s, {}};
  return {s.substr(0, space), trim(s.substr(space))};
}

// A whole-token decimal integer within [lo, hi].
template <typename T>
std::optional<T> parse_number(std::string_view s, T lo, T hi) {
  T value{};
  if (s.empty()) return std::nullopt;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size() || value < lo || value > hi) {
    return std::nullopt;
  }
  return value;
}

std::optional<int> parse_payload_type(std::string_view s) {
  return parse_number<int>(s, 0, 127);
}
std::optional<uint32_t> parse_ssrc(std::string_view s) {
  return parse_number<uint32_t>(s, 0, std::numeric_limits<uint32_t>::max());
}

// RFC 3551 §6 static payload types, so that offers that omit their rtpmap still name the codec.
RtpCodec static_codec(int pt) {
  struct Entry {
    int pt;
    const char* name;
    int rate;
    int channels;
  };
  static constexpr Entry kTable[] = {
      {0, "PCMU", 8000, 0},   {3, "GSM", 8000, 0},   {4, "G723", 8000, 0},   {5, "DVI4", 8000, 0},
      {6, "DVI4", 16000, 0},  {7, "LPC", 8000, 0},   {8, "PCMA", 8000, 0},   {9, "G722", 8000, 0},
      {10, "L16", 44100, 2},  {11, "L16", 44100, 0}, {12, "QCELP", 8000, 0}, {13, "CN", 8000, 0},
      {14, "MPA", 90000, 0},  {15, "G728", 8000, 0}, {18, "G729", 8000, 0},  {26, "JPEG", 90000, 0},
      {31, "H261", 90000, 0}, {32, "MPV", 90000, 0}, {34, "H263", 90000, 0},
  };
  RtpCodec codec;
  codec.payload_type = pt;
  for (const Entry& e : kTable) {
    if (e.pt == pt) {
      codec.name = e.name;
      codec.clock_rate = e.rate;
      codec.channels = e.channels;
    }
  }
  return codec;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

// "AB:CD:..." with exactly `bytes` hex pairs.
bool well_formed_fingerprint(std::string_view fp, size_t bytes) {
  if (fp.size() != bytes * 3 - 1) return false;
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2 ? fp[i] != ':' : !is_hex(fp[i])) return false;
  }
  return true;
}

class Parser {
 public:
  std::optional<SessionDescription> run(std::string_view text, std::string* error);

 private:
  bool fail(const std::string& reason) {
    error_ = "line " + std::to_string(line_no_) + ": " + reason;
    return false;
  }
  bool line(std::string_view line);
  bool media_line(std::string_view value);
  bool attribute(std::string_view attr);
  bool session_attribute(std::string_view name, std::string_view value, std::string_view attr);
  bool media_attribute(std::string_view name, std::string_view value, std::string_view attr);
  bool codec_attribute(std::string_view name, std::string_view value, std::string_view attr);
  bool fingerprint(std::string_view value, std::string_view attr, std::string& alg, std::string& fp,
                   std::vector<std::string>& other);
  void finish_section();
  RtpCodec* codec(int pt);

  SessionDescription sdp_;
  MediaSection* current_ = nullptr;  // the m-section being read; nullptr at session level
  bool current_has_connection_ = false;
  std::vector<std::string> wildcard_feedback_;  // a=rtcp-fb:* values of the current section
  std::optional<std::string> session_connection_;
  bool seen_v_ = false, seen_o_ = false, seen_s_ = false;
  int line_no_ = 0;
  std::string error_;
};

std::optional<SessionDescription> Parser::run(std::string_view text, std::string* error) {
  auto failed = [&]() -> std::optional<SessionDescription> {
    if (error) *error = error_;
    return std::nullopt;
  };
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view l = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no_;
    if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
    if (trim(l).empty()) continue;  // blank lines (a trailing one is common) are skipped
    if (!line(l)) return failed();
  }
  if (!seen_v_) {
    error_ = "empty description (no v= line)";
    return failed();
  }
  finish_section();
  if (!seen_o_) {
    error_ = "missing o= line";
    return failed();
  }
  if (!seen_s_) {
    error_ = "missing s= line";
    return failed();
  }
  return std::move(sdp_);
}

bool Parser::line(std::string_view l) {
  if (l.size() < 2 || l[1] != '=') {
    std::string shown(l.substr(0, 40));
    return fail("expected '<type>=<value>', got '" + shown + "'");
  }
  const char type = l[0];
  const std::string_view value = l.substr(2);
  if (!seen_v_) {
    if (type != 'v') return fail("the first line must be v=0");
    if (trim(value) != "0") return fail("unsupported SDP version '" + std::string(value) + "'");
    seen_v_ = true;
    return true;
  }
  switch (type) {
    case 'v':
      return fail("second v= line");
    case 'o':
      if (current_) return fail("o= inside a media section");
      sdp_.origin = std::string(trim(value));
      seen_o_ = true;
      return true;
    case 's':
      if (current_) return fail("s= inside a media section");
      sdp_.session_name = std::string(value);
      seen_s_ = true;
      return true;
    case 'c':
      if (current_) {
        current_->connection = std::string(trim(value));
        current_has_connection_ = true;
      } else {
        session_connection_ = std::string(trim(value));
      }
      return true;
    case 'm':
      return media_line(value);
    case 'a':
      return attribute(value);
    default:
      if (type < 'a' || type > 'z') return fail(std::string("unknown line type '") + type + "'");
      return true;  // t=, b=, i=, u=, e=, p=, k=, r=, z=: not modelled
  }
}

bool Parser::media_line(std::string_view value) {
  finish_section();
  const auto tokens = split_ws(value);
  if (tokens.size() < 4) {
    return fail("bad m= line (needs <media> <port> <proto> <fmt>...): 'm=" + std::string(value) +
                "'");
  }
  MediaSection m;
  m.kind = std::string(tokens[0]);
  // "<port>/<count>" is legal SDP; WebRTC never uses the count, so it is dropped.
  const std::string_view port = tokens[1].substr(0, tokens[1].find('/'));
  const auto port_value = parse_number<int>(port, 0, 65535);
  if (!port_value)
    return fail("bad m= line: port '" + std::string(tokens[1]) + "' is not a number");
  m.port = static_cast<uint16_t>(*port_value);
  m.protocol = std::string(tokens[2]);
  for (size_t i = 3; i < tokens.size(); ++i) m.formats.emplace_back(tokens[i]);
  if (m.is_rtp()) {
    for (const std::string& f : m.formats) {
      const auto pt = parse_payload_type(f);
      if (!pt) return fail("bad m= line: payload type '" + f + "' is not a number in 0..127");
      if (!m.codec(*pt)) m.codecs.push_back(static_codec(*pt));
    }
  } else if (m.protocol == "DTLS/SCTP") {
    // The pre-RFC 8841 data channel form: "m=application <port> DTLS/SCTP 5000" (aiortc).
    if (auto sctp = parse_number<int>(m.formats[0], 0, 65535)) m.sctp_port = *sctp;
  }
  sdp_.media.push_back(std::move(m));
  current_ = &sdp_.media.back();
  current_has_connection_ = false;
  wildcard_feedback_.clear();
  return true;
}

void Parser::finish_section() {
  if (!current_) return;
  if (!current_has_connection_ && session_connection_) current_->connection = *session_connection_;
  for (RtpCodec& c : current_->codecs) {
    for (const std::string& fb : wildcard_feedback_) c.feedback.push_back(fb);
  }
  wildcard_feedback_.clear();
  current_ = nullptr;
}

RtpCodec* Parser::codec(int pt) {
  for (RtpCodec& c : current_->codecs) {
    if (c.payload_type == pt) return &c;
  }
  return nullptr;
}

bool Parser::attribute(std::string_view attr) {
  const size_t colon = attr.find(':');
  const std::string_view name = attr.substr(0, colon);
  const std::string_view value =
      colon == std::string_view::npos ? std::string_view{} : attr.substr(colon + 1);
  if (name.empty()) return fail("attribute without a name");
  return current_ ? media_attribute(name, value, attr) : session_attribute(name, value, attr);
}

bool Parser::fingerprint(std::string_view value, std::string_view attr, std::string& alg,
                         std::string& fp, std::vector<std::string>& other) {
  const auto [a, f] = split_first(value);
  if (a.empty() || f.empty()) return fail("bad a=fingerprint (needs <hash> <value>)");
  // One fingerprint is modelled; a later one replaces it only to get to sha-256 (RFC 8827 §6.5).
  if (!fp.empty() && (iequals(alg, "sha-256") || !iequals(a, "sha-256"))) {
    other.emplace_back(attr);
    return true;
  }
  if (!fp.empty()) other.push_back("fingerprint:" + alg + " " + fp);
  alg = std::string(a);
  fp = std::string(f);
  return true;
}

bool Parser::session_attribute(std::string_view name, std::string_view value,
                               std::string_view attr) {
  if (name == "group") {
    std::vector<std::string> group;
    for (std::string_view t : split_ws(value)) group.emplace_back(t);
    if (group.empty()) return fail("a=group without semantics");
    sdp_.groups.push_back(std::move(group));
  } else if (name == "ice-ufrag") {
    sdp_.ice_ufrag = std::string(trim(value));
  } else if (name == "ice-pwd") {
    sdp_.ice_pwd = std::string(trim(value));
  } else if (name == "ice-lite") {
    sdp_.ice_lite = true;
  } else if (name == "ice-options") {
    for (std::string_view t : split_ws(value)) sdp_.ice_options.emplace_back(t);
  } else if (name == "fingerprint") {
    return fingerprint(value, attr, sdp_.fingerprint_algorithm, sdp_.fingerprint, sdp_.other);
  } else if (name == "setup") {
    sdp_.setup = std::string(trim(value));
  } else if (name == "msid-semantic") {
    sdp_.msid_semantic = std::string(trim(value));
  } else {
    sdp_.other.emplace_back(attr);
  }
  return true;
}

bool Parser::media_attribute(std::string_view name, std::string_view value, std::string_view attr) {
  MediaSection& m = *current_;
  if (auto dir = direction_from_string(trim(attr))) {
    m.direction = *dir;
  } else if (name == "mid") {
    m.mid = std::string(trim(value));
  } else if (name == "rtcp-mux" && value.empty()) {
    m.rtcp_mux = true;
  } else if (name == "rtcp-rsize" && value.empty()) {
    m.rtcp_rsize = true;
  } else if (name == "bundle-only" && value.empty()) {
    m.bundle_only = true;
  } else if (name == "ice-ufrag") {
    m.ice_ufrag = std::string(trim(value));
  } else if (name == "ice-pwd") {
    m.ice_pwd = std::string(trim(value));
  } else if (name == "ice-options") {
    for (std::string_view t : split_ws(value)) m.ice_options.emplace_back(t);
  } else if (name == "fingerprint") {
    return fingerprint(value, attr, m.fingerprint_algorithm, m.fingerprint, m.other);
  } else if (name == "setup") {
    m.setup = std::string(trim(value));
  } else if ((name == "rtpmap" || name == "fmtp" || name == "rtcp-fb") && m.is_rtp()) {
    return codec_attribute(name, value, attr);
  } else if (name == "extmap") {
    const auto [head, uri] = split_first(value);
    const size_t slash = head.find('/');
    // One-byte ids are 1..14, two-byte ids 1..255 (RFC 8285 §5).
    const auto id = parse_number<int>(head.substr(0, slash), 1, 255);
    if (!id || uri.empty()) return fail("bad a=extmap '" + std::string(value) + "'");
    Extmap e;
    e.id = *id;
    if (slash != std::string_view::npos) e.direction = std::string(head.substr(slash + 1));
    e.uri = std::string(uri);
    m.extmaps.push_back(std::move(e));
  } else if (name == "msid") {
    m.msids.emplace_back(trim(value));
  } else if (name == "ssrc") {
    const auto [id, rest] = split_first(value);
    const auto ssrc = parse_ssrc(id);
    if (!ssrc) return fail("bad a=ssrc: '" + std::string(id) + "' is not a 32-bit number");
    SsrcAttribute a;
    a.ssrc = *ssrc;
    const size_t colon = rest.find(':');
    a.name = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) a.value = std::string(rest.substr(colon + 1));
    m.ssrcs.push_back(std::move(a));
  } else if (name == "ssrc-group") {
    const auto tokens = split_ws(value);
    if (tokens.empty()) return fail("a=ssrc-group without semantics");
    SsrcGroup g;
    g.semantics = std::string(tokens[0]);
    for (size_t i = 1; i < tokens.size(); ++i) {
      const auto ssrc = parse_ssrc(tokens[i]);
      if (!ssrc) return fail("bad a=ssrc-group: '" + std::string(tokens[i]) + "' is not a number");
      g.ssrcs.push_back(*ssrc);
    }
    m.ssrc_groups.push_back(std::move(g));
  } else if (name == "rid") {
    const auto [id, rest] = split_first(value);
    const auto [dir, params] = split_first(rest);
    if (id.empty() || (dir != "send" && dir != "recv")) {
      return fail("bad a=rid '" + std::string(value) + "' (needs <id> send|recv)");
    }
    m.rids.push_back(Rid{std::string(id), std::string(dir), std::string(params)});
  } else if (name == "simulcast") {
    m.simulcast = std::string(trim(value));
  } else if (name == "candidate") {
    m.candidates.emplace_back(attr);
  } else if (name == "end-of-candidates") {
    m.end_of_candidates = true;
  } else if (name == "sctp-port") {
    const auto port = parse_number<int>(trim(value), 0, 65535);
    if (!port) return fail("bad a=sctp-port '" + std::string(value) + "'");
    m.sctp_port = *port;
  } else if (name == "max-message-size") {
    const auto size = parse_number<int64_t>(trim(value), 0, std::numeric_limits<int64_t>::max());
    if (!size) return fail("bad a=max-message-size '" + std::string(value) + "'");
    m.max_message_size = *size;
  } else {
    m.other.emplace_back(attr);
  }
  return true;
}

bool Parser::codec_attribute(std::string_view name, std::string_view value, std::string_view attr) {
  const auto [pt_text, rest] = split_first(value);
  if (name == "rtcp-fb" && pt_text == "*") {
    if (rest.empty()) return fail("a=rtcp-fb without a feedback type");
    wildcard_feedback_.emplace_back(rest);
    return true;
  }
  const auto pt = parse_payload_type(pt_text);
  if (!pt) {
    return fail("bad a=" + std::string(name) + ": payload type '" + std::string(pt_text) +
                "' is not a number in 0..127");
  }
  RtpCodec* c = codec(*pt);
  if (!c) {
    // Tolerated: a line for a payload type the m-line does not list is kept verbatim, unused.
    current_->other.emplace_back(attr);
    return true;
  }
  if (name == "rtpmap") {
    // <encoding name>/<clock rate>[/<channels>]
    const size_t slash1 = rest.find('/');
    const size_t slash2 = slash1 == std::string_view::npos ? slash1 : rest.find('/', slash1 + 1);
    const std::string_view codec_name = rest.substr(0, slash1);
    const auto rate = slash1 == std::string_view::npos
                          ? std::nullopt
                          : parse_number<int>(rest.substr(slash1 + 1, slash2 - slash1 - 1), 1,
                                              std::numeric_limits<int>::max());
    std::optional<int> channels = 0;
    if (slash2 != std::string_view::npos) {
      channels = parse_number<int>(rest.substr(slash2 + 1), 1, 255);
    }
    if (codec_name.empty() || !rate || !channels) {
      return fail("bad a=rtpmap '" + std::string(value) + "' (needs <pt> <name>/<rate>[/<ch>])");
    }
    c->name = std::string(codec_name);
    c->clock_rate = *rate;
    c->channels = *channels;
  } else if (name == "fmtp") {
    c->fmtp = std::string(rest);
  } else {
    if (rest.empty()) return fail("a=rtcp-fb without a feedback type");
    c->feedback.emplace_back(rest);
  }
  return true;
}

void write_line(std::string& out, std::string_view type, std::string_view value) {
  out.append(type);
  out.append(value);
  out.append("\r\n");
}

std::string join(const std::vector<std::string>& items, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out.append(sep);
    out.append(items[i]);
  }
  return out;
}

void write_section(std::string& out, const MediaSection& m) {
  std::vector<std::string> formats = m.formats;
  if (formats.empty()) {
    for (const RtpCodec& c : m.codecs) formats.push_back(std::to_string(c.payload_type));
  }
  std::string mline = m.kind + " " + std::to_string(m.port) + " " + m.protocol;
  for (const std::string& f : formats) mline += " " + f;
  write_line(out, "m=", mline);
  write_line(out, "c=", m.connection);
  for (const std::string& c : m.candidates) write_line(out, "a=", c);
  if (m.end_of_candidates) write_line(out, "a=", "end-of-candidates");
  if (!m.ice_ufrag.empty()) write_line(out, "a=ice-ufrag:", m.ice_ufrag);
  if (!m.ice_pwd.empty()) write_line(out, "a=ice-pwd:", m.ice_pwd);
  if (!m.ice_options.empty()) write_line(out, "a=ice-options:", join(m.ice_options, " "));
  if (!m.fingerprint.empty()) {
    write_line(out, "a=fingerprint:", m.fingerprint_algorithm + " " + m.fingerprint);
  }
  if (!m.setup.empty()) write_line(out, "a=setup:", m.setup);
  if (!m.mid.empty()) write_line(out, "a=mid:", m.mid);
  if (m.bundle_only) write_line(out, "a=", "bundle-only");
  for (const Extmap& e : m.extmaps) {
    std::string v = std::to_string(e.id);
    if (!e.direction.empty()) v += "/" + e.direction;
    write_line(out, "a=extmap:", v + " " + e.uri);
  }
  write_line(out, "a=", to_string(m.direction));
  for (const std::string& msid : m.msids) write_line(out, "a=msid:", msid);
  if (m.rtcp_mux) write_line(out, "a=", "rtcp-mux");
  if (m.rtcp_rsize) write_line(out, "a=", "rtcp-rsize");
  for (const RtpCodec& c : m.codecs) {
    const std::string pt = std::to_string(c.payload_type);
    if (!c.name.empty()) {
      std::string map = pt + " " + c.name + "/" + std::to_string(c.clock_rate);
      if (c.channels > 0) map += "/" + std::to_string(c.channels);
      write_line(out, "a=rtpmap:", map);
    }
    for (const std::string& fb : c.feedback) write_line(out, "a=rtcp-fb:", pt + " " + fb);
    if (!c.fmtp.empty()) write_line(out, "a=fmtp:", pt + " " + c.fmtp);
  }
  if (m.sctp_port) {
    // The old "DTLS/SCTP <port>" form carries the port on the m-line and has no a=sctp-port.
    const std::string port = std::to_string(*m.sctp_port);
    const bool in_mline = m.protocol == "DTLS/SCTP" &&
                          std::find(formats.begin(), formats.end(), port) != formats.end();
    if (!in_mline) write_line(out, "a=sctp-port:", port);
  }
  if (m.max_message_size) {
    write_line(out, "a=max-message-size:", std::to_string(*m.max_message_size));
  }
  for (const Rid& r : m.rids) {
    std::string v = r.id + " " + r.direction;
    if (!r.params.empty()) v += " " + r.params;
    write_line(out, "a=rid:", v);
  }
  if (!m.simulcast.empty()) write_line(out, "a=simulcast:", m.simulcast);
  for (const SsrcGroup& g : m.ssrc_groups) {
    std::string v = g.semantics;
    for (uint32_t s : g.ssrcs) v += " " + std::to_string(s);
    write_line(out, "a=ssrc-group:", v);
  }
  for (const SsrcAttribute& a : m.ssrcs) {
    std::string v = std::to_string(a.ssrc);
    if (!a.name.empty() || !a.value.empty()) v += " " + a.name;
    if (!a.value.empty()) v += ":" + a.value;
    write_line(out, "a=ssrc:", v);
  }
  for (const std::string& o : m.other) write_line(out, "a=", o);
}

}  // namespace

std::string_view to_string(Direction d) {
  switch (d) {
    case Direction::kSendRecv:
      return "sendrecv";
    case Direction::kSendOnly:
      return "sendonly";
    case Direction::kRecvOnly:
      return "recvonly";
    case Direction::kInactive:
      return "inactive";
  }
  return "inactive";
}

std::optional<Direction> direction_from_string(std::string_view s) {
  if (s == "sendrecv") return Direction::kSendRecv;
  if (s == "sendonly") return Direction::kSendOnly;
  if (s == "recvonly") return Direction::kRecvOnly;
  if (s == "inactive") return Direction::kInactive;
  return std::nullopt;
}

Direction reverse(Direction d) {
  if (d == Direction::kSendOnly) return Direction::kRecvOnly;
  if (d == Direction::kRecvOnly) return Direction::kSendOnly;
  return d;
}

bool sends(Direction d) {
  return d == Direction::kSendRecv || d == Direction::kSendOnly;
}
bool receives(Direction d) {
  return d == Direction::kSendRecv || d == Direction::kRecvOnly;
}

std::optional<std::string> RtpCodec::fmtp_param(std::string_view key) const {
  std::string_view rest = fmtp;
  while (!rest.empty()) {
    const size_t semi = rest.find(';');
    const std::string_view item = trim(rest.substr(0, semi));
    rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    if (iequals(trim(item.substr(0, eq)), key)) return std::string(trim(item.substr(eq + 1)));
  }
  return std::nullopt;
}

std::optional<int> RtpCodec::rtx_apt() const {
  if (!is("rtx")) return std::nullopt;
  const auto apt = fmtp_param("apt");
  if (!apt) return std::nullopt;
  return parse_payload_type(*apt);
}

bool RtpCodec::is(std::string_view codec_name) const {
  return iequals(name, codec_name);
}

const RtpCodec* MediaSection::codec(int payload_type) const {
  for (const RtpCodec& c : codecs) {
    if (c.payload_type == payload_type) return &c;
  }
  return nullptr;
}

int MediaSection::extmap_id(std::string_view uri) const {
  for (const Extmap& e : extmaps) {
    if (e.uri == uri) return e.id;
  }
  return 0;
}

bool MediaSection::is_rtp() const {
  return protocol.find("RTP") != std::string::npos;
}

std::vector<uint32_t> MediaSection::media_ssrcs() const {
  std::set<uint32_t> repair;  // retransmission ssrcs (RFC 4588 §8.2 FID groups)
  for (const SsrcGroup& g : ssrc_groups) {
    if (g.semantics == "FID" && g.ssrcs.size() >= 2) repair.insert(g.ssrcs[1]);
  }
  std::vector<uint32_t> out;
  for (const SsrcAttribute& a : ssrcs) {
    if (repair.count(a.ssrc) || std::find(out.begin(), out.end(), a.ssrc) != out.end()) continue;
    out.push_back(a.ssrc);
  }
  return out;
}

std::vector<std::string> SessionDescription::bundle_mids() const {
  for (const auto& g : groups) {
    if (!g.empty() && g[0] == "BUNDLE") return {g.begin() + 1, g.end()};
  }
  return {};
}

const MediaSection* SessionDescription::find_mid(std::string_view mid) const {
  for (const MediaSection& m : media) {
    if (m.mid == mid) return &m;
  }
  return nullptr;
}

const MediaSection* SessionDescription::bundle_tag_of(const MediaSection& m) const {
  if (m.mid.empty()) return nullptr;
  for (const auto& g : groups) {
    if (g.size() < 2 || g[0] != "BUNDLE") continue;
    if (std::find(g.begin() + 1, g.end(), m.mid) != g.end()) return find_mid(g[1]);
  }
  return nullptr;
}

namespace {
// The section whose media-level value of `field` applies to `m`, or nullptr for session level.
template <typename Field>
const MediaSection* transport_source(const SessionDescription& s, const MediaSection& m,
                                     Field field) {
  if (!(m.*field).empty()) return &m;
  const MediaSection* tag = s.bundle_tag_of(m);
  if (tag && !(tag->*field).empty()) return tag;
  return nullptr;
}
}  // namespace

std::string SessionDescription::ice_ufrag_of(const MediaSection& m) const {
  const MediaSection* src = transport_source(*this, m, &MediaSection::ice_ufrag);
  return src ? src->ice_ufrag : ice_ufrag;
}
std::string SessionDescription::ice_pwd_of(const MediaSection& m) const {
  const MediaSection* src = transport_source(*this, m, &MediaSection::ice_pwd);
  return src ? src->ice_pwd : ice_pwd;
}
std::string SessionDescription::fingerprint_of(const MediaSection& m) const {
  const MediaSection* src = transport_source(*this, m, &MediaSection::fingerprint);
  return src ? src->fingerprint : fingerprint;
}
std::string SessionDescription::fingerprint_algorithm_of(const MediaSection& m) const {
  // From the same level as the fingerprint itself.
  const MediaSection* src = transport_source(*this, m, &MediaSection::fingerprint);
  return src ? src->fingerprint_algorithm : fingerprint_algorithm;
}
std::string SessionDescription::setup_of(const MediaSection& m) const {
  const MediaSection* src = transport_source(*this, m, &MediaSection::setup);
  return src ? src->setup : setup;
}

std::optional<SessionDescription> parse_sdp(std::string_view text, std::string* error) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    if (error) *error = "empty description";
    return std::nullopt;
  }
  return Parser().run(text, error);
}

std::string write_sdp(const SessionDescription& sdp) {
  std::string out;
  out.reserve(1024 + 2048 * sdp.media.size());
  write_line(out, "v=", "0");
  write_line(out, "o=", sdp.origin);
  write_line(out, "s=", sdp.session_name);
  write_line(out, "t=", "0 0");
  for (const auto& g : sdp.groups) write_line(out, "a=group:", join(g, " "));
  if (sdp.ice_lite) write_line(out, "a=", "ice-lite");
  if (!sdp.ice_ufrag.empty()) write_line(out, "a=ice-ufrag:", sdp.ice_ufrag);
  if (!sdp.ice_pwd.empty()) write_line(out, "a=ice-pwd:", sdp.ice_pwd);
  if (!sdp.ice_options.empty()) write_line(out, "a=ice-options:", join(sdp.ice_options, " "));
  if (!sdp.fingerprint.empty()) {
    write_line(out, "a=fingerprint:", sdp.fingerprint_algorithm + " " + sdp.fingerprint);
  }
  if (!sdp.setup.empty()) write_line(out, "a=setup:", sdp.setup);
  if (!sdp.msid_semantic.empty()) write_line(out, "a=msid-semantic:", sdp.msid_semantic);
  for (const std::string& o : sdp.other) write_line(out, "a=", o);
  for (const MediaSection& m : sdp.media) write_section(out, m);
  return out;
}

std::string validate_webrtc(const SessionDescription& sdp) {
  if (sdp.media.empty()) return "no m= lines";
  std::set<std::string> mids;
  for (const MediaSection& m : sdp.media) {
    if (!m.mid.empty() && !mids.insert(m.mid).second) {
      return "two m-sections share a=mid:" + m.mid;
    }
  }
  for (const auto& g : sdp.groups) {
    if (g.empty() || g[0] != "BUNDLE") continue;
    for (size_t i = 1; i < g.size(); ++i) {
      if (!mids.count(g[i])) return "a=group:BUNDLE names mid '" + g[i] + "' that no m= line has";
    }
  }
  for (size_t i = 0; i < sdp.media.size(); ++i) {
    const MediaSection& m = sdp.media[i];
    if (m.rejected()) continue;
    const bool dtls = m.is_rtp() || m.protocol.find("DTLS") != std::string::npos;
    if (!dtls) continue;  // not a WebRTC transport; the answer will reject it
    const std::string where = "m-section " + std::to_string(i) + " (" + m.kind + ")";
    if (m.mid.empty()) return where + " has no a=mid";
    if (m.is_rtp()) {
      const MediaSection* tag = sdp.bundle_tag_of(m);
      if (!m.rtcp_mux && !(tag && tag->rtcp_mux)) return where + " has no a=rtcp-mux";
    }
    if (sdp.ice_ufrag_of(m).empty()) return where + " has no a=ice-ufrag";
    if (sdp.ice_pwd_of(m).empty()) return where + " has no a=ice-pwd";
    const std::string fp = sdp.fingerprint_of(m);
    if (fp.empty()) return where + " has no a=fingerprint";
    const std::string alg = sdp.fingerprint_algorithm_of(m);
    if (!iequals(alg, "sha-256")) return where + " has a " + alg + " fingerprint, not sha-256";
    if (!well_formed_fingerprint(fp, 32)) return where + " has a malformed sha-256 fingerprint";
    const std::string setup = sdp.setup_of(m);
    if (setup.empty()) return where + " has no a=setup";
    if (setup != "actpass" && setup != "active" && setup != "passive") {
      return where + " has a=setup:" + setup + " (expected actpass, active or passive)";
    }
  }
  return "";
}

}  // namespace junction::media

#include "core/media/sdp.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

namespace junction::media {
namespace {

std::string load_fixture(const std::string& name) {
  const std::string path =
      std::string(JUNCTION_SOURCE_DIR "/tests/unit/core/media/fixtures/") + name + ".sdp";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

SessionDescription parse_ok(const std::string& text) {
  std::string error;
  auto sdp = parse_sdp(text, &error);
  EXPECT_TRUE(sdp) << error;
  return sdp ? *sdp : SessionDescription{};
}

std::string parse_error(const std::string& text) {
  std::string error;
  auto sdp = parse_sdp(text, &error);
  EXPECT_FALSE(sdp) << "parsed unexpectedly: " << text;
  EXPECT_FALSE(error.empty());
  return error;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

::testing::AssertionResult same_model(const SessionDescription& a, const SessionDescription& b) {
  if (a == b) return ::testing::AssertionSuccess();
  auto failure = ::testing::AssertionFailure();
  if (a.media.size() != b.media.size()) {
    return failure << "media count " << a.media.size() << " vs " << b.media.size();
  }
  for (size_t i = 0; i < a.media.size(); ++i) {
    if (!(a.media[i] == b.media[i])) return failure << "m-section " << i << " differs";
  }
  return failure << "session level differs:\n" << write_sdp(a) << "\nvs\n" << write_sdp(b);
}

const std::vector<std::string> kFixtures = {
    "chromium-156-offer-audio-video-data", "chromium-156-offer-recvonly",
    "chromium-156-offer-simulcast-video",  "firefox-153-offer-audio-video-data",
    "firefox-153-offer-recvonly",          "firefox-153-offer-simulcast-video",
    "aiortc-1.4-offer-audio-video-data",
};

// Every fixture parses, validates, and survives write -> parse with the same model and with
// every input line present in the written text (as a multiset). The one line written
// differently on purpose is Chromium's "a=msid-semantic: WMS" (we write no space).
TEST(SdpFixtures, ParseValidateAndRoundTrip) {
  for (const std::string& name : kFixtures) {
    SCOPED_TRACE(name);
    const std::string text = load_fixture(name);
    const SessionDescription sdp = parse_ok(text);
    EXPECT_EQ(validate_webrtc(sdp), "");
    for (const MediaSection& m : sdp.media) {
      if (m.is_rtp()) {
        EXPECT_EQ(m.codecs.size(), m.formats.size()) << m.mid;
      }
    }

    const std::string written = write_sdp(sdp);
    EXPECT_TRUE(written.starts_with("v=0\r\n"));
    EXPECT_TRUE(written.ends_with("\r\n"));
    EXPECT_EQ(written.find("\n", 0) - 1, written.find("\r\n"));
    const auto reparsed = parse_sdp(written, nullptr);
    ASSERT_TRUE(reparsed);
    EXPECT_TRUE(same_model(sdp, *reparsed));
    EXPECT_EQ(write_sdp(*reparsed), written);  // writing is stable

    std::map<std::string, int> out_lines;
    for (const std::string& l : lines_of(written)) ++out_lines[l];
    for (std::string l : lines_of(text)) {
      if (l == "a=msid-semantic: WMS") l = "a=msid-semantic:WMS";
      EXPECT_GT(out_lines[l]--, 0) << "line lost in the round trip: " << l;
    }
  }
}

TEST(SdpFixtures, LfOnlyParsesToTheSameModel) {
  for (const std::string& name : kFixtures) {
    SCOPED_TRACE(name);
    const std::string crlf = load_fixture(name);
    std::string lf;
    std::remove_copy(crlf.begin(), crlf.end(), std::back_inserter(lf), '\r');
    EXPECT_TRUE(same_model(parse_ok(crlf), parse_ok(lf)));
  }
}

TEST(SdpFixtures, Chromium) {
  const SessionDescription sdp = parse_ok(load_fixture("chromium-156-offer-audio-video-data"));
  EXPECT_EQ(sdp.origin, "- 4737719132117917168 2 IN IP4 127.0.0.1");
  EXPECT_EQ(sdp.bundle_mids(), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(sdp.msid_semantic, "WMS");
  EXPECT_NE(std::find(sdp.other.begin(), sdp.other.end(), "extmap-allow-mixed"), sdp.other.end());
  ASSERT_EQ(sdp.media.size(), 3u);

  const MediaSection& audio = sdp.media[0];
  EXPECT_EQ(audio.kind, "audio");
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.port, 9);
  EXPECT_EQ(audio.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.direction, Direction::kSendRecv);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.rtcp_rsize);
  EXPECT_EQ(audio.ice_ufrag, "7DLF");
  EXPECT_EQ(audio.ice_pwd, "V+wMYNxeHhWFlV8SE3SEx0T4");
  EXPECT_EQ(audio.ice_options, std::vector<std::string>{"trickle"});
  EXPECT_EQ(audio.fingerprint_algorithm, "sha-256");
  EXPECT_TRUE(audio.fingerprint.starts_with("DB:C6:65:7C"));
  EXPECT_EQ(audio.setup, "actpass");
  ASSERT_FALSE(audio.codecs.empty());
  const RtpCodec& opus = audio.codecs[0];
  EXPECT_EQ(opus.payload_type, 111);
  EXPECT_EQ(opus.name, "opus");
  EXPECT_EQ(opus.clock_rate, 48000);
  EXPECT_EQ(opus.channels, 2);
  EXPECT_EQ(opus.fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(opus.fmtp_param("useinbandfec"), "1");
  EXPECT_EQ(opus.fmtp_param("MINPTIME"), "10");
  EXPECT_EQ(opus.fmtp_param("stereo"), std::nullopt);
  EXPECT_EQ(opus.feedback, std::vector<std::string>{"transport-cc"});
  ASSERT_NE(audio.codec(0), nullptr);
  EXPECT_EQ(audio.codec(0)->name, "PCMU");
  EXPECT_EQ(audio.codec(0)->channels, 0);
  EXPECT_EQ(audio.codec(63)->fmtp, "111/111");
  EXPECT_EQ(audio.codec(55), nullptr);
  EXPECT_EQ(audio.extmap_id("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
  EXPECT_EQ(audio.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  EXPECT_EQ(audio.extmap_id("urn:ietf:params:rtp-hdrext:toffset"), 0);
  EXPECT_EQ(audio.msids, std::vector<std::string>{"- 0226e5b3-a811-4c62-8c4f-d476f48d6a64"});
  ASSERT_EQ(audio.ssrcs.size(), 2u);
  EXPECT_EQ(audio.ssrcs[0].ssrc, 188202472u);
  EXPECT_EQ(audio.ssrcs[0].name, "cname");
  EXPECT_EQ(audio.ssrcs[0].value, "v3AMfMIf3SVGL2lo");
  EXPECT_EQ(audio.ssrcs[1].name, "msid");
  EXPECT_EQ(audio.ssrcs[1].value, "- 0226e5b3-a811-4c62-8c4f-d476f48d6a64");
  EXPECT_NE(std::find(audio.other.begin(), audio.other.end(), "rtcp:9 IN IP4 0.0.0.0"),
            audio.other.end());
  // mDNS host candidates, stored as the full attribute value.
  ASSERT_EQ(audio.candidates.size(), 2u);
  EXPECT_EQ(audio.candidates[0],
            "candidate:299970615 1 udp 2113937151 95608f4c-feb8-49a3-9701-1204882263c8.local "
            "55499 typ host generation 0 network-cost 999");
  EXPECT_FALSE(audio.end_of_candidates);

  const MediaSection& video = sdp.media[1];
  EXPECT_EQ(video.kind, "video");
  EXPECT_EQ(video.formats.size(), 23u);
  const RtpCodec* vp8 = video.codec(96);
  ASSERT_NE(vp8, nullptr);
  EXPECT_TRUE(vp8->is("vp8"));
  EXPECT_EQ(vp8->clock_rate, 90000);
  EXPECT_EQ(vp8->feedback,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  EXPECT_EQ(vp8->rtx_apt(), std::nullopt);
  ASSERT_NE(video.codec(97), nullptr);
  EXPECT_TRUE(video.codec(97)->is("rtx"));
  EXPECT_EQ(video.codec(97)->rtx_apt(), 96);
  // The H.264 variants: packetization mode 0/1, baseline/constrained baseline/main.
  EXPECT_EQ(video.codec(102)->fmtp_param("profile-level-id"), "42001f");
  EXPECT_EQ(video.codec(102)->fmtp_param("packetization-mode"), "1");
  EXPECT_EQ(video.codec(104)->fmtp_param("packetization-mode"), "0");
  EXPECT_EQ(video.codec(108)->fmtp_param("profile-level-id"), "42e01f");
  EXPECT_EQ(video.codec(116)->fmtp_param("profile-level-id"), "4d001f");
  EXPECT_EQ(video.codec(108)->fmtp,
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f");
  EXPECT_EQ(video.codec(109)->rtx_apt(), 108);
  EXPECT_EQ(video.codec(98)->fmtp_param("profile-id"), "0");
  EXPECT_EQ(video.codec(120)->name, "ulpfec");
  EXPECT_EQ(video.extmap_id("urn:ietf:params:rtp-hdrext:toffset"), 14);
  EXPECT_EQ(video.extmap_id("urn:ietf:params:rtp-hdrext:sdes:mid"), 4);
  EXPECT_EQ(
      video.extmap_id("http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
      3);
  EXPECT_EQ(video.extmap_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 10);
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{809083216, 2919607351}));
  EXPECT_EQ(video.media_ssrcs(), std::vector<uint32_t>{809083216});

  const MediaSection& data = sdp.media[2];
  EXPECT_EQ(data.kind, "application");
  EXPECT_FALSE(data.is_rtp());
  EXPECT_EQ(data.protocol, "UDP/DTLS/SCTP");
  EXPECT_EQ(data.formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_TRUE(data.codecs.empty());
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 262144);
  EXPECT_EQ(data.mid, "2");
}

TEST(SdpFixtures, ChromiumRecvOnlyAndSimulcast) {
  const SessionDescription recv = parse_ok(load_fixture("chromium-156-offer-recvonly"));
  ASSERT_EQ(recv.media.size(), 2u);
  for (const MediaSection& m : recv.media) {
    EXPECT_EQ(m.direction, Direction::kRecvOnly);
    EXPECT_TRUE(m.msids.empty());
    EXPECT_TRUE(m.ssrcs.empty());
  }
  EXPECT_EQ(recv.media[1].codec(49)->name, "flexfec-03");
  EXPECT_EQ(recv.media[1].codec(41)->fmtp_param("profile-level-id"), "f4001f");

  const SessionDescription sim = parse_ok(load_fixture("chromium-156-offer-simulcast-video"));
  ASSERT_EQ(sim.media.size(), 2u);
  const MediaSection& video = sim.media[1];
  ASSERT_EQ(video.rids.size(), 3u);
  EXPECT_EQ(video.rids[0].id, "h");
  EXPECT_EQ(video.rids[1].id, "m");
  EXPECT_EQ(video.rids[2].id, "l");
  for (const Rid& r : video.rids) {
    EXPECT_EQ(r.direction, "send");
    EXPECT_EQ(r.params, "");
  }
  EXPECT_EQ(video.simulcast, "send h;m;l");
}

TEST(SdpFixtures, Firefox) {
  const SessionDescription sdp = parse_ok(load_fixture("firefox-153-offer-audio-video-data"));
  EXPECT_EQ(sdp.origin, "mozilla...THIS_IS_SDPARTA-99.0 3872638766411223580 0 IN IP4 0.0.0.0");
  // Session-level fingerprint and ice-options; a session-level a=sendrecv kept verbatim.
  EXPECT_EQ(sdp.fingerprint_algorithm, "sha-256");
  EXPECT_TRUE(sdp.fingerprint.starts_with("61:58:93"));
  EXPECT_EQ(sdp.ice_options, std::vector<std::string>{"trickle"});
  EXPECT_EQ(sdp.msid_semantic, "WMS *");
  EXPECT_EQ(sdp.other, std::vector<std::string>{"sendrecv"});
  ASSERT_EQ(sdp.media.size(), 3u);

  const MediaSection& audio = sdp.media[0];
  EXPECT_TRUE(audio.fingerprint.empty());
  EXPECT_EQ(sdp.fingerprint_of(audio), sdp.fingerprint);
  EXPECT_EQ(sdp.fingerprint_algorithm_of(audio), "sha-256");
  EXPECT_EQ(sdp.ice_ufrag_of(audio), "34cbfe97");
  EXPECT_EQ(sdp.setup_of(audio), "actpass");
  EXPECT_EQ(audio.connection, "IN IP4 192.0.2.2");
  EXPECT_EQ(audio.port, 46833);
  EXPECT_EQ(audio.candidates.size(), 8u);  // RTP and RTCP components, IPv4 and IPv6, UDP and TCP
  EXPECT_EQ(audio.candidates[1], "candidate:1 1 UDP 2122252543 fd00::2 37736 typ host");
  EXPECT_TRUE(audio.end_of_candidates);
  EXPECT_FALSE(audio.rtcp_rsize);
  // fmtp before rtpmap.
  EXPECT_EQ(audio.codec(109)->name, "opus");
  EXPECT_EQ(audio.codec(109)->fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  EXPECT_EQ(audio.codec(9)->channels, 1);
  EXPECT_EQ(audio.codec(101)->fmtp, "0-15");
  EXPECT_EQ(audio.codec(0)->feedback, std::vector<std::string>{"transport-cc"});
  ASSERT_GE(audio.extmaps.size(), 2u);
  EXPECT_EQ(audio.extmaps[1].id, 2);
  EXPECT_EQ(audio.extmaps[1].direction, "recvonly");
  EXPECT_EQ(audio.extmaps[1].uri, "urn:ietf:params:rtp-hdrext:csrc-audio-level");
  EXPECT_EQ(audio.msids, std::vector<std::string>{"- {2df7f5e5-595e-409d-a6ee-a1f09b898a96}"});

  const MediaSection& video = sdp.media[1];
  EXPECT_TRUE(video.rtcp_rsize);
  EXPECT_EQ(video.codec(124)->rtx_apt(), 120);
  EXPECT_EQ(video.codec(119)->rtx_apt(), 122);
  EXPECT_EQ(video.codec(121)->fmtp, "max-fs=12288;max-fr=60");
  EXPECT_EQ(video.media_ssrcs(), std::vector<uint32_t>{500364450});

  const MediaSection& data = sdp.media[2];
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 1073741823);
  EXPECT_EQ(data.direction, Direction::kSendRecv);

  const SessionDescription sim = parse_ok(load_fixture("firefox-153-offer-simulcast-video"));
  const MediaSection& sv = sim.media[1];
  EXPECT_EQ(sv.simulcast, "send h;m;l");
  ASSERT_EQ(sv.rids.size(), 3u);
  EXPECT_EQ(sv.rids[2].id, "l");
  EXPECT_EQ(sv.extmap_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 9);
  EXPECT_EQ(sv.extmaps[6].direction, "sendonly");
  EXPECT_EQ(sv.ssrc_groups.size(), 3u);
  EXPECT_EQ(sv.media_ssrcs(), (std::vector<uint32_t>{3014999885, 3116728490, 3991222388}));

  const SessionDescription recv = parse_ok(load_fixture("firefox-153-offer-recvonly"));
  EXPECT_EQ(recv.media[0].direction, Direction::kRecvOnly);
  EXPECT_EQ(recv.media[1].direction, Direction::kRecvOnly);
}

TEST(SdpFixtures, Aiortc) {
  const SessionDescription sdp = parse_ok(load_fixture("aiortc-1.4-offer-audio-video-data"));
  EXPECT_EQ(sdp.bundle_mids(), (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_TRUE(sdp.ice_ufrag.empty());
  ASSERT_EQ(sdp.media.size(), 3u);
  // Its own ICE credentials and port on every m-line.
  EXPECT_EQ(sdp.media[0].ice_ufrag, "Ay3E");
  EXPECT_EQ(sdp.media[1].ice_ufrag, "LE7G");
  EXPECT_EQ(sdp.media[2].ice_ufrag, "64RS");
  EXPECT_EQ(sdp.ice_ufrag_of(sdp.media[2]), "64RS");
  EXPECT_EQ(sdp.ice_pwd_of(sdp.media[1]), "avpPH8OnnwcWjulO7jIuyV");
  EXPECT_EQ(sdp.media[0].port, 54439);
  EXPECT_EQ(sdp.media[1].port, 53857);
  EXPECT_EQ(sdp.media[0].codecs[0].name, "opus");
  EXPECT_EQ(sdp.media[0].codecs[0].payload_type, 96);
  EXPECT_EQ(sdp.media[0].codecs[1].name, "PCMU");
  EXPECT_TRUE(sdp.media[0].end_of_candidates);

  const MediaSection& video = sdp.media[1];
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0].semantics, "FID");
  EXPECT_EQ(video.ssrc_groups[0].ssrcs, (std::vector<uint32_t>{2146563706, 419431418}));
  EXPECT_EQ(video.media_ssrcs(), std::vector<uint32_t>{2146563706});
  EXPECT_EQ(video.codec(102)->rtx_apt(), 101);

  // The older data channel form: the SCTP port is the m-line format.
  const MediaSection& data = sdp.media[2];
  EXPECT_EQ(data.protocol, "DTLS/SCTP");
  EXPECT_EQ(data.formats, std::vector<std::string>{"5000"});
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 65536);
  EXPECT_EQ(data.other, std::vector<std::string>{"sctpmap:5000 webrtc-datachannel 65535"});
  EXPECT_EQ(write_sdp(sdp).find("a=sctp-port"), std::string::npos);
}

// A minimal valid offer to vary in the hand-written cases below.
std::string minimal_offer(const std::string& audio_extra = "", const std::string& tail = "") {
  return "v=0\r\n"
         "o=- 1 1 IN IP4 127.0.0.1\r\n"
         "s=-\r\n"
         "t=0 0\r\n"
         "a=group:BUNDLE a\r\n"
         "a=fingerprint:sha-256 "
         "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:"
         "45:67:89\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"
         "c=IN IP4 0.0.0.0\r\n"
         "a=mid:a\r\n"
         "a=ice-ufrag:abcd\r\n"
         "a=ice-pwd:0123456789abcdefghijkl\r\n"
         "a=setup:actpass\r\n"
         "a=rtcp-mux\r\n"
         "a=rtpmap:111 opus/48000/2\r\n" +
         audio_extra + tail;
}

TEST(SdpParse, CodecNamesInAnyCase) {
  const auto sdp = parse_ok(minimal_offer().replace(minimal_offer().find("opus"), 4, "OPUS"));
  EXPECT_EQ(sdp.media[0].codecs[0].name, "OPUS");
  EXPECT_TRUE(sdp.media[0].codecs[0].is("opus"));
  EXPECT_TRUE(sdp.media[0].codecs[0].is("Opus"));
  EXPECT_FALSE(sdp.media[0].codecs[0].is("opu"));
}

TEST(SdpParse, BundleOnlySectionWithPortZero) {
  // RFC 8843 §7.1.3: a bundle-only section may carry no transport attributes of its own.
  std::string text = minimal_offer(
      "",
      "m=video 0 UDP/TLS/RTP/SAVPF 96\r\na=bundle-only\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n");
  text.replace(text.find("BUNDLE a"), 8, "BUNDLE a v");
  const auto sdp = parse_ok(text);
  ASSERT_EQ(sdp.media.size(), 2u);
  const MediaSection& video = sdp.media[1];
  EXPECT_EQ(video.port, 0);
  EXPECT_TRUE(video.bundle_only);
  EXPECT_FALSE(video.rejected());
  EXPECT_EQ(sdp.bundle_tag_of(video), &sdp.media[0]);
  EXPECT_EQ(sdp.ice_ufrag_of(video), "abcd");
  EXPECT_EQ(sdp.setup_of(video), "actpass");
  EXPECT_EQ(validate_webrtc(sdp), "");
  EXPECT_NE(write_sdp(sdp).find("m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"), std::string::npos);
  EXPECT_NE(write_sdp(sdp).find("a=bundle-only\r\n"), std::string::npos);

  // Port 0 without bundle-only is a rejected section: not validated.
  const auto rejected = parse_ok(minimal_offer("", "m=video 0 UDP/TLS/RTP/SAVPF 96\r\n"));
  EXPECT_TRUE(rejected.media[1].rejected());
  EXPECT_EQ(validate_webrtc(rejected), "");
}

TEST(SdpParse, TransportCcWithoutItsExtmap) {
  const auto sdp = parse_ok(minimal_offer("a=rtcp-fb:111 transport-cc\r\n"));
  EXPECT_EQ(sdp.media[0].codecs[0].feedback, std::vector<std::string>{"transport-cc"});
  EXPECT_EQ(sdp.media[0].extmap_id(
                "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"),
            0);
}

TEST(SdpParse, MsidOnlyInsideSsrcLines) {
  const auto sdp = parse_ok(minimal_offer(
      "a=ssrc:42 cname:abc\r\na=ssrc:42 msid:stream track\r\na=ssrc:42 mslabel:stream\r\n"));
  const MediaSection& m = sdp.media[0];
  EXPECT_TRUE(m.msids.empty());
  ASSERT_EQ(m.ssrcs.size(), 3u);
  EXPECT_EQ(m.ssrcs[1].ssrc, 42u);
  EXPECT_EQ(m.ssrcs[1].name, "msid");
  EXPECT_EQ(m.ssrcs[1].value, "stream track");
  EXPECT_EQ(m.media_ssrcs(), std::vector<uint32_t>{42});
  EXPECT_NE(write_sdp(sdp).find("a=ssrc:42 msid:stream track\r\n"), std::string::npos);
}

TEST(SdpParse, EndOfCandidatesAndCandidates) {
  const auto sdp = parse_ok(minimal_offer(
      "a=candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host\r\na=end-of-candidates\r\n"));
  EXPECT_EQ(sdp.media[0].candidates,
            std::vector<std::string>{"candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host"});
  EXPECT_TRUE(sdp.media[0].end_of_candidates);
  const std::string written = write_sdp(sdp);
  EXPECT_NE(written.find("a=end-of-candidates\r\n"), std::string::npos);
  EXPECT_NE(written.find("a=candidate:1 1 udp 2113937151 192.0.2.1 5000 typ host\r\n"),
            std::string::npos);
}

TEST(SdpParse, AttributeForPayloadTypeNotOnTheMLineIsKeptVerbatim) {
  const auto sdp = parse_ok(minimal_offer(
      "a=rtpmap:112 telephone-event/48000\r\na=fmtp:112 0-15\r\na=rtcp-fb:112 nack\r\n"));
  const MediaSection& m = sdp.media[0];
  EXPECT_EQ(m.codecs.size(), 1u);
  EXPECT_EQ(m.codec(112), nullptr);
  EXPECT_EQ(m.other, (std::vector<std::string>{"rtpmap:112 telephone-event/48000", "fmtp:112 0-15",
                                               "rtcp-fb:112 nack"}));
  EXPECT_NE(write_sdp(sdp).find("a=fmtp:112 0-15\r\n"), std::string::npos);
}

TEST(SdpParse, WildcardFeedbackAndStaticPayloadTypes) {
  const auto sdp = parse_ok(
      "v=0\no=- 1 1 IN IP4 127.0.0.1\ns=-\nc=IN IP4 192.0.2.9\nt=0 0\n"
      "m=audio 4000 RTP/AVP 0 8 96\na=rtpmap:96 opus/48000/2\na=rtcp-fb:* nack\n"
      "b=AS:64\nm=video 4002 RTP/AVP 31\nc=IN IP4 192.0.2.10\n");
  const MediaSection& audio = sdp.media[0];
  ASSERT_EQ(audio.codecs.size(), 3u);
  EXPECT_EQ(audio.codecs[0].name, "PCMU");
  EXPECT_EQ(audio.codecs[0].clock_rate, 8000);
  EXPECT_EQ(audio.codecs[1].name, "PCMA");
  for (const RtpCodec& c : audio.codecs) EXPECT_EQ(c.feedback, std::vector<std::string>{"nack"});
  EXPECT_EQ(audio.connection, "IN IP4 192.0.2.9");  // session-level c= as the default
  EXPECT_EQ(sdp.media[1].connection, "IN IP4 192.0.2.10");
  EXPECT_EQ(sdp.media[1].codecs[0].name, "H261");
  // Not WebRTC: no DTLS fingerprint.
  EXPECT_NE(validate_webrtc(sdp), "");
}

TEST(SdpParse, FingerprintsPreferSha256) {
  const auto sdp = parse_ok(minimal_offer("a=fingerprint:sha-1 AB:CD\r\na=fingerprint:sha-256 " +
                                          std::string(95, 'A') + "\r\n"));
  EXPECT_EQ(sdp.media[0].fingerprint_algorithm, "sha-256");
  EXPECT_EQ(sdp.media[0].other, std::vector<std::string>{"fingerprint:sha-1 AB:CD"});
}

TEST(SdpParse, BrokenInputsGiveAReason) {
  EXPECT_EQ(parse_error(""), "empty description");
  EXPECT_EQ(parse_error("\r\n  \r\n"), "empty description");
  EXPECT_NE(parse_error("o=- 1 1 IN IP4 127.0.0.1\r\nv=0\r\n").find("line 1: "), std::string::npos);
  EXPECT_NE(parse_error("v=1\r\n").find("version"), std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("this is not sdp\r\n")).find("line 15: "), std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("x\r\n")).find("line 15: "), std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("", "m=video nine UDP/TLS/RTP/SAVPF 96\r\n"))
                .find("line 15: bad m= line"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("", "m=video 9 UDP/TLS/RTP/SAVPF\r\n")).find("bad m= line"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("", "m=video 70000 UDP/TLS/RTP/SAVPF 96\r\n")).find("port"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("", "m=video 9 UDP/TLS/RTP/SAVPF VP8\r\n")).find("VP8"),
            std::string::npos);
  EXPECT_NE(
      parse_error(minimal_offer("a=rtpmap:abc opus/48000/2\r\n")).find("line 15: bad a=rtpmap"),
      std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("a=rtpmap:111 opus\r\n")).find("bad a=rtpmap"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("a=fmtp:x apt=1\r\n")).find("bad a=fmtp"), std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("a=ssrc:notanumber cname:x\r\n")).find("a=ssrc"),
            std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("a=extmap:0 urn:x\r\n")).find("a=extmap"), std::string::npos);
  EXPECT_NE(parse_error(minimal_offer("a=sctp-port:port\r\n")).find("sctp-port"),
            std::string::npos);
  EXPECT_EQ(parse_error("v=0\r\ns=-\r\n"), "missing o= line");
  // A null error pointer is allowed.
  EXPECT_FALSE(parse_sdp("garbage", nullptr));
  // Truncated text never crashes; every prefix either parses or fails with a reason.
  const std::string full = load_fixture("chromium-156-offer-audio-video-data");
  for (size_t n = 0; n < full.size(); n += 7) {
    std::string error;
    if (!parse_sdp(full.substr(0, n), &error)) {
      EXPECT_FALSE(error.empty());
    }
  }
}

TEST(SdpValidate, CatchesMissingPieces) {
  EXPECT_EQ(validate_webrtc(parse_ok(minimal_offer())), "");
  EXPECT_EQ(validate_webrtc(parse_ok("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n")),
            "no m= lines");
  EXPECT_EQ(validate_webrtc(SessionDescription{}), "no m= lines");

  auto no_fp = parse_ok(minimal_offer());
  no_fp.fingerprint.clear();
  EXPECT_NE(validate_webrtc(no_fp).find("no a=fingerprint"), std::string::npos);

  auto sha1 = parse_ok(minimal_offer());
  sha1.fingerprint_algorithm = "sha-1";
  EXPECT_NE(validate_webrtc(sha1).find("sha-256"), std::string::npos);

  auto bad_fp = parse_ok(minimal_offer());
  bad_fp.fingerprint = "AB:CD";
  EXPECT_NE(validate_webrtc(bad_fp).find("malformed"), std::string::npos);

  auto no_ufrag = parse_ok(minimal_offer());
  no_ufrag.media[0].ice_ufrag.clear();
  EXPECT_NE(validate_webrtc(no_ufrag).find("no a=ice-ufrag"), std::string::npos);
  no_ufrag.ice_ufrag = "session";  // session level is enough
  EXPECT_EQ(validate_webrtc(no_ufrag), "");

  auto no_pwd = parse_ok(minimal_offer());
  no_pwd.media[0].ice_pwd.clear();
  EXPECT_NE(validate_webrtc(no_pwd).find("no a=ice-pwd"), std::string::npos);

  auto no_mux = parse_ok(minimal_offer());
  no_mux.media[0].rtcp_mux = false;
  EXPECT_NE(validate_webrtc(no_mux).find("rtcp-mux"), std::string::npos);

  auto no_mid = parse_ok(minimal_offer());
  no_mid.media[0].mid.clear();
  EXPECT_NE(validate_webrtc(no_mid).find("names mid 'a'"), std::string::npos);
  no_mid.groups.clear();
  EXPECT_NE(validate_webrtc(no_mid).find("no a=mid"), std::string::npos);

  auto no_setup = parse_ok(minimal_offer());
  no_setup.media[0].setup.clear();
  EXPECT_NE(validate_webrtc(no_setup).find("no a=setup"), std::string::npos);
  no_setup.media[0].setup = "holdconn";
  EXPECT_NE(validate_webrtc(no_setup).find("holdconn"), std::string::npos);

  auto dup_mid = parse_ok(minimal_offer("", "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:a\r\n"));
  EXPECT_NE(validate_webrtc(dup_mid).find("share"), std::string::npos);

  auto bad_group = parse_ok(minimal_offer());
  bad_group.groups[0].push_back("x");
  EXPECT_NE(validate_webrtc(bad_group).find("'x'"), std::string::npos);
}

TEST(SdpModel, DirectionHelpers) {
  EXPECT_EQ(to_string(Direction::kSendRecv), "sendrecv");
  EXPECT_EQ(to_string(Direction::kSendOnly), "sendonly");
  EXPECT_EQ(to_string(Direction::kRecvOnly), "recvonly");
  EXPECT_EQ(to_string(Direction::kInactive), "inactive");
  EXPECT_EQ(reverse(Direction::kSendOnly), Direction::kRecvOnly);
  EXPECT_EQ(reverse(Direction::kRecvOnly), Direction::kSendOnly);
  EXPECT_EQ(reverse(Direction::kSendRecv), Direction::kSendRecv);
  EXPECT_EQ(reverse(Direction::kInactive), Direction::kInactive);
  EXPECT_TRUE(sends(Direction::kSendRecv));
  EXPECT_TRUE(sends(Direction::kSendOnly));
  EXPECT_FALSE(sends(Direction::kRecvOnly));
  EXPECT_TRUE(receives(Direction::kRecvOnly));
  EXPECT_FALSE(receives(Direction::kInactive));
  EXPECT_EQ(direction_from_string("recvonly"), Direction::kRecvOnly);
  EXPECT_EQ(direction_from_string("bogus"), std::nullopt);
}

TEST(SdpModel, FmtpParamsAndRtx) {
  RtpCodec h264{102, "H264", 90000, 0, " Profile-Level-Id = 42e01f ; packetization-mode=1;flag",
                {}};
  EXPECT_EQ(h264.fmtp_param("profile-level-id"), "42e01f");
  EXPECT_EQ(h264.fmtp_param("PACKETIZATION-MODE"), "1");
  EXPECT_EQ(h264.fmtp_param("flag"), std::nullopt);
  EXPECT_EQ(h264.rtx_apt(), std::nullopt);
  RtpCodec rtx{103, "RTX", 90000, 0, "apt=102;rtx-time=200", {}};
  EXPECT_EQ(rtx.rtx_apt(), 102);
  rtx.fmtp = "apt=x";
  EXPECT_EQ(rtx.rtx_apt(), std::nullopt);
}

TEST(SdpWrite, BuiltModelWritesAValidDescription) {
  SessionDescription sdp;
  sdp.groups = {{"BUNDLE", "0"}};
  sdp.ice_ufrag = "uf";
  sdp.ice_pwd = "0123456789abcdefghijkl";
  sdp.fingerprint_algorithm = "sha-256";
  sdp.fingerprint = std::string(95, 'A');
  for (size_t i = 2; i < sdp.fingerprint.size(); i += 3) sdp.fingerprint[i] = ':';
  sdp.setup = "passive";
  sdp.ice_lite = true;
  MediaSection m;
  m.kind = "audio";
  m.protocol = "UDP/TLS/RTP/SAVPF";
  m.mid = "0";
  m.rtcp_mux = true;
  m.codecs.push_back(RtpCodec{111, "opus", 48000, 2, "minptime=10", {"transport-cc"}});
  m.direction = Direction::kRecvOnly;
  sdp.media.push_back(m);
  const std::string text = write_sdp(sdp);
  EXPECT_TRUE(text.starts_with("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n")) << text;
  EXPECT_NE(text.find("m=audio 9 UDP/TLS/RTP/SAVPF 111\r\n"), std::string::npos);  // formats
  EXPECT_NE(text.find("a=recvonly\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ice-lite\r\n"), std::string::npos);
  const auto back = parse_ok(text);
  EXPECT_EQ(validate_webrtc(back), "");
  EXPECT_EQ(back.media[0].codecs, m.codecs);
  EXPECT_EQ(back.setup_of(back.media[0]), "passive");
}

}  // namespace
}  // namespace junction::media

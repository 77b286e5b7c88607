#include "core/media/sdp_answer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace junction::media {
namespace {

constexpr const char* kMidUri = "urn:ietf:params:rtp-hdrext:sdes:mid";
constexpr const char* kTransportCcUri =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

SessionDescription load_offer(const std::string& name) {
  const std::string path =
      std::string(JUNCTION_SOURCE_DIR "/tests/unit/core/media/fixtures/") + name + ".sdp";
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in) << "cannot open " << path;
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  auto sdp = parse_sdp(text.str(), &error);
  EXPECT_TRUE(sdp) << error;
  return sdp ? *sdp : SessionDescription{};
}

// The answer as the remote peer will see it: written, then parsed back.
SessionDescription through_text(const SessionDescription& answer) {
  std::string error;
  auto back = parse_sdp(write_sdp(answer), &error);
  EXPECT_TRUE(back) << error;
  if (!back) return {};
  EXPECT_TRUE(*back == answer) << write_sdp(answer);
  return *back;
}

std::vector<int> payload_types(const MediaSection& m) {
  std::vector<int> out;
  for (const RtpCodec& c : m.codecs) out.push_back(c.payload_type);
  return out;
}

void expect_rejected(const SessionDescription& answer, size_t index, const std::string& format) {
  SCOPED_TRACE("m-section " + std::to_string(index));
  ASSERT_LT(index, answer.media.size());
  const MediaSection& m = answer.media[index];
  EXPECT_EQ(m.port, 0);
  EXPECT_TRUE(m.rejected());
  EXPECT_EQ(m.direction, Direction::kInactive);
  EXPECT_EQ(m.formats, std::vector<std::string>{format});
  EXPECT_LE(m.codecs.size(), 1u);
  for (const RtpCodec& c : m.codecs) {
    EXPECT_EQ(std::to_string(c.payload_type), format);
    EXPECT_TRUE(c.fmtp.empty());
    EXPECT_TRUE(c.feedback.empty());
  }
  const auto bundle = answer.bundle_mids();
  EXPECT_EQ(std::find(bundle.begin(), bundle.end(), m.mid), bundle.end());
}

TEST(SdpAnswer, ChromiumOfferDefaults) {
  const SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  const SessionDescription answer = through_text(make_answer(offer, AnswerOptions{}));
  ASSERT_EQ(answer.media.size(), 3u);
  EXPECT_EQ(answer.groups, (std::vector<std::vector<std::string>>{{"BUNDLE", "0", "1"}}));
  EXPECT_TRUE(answer.origin.starts_with("- "));
  EXPECT_TRUE(answer.ice_ufrag.empty());
  EXPECT_TRUE(answer.fingerprint.empty());

  const MediaSection& audio = answer.media[0];
  EXPECT_EQ(audio.mid, "0");
  EXPECT_EQ(audio.port, 9);
  EXPECT_EQ(audio.protocol, "UDP/TLS/RTP/SAVPF");
  EXPECT_EQ(audio.direction, Direction::kSendRecv);
  EXPECT_TRUE(audio.rtcp_mux);
  EXPECT_TRUE(audio.rtcp_rsize);
  EXPECT_TRUE(audio.ice_ufrag.empty());
  EXPECT_TRUE(audio.candidates.empty());
  ASSERT_EQ(audio.codecs.size(), 1u);
  EXPECT_EQ(audio.codecs[0].name, "opus");
  EXPECT_EQ(audio.codecs[0].payload_type, 111);
  EXPECT_EQ(audio.codecs[0].channels, 2);
  EXPECT_EQ(audio.codecs[0].fmtp, "minptime=10;useinbandfec=1");
  EXPECT_EQ(audio.codecs[0].feedback, std::vector<std::string>{"transport-cc"});
  EXPECT_EQ(audio.formats, std::vector<std::string>{"111"});
  EXPECT_EQ(audio.extmap_id(kMidUri), 4);
  EXPECT_EQ(audio.extmap_id("urn:ietf:params:rtp-hdrext:ssrc-audio-level"), 1);
  EXPECT_EQ(audio.extmap_id(kTransportCcUri), 3);
  EXPECT_TRUE(audio.ssrcs.empty());  // no send_streams given
  EXPECT_TRUE(audio.msids.empty());

  const MediaSection& video = answer.media[1];
  EXPECT_EQ(payload_types(video), (std::vector<int>{96, 97}));
  EXPECT_EQ(video.formats, (std::vector<std::string>{"96", "97"}));
  EXPECT_EQ(video.codecs[0].name, "VP8");
  EXPECT_EQ(video.codecs[0].feedback,
            (std::vector<std::string>{"goog-remb", "transport-cc", "ccm fir", "nack", "nack pli"}));
  EXPECT_EQ(video.codecs[1].rtx_apt(), 96);
  EXPECT_EQ(video.extmap_id(kMidUri), 4);
  EXPECT_EQ(video.extmap_id("http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"), 2);
  EXPECT_EQ(video.extmap_id("urn:ietf:params:rtp-hdrext:toffset"), 0);
  EXPECT_EQ(video.extmap_id("urn:3gpp:video-orientation"), 0);
  EXPECT_EQ(video.extmap_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 10);
  EXPECT_TRUE(video.rids.empty());
  EXPECT_TRUE(video.simulcast.empty());

  // Data channels are rejected by default.
  expect_rejected(answer, 2, "webrtc-datachannel");
  EXPECT_EQ(answer.media[2].mid, "2");
  EXPECT_EQ(answer.media[2].protocol, "UDP/DTLS/SCTP");

  const std::string text = write_sdp(answer);
  EXPECT_NE(text.find("m=application 0 UDP/DTLS/SCTP webrtc-datachannel\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=group:BUNDLE 0 1\r\n"), std::string::npos);

  // Once the transport adds ICE and DTLS, the answer is a valid description.
  SessionDescription complete = answer;
  complete.ice_ufrag = "ufrg";
  complete.ice_pwd = "0123456789abcdefghijkl";
  complete.fingerprint_algorithm = "sha-256";
  complete.fingerprint = std::string(95, '0');
  for (size_t i = 2; i < complete.fingerprint.size(); i += 3) complete.fingerprint[i] = ':';
  complete.setup = "passive";
  EXPECT_EQ(validate_webrtc(complete), "");
}

TEST(SdpAnswer, AcceptsDataWhenAsked) {
  AnswerOptions options;
  options.accept_data = true;
  const SessionDescription answer =
      through_text(make_answer(load_offer("chromium-156-offer-audio-video-data"), options));
  EXPECT_EQ(answer.bundle_mids(), (std::vector<std::string>{"0", "1", "2"}));
  const MediaSection& data = answer.media[2];
  EXPECT_EQ(data.port, 9);
  EXPECT_EQ(data.formats, std::vector<std::string>{"webrtc-datachannel"});
  EXPECT_EQ(data.sctp_port, 5000);
  EXPECT_EQ(data.max_message_size, 262144);

  // aiortc's old form is answered in kind.
  const SessionDescription aiortc =
      through_text(make_answer(load_offer("aiortc-1.4-offer-audio-video-data"), options));
  const MediaSection& old = aiortc.media[2];
  EXPECT_EQ(old.protocol, "DTLS/SCTP");
  EXPECT_EQ(old.sctp_port, 5000);
  const std::string text = write_sdp(aiortc);
  EXPECT_NE(text.find("m=application 9 DTLS/SCTP 5000\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=sctpmap:5000 webrtc-datachannel 65535\r\n"), std::string::npos);
  EXPECT_EQ(text.find("a=sctp-port"), std::string::npos);
}

TEST(SdpAnswer, H264PicksPacketizationModeOneConstrainedBaseline) {
  AnswerOptions options;
  options.video_codecs = {"h264"};
  const SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  const SessionDescription answer = through_text(make_answer(offer, options));
  const MediaSection& video = answer.media[1];
  ASSERT_EQ(payload_types(video), (std::vector<int>{108, 109}));
  EXPECT_EQ(video.codecs[0].fmtp, offer.media[1].codec(108)->fmtp);
  EXPECT_EQ(video.codecs[0].fmtp_param("packetization-mode"), "1");
  EXPECT_EQ(video.codecs[0].fmtp_param("profile-level-id"), "42e01f");
  EXPECT_EQ(video.codecs[1].rtx_apt(), 108);

  // aiortc offers 42001f (baseline) before 42e01f: constrained baseline still wins.
  const SessionDescription aiortc =
      make_answer(load_offer("aiortc-1.4-offer-audio-video-data"), options);
  EXPECT_EQ(payload_types(aiortc.media[1]), (std::vector<int>{101, 102}));
  // With only baseline on offer, baseline is accepted.
  SessionDescription baseline_only = load_offer("aiortc-1.4-offer-audio-video-data");
  auto& codecs = baseline_only.media[1].codecs;
  codecs.erase(codecs.begin() + 4, codecs.end());  // drop 101 and its rtx 102
  EXPECT_EQ(payload_types(make_answer(baseline_only, options).media[1]),
            (std::vector<int>{99, 100}));
}

TEST(SdpAnswer, H264ProfileRanks) {
  EXPECT_EQ(h264_baseline_rank("42e01f"), 0);
  EXPECT_EQ(h264_baseline_rank("42c01f"), 0);
  EXPECT_EQ(h264_baseline_rank("42E034"), 0);
  EXPECT_EQ(h264_baseline_rank("4de01f"), 0);
  EXPECT_EQ(h264_baseline_rank("4d801f"), 0);
  EXPECT_EQ(h264_baseline_rank("58c01f"), 0);
  EXPECT_EQ(h264_baseline_rank("42001f"), 1);
  EXPECT_EQ(h264_baseline_rank("42800a"), 1);
  EXPECT_EQ(h264_baseline_rank("42100b"), 1);   // level 1b
  EXPECT_EQ(h264_baseline_rank("4d001f"), -1);  // main
  EXPECT_EQ(h264_baseline_rank("64001f"), -1);  // high
  EXPECT_EQ(h264_baseline_rank("f4001f"), -1);  // high 4:4:4
  EXPECT_EQ(h264_baseline_rank("42e01"), -1);
  EXPECT_EQ(h264_baseline_rank("42zz1f"), -1);
  EXPECT_EQ(h264_baseline_rank(""), -1);
}

TEST(SdpAnswer, PreferenceOrderIsOurs) {
  AnswerOptions options;
  options.audio_codecs = {"PCMU", "opus"};
  options.video_codecs = {"vp9", "vp8"};
  const SessionDescription answer = make_answer(load_offer("chromium-156-offer-recvonly"), options);
  ASSERT_EQ(answer.media[0].codecs.size(), 1u);
  EXPECT_EQ(answer.media[0].codecs[0].name, "PCMU");
  EXPECT_EQ(answer.media[0].formats, std::vector<std::string>{"0"});
  // VP9 profile 0 only (98), with its rtx; never profile 2 (100), 1 (35) or 3 (37).
  EXPECT_EQ(payload_types(answer.media[1]), (std::vector<int>{98, 99}));
  EXPECT_EQ(answer.media[1].codecs[0].fmtp, "profile-id=0");
}

TEST(SdpAnswer, DirectionIsTheOfferReversedAndLimitedByUs) {
  const SessionDescription recvonly = load_offer("firefox-153-offer-recvonly");
  const SessionDescription answer = through_text(make_answer(recvonly, AnswerOptions{}));
  ASSERT_EQ(answer.media.size(), 2u);
  EXPECT_EQ(answer.media[0].direction, Direction::kSendOnly);
  EXPECT_EQ(answer.media[1].direction, Direction::kSendOnly);
  EXPECT_EQ(answer.media[0].codecs[0].name, "opus");
  EXPECT_EQ(answer.media[0].codecs[0].fmtp, "maxplaybackrate=48000;stereo=1;useinbandfec=1");
  EXPECT_EQ(payload_types(answer.media[1]), (std::vector<int>{120, 124}));
  EXPECT_FALSE(answer.media[0].rtcp_rsize);  // echoed: Firefox offers none on audio
  EXPECT_TRUE(answer.media[1].rtcp_rsize);
  // Firefox's csrc-audio-level (2/recvonly) is not ours to keep.
  EXPECT_EQ(answer.media[0].extmap_id("urn:ietf:params:rtp-hdrext:csrc-audio-level"), 0);
  EXPECT_EQ(answer.media[0].extmap_id(kMidUri), 3);

  AnswerOptions no_send;
  no_send.send = false;
  EXPECT_EQ(make_answer(recvonly, no_send).media[0].direction, Direction::kInactive);

  const SessionDescription sendrecv = load_offer("firefox-153-offer-audio-video-data");
  AnswerOptions receive_only;
  receive_only.send = false;
  EXPECT_EQ(make_answer(sendrecv, receive_only).media[1].direction, Direction::kRecvOnly);
  AnswerOptions send_only;
  send_only.receive = false;
  EXPECT_EQ(make_answer(sendrecv, send_only).media[1].direction, Direction::kSendOnly);
  EXPECT_EQ(make_answer(sendrecv, AnswerOptions{}).media[1].direction, Direction::kSendRecv);
}

TEST(SdpAnswer, UnacceptableLinesAreRejected) {
  // Video offering only codecs we do not take: main-profile H.264, H.264 mode 0, AV1.
  SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  MediaSection& video = offer.media[1];
  std::vector<RtpCodec> kept;
  for (const RtpCodec& c : video.codecs) {
    if (c.payload_type == 116 || c.payload_type == 104 || c.payload_type == 45) kept.push_back(c);
  }
  video.codecs = kept;
  video.formats = {"116", "104", "45"};
  const SessionDescription answer = through_text(make_answer(offer, AnswerOptions{}));
  expect_rejected(answer, 1, "116");
  EXPECT_EQ(answer.media[1].mid, "1");
  EXPECT_EQ(answer.bundle_mids(), std::vector<std::string>{"0"});
  EXPECT_NE(write_sdp(answer).find("m=video 0 UDP/TLS/RTP/SAVPF 116\r\n"), std::string::npos);

  // Kinds we do not accept, unknown kinds, and lines the offer itself rejected.
  AnswerOptions no_audio;
  no_audio.accept_audio = false;
  expect_rejected(make_answer(load_offer("firefox-153-offer-audio-video-data"), no_audio), 0,
                  "109");
  SessionDescription odd = load_offer("firefox-153-offer-audio-video-data");
  odd.media[0].kind = "text";
  odd.media[1].port = 0;
  const SessionDescription odd_answer = make_answer(odd, AnswerOptions{});
  expect_rejected(odd_answer, 0, "109");
  expect_rejected(odd_answer, 1, "120");
  expect_rejected(odd_answer, 2, "webrtc-datachannel");
  EXPECT_TRUE(odd_answer.groups.empty());  // nothing accepted, no BUNDLE group
}

TEST(SdpAnswer, BundleOnlyLinesAreAccepted) {
  SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  offer.media[1].port = 0;
  offer.media[1].bundle_only = true;
  const SessionDescription answer = make_answer(offer, AnswerOptions{});
  EXPECT_EQ(answer.media[1].port, 9);
  EXPECT_FALSE(answer.media[1].bundle_only);
  EXPECT_EQ(answer.bundle_mids(), (std::vector<std::string>{"0", "1"}));
}

TEST(SdpAnswer, TransportCcFeedbackNeedsItsExtension) {
  SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  auto& extmaps = offer.media[0].extmaps;
  extmaps.erase(std::remove_if(extmaps.begin(), extmaps.end(),
                               [](const Extmap& e) { return e.uri == kTransportCcUri; }),
                extmaps.end());
  const SessionDescription answer = make_answer(offer, AnswerOptions{});
  EXPECT_TRUE(answer.media[0].codecs[0].feedback.empty());
  EXPECT_EQ(answer.media[1].codecs[0].feedback.size(), 5u);  // video keeps its extension
}

TEST(SdpAnswer, CodecNamesInAnyCase) {
  SessionDescription offer = load_offer("chromium-156-offer-audio-video-data");
  offer.media[0].codecs[0].name = "OPUS";
  offer.media[1].codecs[0].name = "vp8";
  const SessionDescription answer = make_answer(offer, AnswerOptions{});
  EXPECT_EQ(answer.media[0].codecs[0].name, "OPUS");
  EXPECT_EQ(answer.media[1].codecs[0].payload_type, 96);
}

TEST(SdpAnswer, SimulcastIsAnsweredWithRecvRids) {
  for (const char* name :
       {"chromium-156-offer-simulcast-video", "firefox-153-offer-simulcast-video"}) {
    SCOPED_TRACE(name);
    const SessionDescription answer = through_text(make_answer(load_offer(name), AnswerOptions{}));
    const MediaSection& video = answer.media[1];
    EXPECT_EQ(video.rids,
              (std::vector<Rid>{{"h", "recv", ""}, {"m", "recv", ""}, {"l", "recv", ""}}));
    EXPECT_EQ(video.simulcast, "recv h;m;l");
    EXPECT_NE(video.extmap_id("urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id"), 0);
    EXPECT_NE(video.extmap_id("urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id"), 0);
    const std::string text = write_sdp(answer);
    EXPECT_NE(text.find("a=simulcast:recv h;m;l\r\n"), std::string::npos);
    EXPECT_NE(text.find("a=rid:h recv\r\n"), std::string::npos);
    EXPECT_TRUE(answer.media[0].rids.empty());
  }
  // Firefox marks its rid extensions sendonly: the answer receives them.
  const SessionDescription ff =
      make_answer(load_offer("firefox-153-offer-simulcast-video"), AnswerOptions{});
  for (const Extmap& e : ff.media[1].extmaps) {
    if (e.uri == "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id") {
      EXPECT_EQ(e.direction, "recvonly");
    }
  }
  // Not receiving: no simulcast.
  AnswerOptions no_receive;
  no_receive.receive = false;
  const SessionDescription send_only =
      make_answer(load_offer("chromium-156-offer-simulcast-video"), no_receive);
  EXPECT_TRUE(send_only.media[1].rids.empty());
  EXPECT_TRUE(send_only.media[1].simulcast.empty());
}

TEST(SdpAnswer, SendStreamsBecomeSsrcLines) {
  AnswerOptions options;
  options.send_streams["0"] = SendStream{1111, 0, "junction-cname", "room", "audio-track"};
  options.send_streams["1"] = SendStream{2222, 3333, "junction-cname", "room", "video-track"};
  options.send_streams["2"] = SendStream{4444, 0, "x", "y", "z"};  // rejected line: unused
  const SessionDescription answer =
      through_text(make_answer(load_offer("chromium-156-offer-recvonly"), options));
  EXPECT_EQ(answer.msid_semantic, "WMS");

  const MediaSection& audio = answer.media[0];
  EXPECT_EQ(audio.direction, Direction::kSendOnly);
  EXPECT_EQ(audio.msids, std::vector<std::string>{"room audio-track"});
  EXPECT_TRUE(audio.ssrc_groups.empty());
  EXPECT_EQ(audio.ssrcs, (std::vector<SsrcAttribute>{{1111, "cname", "junction-cname"},
                                                     {1111, "msid", "room audio-track"}}));

  const MediaSection& video = answer.media[1];
  EXPECT_EQ(video.msids, std::vector<std::string>{"room video-track"});
  ASSERT_EQ(video.ssrc_groups.size(), 1u);
  EXPECT_EQ(video.ssrc_groups[0], (SsrcGroup{"FID", {2222, 3333}}));
  EXPECT_EQ(video.media_ssrcs(), std::vector<uint32_t>{2222});
  EXPECT_EQ(video.ssrcs.size(), 4u);
  const std::string text = write_sdp(answer);
  EXPECT_NE(text.find("a=ssrc-group:FID 2222 3333\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ssrc:3333 cname:junction-cname\r\n"), std::string::npos);
  EXPECT_NE(text.find("a=ssrc:2222 msid:room video-track\r\n"), std::string::npos);

  // Where the answer does not send, nothing is written; defaults fill empty names.
  AnswerOptions quiet = options;
  quiet.send = false;
  const SessionDescription recv =
      make_answer(load_offer("chromium-156-offer-audio-video-data"), quiet);
  EXPECT_TRUE(recv.media[1].ssrcs.empty());
  EXPECT_TRUE(recv.media[1].msids.empty());
  EXPECT_TRUE(recv.msid_semantic.empty());

  AnswerOptions defaults;
  defaults.send_streams["0"] = SendStream{5555, 0, "", "", ""};
  const SessionDescription d =
      make_answer(load_offer("chromium-156-offer-audio-video-data"), defaults);
  EXPECT_EQ(d.media[0].msids, std::vector<std::string>{"-"});
  EXPECT_EQ(d.media[0].ssrcs[0], (SsrcAttribute{5555, "cname", "junction"}));
}

TEST(SdpAnswer, ThrowsOnlyWithoutMLines) {
  EXPECT_THROW(make_answer(SessionDescription{}, AnswerOptions{}), std::invalid_argument);
  // An offer without BUNDLE gets no BUNDLE group.
  SessionDescription offer = load_offer("firefox-153-offer-audio-video-data");
  offer.groups.clear();
  EXPECT_TRUE(make_answer(offer, AnswerOptions{}).groups.empty());
}

}  // namespace
}  // namespace junction::media

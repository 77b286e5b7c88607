// Two real PeerConnections talking over UDP on 127.0.0.1: A offers (the server side of an SFU
// subscriber: ICE controlling, a=setup:actpass), B answers. ICE, DTLS and SRTP run for real.
#include "transports/peer_connection.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include "core/media/rtp_packet.h"
#include "core/media/sdp_answer.h"

namespace junction::transports {
namespace {

using namespace std::chrono_literals;

constexpr const char* kOffer =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=extmap:2 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=ssrc:1111 cname:a\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendrecv\r\na=rtcp-mux\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:sdes:mid\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\n"
    "a=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=ssrc-group:FID 2222 3333\r\na=ssrc:2222 cname:a\r\na=ssrc:3333 cname:a\r\n";

// What one side observed; written on the worker, read by the test thread.
struct Observed {
  std::mutex mutex;
  std::condition_variable changed;
  bool gathered = false, connected = false;
  std::string closed_reason;
  std::vector<std::tuple<int, uint32_t, uint16_t, std::vector<uint8_t>>> rtp;  // mindex, ssrc, seq, payload
  std::vector<int> levels;  // per packet: the audio-level byte (extension id 2), -1 without

  template <typename Pred>
  bool wait(Pred pred, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return pred(); });
  }
  void update(const std::function<void()>& f) {
    std::lock_guard lock(mutex);
    f();
    changed.notify_all();
  }
};

PeerConnection::Events events_for(Observed& o) {
  PeerConnection::Events e;
  e.gathering_done = [&o] { o.update([&] { o.gathered = true; }); };
  e.connected = [&o] { o.update([&] { o.connected = true; }); };
  e.closed = [&o](const std::string& reason) { o.update([&] { o.closed_reason = reason; }); };
  e.rtp = [&o](const media::IncomingRtp& p) {
    auto payload = p.rtp.payload();
    o.update([&] {
      o.rtp.emplace_back(p.mindex, p.rtp.ssrc(), p.rtp.sequence(), std::vector<uint8_t>(payload.begin(), payload.end()));
      auto level = p.rtp.extension(2);
      o.levels.push_back(level.size() == 1 ? level[0] : -1);
    });
  };
  return e;
}

class PeerConnectionPair : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.ice.local_addresses = {"127.0.0.1"};
    PeerConnectionConfig a_config = config_, b_config = config_;
    a_config.certificate = DtlsCertificate::generate();
    b_config.certificate = DtlsCertificate::generate();
    worker_.run_sync([&] {
      a_ = std::make_unique<PeerConnection>(worker_, 1, a_config, events_for(a_seen_));
      b_ = std::make_unique<PeerConnection>(worker_, 2, b_config, events_for(b_seen_));
    });
  }
  void TearDown() override {
    worker_.run_sync([&] {
      a_.reset();
      b_.reset();
    });
  }

  // A offers, B answers; `tamper` may change B's answer before A sees it.
  void negotiate(const std::function<void(media::SessionDescription&)>& tamper = nullptr) {
    std::string error;
    auto offer = media::parse_sdp(kOffer, &error);
    ASSERT_TRUE(offer) << error;
    worker_.run_sync([&] { a_->prepare_offer(); });
    ASSERT_TRUE(a_seen_.wait([&] { return a_seen_.gathered; }));
    std::string offer_text;
    worker_.run_sync([&] {
      a_->set_local_description(*offer);
      a_->fill_transport(*offer, /*is_offer=*/true);
      offer_text = media::write_sdp(*offer);
    });
    EXPECT_NE(offer_text.find("a=setup:actpass"), std::string::npos);
    EXPECT_NE(offer_text.find("127.0.0.1"), std::string::npos) << "a loopback host candidate";

    auto remote_offer = media::parse_sdp(offer_text, &error);
    ASSERT_TRUE(remote_offer) << error;
    std::string failure;
    worker_.run_sync([&] {
      failure = b_->set_remote_description(*remote_offer, /*is_offer=*/true);
      b_->gather();
    });
    ASSERT_EQ(failure, "");
    ASSERT_TRUE(b_seen_.wait([&] { return b_seen_.gathered; }));
    media::AnswerOptions options;
    options.send_streams["0"] = {4444, 0, "b", "", ""};
    options.send_streams["1"] = {5555, 6666, "b", "", ""};
    media::SessionDescription answer = media::make_answer(*remote_offer, options);
    std::string answer_text;
    worker_.run_sync([&] {
      b_->set_local_description(answer);
      b_->fill_transport(answer, /*is_offer=*/false);
      if (tamper) tamper(answer);
      answer_text = media::write_sdp(answer);
    });
    EXPECT_NE(answer_text.find("a=setup:active"), std::string::npos) << "the answerer takes the DTLS client role";
    auto remote_answer = media::parse_sdp(answer_text, &error);
    ASSERT_TRUE(remote_answer) << error;
    worker_.run_sync([&] { failure = a_->set_remote_description(*remote_answer, /*is_offer=*/false); });
    ASSERT_EQ(failure, "");
  }

  // A VP8-looking RTP packet with the given sequence number and a recognisable payload.
  static std::vector<uint8_t> packet(uint8_t pt, uint16_t seq, uint32_t ssrc, uint8_t fill) {
    std::vector<uint8_t> out(200);
    std::vector<uint8_t> payload(100, fill);
    size_t n = media::rtp_write(out, pt, seq, 1000u * seq, ssrc, true, payload);
    out.resize(n);
    return out;
  }

  MediaWorker worker_{0};
  PeerConnectionConfig config_;
  std::unique_ptr<PeerConnection> a_, b_;
  Observed a_seen_, b_seen_;
};

TEST_F(PeerConnectionPair, OffererAndAnswererExchangeMediaBothWays) {
  negotiate();
  ASSERT_TRUE(a_seen_.wait([&] { return a_seen_.connected; })) << a_seen_.closed_reason;
  ASSERT_TRUE(b_seen_.wait([&] { return b_seen_.connected; })) << b_seen_.closed_reason;

  // A sends video on m-line 1 with a foreign SSRC: B must see A's negotiated SSRC 2222.
  worker_.run_sync([&] {
    for (uint16_t seq = 100; seq < 120; ++seq) {
      auto p = packet(96, seq, 0xDEADBEEF, static_cast<uint8_t>(seq));
      EXPECT_TRUE(a_->send_rtp(1, p, seq == 100 ? std::optional<uint8_t>(0x80) : std::nullopt));
    }
    // Audio with the sender's level (voice, 30 dBov), then without one.
    EXPECT_TRUE(b_->send_rtp(0, packet(111, 7, 0x1234, 0xAB), uint8_t{0x80 | 30}));
    EXPECT_TRUE(b_->send_rtp(0, packet(111, 8, 0x1234, 0xAB)));
  });
  ASSERT_TRUE(b_seen_.wait([&] { return b_seen_.rtp.size() >= 20; }));
  ASSERT_TRUE(a_seen_.wait([&] { return a_seen_.rtp.size() >= 2; }));
  {
    std::lock_guard lock(b_seen_.mutex);
    for (std::size_t i = 0; i < 20; ++i) {
      auto& [mindex, ssrc, seq, payload] = b_seen_.rtp[i];
      EXPECT_EQ(mindex, 1);
      EXPECT_EQ(ssrc, 2222u);
      EXPECT_EQ(seq, 100 + i);
      EXPECT_EQ(payload, std::vector<uint8_t>(100, static_cast<uint8_t>(100 + i)));
    }
  }
  {
    std::lock_guard lock(a_seen_.mutex);
    auto& [mindex, ssrc, seq, payload] = a_seen_.rtp[0];
    EXPECT_EQ(mindex, 0);
    EXPECT_EQ(ssrc, 4444u);
    EXPECT_EQ(seq, 7);
    EXPECT_EQ(payload, std::vector<uint8_t>(100, 0xAB));
    EXPECT_EQ(a_seen_.levels, (std::vector<int>{0x80 | 30, -1}));
  }
  {
    // Video lines never carry a level, whatever the caller passes.
    std::lock_guard lock(b_seen_.mutex);
    EXPECT_EQ(b_seen_.levels.front(), -1);
  }
  nlohmann::json stats;
  worker_.run_sync([&] { stats = a_->stats(); });
  EXPECT_EQ(stats["dtls"]["role"], "server");
  EXPECT_EQ(stats["counters"]["rtp_out"], 20);
  EXPECT_EQ(stats["counters"]["srtp_drops"], 0);

  // Closing one side tells the other through DTLS close_notify.
  worker_.run_sync([&] { a_->close("test over"); });
  EXPECT_EQ(a_seen_.closed_reason, "test over");
  ASSERT_TRUE(b_seen_.wait([&] { return !b_seen_.closed_reason.empty(); }));
  EXPECT_NE(b_seen_.closed_reason.find("DTLS"), std::string::npos) << b_seen_.closed_reason;
}

TEST_F(PeerConnectionPair, NackedVideoIsRetransmittedOverRtxFromTheHistory) {
  negotiate();
  ASSERT_TRUE(a_seen_.wait([&] { return a_seen_.connected; })) << a_seen_.closed_reason;
  ASSERT_TRUE(b_seen_.wait([&] { return b_seen_.connected; })) << b_seen_.closed_reason;
  // B must miss 105 while A's history keeps it: A sends 100..104 and 400..404 (B sees 105..399
  // missing and NACKs them), then 105. A's history takes 105 (its own header, the payload in the
  // worker's shared store) before SRTP, whose replay check refuses to send an index that far
  // back (more than 128 behind), so 105 never leaves. B's NACK brings it back on the RTX stream
  // (ssrc 3333, pt 97, a fresh SRTP index), which B unwraps to 2222/105.
  worker_.run_sync([&] {
    for (uint16_t seq : {100, 101, 102, 103, 104, 400, 401, 402, 403, 404, 105}) {
      auto p = packet(96, seq, 0xDEADBEEF, static_cast<uint8_t>(seq));
      EXPECT_EQ(a_->send_rtp(1, p), seq != 105) << seq;
    }
  });
  auto has_105 = [&] {
    return std::any_of(b_seen_.rtp.begin(), b_seen_.rtp.end(), [](const auto& r) { return std::get<2>(r) == 105; });
  };
  ASSERT_TRUE(b_seen_.wait(has_105, 5s)) << "no retransmission of 105 reached B";
  {
    std::lock_guard lock(b_seen_.mutex);
    for (auto& [mindex, ssrc, seq, payload] : b_seen_.rtp) {
      EXPECT_EQ(mindex, 1);
      EXPECT_EQ(ssrc, 2222u);
      EXPECT_EQ(payload, std::vector<uint8_t>(100, static_cast<uint8_t>(seq))) << seq;
    }
  }
  nlohmann::json a_stats, b_stats;
  worker_.run_sync([&] {
    a_stats = a_->stats();
    b_stats = b_->stats();
  });
  EXPECT_EQ(b_stats["counters"]["srtp_drops"], 0);
  EXPECT_GE(a_stats["counters"]["nacks_in"], 1);
  EXPECT_GE(a_stats["counters"]["retransmits"], 1);
}

TEST_F(PeerConnectionPair, FingerprintMismatchIsRefused) {
  negotiate([](media::SessionDescription& answer) {
    for (auto& m : answer.media)
      if (!m.fingerprint.empty()) m.fingerprint[0] = m.fingerprint[0] == 'A' ? 'B' : 'A';
  });
  // A verifies B's certificate against the tampered fingerprint and refuses the handshake.
  ASSERT_TRUE(a_seen_.wait([&] { return !a_seen_.closed_reason.empty(); })) << "A should give up";
  EXPECT_NE(a_seen_.closed_reason.find("fingerprint"), std::string::npos) << a_seen_.closed_reason;
  EXPECT_FALSE(a_seen_.connected);
  worker_.run_sync([&] { EXPECT_FALSE(a_->send_rtp(1, packet(96, 1, 1, 1))); });
}

}  // namespace
}  // namespace junction::transports

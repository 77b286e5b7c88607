// The videoroom plugin itself (the built shared library, loaded as the gateway loads it) with a
// fake gateway: when a subscriber's media starts flowing. The media worker sends a subscriber's
// packets as soon as its DTLS is up, while the plugin hears of it (setup_media) only later, on
// the control loop. The subscriber must then see its video from a keyframe on, every packet after
// it, and no hole hidden behind continuous RTP numbering (issue 10: the whole-server benchmark's
// residual loss was such holes, ~50 packets for some subscribers at their start).
#include <dlfcn.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <map>
#include <set>
#include <vector>

#include "core/gateway/plugin.h"
#include "core/media/rtp_packet.h"

namespace junction::videoroom {
namespace {

using plugin::HandleId;
using plugin::json;

class FakeServices : public plugin::Services {
 public:
  struct Event {
    HandleId handle;
    json data, jsep;
  };
  struct Relayed {
    int mindex;
    std::vector<uint8_t> bytes;
    bool delivered;  // the subscriber's PeerConnection was up when it was sent
  };
  std::vector<Event> events;
  std::map<HandleId, std::vector<Relayed>> relayed;
  std::set<HandleId> connected;  // PeerConnections that are up (what the media worker knows)
  std::vector<std::pair<HandleId, int>> keyframe_requests;
  std::string dir;

  void push_event(HandleId handle, std::string_view, json data, json jsep) override {
    events.push_back({handle, std::move(data), std::move(jsep)});
  }
  void end_session(HandleId) override {}
  plugin::TimerId start_timer(std::chrono::milliseconds, bool, std::function<void()>) override { return ++timers_; }
  void cancel_timer(plugin::TimerId) override {}
  void log(plugin::LogLevel, std::string_view) override {}
  bool log_enabled(plugin::LogLevel) const override { return false; }
  std::string state_dir() const override { return dir; }
  void relay_rtp(HandleId handle, int mindex, std::span<const uint8_t> packet) override {
    relayed[handle].push_back({mindex, {packet.begin(), packet.end()}, connected.count(handle) != 0});
  }
  void send_keyframe_request(HandleId handle, int mindex) override { keyframe_requests.emplace_back(handle, mindex); }
  void send_remb(HandleId, uint64_t) override {}
  void relay_rtp_batch(std::span<const plugin::OutgoingRtp>) override {}
  void close_pc(HandleId) override {}
  void relay_data(HandleId, const media::DataMessage&) override {}

 private:
  plugin::TimerId timers_ = 0;
};

constexpr uint64_t kRoom = 4242;
constexpr HandleId kPublisher = 1, kSubscriber = 2;
constexpr int kVideoMindex = 1;  // in the publisher's offer below

std::string publisher_offer() {
  std::string transport =
      "a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\n"
      "a=fingerprint:sha-256 "
      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\n";
  return "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 1\r\n"
         "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=sendonly\r\na=rtcp-mux\r\n" +
         transport +
         "a=rtpmap:111 opus/48000/2\r\na=msid:s a0\r\na=ssrc:1111 cname:s\r\n"
         "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\na=rtcp-mux\r\n" +
         transport +
         "a=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\n"
         "a=msid:s v0\r\na=ssrc:2222 cname:s\r\n";
}

// A one-packet VP8 frame: RTP header, RFC 7741 descriptor (start of partition 0, 15-bit picture
// id), the VP8 frame tag (P bit 0 = keyframe), then filler; the source sequence number is also
// in the last two payload bytes, where the forwarder never writes.
std::vector<uint8_t> vp8_packet(uint16_t seq, bool keyframe) {
  std::vector<uint8_t> p(12 + 40, 0);
  p[0] = 0x80;
  p[1] = 0x80 | 96;  // marker: one packet per frame
  media::store_be16(&p[2], seq);
  media::store_be32(&p[4], static_cast<uint32_t>(seq) * 3000);
  media::store_be32(&p[8], 2222);
  uint8_t* d = p.data() + 12;
  d[0] = 0x90;  // X, S, partition 0
  d[1] = 0x80;  // I
  media::store_be16(d + 2, static_cast<uint16_t>(0x8000 | seq));
  d[4] = keyframe ? 0x10 : 0x11;
  if (keyframe) {
    d[7] = 0x9d;
    d[8] = 0x01;
    d[9] = 0x2a;
  }
  media::store_be16(&p[p.size() - 2], seq);
  return p;
}

class SubscriberMediaUp : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/videoroom-media-up-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    services_.dir = tmpl;
    library_ = dlopen(JUNCTION_VIDEOROOM_PLUGIN, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(library_, nullptr) << dlerror();
    auto descriptor = reinterpret_cast<const plugin::Descriptor* (*)()>(dlsym(library_, plugin::kDescriptorSymbol));
    ASSERT_NE(descriptor, nullptr);
    ASSERT_EQ(descriptor()->abi_version, plugin::kAbiVersion);
    plugin_.reset(descriptor()->create());
    plugin_->init(services_, {{"rooms", json::array({{{"room", kRoom}, {"publishers", 3}, {"videocodec", "vp8"}}})}});
    plugin_->create_session(kPublisher);
    plugin_->create_session(kSubscriber);
  }

  void TearDown() override {
    if (plugin_) {
      plugin_->shutdown();
      plugin_.reset();
    }
    if (library_ != nullptr) dlclose(library_);
    std::filesystem::remove_all(services_.dir);
  }

  // The last event for `handle` carrying `key` in its data.
  const FakeServices::Event& event_with(HandleId handle, const std::string& key) {
    for (auto it = services_.events.rbegin(); it != services_.events.rend(); ++it)
      if (it->handle == handle && it->data.contains(key)) return *it;
    static FakeServices::Event none{0, nullptr, nullptr};
    ADD_FAILURE() << "no event with '" << key << "' for handle " << handle;
    return none;
  }

  void publish_and_subscribe() {
    plugin_->handle_message(kPublisher, "1", {{"request", "join"}, {"ptype", "publisher"}, {"room", kRoom}}, nullptr);
    uint64_t feed = event_with(kPublisher, "id").data.value("id", uint64_t{0});
    ASSERT_NE(feed, 0u);
    plugin_->handle_message(kPublisher, "2", {{"request", "publish"}}, {{"type", "offer"}, {"sdp", publisher_offer()}});
    ASSERT_EQ(event_with(kPublisher, "configured").data["configured"], "ok");
    plugin_->setup_media(kPublisher);
    plugin_->handle_message(kSubscriber, "3",
                            {{"request", "join"}, {"ptype", "subscriber"}, {"room", kRoom},
                             {"streams", json::array({{{"feed", feed}}})}},
                            nullptr);
    ASSERT_TRUE(event_with(kSubscriber, "videoroom").jsep.is_object());
    // The answer's content is the gateway's business; the plugin only needs its type.
    plugin_->handle_message(kSubscriber, "4", {{"request", "start"}, {"room", kRoom}},
                            {{"type", "answer"}, {"sdp", "v=0\r\n"}});
    ASSERT_EQ(event_with(kSubscriber, "started").data["started"], "ok");
  }

  void send_video(uint16_t seq, bool keyframe) {
    std::vector<uint8_t> bytes = vp8_packet(seq, keyframe);
    auto rtp = media::RtpPacket::parse(bytes);
    ASSERT_TRUE(rtp);
    plugin_->incoming_rtp(kPublisher, media::IncomingRtp{kVideoMindex, media::MediaKind::kVideo, *rtp, bytes, -1});
  }

  FakeServices services_;
  void* library_ = nullptr;
  std::unique_ptr<plugin::Plugin> plugin_;
};

TEST_F(SubscriberMediaUp, VideoReachesTheSubscriberFromAKeyframeWithoutHiddenHoles) {
  publish_and_subscribe();
  uint16_t seq = 1000;
  // Answer given, DTLS not up yet: whatever is relayed now goes nowhere.
  send_video(seq++, true);
  for (int i = 0; i < 5; ++i) send_video(seq++, false);
  // DTLS is up on the media worker: from here on relayed packets arrive...
  services_.connected.insert(kSubscriber);
  for (int i = 0; i < 5; ++i) send_video(seq++, false);
  // ...and only now does the plugin hear of it.
  plugin_->setup_media(kSubscriber);
  for (int i = 0; i < 10; ++i) send_video(seq++, false);
  EXPECT_FALSE(services_.keyframe_requests.empty()) << "the subscriber waits for a keyframe: ask the publisher for one";
  uint16_t keyframe_seq = seq;
  send_video(seq++, true);
  for (int i = 0; i < 20; ++i) send_video(seq++, false);

  // What the subscriber got: the source sequence numbers (payload tail) and RTP numbers.
  std::vector<uint16_t> source, numbered;
  for (const auto& r : services_.relayed[kSubscriber]) {
    if (!r.delivered) continue;
    source.push_back(media::load_be16(&r.bytes[r.bytes.size() - 2]));
    numbered.push_back(media::load_be16(&r.bytes[2]));
  }
  ASSERT_FALSE(source.empty()) << "nothing reached the subscriber";
  // Its first packet is a keyframe (a decoder must not start on a delta frame)...
  EXPECT_EQ(source.front(), keyframe_seq);
  // ...and from there on every packet the publisher sent, numbered without a gap: a hole here
  // would be loss that neither RTCP nor NACK can see.
  for (size_t i = 1; i < source.size(); ++i) {
    EXPECT_EQ(source[i], static_cast<uint16_t>(source[i - 1] + 1)) << "packet " << i;
    EXPECT_EQ(numbered[i], static_cast<uint16_t>(numbered[i - 1] + 1)) << "packet " << i;
  }
  EXPECT_EQ(source.back(), static_cast<uint16_t>(seq - 1));
  // Nothing was relayed into the void before the PeerConnection was up.
  for (const auto& r : services_.relayed[kSubscriber]) EXPECT_TRUE(r.delivered);
}

TEST_F(SubscriberMediaUp, MediaUpBeforeStartFlowsOnStart) {
  plugin_->handle_message(kPublisher, "1", {{"request", "join"}, {"ptype", "publisher"}, {"room", kRoom}}, nullptr);
  uint64_t feed = event_with(kPublisher, "id").data.value("id", uint64_t{0});
  plugin_->handle_message(kPublisher, "2", {{"request", "publish"}}, {{"type", "offer"}, {"sdp", publisher_offer()}});
  plugin_->setup_media(kPublisher);
  plugin_->handle_message(kSubscriber, "3",
                          {{"request", "join"}, {"ptype", "subscriber"}, {"room", kRoom},
                           {"streams", json::array({{{"feed", feed}}})}},
                          nullptr);
  services_.connected.insert(kSubscriber);
  plugin_->setup_media(kSubscriber);  // up before `start` (whichever order the events come in)
  send_video(1, true);
  EXPECT_TRUE(services_.relayed[kSubscriber].empty()) << "not started: nothing flows";
  plugin_->handle_message(kSubscriber, "4", {{"request", "start"}, {"room", kRoom}}, {{"type", "answer"}, {"sdp", "v=0\r\n"}});
  send_video(2, true);
  send_video(3, false);
  ASSERT_EQ(services_.relayed[kSubscriber].size(), 2u);
  // Paused and started again: flows again (from a keyframe).
  plugin_->handle_message(kSubscriber, "5", {{"request", "pause"}}, nullptr);
  send_video(4, false);
  EXPECT_EQ(services_.relayed[kSubscriber].size(), 2u);
  plugin_->handle_message(kSubscriber, "6", {{"request", "start"}}, nullptr);
  send_video(5, false);
  send_video(6, true);
  ASSERT_EQ(services_.relayed[kSubscriber].size(), 3u);
  EXPECT_EQ(media::load_be16(&services_.relayed[kSubscriber].back().bytes[services_.relayed[kSubscriber].back().bytes.size() - 2]), 6);
  // The PeerConnection goes down: nothing more, even though `start` was given.
  plugin_->hangup_media(kSubscriber);
  send_video(7, true);
  EXPECT_EQ(services_.relayed[kSubscriber].size(), 3u);
}

}  // namespace
}  // namespace junction::videoroom

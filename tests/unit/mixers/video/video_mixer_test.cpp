#include "mixers/video/video_mixer.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <vector>

extern "C" {
#include <libavutil/frame.h>
}

#include "core/media/rtp_packet.h"

namespace junction::mixers {
namespace {

// A sender of a solid colour: encodes, packetizes and pushes its frames into a participant.
class ColourSender {
 public:
  ColourSender(Yuv colour, int w = 160, int h = 90, VideoCodec codec = VideoCodec::kVp8)
      : canvas_(w, h), encoder_({w, h, 25, 300000, 8, codec}) {
    canvas_.fill_all(colour);
  }
  // One frame; true when the participant asked for a keyframe on one of its packets.
  bool send(VideoParticipant& p, bool key = false) {
    bool is_key = false;
    auto frame = encoder_.encode(canvas_.frame(), key || first_, &is_key);
    first_ = false;
    std::vector<uint8_t> bytes;
    std::vector<size_t> sizes;
    packetize(encoder_.codec(), frame, 0, 1200, bytes, sizes);
    bool pli = false;
    size_t at = 0;
    for (size_t k = 0; k < sizes.size(); ++k) {
      pli |= p.push(seq_++, ts_, k + 1 == sizes.size(), {bytes.data() + at, sizes[k]});
      at += sizes[k];
    }
    ts_ += 3600;
    return pli;
  }
  void skip_packets(int n) { seq_ = static_cast<uint16_t>(seq_ + n); }

 private:
  Canvas canvas_;
  VideoEncoder encoder_;
  bool first_ = true;
  uint16_t seq_ = 1;
  uint32_t ts_ = 0;
};

// What each receiver got: its RTP stream reassembled and decoded.
struct Receiver {
  explicit Receiver(VideoCodec codec = VideoCodec::kVp8)
      : depacketizer(make_depacketizer(codec)), decoder(std::make_unique<VideoDecoder>(codec)) {}
  std::unique_ptr<Depacketizer> depacketizer;
  std::unique_ptr<VideoDecoder> decoder;
  int frames = 0, keyframes = 0, packets = 0;
  bool first_was_key = false;
  int max_payload = 0;
  FramePtr last = make_frame();
};

struct Harness {
  std::map<uint64_t, Receiver> receivers;
  std::map<uint64_t, VideoCodec> codecs;  // what each receiver decodes (VP8 if not listed)
  VideoMixer mixer;
  explicit Harness(VideoMixerSettings s)
      : mixer(s, [this](std::span<const VideoPacket> packets) {
          for (const VideoPacket& p : packets) {
            auto rtp = media::RtpPacket::parse(p.rtp);
            ASSERT_TRUE(rtp);
            auto codec = codecs.find(p.receiver);
            Receiver& r = receivers.try_emplace(p.receiver, codec == codecs.end() ? VideoCodec::kVp8 : codec->second)
                              .first->second;
            ++r.packets;
            r.max_payload = std::max(r.max_payload, static_cast<int>(rtp->payload().size()));
            if (r.depacketizer->push(rtp->sequence(), rtp->timestamp(), rtp->marker(), rtp->payload()) ==
                Depacketizer::Result::kFrame) {
              if (r.frames == 0) r.first_was_key = r.depacketizer->frame().keyframe;
              ++r.frames;
              r.keyframes += r.depacketizer->frame().keyframe ? 1 : 0;
              if (r.decoder->decode(r.depacketizer->frame().data)) {
                av_frame_unref(r.last.get());
                av_frame_ref(r.last.get(), r.decoder->picture());
              }
            }
          }
        }) {}
};

// The mean Y, U, V over the middle of a rectangle of a decoded picture.
Yuv mean_of(const AVFrame* f, int x, int y, int w, int h) {
  long sy = 0, su = 0, sv = 0, n = 0, nc = 0;
  for (int j = y + h / 4; j < y + 3 * h / 4; ++j)
    for (int i = x + w / 4; i < x + 3 * w / 4; ++i) {
      sy += f->data[0][j * f->linesize[0] + i];
      ++n;
      if (i % 2 == 0 && j % 2 == 0) {
        su += f->data[1][(j / 2) * f->linesize[1] + i / 2];
        sv += f->data[2][(j / 2) * f->linesize[2] + i / 2];
        ++nc;
      }
    }
  return {static_cast<uint8_t>(sy / n), static_cast<uint8_t>(su / nc), static_cast<uint8_t>(sv / nc)};
}

bool near(Yuv a, Yuv b, int tol = 12) {
  return std::abs(a.y - b.y) <= tol && std::abs(a.u - b.u) <= tol && std::abs(a.v - b.v) <= tol;
}

VideoMixerSettings small() {
  VideoMixerSettings s;
  s.width = 320;
  s.height = 180;
  s.bitrate = 400000;
  s.keyframe_interval = std::chrono::milliseconds(0);
  return s;
}

const Yuv kRed = Yuv::from_rgb(220, 40, 40), kGreen = Yuv::from_rgb(40, 200, 40), kBlue = Yuv::from_rgb(40, 40, 220),
          kYellow = Yuv::from_rgb(220, 220, 40);

TEST(VideoMixer, GridOfFourColoursOneEncodeForEveryone) {
  Harness h(small());
  std::vector<std::shared_ptr<VideoParticipant>> ps;
  std::vector<std::unique_ptr<ColourSender>> senders;
  const Yuv colours[] = {kRed, kGreen, kBlue, kYellow};
  for (uint64_t id = 1; id <= 4; ++id) {
    ps.push_back(h.mixer.add(id));
    ps.back()->set_send(true, 96, static_cast<uint32_t>(id));
    senders.push_back(std::make_unique<ColourSender>(colours[id - 1]));
  }
  for (int t = 0; t < 10; ++t) {
    for (size_t i = 0; i < 4; ++i) senders[i]->send(*ps[i]);
    h.mixer.tick();
  }
  auto stats = h.mixer.stats();
  EXPECT_EQ(stats.last_tick_groups, 1);
  EXPECT_EQ(stats.encodes, 10u);  // one per tick for all four receivers
  EXPECT_EQ(stats.decoded, 40u);
  for (uint64_t id = 1; id <= 4; ++id) {
    Receiver& r = h.receivers[id];
    EXPECT_TRUE(r.first_was_key);
    EXPECT_EQ(r.frames, 10);
    EXPECT_LE(r.max_payload, 1200);
    ASSERT_EQ(r.last->width, 320);
    for (int cell = 0; cell < 4; ++cell) {
      Yuv got = mean_of(r.last.get(), (cell % 2) * 160, (cell / 2) * 90, 160, 90);
      EXPECT_TRUE(near(got, colours[cell])) << "receiver " << id << " cell " << cell << ": " << int(got.y) << ","
                                            << int(got.u) << "," << int(got.v);
    }
  }
}

// An H.264 participant (in and out) among VP8 ones: its picture is decoded like theirs, and the
// room encodes once per codec: one H.264 group for it, one VP8 group for the others.
TEST(VideoMixer, H264AndVp8InOneRoomOneEncodePerCodec) {
  VideoMixerSettings s = small();
  s.codecs = {VideoCodec::kVp8, VideoCodec::kH264};
  Harness h(s);
  h.codecs[1] = VideoCodec::kH264;
  const Yuv colours[] = {kRed, kGreen, kBlue};
  std::vector<std::shared_ptr<VideoParticipant>> ps;
  std::vector<std::unique_ptr<ColourSender>> senders;
  for (uint64_t id = 1; id <= 3; ++id) {
    const VideoCodec codec = id == 1 ? VideoCodec::kH264 : VideoCodec::kVp8;
    ps.push_back(h.mixer.add(id));
    ps.back()->set_input_codec(codec);
    ps.back()->set_send(true, 96, static_cast<uint32_t>(id), codec);
    senders.push_back(std::make_unique<ColourSender>(colours[id - 1], 160, 90, codec));
  }
  for (int t = 0; t < 10; ++t) {
    for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(senders[i]->send(*ps[i]));  // no loss: no PLI
    h.mixer.tick();
  }
  auto stats = h.mixer.stats();
  EXPECT_EQ(stats.last_tick_groups, 2);
  EXPECT_EQ(stats.encodes, 20u);  // one per codec per tick
  EXPECT_EQ(stats.decoded, 30u);
  EXPECT_EQ(ps[0]->stats().decode_errors, 0u);
  for (uint64_t id = 1; id <= 3; ++id) {
    Receiver& r = h.receivers[id];
    EXPECT_TRUE(r.first_was_key) << id;
    EXPECT_EQ(r.frames, 10) << id;
    EXPECT_LE(r.max_payload, 1200);
    ASSERT_EQ(r.last->width, 320) << id;
    for (int cell = 0; cell < 3; ++cell) {
      Yuv got = mean_of(r.last.get(), (cell % 2) * 160, (cell / 2) * 90, 160, 90);
      EXPECT_TRUE(near(got, colours[cell])) << "receiver " << id << " cell " << cell << ": " << int(got.y) << ","
                                            << int(got.u) << "," << int(got.v);
    }
  }
}

TEST(VideoMixer, ViewsMakeGroupsAndTheSpeakerIsLarge) {
  Harness h(small());
  auto a = h.mixer.add(1), b = h.mixer.add(2), c = h.mixer.add(3);
  ColourSender sa(kRed), sb(kGreen), sc(kBlue);
  for (auto* p : {a.get(), b.get(), c.get()}) p->set_send(true);
  View speaker;
  speaker.kind = LayoutKind::kSpeaker;
  a->set_view(speaker);
  View hide;
  hide.show_self = false;
  b->set_view(hide);
  h.mixer.set_speaker(3);
  for (int t = 0; t < 6; ++t) {
    sa.send(*a);
    sb.send(*b);
    sc.send(*c);
    h.mixer.tick();
  }
  EXPECT_EQ(h.mixer.stats().last_tick_groups, 3);  // speaker view; grid without 2; grid of all
  // a: the speaker (3, blue) large in the top three quarters.
  EXPECT_TRUE(near(mean_of(h.receivers[1].last.get(), 0, 0, 320, 134), kBlue));
  // b: grid of 1 and 3 only (2x2 cells: 1, 3, then black).
  EXPECT_TRUE(near(mean_of(h.receivers[2].last.get(), 0, 0, 160, 90), kRed));
  EXPECT_TRUE(near(mean_of(h.receivers[2].last.get(), 160, 0, 160, 90), kBlue));
  EXPECT_TRUE(near(mean_of(h.receivers[2].last.get(), 0, 90, 160, 90), Yuv{16, 128, 128}));
  EXPECT_EQ(h.mixer.layout_for(1)[0].participant, 3u);
}

TEST(VideoMixer, MissingInputIsAPlaceholderAndKeyframesOnRequest) {
  VideoMixerSettings s = small();
  s.stale_after = std::chrono::milliseconds(0);  // anything not fresh this tick is stale
  Harness h(s);
  auto a = h.mixer.add(1), b = h.mixer.add(2);
  a->set_send(true);
  ColourSender sb(kGreen);
  for (int t = 0; t < 3; ++t) h.mixer.tick();  // nobody sends: placeholders
  ASSERT_GT(h.receivers[1].frames, 0);
  EXPECT_TRUE(near(mean_of(h.receivers[1].last.get(), 0, 0, 160, 90), s.placeholder));
  EXPECT_TRUE(near(mean_of(h.receivers[1].last.get(), 160, 0, 160, 90), s.placeholder));
  int keys = h.receivers[1].keyframes;
  a->request_keyframe();
  h.mixer.tick();
  EXPECT_EQ(h.receivers[1].keyframes, keys + 1);
  h.mixer.tick();
  EXPECT_EQ(h.receivers[1].keyframes, keys + 1);  // one per request
}

void loss_asks_for_a_keyframe(VideoCodec codec) {
  VideoMixerSettings settings = small();
  settings.codecs = {codec};
  Harness h(settings);
  auto a = h.mixer.add(1);
  a->set_input_codec(codec);
  ColourSender s(kRed, 160, 90, codec);
  EXPECT_FALSE(s.send(*a));  // starts with a keyframe
  s.skip_packets(1);         // a packet lost
  EXPECT_TRUE(s.send(*a));   // -> PLI
  EXPECT_FALSE(s.send(*a));  // within 500 ms: not again
  EXPECT_EQ(a->stats().keyframe_requests, 1u);
  s.send(*a, true);  // the keyframe: decodable again
  h.mixer.tick();
  EXPECT_EQ(a->stats().frames_decoded, 2u);  // the first and the new keyframe
  EXPECT_EQ(a->stats().decode_errors, 0u);
}

TEST(VideoMixer, ASendersLossAsksForAKeyframeRateLimited) { loss_asks_for_a_keyframe(VideoCodec::kVp8); }
TEST(VideoMixer, AnH264SendersLossAsksForAnIdrRateLimited) { loss_asks_for_a_keyframe(VideoCodec::kH264); }

TEST(VideoMixer, GroupBitrateFollowsEstimatesAndAFarBelowReceiverMovesToALowGroup) {
  VideoMixerSettings s = small();  // 400 kbit/s
  s.bitrate_hold = std::chrono::milliseconds(0);
  Harness h(s);
  auto a = h.mixer.add(1), b = h.mixer.add(2), c = h.mixer.add(3);
  for (auto* p : {a.get(), b.get(), c.get()}) p->set_send(true);
  h.mixer.tick();
  EXPECT_EQ(h.mixer.stats().last_tick_groups, 1);
  EXPECT_EQ(h.mixer.stats().last_tick_min_bitrate, 400000);
  // Everyone a little below the room's bitrate: the one group follows the lowest.
  a->set_receive_estimate(300000);
  b->set_receive_estimate(350000);
  h.mixer.tick();
  EXPECT_EQ(h.mixer.stats().last_tick_groups, 1);
  EXPECT_EQ(h.mixer.stats().last_tick_min_bitrate, 300000);
  // c far below (under half of 400k): a group of its own; the others are not dragged down.
  c->set_receive_estimate(120000);
  h.mixer.tick();
  auto st = h.mixer.stats();
  EXPECT_EQ(st.last_tick_groups, 2);
  EXPECT_EQ(st.last_tick_low_groups, 1);
  EXPECT_EQ(st.last_tick_min_bitrate, 120000);
  int before = h.receivers[3].frames;
  for (int t = 0; t < 3; ++t) h.mixer.tick();
  EXPECT_GT(h.receivers[3].frames, before);  // c keeps receiving (from a keyframe of its new group)
  // c recovers: back with the others.
  c->set_receive_estimate(380000);
  h.mixer.tick();
  EXPECT_EQ(h.mixer.stats().last_tick_groups, 1);
  EXPECT_EQ(h.mixer.stats().last_tick_low_groups, 0);
}

}  // namespace
}  // namespace junction::mixers

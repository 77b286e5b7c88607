#include "mixers/audio/audio_mixer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <complex>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "core/media/rtp_packet.h"
#include "mixers/audio/opus_codec.h"

namespace junction::mixers {
namespace {

constexpr int kRate = 16000;
constexpr int kFrame = kRate / 50;

// The power of `f` Hz in `pcm` (one DFT bin), in dB.
double tone_db(const std::vector<int16_t>& pcm, double f) {
  std::complex<double> acc = 0;
  for (size_t i = 0; i < pcm.size(); ++i) acc += double(pcm[i]) * std::polar(1.0, -2 * M_PI * f * double(i) / kRate);
  return 20 * std::log10(std::abs(acc) / double(pcm.size()) + 1e-9);
}

// A simulated client: sends a tone (or silence) as Opus, decodes what it receives.
struct Client {
  uint64_t id;
  double hz;  // 0: silence
  std::shared_ptr<MixerParticipant> participant;
  OpusEncoder encoder{{kRate, 32000, 4, 0}};
  OpusDecoder decoder{kRate};
  uint16_t seq = 1000;
  long n = 0;
  std::vector<int16_t> received;
  std::vector<uint16_t> seqs;
  std::optional<uint8_t> level;  // the RFC 6464 level the client claims, if any

  void send_frame() {
    std::vector<int16_t> pcm(kFrame);
    for (auto& s : pcm) s = hz > 0 ? int16_t(8000 * std::sin(2 * M_PI * hz * double(n++) / kRate)) : int16_t(0);
    auto packet = encoder.encode(pcm);
    ASSERT_FALSE(packet.empty());
    participant->push(seq, seq * 960u, packet, level);
    ++seq;
  }
};

class AudioMixerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mixer_ = std::make_unique<AudioMixer>(MixerSettings{}, [this](std::span<const OutgoingPacket> packets) {
      for (const auto& p : packets) {
        Client& c = *clients_.at(p.participant);
        auto rtp = media::RtpPacket::parse(p.rtp);
        ASSERT_TRUE(rtp.has_value());
        EXPECT_EQ(rtp->payload_type(), 111);
        c.seqs.push_back(rtp->sequence());
        if (recording_) c.decoder.decode(rtp->payload(), c.received);
      }
    });
  }

  Client& add(uint64_t id, double hz) {
    auto c = std::make_unique<Client>();
    c->id = id;
    c->hz = hz;
    c->participant = mixer_->add(id);
    c->participant->set_send(true, 111, 0x1000 + static_cast<uint32_t>(id));
    Client& ref = *c;
    clients_[id] = std::move(c);
    return ref;
  }

  void run(int ticks) {
    for (int i = 0; i < ticks; ++i) {
      for (auto& [id, c] : clients_) c->send_frame();
      mixer_->tick();
    }
  }

  void record(int ticks) {
    for (auto& [id, c] : clients_) c->received.clear();
    recording_ = true;
    run(ticks);
    recording_ = false;
  }

  std::unique_ptr<AudioMixer> mixer_;
  std::map<uint64_t, std::unique_ptr<Client>> clients_;
  bool recording_ = false;
};

TEST_F(AudioMixerTest, EncodesOncePerTalkerPlusOnceForAllListeners) {
  add(1, 440);
  add(2, 660);
  add(3, 880);
  for (uint64_t id = 10; id < 30; ++id) add(id, 0);
  run(10);
  auto stats = mixer_->stats();
  EXPECT_EQ(stats.last_tick_mixed, 3);
  EXPECT_EQ(stats.last_tick_encodes, 3 + 1);  // not 23
  for (auto& [id, c] : clients_) EXPECT_GE(c->seqs.size(), 8u) << "participant " << id;
}

TEST_F(AudioMixerTest, NobodyHearsThemselves) {
  Client& a = add(1, 440);
  Client& b = add(2, 660);
  Client& c = add(3, 880);
  Client& listener = add(4, 0);
  run(10);
  record(25);
  for (Client* x : {&a, &b, &c, &listener}) ASSERT_GE(x->received.size(), size_t(20 * kFrame)) << x->id;
  auto check = [](const Client& x, double own, std::vector<double> others) {
    double own_db = tone_db(x.received, own);
    for (double f : others) EXPECT_GT(tone_db(x.received, f), own_db + 20) << "client " << x.id << " at " << f << " Hz";
  };
  check(a, 440, {660, 880});
  check(b, 660, {440, 880});
  check(c, 880, {440, 660});
  // The listener hears all three from the shared frame.
  double floor = tone_db(listener.received, 1234);
  for (double f : {440.0, 660.0, 880.0}) EXPECT_GT(tone_db(listener.received, f), floor + 20) << f;
}

TEST_F(AudioMixerTest, MutedOrZeroVolumeLeavesTheMix) {
  Client& a = add(1, 440);
  add(2, 660);
  Client& listener = add(3, 0);
  run(10);
  EXPECT_EQ(mixer_->stats().last_tick_encodes, 3);
  a.participant->set_muted(true);
  run(30);  // past the gate's hold time
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 1);
  EXPECT_EQ(mixer_->stats().last_tick_encodes, 2);
  record(20);
  EXPECT_LT(tone_db(listener.received, 440), tone_db(listener.received, 660) - 20);
  a.participant->set_muted(false);
  run(10);
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 2);
  a.participant->set_volume(0);
  run(30);
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 1);
}

TEST_F(AudioMixerTest, PacketsTheSenderMarksSilentAreNotDecoded) {
  Client& liar = add(1, 440);  // sends a tone but claims silence: it is never decoded, so never mixed
  liar.level = 127;
  Client& talker = add(2, 660);
  talker.level = 15;
  Client& listener = add(3, 0);
  listener.level = 127;
  run(10);
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 1);
  EXPECT_EQ(mixer_->stats().last_tick_encodes, 2);
  record(20);
  EXPECT_LT(tone_db(listener.received, 440), tone_db(listener.received, 660) - 20);
  // The same frames with a level that says "voice" are decoded and mixed.
  liar.level = 20;
  run(3);
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 2);
}

TEST(AudioMixerModes, PerParticipantEncodingEncodesForEveryone) {
  MixerSettings settings;
  settings.shared_encode = false;  // Janus's way, for the benchmark's comparison
  AudioMixer mixer(settings, nullptr);
  for (uint64_t id = 1; id <= 6; ++id) mixer.add(id)->set_send(true, 111, 1);
  mixer.tick();
  EXPECT_EQ(mixer.stats().last_tick_encodes, 6);
}

TEST_F(AudioMixerTest, SilentRoomEncodesOnce) {
  for (uint64_t id = 1; id <= 5; ++id) add(id, 0);
  run(5);
  EXPECT_EQ(mixer_->stats().last_tick_encodes, 1);
  EXPECT_EQ(mixer_->stats().last_tick_mixed, 0);
}

TEST_F(AudioMixerTest, SequenceNumbersAreContinuousPerParticipant) {
  Client& a = add(1, 440);
  Client& l = add(2, 0);
  run(20);
  for (Client* x : {&a, &l}) {
    ASSERT_GE(x->seqs.size(), 2u);
    for (size_t i = 1; i < x->seqs.size(); ++i) EXPECT_EQ(uint16_t(x->seqs[i - 1] + 1), x->seqs[i]);
  }
}

TEST_F(AudioMixerTest, NotSendingParticipantsGetNothing) {
  Client& a = add(1, 440);
  add(2, 0);
  a.participant->set_send(false);
  run(5);
  EXPECT_TRUE(a.seqs.empty());
}

TEST_F(AudioMixerTest, RtpStateCarriesOverToAnotherMixer) {
  Client& a = add(1, 440);
  run(5);
  RtpState state = a.participant->rtp_state();
  AudioMixer other(MixerSettings{}, nullptr);
  auto moved = other.add(1, state);
  EXPECT_EQ(moved->rtp_state().next_seq, state.next_seq);
  EXPECT_GE(moved->rtp_state().next_timestamp - state.next_timestamp, 0u);
}

TEST(OpusCodec, ConcealsALostPacket) {
  OpusEncoder enc({kRate, 24000, 4, 0});
  OpusDecoder dec(kRate);
  std::vector<int16_t> out;
  EXPECT_EQ(dec.conceal(out), 0);  // nothing to conceal from yet
  std::vector<int16_t> pcm(kFrame, 1000);
  auto packet = enc.encode(pcm);
  ASSERT_FALSE(packet.empty());
  // The first frame comes out short by the resampler's filter delay (48 kHz -> 16 kHz).
  EXPECT_NEAR(dec.decode(packet, out), kFrame, 32);
  EXPECT_NEAR(dec.conceal(out), kFrame, 32);
  uint8_t garbage[3] = {0xff, 0xff, 0xff};
  EXPECT_LT(dec.decode(garbage, out), 1);
}

TEST(OpusCodec, RefusesRatesOpusDoesNotHave) {
  EXPECT_THROW(OpusEncoder({44100, 0, 4, 0}), std::runtime_error);
  EXPECT_THROW(OpusDecoder(11025), std::runtime_error);
}

}  // namespace
}  // namespace junction::mixers

namespace junction::mixers {
namespace {

// The threads of a real room: the mixer's own 20 ms thread, a media worker pushing packets, the
// control loop changing participants and settings meanwhile (run under TSan to check the locking).
TEST(AudioMixerThreads, TicksOnItsOwnThreadWhileOthersPushAndChangeThings) {
  std::atomic<uint64_t> packets{0};
  AudioMixer mixer(MixerSettings{}, [&](std::span<const OutgoingPacket> out) { packets += out.size(); });
  std::vector<std::shared_ptr<MixerParticipant>> people;
  for (uint64_t id = 1; id <= 3; ++id) {
    people.push_back(mixer.add(id));
    people.back()->set_send(true, 111, static_cast<uint32_t>(id));
  }
  mixer.start();
  std::atomic<bool> done{false};
  std::thread worker([&] {
    OpusEncoder encoder({kRate, 24000, 4, 0});
    std::vector<int16_t> pcm(kFrame, 2000);
    auto packet = encoder.encode(pcm);
    std::vector<uint8_t> bytes(packet.begin(), packet.end());
    for (uint16_t seq = 0; !done; ++seq) {
      for (auto& p : people) p->push(seq, seq * 960u, bytes, uint8_t{20});
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  });
  for (int i = 0; i < 10; ++i) {
    people[0]->set_muted(i % 2 == 0);
    people[1]->set_volume(50 + i);
    auto extra = mixer.add(100 + static_cast<uint64_t>(i));
    extra->set_send(true, 111, 7);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    mixer.remove(100 + static_cast<uint64_t>(i));
    (void)mixer.stats();
  }
  done = true;
  worker.join();
  mixer.stop();
  EXPECT_GT(mixer.stats().ticks, 5u);
  EXPECT_GT(packets.load(), 10u);
}

}  // namespace
}  // namespace junction::mixers

#include "core/media/retransmission_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace junction::media {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::vector<uint8_t> packet_for(uint16_t seq, size_t size = 100) {
  std::vector<uint8_t> p(size, static_cast<uint8_t>(seq));
  p[0] = 0x80;
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  return p;
}

std::vector<uint8_t> found(const RetransmissionCache& cache, uint16_t seq, Clock::time_point now) {
  std::vector<uint8_t> out(RetransmissionCache::kMaxPacket);
  out.resize(cache.find(seq, now, out));
  return out;
}

bool holds(const RetransmissionCache& cache, uint16_t seq, Clock::time_point now, size_t size = 100) {
  return found(cache, seq, now) == packet_for(seq, size);
}

TEST(RetransmissionCache, StoresCopiesAndFindsThem) {
  RetransmissionCache cache(16);
  Clock::time_point t0{};
  auto p = packet_for(10);
  cache.store(p, 10, t0);
  p[5] = 0xEE;  // the cache keeps its own copy
  EXPECT_TRUE(holds(cache, 10, t0 + 10ms));
  EXPECT_TRUE(found(cache, 11, t0).empty());
  EXPECT_TRUE(found(cache, 26, t0).empty());  // same slot, different seq
}

TEST(RetransmissionCache, OverwrittenAfterCapacity) {
  RetransmissionCache cache(4);
  Clock::time_point t0{};
  for (uint16_t s = 0; s < 5; ++s) cache.store(packet_for(s), s, t0);
  EXPECT_TRUE(found(cache, 0, t0).empty());  // slot reused by 4
  for (uint16_t s = 1; s < 5; ++s) EXPECT_TRUE(holds(cache, s, t0)) << s;
}

TEST(RetransmissionCache, CapacityRoundsUpToAPowerOfTwo) {
  EXPECT_EQ(RetransmissionCache(5).capacity(), 8u);
  EXPECT_EQ(RetransmissionCache(1024).capacity(), 1024u);
  EXPECT_EQ(RetransmissionCache(0).capacity(), 1u);
  EXPECT_EQ(RetransmissionCache(100000).capacity(), 65536u);
}

TEST(RetransmissionCache, IndexGrowsToWhatMaxAgeNeedsAtThePacketRate) {
  // 110 packets/s (1.2 Mbit/s video) for 5 s with a 1 s window: a second is 110 packets, so the
  // index stops at 128 slots of the 512 allowed, and every packet of the last second is found.
  RetransmissionCache cache(512, 1000ms);
  EXPECT_EQ(cache.slots(), RetransmissionCache::kInitialSlots);
  Clock::time_point t0{};
  const auto period = std::chrono::microseconds(1'000'000 / 110);
  uint16_t seq = 65000;  // across the sequence wrap
  Clock::time_point now = t0;
  for (int i = 0; i < 550; ++i, ++seq) {
    now = t0 + i * period;
    cache.store(packet_for(seq), seq, now);
  }
  EXPECT_EQ(cache.slots(), 128u);
  EXPECT_EQ(cache.capacity(), 512u);
  for (uint16_t back = 1; back <= 110; ++back) EXPECT_TRUE(holds(cache, static_cast<uint16_t>(seq - back), now)) << back;
}

TEST(RetransmissionCache, IndexGrowsForABurstAndKeepsEveryPacketOfIt) {
  // 400 packets within 200 ms (a keyframe burst) all stay findable: the index doubles up to 512
  // instead of evicting packets younger than max_age.
  RetransmissionCache cache(512, 1000ms);
  Clock::time_point t0{};
  for (uint16_t s = 0; s < 400; ++s) cache.store(packet_for(s), s, t0 + s * 500us);
  EXPECT_EQ(cache.slots(), 512u);
  for (uint16_t s = 0; s < 400; ++s) EXPECT_TRUE(holds(cache, s, t0 + 200ms)) << s;
  // At the limit it overwrites as before: 600 packets in the same second keep the last 512.
  for (uint16_t s = 400; s < 600; ++s) cache.store(packet_for(s), s, t0 + 200ms);
  EXPECT_EQ(cache.slots(), 512u);
  EXPECT_TRUE(found(cache, 87, t0 + 200ms).empty());
  EXPECT_TRUE(holds(cache, 88, t0 + 200ms));
}

TEST(RetransmissionCache, IndexDoesNotGrowForPacketsOlderThanMaxAge) {
  // 20 packets/s with a 1 s window never needs more than the initial slots.
  RetransmissionCache cache(512, 1000ms);
  Clock::time_point t0{};
  for (uint16_t s = 0; s < 1000; ++s) cache.store(packet_for(s), s, t0 + s * 50ms);
  EXPECT_EQ(cache.slots(), RetransmissionCache::kInitialSlots);
  EXPECT_TRUE(holds(cache, 999, t0 + 999 * 50ms));
  EXPECT_TRUE(holds(cache, 980, t0 + 999 * 50ms));
}

TEST(RetransmissionCache, TooOldAfterMaxAge) {
  RetransmissionCache cache(16, 500ms);
  Clock::time_point t0{};
  cache.store(packet_for(1), 1, t0);
  EXPECT_TRUE(holds(cache, 1, t0 + 500ms));
  EXPECT_TRUE(found(cache, 1, t0 + 501ms).empty());
}

TEST(RetransmissionCache, SequenceWrap) {
  RetransmissionCache cache(1024);
  Clock::time_point t0{};
  for (uint16_t s : {65533, 65534, 65535, 0, 1, 2}) cache.store(packet_for(s), s, t0);
  for (uint16_t s : {65533, 65534, 65535, 0, 1, 2}) EXPECT_TRUE(holds(cache, s, t0)) << s;
  // A whole cycle more, ending at 2 again: the last 1024 seqs are there, across the wrap, and
  // the 1025th back (64514, which shares 2's slot) is not.
  for (uint32_t s = 3; s < 65536 + 3; ++s)
    cache.store(packet_for(static_cast<uint16_t>(s)), static_cast<uint16_t>(s), t0 + 1ms);
  for (uint16_t s : {64515, 65535, 0, 1, 2}) EXPECT_TRUE(holds(cache, s, t0 + 1ms)) << s;
  EXPECT_TRUE(found(cache, 64514, t0 + 1ms).empty());
}

TEST(RetransmissionCache, OversizeAndEmptyAreNotStored) {
  RetransmissionCache cache(8);
  Clock::time_point t0{};
  cache.store(packet_for(1, RetransmissionCache::kMaxPacket + 1), 1, t0);
  cache.store({}, 2, t0);
  EXPECT_TRUE(found(cache, 1, t0).empty());
  EXPECT_TRUE(found(cache, 2, t0).empty());
  EXPECT_EQ(cache.dropped(), 2u);
  cache.store(packet_for(3, RetransmissionCache::kMaxPacket), 3, t0);
  EXPECT_EQ(found(cache, 3, t0).size(), RetransmissionCache::kMaxPacket);
  cache.clear();
  EXPECT_TRUE(found(cache, 3, t0).empty());
}

TEST(RetransmissionCache, MemoryFollowsBitrateTimesMaxAge) {
  // 100 packets/s of 1,000 bytes for 5 s with a 1 s window: the ring laps every second, so the
  // cache touches ~100 kB of its 768 kB, and the last second stays findable.
  RetransmissionCache cache(512, 1000ms);
  Clock::time_point t0{};
  for (uint16_t s = 0; s < 500; ++s) cache.store(packet_for(s, 1000), s, t0 + s * 10ms);
  const auto end = t0 + 4990ms;
  EXPECT_LE(cache.footprint(), 102'000u);
  EXPECT_GE(cache.footprint(), 100'000u);
  EXPECT_EQ(found(cache, 499, end).size(), 1000u);
  EXPECT_EQ(found(cache, 400, end).size(), 1000u);  // 990 ms old
  EXPECT_TRUE(found(cache, 398, end).empty());      // older than max_age
}

TEST(RetransmissionCache, PacketOverwrittenByTheNextLapIsNotReturned) {
  RetransmissionCache cache(16, 100ms);
  Clock::time_point t0{};
  cache.store(packet_for(0, 1000), 0, t0);        // ring bytes 0..999
  cache.store(packet_for(1, 1000), 1, t0 + 90ms);  // 1000..1999
  // The lap began more than 100 ms ago: the next packet goes to the start of the ring and its
  // 1,500 bytes cover half of packet 1, which is only 11 ms old.
  cache.store(packet_for(2, 1500), 2, t0 + 101ms);
  EXPECT_TRUE(found(cache, 1, t0 + 101ms).empty());
  EXPECT_EQ(found(cache, 2, t0 + 101ms).size(), 1500u);
  // Packets of the previous lap beyond what the new lap has written are still whole.
  RetransmissionCache other(16, 100ms);
  other.store(packet_for(0, 100), 0, t0);
  other.store(packet_for(1, 100), 1, t0 + 90ms);  // 100..199
  other.store(packet_for(2, 100), 2, t0 + 101ms);  // new lap: 0..99
  EXPECT_TRUE(holds(other, 1, t0 + 101ms));
  EXPECT_TRUE(found(other, 0, t0 + 101ms).empty());  // too old anyway, and overwritten
}

TEST(RetransmissionCache, FindCopiesOutOnlyWhatFits) {
  RetransmissionCache cache(8);
  Clock::time_point t0{};
  cache.store(packet_for(1, 300), 1, t0);
  std::vector<uint8_t> small(299);
  EXPECT_EQ(cache.find(1, t0, small), 0u);
  std::vector<uint8_t> exact(300);
  EXPECT_EQ(cache.find(1, t0, exact), 300u);
  EXPECT_EQ(exact, packet_for(1, 300));
}

// A fan-out: the same payload under different headers for many subscribers, each with its own
// cache over one shared store.
std::vector<uint8_t> subscriber_packet(uint16_t seq, uint8_t subscriber, uint8_t payload_byte, size_t size = 1000) {
  std::vector<uint8_t> p(size, payload_byte);
  for (size_t i = 0; i < 28; ++i) p[i] = static_cast<uint8_t>(subscriber + i);  // header + descriptor
  p[2] = static_cast<uint8_t>(seq >> 8);
  p[3] = static_cast<uint8_t>(seq);
  return p;
}

TEST(RetransmissionCache, SharedPayloadsAreStoredOnceAndReturnedWhole) {
  PayloadStore shared;
  std::vector<RetransmissionCache> caches;
  for (int i = 0; i < 3; ++i) caches.emplace_back(16, 1000ms, &shared);
  Clock::time_point t0{};
  for (uint16_t seq = 0; seq < 10; ++seq)
    for (uint8_t sub = 0; sub < 3; ++sub)
      caches[sub].store(subscriber_packet(seq, sub, static_cast<uint8_t>(seq)), seq, t0 + seq * 10ms, 28);
  EXPECT_EQ(shared.stored(), 10u);  // one copy per payload, not per subscriber
  EXPECT_EQ(shared.shared(), 20u);
  EXPECT_LE(caches[0].footprint(), 10u * 28);
  for (uint16_t seq = 0; seq < 10; ++seq)
    for (uint8_t sub = 0; sub < 3; ++sub)
      EXPECT_EQ(found(caches[sub], seq, t0 + 100ms), subscriber_packet(seq, sub, static_cast<uint8_t>(seq)))
          << seq << " " << int{sub};
}

TEST(RetransmissionCache, PacketsShorterThanTheirOwnPartStayInTheRing) {
  PayloadStore shared;
  RetransmissionCache cache(16, 1000ms, &shared);
  Clock::time_point t0{};
  cache.store(packet_for(1, 20), 1, t0, 28);
  cache.store(packet_for(2, 28), 2, t0, 28);
  EXPECT_EQ(shared.stored(), 0u);
  EXPECT_TRUE(holds(cache, 1, t0, 20));
  EXPECT_TRUE(holds(cache, 2, t0, 28));
}

TEST(RetransmissionCache, GoneFromTheSharedStoreMeansNotFound) {
  // The store recycles a chunk once its newest bytes are older than its max_age: a cache that
  // keeps packets longer must then answer "not found", never bytes from a reused chunk.
  PayloadStore shared(100ms);
  RetransmissionCache cache(512, 10'000ms, &shared);
  Clock::time_point t0{};
  uint16_t seq = 0;
  for (; seq < 70; ++seq) cache.store(subscriber_packet(seq, 0, static_cast<uint8_t>(seq)), seq, t0, 28);
  // 70 x 972 bytes fill a 64 kB chunk and start a second; a second later the first is recycled
  // (and reused) when the next chunk starts.
  auto later = t0 + 1000ms;
  for (; seq < 200; ++seq) cache.store(subscriber_packet(seq, 0, static_cast<uint8_t>(seq)), seq, later, 28);
  EXPECT_TRUE(found(cache, 0, later).empty());
  EXPECT_EQ(found(cache, 199, later), subscriber_packet(199, 0, 199));
}

}  // namespace
}  // namespace junction::media

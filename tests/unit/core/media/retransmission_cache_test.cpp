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

bool holds(const RetransmissionCache& cache, uint16_t seq, Clock::time_point now) {
  auto found = cache.find(seq, now);
  auto expected = packet_for(seq);
  return std::vector<uint8_t>(found.begin(), found.end()) == expected;
}

TEST(RetransmissionCache, StoresCopiesAndFindsThem) {
  RetransmissionCache cache(16);
  Clock::time_point t0{};
  auto p = packet_for(10);
  cache.store(p, 10, t0);
  p[5] = 0xEE;  // the cache keeps its own copy
  EXPECT_TRUE(holds(cache, 10, t0 + 10ms));
  EXPECT_TRUE(cache.find(11, t0).empty());
  EXPECT_TRUE(cache.find(26, t0).empty());  // same slot, different seq
}

TEST(RetransmissionCache, OverwrittenAfterCapacity) {
  RetransmissionCache cache(4);
  Clock::time_point t0{};
  for (uint16_t s = 0; s < 5; ++s) cache.store(packet_for(s), s, t0);
  EXPECT_TRUE(cache.find(0, t0).empty());  // slot reused by 4
  for (uint16_t s = 1; s < 5; ++s) EXPECT_TRUE(holds(cache, s, t0)) << s;
}

TEST(RetransmissionCache, CapacityRoundsUpToAPowerOfTwo) {
  EXPECT_EQ(RetransmissionCache(5).capacity(), 8u);
  EXPECT_EQ(RetransmissionCache(1024).capacity(), 1024u);
  EXPECT_EQ(RetransmissionCache(0).capacity(), 1u);
  EXPECT_EQ(RetransmissionCache(100000).capacity(), 65536u);
}

TEST(RetransmissionCache, TooOldAfterMaxAge) {
  RetransmissionCache cache(16, 500ms);
  Clock::time_point t0{};
  cache.store(packet_for(1), 1, t0);
  EXPECT_TRUE(holds(cache, 1, t0 + 500ms));
  EXPECT_TRUE(cache.find(1, t0 + 501ms).empty());
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
  EXPECT_TRUE(cache.find(64514, t0 + 1ms).empty());
}

TEST(RetransmissionCache, OversizeAndEmptyAreNotStored) {
  RetransmissionCache cache(8);
  Clock::time_point t0{};
  cache.store(packet_for(1, RetransmissionCache::kMaxPacket + 1), 1, t0);
  cache.store({}, 2, t0);
  EXPECT_TRUE(cache.find(1, t0).empty());
  EXPECT_TRUE(cache.find(2, t0).empty());
  EXPECT_EQ(cache.dropped(), 2u);
  cache.store(packet_for(3, RetransmissionCache::kMaxPacket), 3, t0);
  EXPECT_EQ(cache.find(3, t0).size(), RetransmissionCache::kMaxPacket);
  cache.clear();
  EXPECT_TRUE(cache.find(3, t0).empty());
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
  EXPECT_EQ(cache.find(499, end).size(), 1000u);
  EXPECT_EQ(cache.find(400, end).size(), 1000u);  // 990 ms old
  EXPECT_TRUE(cache.find(398, end).empty());      // older than max_age
}

TEST(RetransmissionCache, PacketOverwrittenByTheNextLapIsNotReturned) {
  RetransmissionCache cache(16, 100ms);
  Clock::time_point t0{};
  cache.store(packet_for(0, 1000), 0, t0);        // ring bytes 0..999
  cache.store(packet_for(1, 1000), 1, t0 + 90ms);  // 1000..1999
  // The lap began more than 100 ms ago: the next packet goes to the start of the ring and its
  // 1,500 bytes cover half of packet 1, which is only 11 ms old.
  cache.store(packet_for(2, 1500), 2, t0 + 101ms);
  EXPECT_TRUE(cache.find(1, t0 + 101ms).empty());
  EXPECT_EQ(cache.find(2, t0 + 101ms).size(), 1500u);
  // Packets of the previous lap beyond what the new lap has written are still whole.
  RetransmissionCache other(16, 100ms);
  other.store(packet_for(0, 100), 0, t0);
  other.store(packet_for(1, 100), 1, t0 + 90ms);  // 100..199
  other.store(packet_for(2, 100), 2, t0 + 101ms);  // new lap: 0..99
  EXPECT_TRUE(holds(other, 1, t0 + 101ms));
  EXPECT_TRUE(other.find(0, t0 + 101ms).empty());  // too old anyway, and overwritten
}

}  // namespace
}  // namespace junction::media

#include "core/media/payload_store.h"

#include <gtest/gtest.h>

#include <vector>

namespace junction::media {
namespace {

using namespace std::chrono_literals;
using Clock = PayloadStore::Clock;

std::vector<uint8_t> bytes_of(uint8_t value, size_t size = 1000) { return std::vector<uint8_t>(size, value); }

std::vector<uint8_t> got(const PayloadStore& store, const PayloadStore::Ref& ref) {
  auto span = store.get(ref);
  return {span.begin(), span.end()};
}

TEST(PayloadStore, TheSamePayloadTwiceInARowIsStoredOnce) {
  PayloadStore store;
  Clock::time_point t0{};
  auto a = store.put(bytes_of(1), t0);
  auto b = store.put(bytes_of(1), t0);
  auto c = store.put(bytes_of(2), t0);
  auto d = store.put(bytes_of(1), t0);  // equal to an older one, not the last: a new copy
  EXPECT_EQ(a.chunk, b.chunk);
  EXPECT_EQ(a.offset, b.offset);
  EXPECT_NE(a.offset, d.offset);
  EXPECT_EQ(store.stored(), 3u);
  EXPECT_EQ(store.shared(), 1u);
  EXPECT_EQ(got(store, a), bytes_of(1));
  EXPECT_EQ(got(store, c), bytes_of(2));
  EXPECT_EQ(got(store, d), bytes_of(1));
}

TEST(PayloadStore, SameSizeDifferentBytesAreNotShared) {
  PayloadStore store;
  Clock::time_point t0{};
  auto first = bytes_of(7);
  auto second = bytes_of(7);
  second.back() = 8;
  auto a = store.put(first, t0);
  auto b = store.put(second, t0);
  EXPECT_NE(a.offset, b.offset);
  EXPECT_EQ(got(store, b), second);
}

TEST(PayloadStore, EmptyOrLargerThanAChunkIsNotStored) {
  PayloadStore store;
  Clock::time_point t0{};
  EXPECT_EQ(store.put({}, t0).size, 0u);
  EXPECT_EQ(store.put(bytes_of(1, PayloadStore::kChunkSize + 1), t0).size, 0u);
  EXPECT_TRUE(store.get(PayloadStore::Ref{}).empty());
  EXPECT_EQ(store.put(bytes_of(1, PayloadStore::kChunkSize), t0).size, PayloadStore::kChunkSize);
}

TEST(PayloadStore, ChunksOlderThanMaxAgeAreRecycledAndTheirRefsReadAsGone) {
  PayloadStore store(1000ms);
  Clock::time_point t0{};
  // 100 packets/s of 1000 distinct bytes for 5 s: ~65 packets per chunk, so memory stays at
  // about a second and a half of payload (the chunks a second covers, plus the one being filled).
  std::vector<PayloadStore::Ref> refs;
  size_t most_chunks = 0;
  for (int i = 0; i < 500; ++i) {
    refs.push_back(store.put(bytes_of(static_cast<uint8_t>(i)), t0 + i * 10ms));
    most_chunks = std::max(most_chunks, store.chunks());
  }
  EXPECT_LE(most_chunks, 3u);
  EXPECT_GE(most_chunks, 2u);
  EXPECT_TRUE(store.get(refs[0]).empty());  // its chunk was recycled (and its memory reused)
  EXPECT_EQ(got(store, refs[499]), bytes_of(static_cast<uint8_t>(499)));
  EXPECT_EQ(got(store, refs[400]), bytes_of(static_cast<uint8_t>(400)));  // 990 ms old
}

TEST(PayloadStore, RefsIntoAChunkBeingFilledStayValid) {
  PayloadStore store;
  Clock::time_point t0{};
  std::vector<PayloadStore::Ref> refs;
  for (int i = 0; i < 200; ++i) refs.push_back(store.put(bytes_of(static_cast<uint8_t>(i), 700), t0));
  EXPECT_EQ(store.chunks(), 3u);  // 93 of 700 bytes per chunk; nothing old enough to recycle
  for (int i = 0; i < 200; ++i) EXPECT_EQ(got(store, refs[static_cast<size_t>(i)]), bytes_of(static_cast<uint8_t>(i), 700)) << i;
}

}  // namespace
}  // namespace junction::media

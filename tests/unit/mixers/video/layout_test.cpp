#include "mixers/video/layout.h"

#include <gtest/gtest.h>

namespace junction::mixers {
namespace {

std::vector<uint64_t> ids(int n) {
  std::vector<uint64_t> out;
  for (int i = 1; i <= n; ++i) out.push_back(static_cast<uint64_t>(i));
  return out;
}

TEST(Layout, GridSizes) {
  struct Case {
    int n, cols;
  } cases[] = {{1, 1}, {2, 2}, {4, 2}, {5, 3}, {9, 3}, {10, 4}, {16, 4}};
  for (auto c : cases) {
    auto tiles = compute_layout(1280, 720, ids(c.n), 1, View{}, 0);
    ASSERT_EQ(static_cast<int>(tiles.size()), c.n) << c.n;
    int w = (1280 / c.cols) & ~1, h = (720 / c.cols) & ~1;
    for (int i = 0; i < c.n; ++i) {
      const Tile& t = tiles[static_cast<size_t>(i)];
      EXPECT_EQ(t.participant, static_cast<uint64_t>(i + 1));
      EXPECT_EQ(t.width, w);
      EXPECT_EQ(t.height, h);
      EXPECT_EQ(t.x, (i % c.cols) * w);
      EXPECT_EQ(t.y, (i / c.cols) * h);
    }
  }
  EXPECT_EQ(compute_layout(1280, 720, ids(20), 1, View{}, 0).size(), 16u);
  EXPECT_TRUE(compute_layout(1280, 720, {}, 1, View{}, 0).empty());
}

TEST(Layout, HidingSelf) {
  View v;
  v.show_self = false;
  auto tiles = compute_layout(1280, 720, ids(2), 2, v, 0);
  ASSERT_EQ(tiles.size(), 1u);
  EXPECT_EQ(tiles[0].participant, 1u);
  EXPECT_EQ(tiles[0].width, 1280);
}

TEST(Layout, SpeakerAndPresenter) {
  View v;
  v.kind = LayoutKind::kSpeaker;
  auto tiles = compute_layout(1280, 720, ids(5), 1, v, 3);
  ASSERT_EQ(tiles.size(), 5u);
  EXPECT_EQ(tiles[0], (Tile{3, 0, 0, 1280, 540}));
  EXPECT_EQ(tiles[1], (Tile{1, 0, 540, 320, 180}));
  EXPECT_EQ(tiles[4], (Tile{5, 960, 540, 320, 180}));
  // No speaker yet: the first participant.
  EXPECT_EQ(compute_layout(1280, 720, ids(5), 1, v, 0)[0].participant, 1u);
  v.kind = LayoutKind::kPresenter;
  v.presenter = 4;
  EXPECT_EQ(compute_layout(1280, 720, ids(5), 1, v, 3)[0].participant, 4u);
  v.presenter = 99;  // gone: the speaker
  EXPECT_EQ(compute_layout(1280, 720, ids(5), 1, v, 3)[0].participant, 3u);
  // Many thumbnails share the strip.
  v.kind = LayoutKind::kSpeaker;
  auto many = compute_layout(1280, 720, ids(9), 1, v, 1);
  EXPECT_EQ(many[1].width, 160);
  EXPECT_EQ(many[8].x, 7 * 160);
}

TEST(Layout, FitKeepsTheAspectRatio) {
  Tile cell{1, 0, 540, 320, 180};
  EXPECT_EQ(fit_inside(cell, 640, 360), cell);
  Tile tall = fit_inside(cell, 480, 640);  // portrait: bars left and right
  EXPECT_EQ(tall.height, 180);
  EXPECT_EQ(tall.width, 134);
  EXPECT_EQ(tall.x, 92);
  Tile large = fit_inside(Tile{1, 0, 0, 1280, 540}, 640, 360);
  EXPECT_EQ(large, (Tile{1, 160, 0, 960, 540}));
}

}  // namespace
}  // namespace junction::mixers

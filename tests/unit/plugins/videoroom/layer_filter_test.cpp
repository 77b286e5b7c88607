#include "plugins/videoroom/layer_filter.h"

#include <gtest/gtest.h>

namespace junction::videoroom {
namespace {

using namespace std::chrono_literals;
using Clock = LayerFilter::Clock;
using Verdict = LayerFilter::Verdict;

class LayerFilterTest : public ::testing::Test {
 protected:
  // One packet of `substream` arriving now (it marks its layer alive first, as the router does).
  Verdict packet(int substream, bool keyframe = false, int tid = -1, bool frame_start = true, bool sync = false) {
    seen_[static_cast<size_t>(substream)] = now_;
    return filter_.on_packet({substream, keyframe, frame_start, tid, sync}, seen_, now_);
  }
  // Every layer sends one delta packet.
  void all_layers_alive() {
    for (int s = 0; s < 3; ++s) seen_[static_cast<size_t>(s)] = now_;
  }

  LayerFilter filter_;
  std::array<Clock::time_point, LayerFilter::kMaxSubstreams> seen_{};
  Clock::time_point now_ = Clock::now();
};

TEST_F(LayerFilterTest, StartsOnTheHighestLayerAtItsKeyframe) {
  all_layers_alive();
  EXPECT_EQ(packet(0, true), Verdict::kOtherLayer);  // a keyframe, but not the wanted layer
  EXPECT_EQ(packet(2), Verdict::kOtherLayer);        // the wanted layer, but a delta frame
  EXPECT_TRUE(filter_.wants_keyframe());
  EXPECT_EQ(packet(2, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_substream(), 2);
  EXPECT_TRUE(filter_.take_substream_change());
  EXPECT_FALSE(filter_.take_substream_change());
  EXPECT_FALSE(filter_.wants_keyframe());
  EXPECT_EQ(packet(1), Verdict::kOtherLayer);
  EXPECT_EQ(packet(2), Verdict::kForward);
}

TEST_F(LayerFilterTest, SwitchesDownAndUpOnlyOnKeyframes) {
  all_layers_alive();
  ASSERT_EQ(packet(2, true), Verdict::kForward);
  filter_.set_target(0, 2);
  EXPECT_EQ(packet(2), Verdict::kForward);  // the old layer flows until the new one can start
  EXPECT_TRUE(filter_.wants_keyframe());
  EXPECT_EQ(packet(0), Verdict::kOtherLayer);
  EXPECT_EQ(packet(0, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_substream(), 0);
  EXPECT_EQ(packet(2, true), Verdict::kOtherLayer);
  filter_.set_target(2, 2);
  EXPECT_EQ(packet(0), Verdict::kForward);
  EXPECT_EQ(packet(2, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_substream(), 2);
}

TEST_F(LayerFilterTest, FallsBackWhenTheChosenLayerStops) {
  all_layers_alive();
  ASSERT_EQ(packet(2, true), Verdict::kForward);
  // Layer 2 goes quiet; 1 and 0 keep coming. After the fallback time layer 1 is wanted.
  now_ += 100ms;
  EXPECT_EQ(packet(1, true), Verdict::kOtherLayer);  // 2 is not yet taken as stopped
  now_ += 200ms;
  packet(0);
  EXPECT_EQ(packet(1, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_substream(), 1);
  // Layer 2 comes back: the subscriber goes up again at its next keyframe.
  EXPECT_EQ(packet(2), Verdict::kOtherLayer);
  EXPECT_TRUE(filter_.wants_keyframe());
  EXPECT_EQ(packet(2, true), Verdict::kForward);
}

TEST_F(LayerFilterTest, TemporalLayersChangeAtFrameStarts) {
  all_layers_alive();
  ASSERT_EQ(packet(2, true, 0), Verdict::kForward);
  EXPECT_EQ(packet(2, false, 2), Verdict::kForward);  // every temporal layer by default
  filter_.set_target(2, 0);
  filter_.take_temporal_change();
  EXPECT_EQ(packet(2, false, 2, /*frame_start=*/false), Verdict::kForward);  // rest of a frame already begun
  EXPECT_EQ(packet(2, false, 1, true), Verdict::kDropTemporal);
  EXPECT_TRUE(filter_.take_temporal_change());
  EXPECT_EQ(filter_.current_temporal(), 0);
  EXPECT_EQ(packet(2, false, 0, true), Verdict::kForward);
  // Up again: only at a layer-sync frame of a layer now wanted.
  filter_.set_target(2, 2);
  EXPECT_EQ(packet(2, false, 2, true, false), Verdict::kDropTemporal);
  EXPECT_EQ(packet(2, false, 1, true, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_temporal(), 2);
  EXPECT_EQ(packet(2, false, 2, true), Verdict::kForward);
}

TEST_F(LayerFilterTest, ATargetAboveWhatIsSentGetsTheBestThereIs) {
  seen_[0] = seen_[1] = now_;  // a publisher sending two layers only
  filter_.set_target(2, 2);
  EXPECT_EQ(packet(1, true), Verdict::kForward);
  EXPECT_EQ(filter_.current_substream(), 1);
}

}  // namespace
}  // namespace junction::videoroom

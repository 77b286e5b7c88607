#include "core/media/simulcast.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace junction::media {
namespace {

const MediaSection& video_of(const SessionDescription& sdp) {
  for (const MediaSection& m : sdp.media)
    if (m.kind == "video") return m;
  throw std::runtime_error("no video section");
}

SessionDescription fixture(const std::string& name) {
  std::ifstream in(std::string(JUNCTION_SOURCE_DIR "/tests/unit/core/media/fixtures/") + name + ".sdp");
  std::ostringstream text;
  text << in.rdbuf();
  std::string error;
  auto sdp = parse_sdp(text.str(), &error);
  if (!sdp) throw std::runtime_error(error);
  return *sdp;
}

TEST(Simulcast, ChromiumRidOfferHighestFirstByDefault) {
  auto sdp = fixture("chromium-156-offer-simulcast-video");  // a=simulcast:send h;m;l
  SimulcastLayers layers = simulcast_layers(video_of(sdp), /*lowest_first=*/false);
  EXPECT_EQ(layers.rids, (std::vector<std::string>{"l", "m", "h"}));
  EXPECT_TRUE(layers.ssrcs.empty());
  EXPECT_EQ(layers.substream_of_rid("l"), 0);
  EXPECT_EQ(layers.substream_of_rid("h"), 2);
  EXPECT_EQ(layers.substream_of_rid("x"), -1);
  EXPECT_EQ(layers.substream_of_rid(""), -1);
  // rid_order "lmh": the list is read lowest first.
  EXPECT_EQ(simulcast_layers(video_of(sdp), true).substream_of_rid("h"), 0);
}

TEST(Simulcast, FirefoxRidOffer) {
  auto sdp = fixture("firefox-153-offer-simulcast-video");
  EXPECT_EQ(simulcast_layers(video_of(sdp), false).rids, (std::vector<std::string>{"l", "m", "h"}));
}

TEST(Simulcast, PlainOffersHaveNoLayers) {
  auto sdp = fixture("chromium-156-offer-audio-video-data");
  EXPECT_TRUE(simulcast_layers(video_of(sdp), false).empty());
}

TEST(Simulcast, ListForms) {
  MediaSection m;
  m.kind = "video";
  m.rids = {{"a", "send", ""}, {"b", "send", "max-width=320"}, {"c", "send", ""}, {"r", "recv", ""}};
  m.simulcast = "send a;~b,x;c recv r";  // b paused (still a layer), x an alternative, r received
  EXPECT_EQ(simulcast_layers(m, true).rids, (std::vector<std::string>{"a", "b", "c"}));
  m.simulcast = "send a;zz";  // zz has no a=rid line: only one layer left, which is no simulcast
  EXPECT_TRUE(simulcast_layers(m, true).empty());
  m.simulcast = "send";  // malformed
  EXPECT_TRUE(simulcast_layers(m, true).empty());
  m.kind = "audio";
  m.simulcast = "send a;c";
  EXPECT_TRUE(simulcast_layers(m, true).empty());
}

TEST(Simulcast, SsrcGroupSim) {
  MediaSection m;
  m.kind = "video";
  m.ssrc_groups = {{"FID", {10, 11}}, {"SIM", {10, 20, 30}}, {"FID", {20, 21}}};
  SimulcastLayers layers = simulcast_layers(m, false);
  EXPECT_EQ(layers.ssrcs, (std::vector<uint32_t>{10, 20, 30}));
  EXPECT_EQ(layers.substream_of_ssrc(30), 2);
  EXPECT_EQ(layers.substream_of_ssrc(11), -1);
}

}  // namespace
}  // namespace junction::media

#include "mixers/audio/mix_recorder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

namespace junction::mixers {
namespace {

uint32_t le32(const std::vector<uint8_t>& b, size_t at) {
  return uint32_t{b[at]} | uint32_t{b[at + 1]} << 8 | uint32_t{b[at + 2]} << 16 | uint32_t{b[at + 3]} << 24;
}

TEST(MixRecorder, WritesAWavWithItsFinalSizes) {
  auto path = std::filesystem::temp_directory_path() / ("junction-mix-recorder-test-" + std::to_string(::getpid()) + ".wav");
  {
    MixRecorder recorder(path.string(), 16000);
    std::vector<int16_t> frame(320);
    for (int tick = 0; tick < 50; ++tick) {
      for (size_t i = 0; i < frame.size(); ++i) frame[i] = static_cast<int16_t>(tick * 100 + static_cast<int>(i));
      recorder.write(frame);
    }
    EXPECT_EQ(recorder.samples(), 50 * 320);
  }
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::filesystem::remove(path);
  ASSERT_GE(bytes.size(), 44u);
  EXPECT_EQ(std::string(bytes.begin(), bytes.begin() + 4), "RIFF");
  EXPECT_EQ(std::string(bytes.begin() + 8, bytes.begin() + 12), "WAVE");
  EXPECT_EQ(le32(bytes, 24), 16000u);  // sample rate of the fmt chunk
  // The data chunk is the last one: its size is one second of 16-bit mono at 16 kHz.
  const uint32_t data_bytes = 50 * 320 * 2;
  EXPECT_EQ(le32(bytes, bytes.size() - data_bytes - 4), data_bytes);
  EXPECT_EQ(le32(bytes, 4), bytes.size() - 8);  // RIFF size rewritten at the end
  // The last sample written is the last in the file.
  EXPECT_EQ(bytes[bytes.size() - 2] | bytes[bytes.size() - 1] << 8, 49 * 100 + 319);
}

TEST(MixRecorder, RefusesAPathItCannotWrite) {
  EXPECT_THROW(MixRecorder("/nonexistent-folder/x/mix.wav", 16000), std::runtime_error);
}

}  // namespace
}  // namespace junction::mixers

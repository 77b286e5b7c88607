#pragma once
// Records a room's mix to a WAV file (16-bit mono PCM at the room rate) through libavformat.
// Fed from the mixer thread, one 20 ms frame per tick (AudioMixer::set_mix_tap); libavformat's
// I/O buffer turns that into a write every few hundred milliseconds. The WAV header gets its
// final sizes when the recorder is destroyed (the room stops recording or goes away).
#include <cstdint>
#include <span>
#include <string>

struct AVFormatContext;
struct AVPacket;

namespace junction::mixers {

class MixRecorder {
 public:
  // Throws std::runtime_error when the file cannot be made.
  MixRecorder(const std::string& path, int sample_rate);
  ~MixRecorder();
  MixRecorder(const MixRecorder&) = delete;
  MixRecorder& operator=(const MixRecorder&) = delete;

  void write(std::span<const int16_t> pcm);  // one thread at a time (the mixer's)
  const std::string& path() const { return path_; }
  int64_t samples() const { return samples_; }

 private:
  void release();

  std::string path_;
  AVFormatContext* format_ = nullptr;
  AVPacket* packet_ = nullptr;
  int64_t samples_ = 0;
  bool header_written_ = false;
  bool failed_ = false;
};

}  // namespace junction::mixers

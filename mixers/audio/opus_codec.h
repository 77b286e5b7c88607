#pragma once
// Opus through FFmpeg's libavcodec (the libopus wrapper), as the mixer needs it: mono 16-bit
// frames at the room rate in, one packet per 20 ms frame out; and packets in, samples at the room
// rate out, with loss concealment.
//
// libavcodec's libopus decoder always decodes at 48 kHz and has no "conceal a lost packet" call.
// Decoding goes through libswresample to the room rate. Concealment uses Opus's own rule
// (RFC 6716 §4.4 and libopus): a frame of zero or one byte is decoded as packet loss concealment
// for that frame's duration, so a TOC-only packet with the last packet's TOC makes the decoder
// run its PLC for one packet's worth of audio. (In-band FEC would need libopus's decode_fec flag,
// which libavcodec does not expose: the sender's FEC is not used.)
//
// Neither class is thread-safe; each belongs to the mixer thread. Construction throws
// std::runtime_error when libavcodec lacks the codec or refuses the settings.
#include <cstdint>
#include <span>
#include <vector>

struct AVCodec;
struct AVCodecContext;
struct AVFrame;
struct AVPacket;
struct SwrContext;

namespace junction::mixers {

inline constexpr int kOpusRtpClock = 48000;

// The libavcodec objects one codec instance owns (encoder or decoder).
struct AvCodecObjects {
  AVCodecContext* ctx = nullptr;
  AVFrame* frame = nullptr;
  AVPacket* packet = nullptr;
  void allocate(const AVCodec* codec);  // throws std::runtime_error
  void release();
};  // RFC 7587 §4.1: always 48 kHz on the wire

// True for the room rates Opus encodes natively.
bool valid_opus_rate(int sample_rate);

// The duration of an Opus packet in 48 kHz samples, from its TOC byte and frame count
// (RFC 6716 §3.1, §3.2); 0 for a malformed packet.
int opus_packet_samples(std::span<const uint8_t> packet);

class OpusEncoder {
 public:
  struct Settings {
    int sample_rate = 16000;
    int bitrate = 0;        // bits per second; 0: a default for the rate
    int complexity = 4;     // 0..10
    int expected_loss = 0;  // percent; > 0 turns in-band FEC on
  };
  explicit OpusEncoder(const Settings& settings);
  ~OpusEncoder();
  OpusEncoder(const OpusEncoder&) = delete;
  OpusEncoder& operator=(const OpusEncoder&) = delete;

  int frame_samples() const { return frame_samples_; }  // 20 ms at the rate
  // Encodes one frame of frame_samples() samples. The packet stays valid until the next call;
  // empty on failure.
  std::span<const uint8_t> encode(std::span<const int16_t> pcm);

 private:
  void release();

  AvCodecObjects av_;
  int frame_samples_ = 0;
  int64_t pts_ = 0;
  std::vector<uint8_t> out_;
};

class OpusDecoder {
 public:
  explicit OpusDecoder(int output_rate);
  ~OpusDecoder();
  OpusDecoder(const OpusDecoder&) = delete;
  OpusDecoder& operator=(const OpusDecoder&) = delete;

  // Decodes one packet and appends its samples (mono, output rate) to `out`. Returns the number
  // appended, or -1 for a packet the decoder refused.
  int decode(std::span<const uint8_t> packet, std::vector<int16_t>& out);
  // Conceals one lost packet (the decoder's PLC, the last packet's duration). Returns the number
  // of samples appended; 0 before any packet was decoded.
  int conceal(std::vector<int16_t>& out);

 private:
  void release();
  int run(std::span<const uint8_t> packet, std::vector<int16_t>& out);

  int output_rate_;
  AvCodecObjects av_;
  SwrContext* swr_ = nullptr;  // null when the output rate is 48 kHz
  int last_toc_ = -1;
  std::vector<int16_t> resampled_;
};

}  // namespace junction::mixers

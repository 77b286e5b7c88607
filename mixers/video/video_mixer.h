#pragma once
// A video MCU room: every participant sends one video stream (VP8 or H.264) and receives one
// composite picture of the room (mixers/video/layout.h says where each picture goes) in the codec
// its PeerConnection negotiated.
//
// Shared encode. Each tick (1/fps) the mixer works out every receiver's tile list from its view
// (layout, show_self, presenter) and the active speaker. Receivers whose tile lists, codec and
// bitrate class are equal form a group: the group's canvas is composed and encoded ONCE and the
// same frame is sent to each of them, with their own RTP sequence numbers. With the default view
// (grid, show_self) a room of one codec is one group: one compose + one encode per tick, whatever
// the number of receivers; a room with VP8 and H.264 receivers encodes twice.
//
// Threads.
//   - control (the plugin's control loop): add / remove participants, views, start / stop.
//   - media workers: VideoParticipant::push() reassembles the participant's RTP packets into
//     frames (RFC 7741 or 6184, video_rtp.h) and queues them; it tells the caller when to ask the sender for a
//     keyframe (a loss, a frame the decoder refused), at most once per `keyframe_interval`.
//   - the mixer thread (start()): tick() at `fps` on absolute deadlines: decode the queued frames
//     (libavcodec), scale into the canvases (libswscale), encode (libvpx, libx264), packetize; the tick's
//     packets leave through the PacketSink in one call.
// tick() may also be called directly, without start() (unit tests, benchmarks).
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "mixers/participant_list.h"
#include "mixers/video/compositor.h"
#include "mixers/video/layout.h"
#include "mixers/video/video_codec.h"
#include "mixers/video/video_rtp.h"

namespace junction::mixers {

struct VideoMixerSettings {
  int width = 1280, height = 720;  // the canvas
  int fps = 25;
  int bitrate = 1000000;  // per group, bits per second: the most a group gets
  // Receivers' estimates (REMB): a group's bitrate follows the lowest estimate of its receivers,
  // within [min_bitrate, bitrate]; a receiver whose estimate is below low_share x bitrate is moved
  // to a low-bitrate group of the same layout, so it does not drag the others down. The encoder
  // is re-made (a keyframe) only on a change of more than 20 %, at most every `bitrate_hold`.
  int min_bitrate = 100000;
  double low_share = 0.5;
  std::chrono::milliseconds bitrate_hold{2000};
  int speed = 8;          // libvpx cpu-used
  // The codecs the room may use; the constructor checks each has its decoder and encoder.
  std::vector<VideoCodec> codecs = {VideoCodec::kVp8};
  std::chrono::milliseconds stale_after{2000};        // a picture this old gives way to the placeholder
  std::chrono::milliseconds keyframe_interval{500};   // at most one keyframe per group per interval
  size_t max_payload = 1200;                          // bytes of RTP payload per packet
  Yuv placeholder = Yuv::from_rgb(40, 40, 40);
};

struct VideoPacket {
  uint64_t receiver;
  std::span<const uint8_t> rtp;  // a whole RTP packet: 12-byte header + payload
};

class VideoMixer;

class VideoParticipant {
 public:
  using Clock = std::chrono::steady_clock;
  explicit VideoParticipant(uint64_t id);
  uint64_t id() const { return id_; }

  // --- any thread ---
  void set_view(const View& view);
  View view() const;
  // The composite goes to this participant only while sending is on (its PeerConnection is up),
  // encoded in `codec`.
  void set_send(bool on, uint8_t payload_type = 96, uint32_t ssrc = 0, VideoCodec codec = VideoCodec::kVp8);
  // What the participant sends (the negotiated codec); a change takes effect at the next packet
  // and the picture resumes at the next keyframe.
  void set_input_codec(VideoCodec codec) { input_codec_ = codec; }
  bool sending() const { return send_; }
  // The receiver asked for a keyframe (PLI/FIR): its group's next allowed frame is one.
  void request_keyframe() { keyframe_requested_ = true; }
  // The receiver's bandwidth estimate (REMB), bits per second; 0: none.
  void set_receive_estimate(uint64_t bps) { estimate_ = bps; }

  struct Stats {
    uint64_t frames_in = 0;       // whole frames reassembled
    uint64_t frames_decoded = 0;
    uint64_t decode_errors = 0;
    uint64_t keyframe_requests = 0;  // PLIs this participant's sender was asked for
    uint64_t frames_out = 0;         // composite frames sent to this participant
  };
  Stats stats() const;

  // --- the media worker of the participant: one RTP packet of its video ---
  // True when the sender should be asked for a keyframe now (PLI), rate-limited.
  bool push(uint16_t seq, uint32_t timestamp, bool marker, std::span<const uint8_t> payload,
            Clock::time_point now = Clock::now());

 private:
  friend class VideoMixer;
  static constexpr size_t kMaxQueue = 32;
  // Mixer thread: decodes what arrived; true if a new picture is ready.
  bool decode_pending(Clock::time_point now);

  const uint64_t id_;
  mutable std::mutex mutex_;  // view_, queue_, stats_
  View view_;
  std::deque<EncodedFrame> queue_;
  Stats stats_;
  std::atomic<bool> send_{false};
  std::atomic<uint8_t> payload_type_{96};
  std::atomic<uint32_t> ssrc_{0};
  std::atomic<VideoCodec> output_codec_{VideoCodec::kVp8};
  std::atomic<VideoCodec> input_codec_{VideoCodec::kVp8};
  std::atomic<bool> keyframe_requested_{false};
  std::atomic<bool> decoder_wants_keyframe_{false};
  std::atomic<uint64_t> estimate_{0};

  // Media worker only.
  std::unique_ptr<Depacketizer> depacketizer_;
  Clock::time_point last_pli_{};

  // Mixer thread only.
  std::unique_ptr<VideoDecoder> decoder_;
  bool decode_broken_ = false;  // a frame failed: skip to the next keyframe
  FramePtr picture_;            // the last decoded picture (a reference)
  Clock::time_point picture_at_{};
  Scalers scalers_;
  uint16_t next_seq_;
  const void* group_ = nullptr;  // the group it received from last tick
  bool waiting_keyframe_ = true;
};

class VideoMixer {
 public:
  using Clock = std::chrono::steady_clock;
  using PacketSink = std::function<void(std::span<const VideoPacket>)>;

  struct Stats {
    uint64_t ticks = 0;
    uint64_t overruns = 0;   // ticks that ended after the next one was due
    uint64_t encodes = 0;    // composite frames encoded, all groups
    uint64_t keyframes = 0;  // of which keyframes
    uint64_t packets = 0;    // RTP packets handed to the sink
    uint64_t decoded = 0;    // input frames decoded
    int last_tick_groups = 0;
    int last_tick_low_groups = 0;   // groups for receivers far below the room's bitrate
    int last_tick_min_bitrate = 0;  // the lowest group bitrate last tick
    int64_t busy_us = 0;     // time spent inside tick(), all ticks
  };

  // Throws std::runtime_error when the codecs are missing (the encoder is tried once here).
  VideoMixer(VideoMixerSettings settings, PacketSink packets);
  ~VideoMixer();  // stops the thread
  VideoMixer(const VideoMixer&) = delete;
  VideoMixer& operator=(const VideoMixer&) = delete;

  const VideoMixerSettings& settings() const { return settings_; }

  // Control thread.
  std::shared_ptr<VideoParticipant> add(uint64_t id);
  void remove(uint64_t id);
  std::shared_ptr<VideoParticipant> find(uint64_t id) const;
  std::vector<uint64_t> order() const;  // participants in join order
  size_t size() const;
  // Any thread: the active speaker (0: none).
  void set_speaker(uint64_t id) { speaker_ = id; }
  uint64_t speaker() const { return speaker_; }
  // What `receiver` sees now (the same function tick() uses).
  std::vector<Tile> layout_for(uint64_t receiver) const;

  void start();  // the thread; it sleeps while the room is empty
  void stop();
  void tick();
  Stats stats() const;

 private:
  using List = ParticipantList<VideoParticipant>;
  struct Group;
  void run();
  void compose(Group& group, Clock::time_point now);
  int target_bitrate(uint64_t lowest_estimate) const;
  void adapt_bitrates(Clock::time_point now);

  const VideoMixerSettings settings_;
  const PacketSink sink_;
  const Clock::time_point epoch_;
  const uint32_t ts_base_;
  std::atomic<uint64_t> speaker_{0};

  mutable std::mutex mutex_;  // guards list_, running_
  std::condition_variable wake_;
  std::shared_ptr<const List> list_ = std::make_shared<List>();
  bool running_ = false;
  std::thread thread_;

  // Mixer thread only.
  std::vector<std::unique_ptr<Group>> groups_;
  std::vector<uint8_t> payloads_, arena_;
  std::vector<size_t> sizes_;
  struct Pending {
    uint64_t receiver;
    size_t offset, size;
  };
  std::vector<Pending> pending_;
  std::vector<VideoPacket> out_;

  mutable std::mutex stats_mutex_;
  Stats stats_;
};

}  // namespace junction::mixers

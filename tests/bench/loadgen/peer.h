#pragma once
// One emulated WebRTC peer of the load generator: a PeerConnection of the project's transports
// in the client role, on one of the load generator's media workers. A peer may send (a
// publisher: synthetic Opus and/or VP8, our offer) and/or receive (a subscriber: the server's
// offer, our answer; or an audiobridge participant that does both on one PeerConnection).
//
// Threading: the PeerConnection, the sources and the receive statistics live on the worker;
// the setup thread only calls the methods below, which hop to the worker themselves
// (run_sync) or wait on the peer's own condition variable.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "tests/bench/loadgen/synthetic_media.h"
#include "transports/media_worker.h"
#include "transports/peer_connection.h"

namespace junction::loadgen {

// A forward jump in one source's trailer sequence as a receiver saw it: `count` packets from
// `first_missing` not (yet) received when the packet after them came (a later arrival of one of
// them is not undone here: the loss figure itself comes from the distinct packets seen).
struct GapEvent {
  uint32_t source = 0, first_missing = 0, count = 0;
  uint64_t at_ns = 0;        // now_ns() when the packet after the gap arrived
  uint16_t rtp_seq = 0;      // the server's RTP sequence number of that packet
  uint16_t prev_rtp_seq = 0; // and of the previous packet on that m-line
};

// One receiver's view of one source: the trailer sequence range it saw and the holes in it.
// `skipped` holds the holes the server's RTP numbering closed over (the packet after them came
// with the next RTP sequence number): packets the server chose not to send, numbering on without
// them, which RTCP and NACK cannot see. `missing` holds the other holes.
struct SourceSpan {
  uint32_t source = 0, first = 0, highest = 0;
  std::vector<uint32_t> missing, skipped;  // bounded: kMaxMissingListed each
};

// What one peer received, merged across peers at the end.
struct ReceiveTotals {
  uint64_t packets = 0;          // every RTP packet delivered by SRTP
  uint64_t window_packets = 0;   // those that arrived inside the measured window
  uint64_t expected = 0, lost = 0;   // per source: sequence range seen vs distinct packets
  uint64_t seq_gaps = 0;         // server-assigned RTP sequence jumps (forward) per m-line
  uint64_t untagged = 0;         // packets without a trailer (expected only from a mixer)
  std::vector<uint32_t> latency_us;  // send -> receive, inside the window
  std::vector<GapEvent> gaps;        // bounded per peer (kMaxGapEvents)
  std::vector<SourceSpan> spans;     // tagged sources only (mixes are one receiver's own)
  void add(const ReceiveTotals& other);
};

class Pacer;

struct PeerOptions {
  bool send_audio = false, send_video = false, receive = false;
  uint32_t source_index = 0;  // publisher index for the trailer's source id
  // Audio frames to loop (tone for a talker, hiss for a listener) and the level they claim.
  std::shared_ptr<const std::vector<std::vector<uint8_t>>> opus_frames;
  uint8_t audio_level = 127;  // dBov, RFC 6464 (127 = silence)
};

class Peer {
 public:
  Peer(transports::MediaWorker& worker, uint64_t id, const transports::PeerConnectionConfig& config,
       PeerOptions options);
  ~Peer();  // closes and destroys the PeerConnection on its worker
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Offerer (publisher, audiobridge participant): the offer's SDP text, candidates included;
  // audio sendonly (sendrecv when the peer also receives), video sendonly if it sends video.
  std::string make_offer(std::chrono::milliseconds timeout);
  // The server's answer to our offer. "" or why it was refused.
  std::string accept_answer(const std::string& sdp);
  // Answerer (subscriber): the server's offer in, our answer's SDP text out ("" on failure, with
  // *error set).
  std::string answer_offer(const std::string& sdp, std::chrono::milliseconds timeout, std::string* error);
  // A trickled server candidate ("" = end of candidates).
  void remote_candidate(const std::string& candidate);

  bool wait_connected(std::chrono::milliseconds timeout);
  // Starts sending on the worker's pacer (only for peers that send).
  void start_sending(Pacer& pacer);

  // Set by the setup thread when it starts creating this peer; first media is measured from it.
  void mark_created() { created_ns_ = now_ns(); }
  // ns from mark_created() to the first packet received; 0 if none yet.
  uint64_t first_media_delay_ns() const {
    uint64_t f = first_media_ns_.load();
    return f == 0 ? 0 : f - created_ns_;
  }
  uint64_t sent_packets() const { return sent_.load(); }
  // Packets the transport refused to send (not yet connected, socket full): they used up a
  // trailer sequence number, so they also count as lost at the receivers.
  uint64_t send_failures() const { return send_failures_.load(); }
  bool closed() const { return closed_.load(); }
  const std::string& close_reason() const { return close_reason_; }
  // Runs on the worker: a copy of what was received so far.
  ReceiveTotals totals();

  // The measured window is global: latency samples and window packets count only inside it.
  static std::atomic<bool> measuring;

  // Called by the worker's pacer every few ms.
  void send_due(std::chrono::steady_clock::time_point now);

 private:
  struct SourceTrack {
    uint32_t first = 0, highest = 0;
    uint64_t distinct = 0;
    std::vector<bool> seen;  // by sequence - first (bounded by kMaxTracked)
    std::vector<std::pair<uint32_t, uint32_t>> skipped;  // (first, count): see SourceSpan; bounded
  };
  void on_rtp(const media::IncomingRtp& packet);
  // Returns how many sequence numbers were skipped ahead of `seq` (0: in order or late).
  uint32_t track(SourceTrack& t, uint32_t seq);
  void notify();

  transports::MediaWorker& worker_;
  PeerOptions options_;
  std::unique_ptr<transports::PeerConnection> pc_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool gathered_ = false, connected_ = false;
  std::atomic<bool> closed_{false};
  std::string close_reason_;
  std::atomic<uint64_t> first_media_ns_{0}, sent_{0}, send_failures_{0};
  uint64_t created_ns_ = 0;
  // Worker-side state.
  int audio_mindex_ = -1, video_mindex_ = -1;
  std::unique_ptr<OpusSource> audio_;
  std::unique_ptr<Vp8Source> video_;
  uint32_t audio_seq_ = 0, video_seq_ = 0;
  std::vector<OutPacket> pending_;
  ReceiveTotals received_;
  std::unordered_map<uint32_t, SourceTrack> sources_;     // by trailer source (or m-line for mixes)
  std::unordered_map<int, uint16_t> last_seq_;             // by m-line: server sequence continuity
  uint32_t audio_ssrc_, video_ssrc_;
};

// One pacer per worker: a 5 ms GLib timer that lets every sending peer on that worker send what
// is due (one timer per worker instead of one per peer keeps the client's own cost down).
class Pacer {
 public:
  explicit Pacer(transports::MediaWorker& worker);
  ~Pacer();
  void add(Peer* peer);     // any thread
  void remove(Peer* peer);  // any thread; the peer gets no call after it returns
  void stop();              // any thread: no peer is called any more

 private:
  transports::MediaWorker& worker_;
  std::vector<Peer*> peers_;  // worker thread only
  guint timer_ = 0;
};

}  // namespace junction::loadgen

#pragma once
// A WebRTC PeerConnection on the server side: ICE (libnice) -> DTLS (OpenSSL) -> SRTP (transports/srtp_session, OpenSSL)
// with BUNDLE and rtcp-mux on one transport, and data channels (SCTP over DTLS, usrsctp) when
// an m=application line was negotiated. It demultiplexes what arrives by first byte
// (RFC 7983), does the generic RTCP work itself (NACK answers from a packet cache, NACK
// generation, SR/RR, RTT) and hands media and routing feedback (keyframe requests, REMB) to its
// owner. Lives on one media worker: create, call and destroy it there; every event fires there.
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/media/data_message.h"
#include "core/media/media_packet.h"
#include "core/media/nack_generator.h"
#include "core/media/ntp_time.h"
#include "core/media/receive_stats.h"
#include "core/media/retransmission_cache.h"
#include "core/media/sdp.h"
#include "transports/data_channels.h"
#include "transports/dtls_transport.h"
#include "transports/ice_transport.h"
#include "transports/media_worker.h"
#include "transports/sctp_transport.h"
#include "transports/srtp_session.h"

namespace junction::transports {

struct PeerConnectionConfig {
  IceConfig ice;
  std::shared_ptr<const DtlsCertificate> certificate;
  std::chrono::seconds consent_timeout{30};         // nothing from the peer this long: closed
  std::chrono::milliseconds no_media_timeout{1000};  // a stream silent this long: not receiving
  int slowlink_threshold = 4;                        // lost packets per second for `slowlink`; 0 = off
};

class PeerConnection {
 public:
  struct Events {
    std::function<void(const std::string& candidate)> local_candidate;
    std::function<void()> gathering_done;
    std::function<void()> connected;                          // DTLS up, SRTP keys in place
    std::function<void(const std::string& reason)> closed;   // once; the owner then drops it
    std::function<void(int mindex, media::MediaKind kind, bool receiving)> media_state;
    std::function<void(const media::IncomingRtp& packet)> rtp;
    std::function<void(int mindex)> keyframe_request;         // PLI/FIR for a stream we send
    std::function<void(uint64_t bitrate_bps)> remb;
    // More than slowlink_threshold packets lost in the last second: `uplink` for what the peer
    // sends us (counted from gaps), downlink for what we send it (counted from its NACKs).
    std::function<void(int mindex, media::MediaKind kind, bool uplink, uint32_t lost)> slowlink;
    std::function<void(const media::DataMessage& message)> data;  // one data channel message
    std::function<void()> data_ready;                             // a data channel opened
  };

  PeerConnection(MediaWorker& worker, uint64_t id, const PeerConnectionConfig& config, Events events);
  ~PeerConnection();
  PeerConnection(const PeerConnection&) = delete;
  PeerConnection& operator=(const PeerConnection&) = delete;

  // The peer's offer or answer: ICE credentials and candidates, DTLS fingerprint and role, and
  // the simulcast layers it sends (`rids_lowest_first`: the jsep's rid_order is "lmh", see
  // core/media/simulcast.h). Returns "" or why it cannot be used.
  std::string set_remote_description(const media::SessionDescription& remote, bool is_offer,
                                     bool rids_lowest_first = false);
  // Our offer or answer as the plugin wrote it: payload types, SSRCs and extension ids to use.
  void set_local_description(const media::SessionDescription& local);
  // Adds what the transport owns to a local description: ICE credentials, fingerprint, setup,
  // candidates gathered so far, the BUNDLE group, rtcp-mux.
  void fill_transport(media::SessionDescription& local, bool is_offer) const;
  void gather();
  // Before a local offer: starts ICE as the controlling agent (RFC 8445 §6.1.1, the offerer).
  // The DTLS role is settled by the answer's a=setup.
  void prepare_offer();

  void add_remote_candidate(const std::string& candidate);
  void remote_candidates_done();

  // Protects and sends one plain RTP packet on m-line `mindex`, with our SSRC for that line. The
  // packet's own header extensions are not sent (their ids are its sender's); ours are: the mid
  // and, on an audio line where the peer negotiated it, `audio_level` as the RFC 6464 byte (V bit
  // and level in -dBov), which lets a mixer on the other side skip decoding silence.
  bool send_rtp(int mindex, std::span<const uint8_t> packet, std::optional<uint8_t> audio_level = std::nullopt);
  void request_keyframe(int mindex);  // PLI to the peer for the stream it sends on `mindex`
  void send_remb(uint64_t bitrate_bps);
  // Sends one message on the data channel labelled `label` ("" = the first one), opening a
  // channel with that label when there is none. False without a data channel transport.
  bool send_data(std::string_view label, std::string_view protocol, bool binary, std::span<const uint8_t> data);
  void close(const std::string& reason);

  nlohmann::json stats() const;
  nlohmann::json data_stats() const;  // null without data channels
  uint64_t id() const { return id_; }
  bool closed() const { return closed_; }

  // The PeerConnection with this id on the calling worker, or null (a per-worker registry, so
  // lookups on the media path take no lock).
  static PeerConnection* find_on_this_worker(uint64_t id);

 private:
  struct SendStream;
  struct RecvStream;
  struct Line;
  void create_ice(bool controlling);
  void on_ice_packet(std::span<const uint8_t> datagram);
  void on_ice_state(IceTransport::State state);
  void on_dtls_state(DtlsTransport::State state, const std::string& reason);
  void on_rtp(uint8_t* data, size_t length);
  void on_rtcp(uint8_t* data, size_t length);
  RecvStream* recv_stream_for(const media::RtpPacket& rtp);
  void retransmit(SendStream& stream, uint16_t seq);
  void send_rtcp(uint8_t* data, size_t length);
  void send_reports();
  void send_nacks(std::chrono::steady_clock::time_point now);
  void check_slowlink();
  void check_timers(std::chrono::steady_clock::time_point now);
  void schedule_dtls_timer();
  guint add_timeout(std::chrono::milliseconds period, bool (PeerConnection::*tick)());
  static gboolean tick_worker(gpointer unused);
  void tick_reports();
  bool tick_dtls();
  void start_sctp();
  // The packet being received / sent, one pair per thread rather than per PeerConnection: a
  // worker handles one packet at a time, and in a fan-out the same 2 kB stay in the L1 cache
  // from one subscriber to the next (4 kB less per PeerConnection, too). Aligned for the ciphers.
  alignas(16) static thread_local std::array<uint8_t, 2048> rx_;
  alignas(16) static thread_local std::array<uint8_t, 2048> tx_;

  MediaWorker& worker_;
  uint64_t id_;
  PeerConnectionConfig config_;
  Events events_;
  // The ICE agent's own GLib context on the worker (declared before ice_: retired after it).
  struct IceContext {
    MediaWorker& worker;
    GMainContext* context = nullptr;
    ~IceContext();
  } ice_context_{worker_};
  std::unique_ptr<IceTransport> ice_;
  std::unique_ptr<DtlsTransport> dtls_;
  std::unique_ptr<SrtpSession> srtp_in_, srtp_out_;
  std::optional<DtlsTransport::Role> dtls_role_;
  std::string remote_fingerprint_;
  std::vector<std::unique_ptr<Line>> lines_;            // by m-line index
  std::vector<std::unique_ptr<RecvStream>> recv_;        // by arrival of a new SSRC
  int mid_extension_id_ = 0;                              // the mid header extension, if negotiated
  int audio_level_extension_id_ = 0;                      // RFC 6464 ssrc-audio-level, if negotiated
  int rid_extension_id_ = 0, repaired_rid_extension_id_ = 0;  // RFC 8852, if negotiated
  uint32_t rtcp_ssrc_;                                    // sender SSRC of our feedback
  std::string cname_;
  bool gathering_done_ = false;
  bool connected_ = false;
  bool closed_ = false;
  std::chrono::steady_clock::time_point created_, last_received_;
  guint dtls_timer_ = 0;
  struct Counters {
    uint64_t rtp_in = 0, rtp_out = 0, bytes_in = 0, bytes_out = 0, rtcp_in = 0, rtcp_out = 0;
    uint64_t srtp_drops = 0, unknown_drops = 0, garbage = 0, nacks_in = 0, nacks_out = 0;
    uint64_t retransmits = 0, plis_in = 0, plis_out = 0;
  } counters_;
  std::chrono::microseconds rtt_{0};
  // Data channels: the a=sctp-port of each side once an m=application line is negotiated.
  std::optional<uint16_t> local_sctp_port_, remote_sctp_port_;
  std::unique_ptr<SctpTransport> sctp_;      // from DTLS connected; destroyed before dtls_
  std::unique_ptr<DataChannels> channels_;
  media::NtpClock ntp_clock_;
};

}  // namespace junction::transports

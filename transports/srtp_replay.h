#pragma once
// Packet indexes and replay windows of one SRTP stream (RFC 3711 §3.3.1, §3.3.2, Appendix A),
// computed the way libsrtp2 computes them so that both accept and refuse the same packets (the
// differential tests in tests/unit/transports/srtp_differential_test.cpp hold us to that).
// Pure arithmetic, no crypto: a window is only updated (add) after the packet authenticated.
#include <cstdint>

namespace junction::transports {

enum class ReplayCheck { kOk, kReplay, kTooOld };

// RTP: the 48-bit index ROC * 2^16 + SEQ of the newest packet, and which of the 128 before it
// were seen (bit j: index - j).
class RtpReplayWindow {
 public:
  static constexpr int kWindow = 128;

  // The index of a packet carrying `seq` and its distance from the newest (`delta` > 0: newer).
  // RFC 3711 Appendix A: of ROC-1, ROC, ROC+1 the one that puts the index closest to the newest.
  // Until the newest index passes 2^15 the ROC is taken as 0 (as libsrtp does: the guess could
  // otherwise wrap to ROC 0xFFFFFFFF at the start of a stream).
  uint64_t estimate(uint16_t seq, int64_t* delta) const {
    if (index_ <= kSeqMedian) {
      *delta = static_cast<int64_t>(seq) - static_cast<int64_t>(index_);
      return seq;
    }
    const uint32_t roc = static_cast<uint32_t>(index_ >> 16);
    const uint16_t local = static_cast<uint16_t>(index_);
    uint32_t guess_roc = roc;
    int64_t d = static_cast<int64_t>(seq) - local;
    if (local < kSeqMedian) {
      if (d > static_cast<int64_t>(kSeqMedian)) {
        guess_roc = roc - 1;
        d -= kSeqMax;
      }
    } else if (static_cast<int64_t>(local) - kSeqMedian > seq) {
      guess_roc = roc + 1;
      d += kSeqMax;
    }
    *delta = d;
    return (uint64_t{guess_roc} << 16 | seq) & 0xFFFFFFFFFFFFull;
  }

  ReplayCheck check(int64_t delta) const {
    if (delta > 0) return ReplayCheck::kOk;
    if (delta <= -kWindow) return ReplayCheck::kTooOld;
    return (bits_ >> -delta) & 1 ? ReplayCheck::kReplay : ReplayCheck::kOk;
  }

  void add(int64_t delta) {
    if (delta > 0) {
      // libsrtp advances the index by delta truncated to 16 bits; delta never exceeds 2^16 - 1
      // here (estimate() keeps it within half a sequence cycle once past the start).
      index_ = (index_ + static_cast<uint16_t>(delta)) & 0xFFFFFFFFFFFFull;
      bits_ = delta >= kWindow ? 0 : bits_ << delta;
      bits_ |= 1;
    } else {
      bits_ |= static_cast<unsigned __int128>(1) << -delta;
    }
  }

  uint32_t roc() const { return static_cast<uint32_t>(index_ >> 16); }

 private:
  static constexpr uint32_t kSeqMedian = 1u << 15;
  static constexpr int64_t kSeqMax = 1 << 16;
  uint64_t index_ = 0;
  unsigned __int128 bits_ = 0;
};

// SRTCP: the 31-bit index is in the packet. The window covers [start, start + 127] (bit i:
// start + i seen); the sender's counter is the same start, incremented before each packet, so
// the first SRTCP index sent is 1 (as libsrtp sends).
class RtcpReplayWindow {
 public:
  static constexpr uint32_t kMaxIndex = 0x7FFFFFFF;
  static constexpr uint32_t kWindow = 128;

  ReplayCheck check(uint32_t index) const {
    if (index >= start_ + kWindow) return ReplayCheck::kOk;
    if (index < start_) return ReplayCheck::kTooOld;
    return (bits_ >> (index - start_)) & 1 ? ReplayCheck::kReplay : ReplayCheck::kOk;
  }

  void add(uint32_t index) {
    if (index < start_) return;
    uint32_t delta = index - start_;
    if (delta < kWindow) {
      bits_ |= static_cast<unsigned __int128>(1) << delta;
      return;
    }
    delta -= kWindow - 1;
    bits_ = delta >= kWindow ? 0 : bits_ >> delta;
    bits_ |= static_cast<unsigned __int128>(1) << (kWindow - 1);
    start_ += delta;
  }

  // Sender side: the next index to send, false once 2^31 - 1 packets went out under this key.
  bool next(uint32_t* index) {
    if (start_ >= kMaxIndex) return false;
    *index = ++start_;
    return true;
  }

 private:
  uint32_t start_ = 0;
  unsigned __int128 bits_ = 0;
};

}  // namespace junction::transports

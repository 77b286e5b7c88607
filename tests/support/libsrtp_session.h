#pragma once
// libsrtp2 behind the same calls as transports/SrtpSession: the reference the differential
// tests, the SRTP fuzz target and the SRTP benchmark compare our OpenSSL implementation with.
// Test-only (the server no longer links libsrtp). One session = one direction, every SSRC
// (ssrc_any_inbound / ssrc_any_outbound), configured the way the server used to configure it:
// default replay window (128), allow_repeat_tx on the outbound side.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "transports/srtp_session.h"

struct srtp_ctx_t_;

namespace junction::testing {

class LibsrtpSession {
 public:
  using Direction = transports::SrtpSession::Direction;
  // What happened to the last packet, in the terms SrtpSession::Stats counts.
  enum class Result { kOk, kAuthFailure, kReplay, kOtherError };

  static std::unique_ptr<LibsrtpSession> create(transports::SrtpProfile profile,
                                                std::span<const uint8_t> key_salt, Direction direction);
  explicit LibsrtpSession(srtp_ctx_t_* session) : session_(session) {}
  ~LibsrtpSession();
  LibsrtpSession(const LibsrtpSession&) = delete;
  LibsrtpSession& operator=(const LibsrtpSession&) = delete;

  // Same contract as SrtpSession: in place, the new length or 0 on failure.
  size_t protect_rtp(uint8_t* packet, size_t length, size_t capacity);
  size_t protect_rtcp(uint8_t* packet, size_t length, size_t capacity);
  size_t unprotect_rtp(uint8_t* packet, size_t length);
  size_t unprotect_rtcp(uint8_t* packet, size_t length);
  Result last_result() const { return last_; }

 private:
  size_t finish(int status, int length);
  srtp_ctx_t_* session_;
  Result last_ = Result::kOk;
};

}  // namespace junction::testing

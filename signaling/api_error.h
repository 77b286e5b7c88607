#pragma once
// The Janus API's error codes (see shared API.md): numeric values and wording are part of the
// wire protocol that janus.js and other Janus clients rely on.
#include <stdexcept>
#include <string>

namespace junction::signaling {

enum class ApiError : int {
  kUnauthorized = 403,
  kUnauthorizedPlugin = 405,
  kTransportSpecific = 450,
  kMissingRequest = 452,
  kUnknownRequest = 453,
  kInvalidJson = 454,
  kInvalidJsonObject = 455,
  kMissingMandatoryElement = 456,
  kInvalidRequestPath = 457,
  kSessionNotFound = 458,
  kHandleNotFound = 459,
  kPluginNotFound = 460,
  kPluginAttach = 461,
  kPluginMessage = 462,
  kPluginDetach = 463,
  kJsepUnknownType = 464,
  kJsepInvalidSdp = 465,
  kTrickleInvalidStream = 466,
  kInvalidElementType = 467,
  kSessionConflict = 468,
  kUnexpectedAnswer = 469,
  kTokenNotFound = 470,
  kWebrtcState = 471,
  kNotAcceptingSessions = 472,
  kUnknown = 490,
};

// The generic wording for a code ("Session not found", ...).
const char* default_reason(ApiError code);

// Thrown by control-plane code; the transport turns it into an `error` reply with the code.
class ApiException : public std::runtime_error {
 public:
  ApiException(ApiError code, const std::string& reason) : std::runtime_error(reason), code_(code) {}
  ApiError code() const { return code_; }

 private:
  ApiError code_;
};

}  // namespace junction::signaling

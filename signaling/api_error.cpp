#include "signaling/api_error.h"

namespace junction::signaling {

const char* default_reason(ApiError code) {
  switch (code) {
    case ApiError::kUnauthorized: return "Unauthorized request (wrong or missing secret/token)";
    case ApiError::kUnauthorizedPlugin: return "Unauthorized access to plugin (token is not allowed to)";
    case ApiError::kTransportSpecific: return "Transport specific error";
    case ApiError::kMissingRequest: return "Missing request";
    case ApiError::kUnknownRequest: return "Unknown request";
    case ApiError::kInvalidJson: return "Invalid JSON";
    case ApiError::kInvalidJsonObject: return "Invalid JSON Object";
    case ApiError::kMissingMandatoryElement: return "Missing mandatory element";
    case ApiError::kInvalidRequestPath: return "Invalid path for this request";
    case ApiError::kSessionNotFound: return "Session not found";
    case ApiError::kHandleNotFound: return "Handle not found";
    case ApiError::kPluginNotFound: return "Plugin not found";
    case ApiError::kPluginAttach: return "Error attaching plugin";
    case ApiError::kPluginMessage: return "Error sending message to plugin";
    case ApiError::kPluginDetach: return "Error detaching from plugin";
    case ApiError::kJsepUnknownType: return "Unsupported JSEP type";
    case ApiError::kJsepInvalidSdp: return "Invalid SDP";
    case ApiError::kTrickleInvalidStream: return "Invalid stream";
    case ApiError::kInvalidElementType: return "Invalid element type";
    case ApiError::kSessionConflict: return "Session ID already in use";
    case ApiError::kUnexpectedAnswer: return "Unexpected ANSWER (no OFFER)";
    case ApiError::kTokenNotFound: return "Token not found";
    case ApiError::kWebrtcState: return "Wrong WebRTC state";
    case ApiError::kNotAcceptingSessions: return "Currently not accepting new sessions";
    case ApiError::kUnknown: return "Unknown error";
  }
  return "Unknown error";
}

}  // namespace junction::signaling

#pragma once
// AudioBridge's own error codes (the values Janus's audiobridge uses, API.md §3). They travel as
// plugin data {"audiobridge":"event","error_code":N,"error":"..."}, never as API errors.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>

#include "plugins/common/request_body.h"
#include <string>

namespace junction::audiobridge {

using json = nlohmann::json;

enum ErrorCode : int {
  kErrorUnknown = 499,
  kErrorNoMessage = 480,
  kErrorInvalidJson = 481,
  kErrorInvalidRequest = 482,
  kErrorMissingElement = 483,
  kErrorInvalidElement = 484,
  kErrorNoSuchRoom = 485,
  kErrorRoomExists = 486,
  kErrorUnauthorized = 487,
  kErrorNoSuchUser = 488,
  kErrorLibopusError = 489,
  kErrorNotJoined = 490,
  kErrorAlreadyJoined = 491,
  kErrorIdExists = 492,
  kErrorInvalidSdp = 493,
  kErrorNoSuchFile = 494,
};

// Thrown by request handlers (control plane only); the dispatcher turns it into the error data.
struct RequestError : std::runtime_error {
  int code;
  RequestError(int c, const std::string& why) : std::runtime_error(why), code(c) {}
};

// A request body read field by field: absent (or null) -> nullopt, wrong type 484, a required
// field that is absent 483.
using Body = plugins::RequestBody<RequestError, kErrorMissingElement, kErrorInvalidElement>;

}  // namespace junction::audiobridge

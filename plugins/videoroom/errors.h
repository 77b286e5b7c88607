#pragma once
// VideoRoom's own error codes (the values Janus's videoroom uses, API.md §3). They travel as
// plugin data {"videoroom":"event","error_code":N,"error":"..."}, never as API errors.
#include <stdexcept>
#include <string>

namespace junction::videoroom {

enum ErrorCode : int {
  kErrorUnknown = 499,
  kErrorNoMessage = 421,
  kErrorInvalidJson = 422,
  kErrorInvalidRequest = 423,
  kErrorJoinFirst = 424,
  kErrorAlreadyJoined = 425,
  kErrorNoSuchRoom = 426,
  kErrorRoomExists = 427,
  kErrorNoSuchFeed = 428,
  kErrorMissingElement = 429,
  kErrorInvalidElement = 430,
  kErrorInvalidSdpType = 431,
  kErrorPublishersFull = 432,
  kErrorUnauthorized = 433,
  kErrorAlreadyPublished = 434,
  kErrorNotPublished = 435,
  kErrorIdExists = 436,
  kErrorInvalidSdp = 437,
};

// Thrown by request handlers (control plane only); the dispatcher turns it into the error data.
struct RequestError : std::runtime_error {
  int code;
  RequestError(int c, const std::string& why) : std::runtime_error(why), code(c) {}
};

}  // namespace junction::videoroom

#pragma once
// The video mixer's error codes: 520-539, a range no Janus plugin uses (README.md "Errors"). They
// travel as plugin data {"videomixer":"event","error_code":N,"error":"..."}, never as API errors.
#include <stdexcept>
#include <string>

#include "plugins/common/request_body.h"

namespace junction::videomixer {

enum ErrorCode : int {
  kErrorNoMessage = 520,
  kErrorInvalidJson = 521,
  kErrorInvalidRequest = 522,
  kErrorMissingElement = 523,
  kErrorInvalidElement = 524,
  kErrorNoSuchRoom = 525,
  kErrorRoomExists = 526,
  kErrorUnauthorized = 527,
  kErrorNoSuchParticipant = 528,
  kErrorMixer = 529,
  kErrorNotJoined = 530,
  kErrorAlreadyJoined = 531,
  kErrorIdExists = 532,
  kErrorInvalidSdp = 533,
  kErrorRoomFull = 534,
  kErrorUnknown = 539,
};

// Thrown by request handlers (control loop only); the dispatcher turns it into the error data.
struct RequestError : std::runtime_error {
  int code;
  RequestError(int c, const std::string& why) : std::runtime_error(why), code(c) {}
};

using Body = plugins::RequestBody<RequestError, kErrorMissingElement, kErrorInvalidElement>;

}  // namespace junction::videomixer

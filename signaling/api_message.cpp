#include "signaling/api_message.h"

#include "core/base/json_limits.h"

namespace junction::signaling {

namespace {

ParseOutcome fail(ApiError code, const std::string& reason, std::string_view transaction = {}) {
  return ParseOutcome{std::nullopt, make_error(code, reason, transaction)};
}

}  // namespace

json make_reply(std::string_view janus, std::string_view transaction, uint64_t session_id) {
  json reply = {{"janus", janus}};
  if (session_id != 0) reply["session_id"] = session_id;
  if (!transaction.empty()) reply["transaction"] = transaction;
  return reply;
}

json make_error(ApiError code, std::string_view reason, std::string_view transaction,
                uint64_t session_id) {
  json reply = make_reply("error", transaction, session_id);
  reply["error"] = {{"code", static_cast<int>(code)},
                    {"reason", reason.empty() ? std::string(default_reason(code)) : std::string(reason)}};
  return reply;
}

uint64_t read_id_field(const json& message, const char* field) {
  auto it = message.find(field);
  if (it == message.end() || it->is_null()) return 0;
  if (it->is_number_unsigned()) return it->get<uint64_t>();
  if (it->is_number_integer() && it->get<int64_t>() == 0) return 0;
  throw ApiException(ApiError::kInvalidRequestPath,
                     std::string("Invalid path for this request (") + field + " is not a positive integer)");
}

ParseOutcome parse_request(std::string_view text, const PathIds* path) {
  if (json_nesting_depth(text, kMaxJsonDepth) > kMaxJsonDepth)
    return fail(ApiError::kInvalidJson, "JSON error: nested deeper than " +
                                            std::to_string(kMaxJsonDepth) + " levels");
  json message = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (message.is_discarded()) return fail(ApiError::kInvalidJson, "JSON error: not valid JSON");
  // Janus answers an array (a batch, which it does not support) as a message without `janus`,
  // and any other non-object as unparseable.
  if (message.is_array())
    return fail(ApiError::kMissingMandatoryElement, "Missing mandatory element (janus)");
  if (!message.is_object())
    return fail(ApiError::kInvalidJson, "JSON error: the request must be a JSON object");

  auto janus = message.find("janus");
  if (janus == message.end())
    return fail(ApiError::kMissingMandatoryElement, "Missing mandatory element (janus)");
  if (!janus->is_string())
    return fail(ApiError::kInvalidElementType, "Invalid element type (janus should be a string)");
  auto transaction = message.find("transaction");
  if (transaction == message.end())
    return fail(ApiError::kMissingMandatoryElement, "Missing mandatory element (transaction)");
  if (!transaction->is_string())
    return fail(ApiError::kInvalidElementType, "Invalid element type (transaction should be a string)");

  Request request;
  request.verb = janus->get<std::string>();
  request.transaction = transaction->get<std::string>();
  if (path != nullptr) {
    request.session_id = path->session_id;
    request.handle_id = path->handle_id;
  } else {
    try {
      request.session_id = read_id_field(message, "session_id");
      request.handle_id = read_id_field(message, "handle_id");
    } catch (const ApiException& e) {
      return fail(e.code(), e.what(), request.transaction);
    }
  }
  if (request.handle_id != 0 && request.session_id == 0)
    return fail(ApiError::kInvalidRequestPath, "Invalid path for this request (handle without session)",
                request.transaction);
  request.message = std::move(message);
  return ParseOutcome{std::move(request), nullptr};
}

}  // namespace junction::signaling

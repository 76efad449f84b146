// The Cloud API's send side, as wire format only (no I/O): request bodies for
// POST /<phone-number-id>/messages built from our own OutboundMessage (text,
// interactive reply buttons, interactive list, template) and for marking an
// inbound message as read; the answers parsed; and what to do about an error.
//
// The recipient is written as "+<wa_id>" (Meta prepends the business number's
// country code to a number without "+"). Everything here is pure and thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/message.h"

namespace vaxbot::whatsapp {

std::string send_body(const std::string& wa_id, const core::OutboundMessage& message);

// {"messaging_product":"whatsapp","status":"read","message_id":"<id>"}
std::string read_receipt_body(const std::string& message_id);

// A Graph API error: {"error":{"message","type","code","error_data":{"details"},"fbtrace_id"}}.
struct ApiError {
  static constexpr int kNoCode = -1;  // the answer carried no readable error code
  int code = kNoCode;
  std::string message;
  std::string details;
  std::string trace_id;  // fbtrace_id, worth quoting to Meta's support
};

// What Meta answered to one POST /messages. Accepted when the HTTP status is
// 2xx and the body is a success: messages[0].id for a message (message_id
// holds it), {"success":true} for a read receipt (message_id empty).
// Anything else is an error: the body's error object when it has one, else
// code kNoCode with a message naming the HTTP status.
struct ApiAnswer {
  bool accepted = false;
  std::string message_id;
  ApiError error;
};
ApiAnswer parse_answer(int http_status, std::string_view body);

// What the sender does about a refused send, decided by the Cloud API error
// code (not by the HTTP status, which Meta changes between versions):
//   kRetry  rate limits and temporary failures (1, 2, 4, 80007, 130429,
//           131000, 131016, 131048, 131056, 131057); also an answer without
//           a code whose HTTP status is 429 or 5xx
//   kAlert  the token or the account is broken (0, 190, 10, 200-299, 131005,
//           368, 131031): every send will fail until a person fixes it
//   kFail   everything else (131047 outside the 24-hour window, 131026
//           undeliverable, 100/131008/131009 bad parameters, 132xxx template
//           errors, unknown codes): sending the same request again cannot help
enum class ErrorAction { kRetry, kFail, kAlert };
ErrorAction error_action(int code, int http_status);

}  // namespace vaxbot::whatsapp

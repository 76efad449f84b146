// Parsing a WhatsApp Cloud API webhook body into our own events.
//
// parse_webhook() reads every entry[], changes[], messages[] and statuses[] of
// one POST body (Meta batches up to 1,000 updates) and returns them as
// core::Events in payload order. It never throws and never crashes on odd
// shapes: a message or status that lacks what we need becomes a core::Unusable
// event naming where it was and why, and parsing goes on with the rest.
//
//   body not JSON, or JSON without a string "object"  -> Error(kInvalidInput)
//   "object" other than "whatsapp_business_account"  -> Webhook{ignored = true}
//   changes whose "field" is not "messages"           -> skipped, counted
//
// Text is kept whole (no length limit here) and \u escapes, surrogate pairs
// included, are decoded to UTF-8 by the JSON parser. Thread-safe (no state).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/result.h"

namespace vaxbot::whatsapp {

inline constexpr std::string_view kBusinessAccountObject = "whatsapp_business_account";

struct Webhook {
  std::string object;       // the payload's "object"
  bool ignored = false;     // object is not a WhatsApp Business Account
  int skipped_changes = 0;  // changes of other fields (templates, account updates, ...)
  std::vector<core::Event> events;
};

core::Result<Webhook> parse_webhook(std::string_view body);

}  // namespace vaxbot::whatsapp

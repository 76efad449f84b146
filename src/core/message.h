// OutboundMessage: a message vaxbot sends to a resident, in our own terms.
//
// whatsapp/ turns it into the Cloud API's JSON (text, interactive buttons,
// interactive list, template); the chat command shows it as numbered options.
// A template message is the only kind WhatsApp delivers outside the 24-hour
// customer service window; it names a template approved in Meta's dashboard. Limits
// (3 buttons, 10 rows, title lengths) are the sender's to respect: the flow
// engine and `vaxbot check` make sure content stays within them.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace vaxbot::core {

struct Option {
  std::string id;
  std::string title;
  std::string description;

  bool operator==(const Option&) const = default;
};

struct OutboundMessage {
  enum class Kind { kText, kButtons, kList, kTemplate };
  Kind kind = Kind::kText;
  std::string body;
  std::string button;  // list button label
  std::vector<Option> options;
  std::string key;  // the template key of the body, for transcripts and tests
  // kTemplate: an approved template, its language code, and its body parameters
  // as (name, text); an empty name makes the parameter positional.
  std::string template_name;
  std::string template_language;
  std::vector<std::pair<std::string, std::string>> template_parameters;

  bool operator==(const OutboundMessage&) const = default;
};

// The order in which the outbox sends (lower first). Under a backlog, residents
// in the middle of a conversation are answered before new ones are greeted, so
// bookings keep completing instead of every resident waiting on every turn.
namespace priority {
inline constexpr int kReply = 0;     // a reply to a resident in the middle of a conversation
inline constexpr int kGreeting = 1;  // the first reply of a conversation; read receipts
inline constexpr int kReminder = 2;
inline constexpr int kBulk = 3;
}  // namespace priority

}  // namespace vaxbot::core

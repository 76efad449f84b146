// OutboundMessage: a reply vaxbot sends to a resident, in our own terms.
//
// whatsapp/ turns it into the Cloud API's JSON (text, interactive buttons,
// interactive list); the chat command shows it as numbered options. Limits
// (3 buttons, 10 rows, title lengths) are the sender's to respect: the flow
// engine and `vaxbot check` make sure content stays within them.
#pragma once

#include <string>
#include <vector>

namespace vaxbot::core {

struct Option {
  std::string id;
  std::string title;
  std::string description;

  bool operator==(const Option&) const = default;
};

struct OutboundMessage {
  enum class Kind { kText, kButtons, kList };
  Kind kind = Kind::kText;
  std::string body;
  std::string button;  // list button label
  std::vector<Option> options;
  std::string key;  // the template key of the body, for transcripts and tests

  bool operator==(const OutboundMessage&) const = default;
};

}  // namespace vaxbot::core

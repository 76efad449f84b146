// Inbound events: what the rest of vaxbot sees of a webhook.
//
// whatsapp/ turns Meta's JSON into these value types at the edge; nothing past
// it ever sees Meta's JSON. One webhook POST becomes zero or more Events.
//
//   InboundMessage  a resident wrote to us (text, tap, media, location, ...)
//   StatusUpdate    Meta tells us what happened to a reply we sent
//   Unusable        part of the payload had a shape we cannot use; recorded
//                   and logged so nothing is silently dropped
//
// All strings are UTF-8. Plain values; copy and move freely.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace vaxbot::core {

// What kind of message a resident sent. The names are stable: they are stored
// in the database and used as metric labels.
enum class MessageKind {
  kText,
  kButtonReply,  // interactive reply button tapped (id + title)
  kListReply,    // interactive list row chosen (id + title + description)
  kButton,       // quick-reply button of a template message (payload + text)
  kImage,
  kDocument,
  kAudio,
  kVideo,
  kSticker,
  kLocation,
  kContacts,
  kReaction,
  kSystem,       // e.g. the resident changed their number
  kUnsupported,  // Meta could not deliver the content (type "unsupported", edits, polls, ...)
  kUnknown,      // legacy type "unknown" (older payloads)
};

std::string_view to_string(MessageKind kind);
std::optional<MessageKind> message_kind_from_string(std::string_view name);

struct InboundMessage {
  std::string id;               // Meta's message id (wamid...), the de-duplication key
  std::string from;             // the resident's WhatsApp id (phone digits); conversation key
  std::string profile_name;     // contacts[].profile.name matched by wa_id; may be empty
  std::string phone_number_id;  // our business number that received it
  std::int64_t timestamp = 0;   // Unix seconds, as Meta stamped it (0 if absent)
  MessageKind kind = MessageKind::kText;

  // Content, by kind:
  //   text: text; button_reply/list_reply: reply_id + text (title) + description;
  //   button: reply_id (payload) + text; image/document/video: media_id, mime_type,
  //   text (caption), filename (document); audio/sticker: media_id, mime_type;
  //   location: latitude/longitude + text (name) + description (address);
  //   contacts: text (first contact's formatted name); reaction: text (emoji,
  //   empty when removed) + detail (the message reacted to); system: text (body)
  //   + detail (new WhatsApp id); unsupported/unknown: detail (unsupported.type)
  //   + error_code + error_title.
  std::string text;
  std::string reply_id;
  std::string description;
  std::string media_id;
  std::string mime_type;
  std::string filename;
  std::string detail;
  std::optional<double> latitude;
  std::optional<double> longitude;
  int error_code = 0;
  std::string error_title;

  std::string context_id;  // the message of ours this one replies to (context.id), if any
};

enum class DeliveryState { kSent, kDelivered, kRead, kFailed, kPlayed };

std::string_view to_string(DeliveryState state);
std::optional<DeliveryState> delivery_state_from_string(std::string_view name);

struct StatusUpdate {
  std::string message_id;  // the id Meta returned when we sent
  std::string recipient;   // recipient_id
  std::string phone_number_id;
  DeliveryState state = DeliveryState::kSent;
  std::int64_t timestamp = 0;
  int error_code = 0;  // on kFailed: errors[0].code
  std::string error_title;
  std::string error_detail;
};

// A part of a payload we could not turn into an event. `where` locates it in
// the payload (e.g. "entry[0].changes[1].messages[3]"), `reason` says what was
// wrong, `id` is the message or status id when one could be read. Neither
// carries message content.
struct Unusable {
  std::string where;
  std::string reason;
  std::string id;
};

using Event = std::variant<InboundMessage, StatusUpdate, Unusable>;

// The label of an event for metrics and logs: the message kind, "status", or "unusable".
std::string_view event_label(const Event& event);

}  // namespace vaxbot::core

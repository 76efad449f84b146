#include "core/event.h"

#include <array>
#include <utility>

namespace vaxbot::core {
namespace {

constexpr std::array<std::pair<MessageKind, std::string_view>, 15> kKindNames{{
    {MessageKind::kText, "text"},
    {MessageKind::kButtonReply, "button_reply"},
    {MessageKind::kListReply, "list_reply"},
    {MessageKind::kButton, "button"},
    {MessageKind::kImage, "image"},
    {MessageKind::kDocument, "document"},
    {MessageKind::kAudio, "audio"},
    {MessageKind::kVideo, "video"},
    {MessageKind::kSticker, "sticker"},
    {MessageKind::kLocation, "location"},
    {MessageKind::kContacts, "contacts"},
    {MessageKind::kReaction, "reaction"},
    {MessageKind::kSystem, "system"},
    {MessageKind::kUnsupported, "unsupported"},
    {MessageKind::kUnknown, "unknown"},
}};

constexpr std::array<std::pair<DeliveryState, std::string_view>, 5> kStateNames{{
    {DeliveryState::kSent, "sent"},
    {DeliveryState::kDelivered, "delivered"},
    {DeliveryState::kRead, "read"},
    {DeliveryState::kFailed, "failed"},
    {DeliveryState::kPlayed, "played"},
}};

template <typename Enum, std::size_t N>
std::string_view name_of(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum e) {
  for (const auto& [value, name] : table) {
    if (value == e) return name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
std::optional<Enum> value_of(const std::array<std::pair<Enum, std::string_view>, N>& table,
                             std::string_view name) {
  for (const auto& [value, n] : table) {
    if (n == name) return value;
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(MessageKind kind) {
  return name_of(kKindNames, kind);
}
std::optional<MessageKind> message_kind_from_string(std::string_view name) {
  return value_of(kKindNames, name);
}
std::string_view to_string(DeliveryState state) {
  return name_of(kStateNames, state);
}
std::optional<DeliveryState> delivery_state_from_string(std::string_view name) {
  return value_of(kStateNames, name);
}

std::string_view event_label(const Event& event) {
  if (const auto* m = std::get_if<InboundMessage>(&event)) return to_string(m->kind);
  if (std::holds_alternative<StatusUpdate>(event)) return "status";
  return "unusable";
}

}  // namespace vaxbot::core

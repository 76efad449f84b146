#include "whatsapp/webhook.h"

#include <charconv>
#include <nlohmann/json.hpp>
#include <unordered_map>

namespace vaxbot::whatsapp {
namespace {

using core::InboundMessage;
using core::MessageKind;
using nlohmann::json;

// Readers that never throw: a missing key or a value of the wrong type reads
// as empty / nullopt, and the caller decides whether that makes the event unusable.
const json* member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

std::string str(const json& j, std::string_view key) {
  const json* v = member(j, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

const json& obj(const json& j, std::string_view key) {
  static const json kEmpty = json::object();
  const json* v = member(j, key);
  return v != nullptr && v->is_object() ? *v : kEmpty;
}

const json& arr(const json& j, std::string_view key) {
  static const json kEmpty = json::array();
  const json* v = member(j, key);
  return v != nullptr && v->is_array() ? *v : kEmpty;
}

std::optional<double> number(const json& j, std::string_view key) {
  const json* v = member(j, key);
  if (v != nullptr && v->is_number()) return v->get<double>();
  if (v != nullptr && v->is_string()) {  // tolerate "22.57" as well as 22.57
    const std::string& s = v->get_ref<const std::string&>();
    double d = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return std::nullopt;
}

// Meta sends integers as strings ("1767852000") and error codes as numbers; accept both.
std::int64_t integer(const json& j, std::string_view key) {
  const json* v = member(j, key);
  if (v == nullptr) return 0;
  if (v->is_number_integer()) return v->get<std::int64_t>();
  if (v->is_string()) {
    const std::string& s = v->get_ref<const std::string&>();
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size()) return n;
  }
  return 0;
}

// errors[0] of a message or status. Older payloads put the detail at the top
// level ("details"), newer ones under error_data.details; read both.
struct ErrorInfo {
  int code = 0;
  std::string title;
  std::string detail;
};

ErrorInfo first_error(const json& j) {
  const json& errors = arr(j, "errors");
  if (errors.empty()) return {};
  const json& e = errors.front();
  ErrorInfo info;
  info.code = static_cast<int>(integer(e, "code"));
  info.title = str(e, "title");
  if (info.title.empty()) info.title = str(e, "message");
  info.detail = str(obj(e, "error_data"), "details");
  if (info.detail.empty()) info.detail = str(e, "details");
  return info;
}

void read_media(const json& m, InboundMessage& out) {
  out.media_id = str(m, "id");
  out.mime_type = str(m, "mime_type");
  out.text = str(m, "caption");
  out.filename = str(m, "filename");
}

// Fills the kind-specific content. Returns a reason when the content is
// unusable, empty otherwise.
std::string read_content(const std::string& type, const json& m, InboundMessage& out) {
  auto kind = core::message_kind_from_string(type);
  if (type == "interactive") {
    const json& inter = obj(m, "interactive");
    const std::string itype = str(inter, "type");
    if (itype != "button_reply" && itype != "list_reply") {
      return "interactive of unknown type '" + itype + "'";
    }
    const json& reply = obj(inter, itype);
    out.kind = itype == "button_reply" ? MessageKind::kButtonReply : MessageKind::kListReply;
    out.reply_id = str(reply, "id");
    out.text = str(reply, "title");
    out.description = str(reply, "description");
    if (out.reply_id.empty()) return "interactive reply without an id";
    return {};
  }
  if (!kind || *kind == MessageKind::kButtonReply || *kind == MessageKind::kListReply) {
    // A type this version does not know (edit, revoke, order, request_welcome, ...):
    // deliver it as unsupported so the conversation can say what we can take.
    out.kind = MessageKind::kUnsupported;
    out.detail = type;
    return {};
  }
  out.kind = *kind;
  const json& body = obj(m, type);
  switch (out.kind) {
    case MessageKind::kText:
      if (const json* b = member(body, "body"); b == nullptr || !b->is_string()) {
        return "text without a body";
      }
      out.text = str(body, "body");
      break;
    case MessageKind::kButton:
      out.reply_id = str(body, "payload");
      out.text = str(body, "text");
      break;
    case MessageKind::kImage:
    case MessageKind::kDocument:
    case MessageKind::kAudio:
    case MessageKind::kVideo:
    case MessageKind::kSticker:
      read_media(body, out);
      break;
    case MessageKind::kLocation:
      out.latitude = number(body, "latitude");
      out.longitude = number(body, "longitude");
      out.text = str(body, "name");
      out.description = str(body, "address");
      if (!out.latitude || !out.longitude) return "location without coordinates";
      break;
    case MessageKind::kContacts: {
      const json* list = member(m, "contacts");
      if (list != nullptr && list->is_array() && !list->empty()) {
        out.text = str(obj(list->front(), "name"), "formatted_name");
      }
      break;
    }
    case MessageKind::kReaction:
      out.text = str(body, "emoji");
      out.detail = str(body, "message_id");
      break;
    case MessageKind::kSystem:
      out.text = str(body, "body");
      out.detail = str(body, "wa_id");
      if (out.detail.empty()) out.detail = str(body, "new_wa_id");
      break;
    case MessageKind::kUnsupported:
    case MessageKind::kUnknown:
      out.detail = str(body, "type");
      break;
    case MessageKind::kButtonReply:
    case MessageKind::kListReply:
      break;
  }
  return {};
}

core::Event read_message(const json& m, const std::string& where, const std::string& number_id,
                         const std::unordered_map<std::string, std::string>& names) {
  if (!m.is_object()) return core::Unusable{where, "message is not an object", {}};
  InboundMessage out;
  out.id = str(m, "id");
  out.from = str(m, "from");
  out.phone_number_id = number_id;
  out.timestamp = integer(m, "timestamp");
  const std::string type = str(m, "type");
  if (out.id.empty()) return core::Unusable{where, "message without an id", {}};
  if (out.from.empty()) return core::Unusable{where, "message without a sender", out.id};
  if (type.empty()) return core::Unusable{where, "message without a type", out.id};
  if (auto it = names.find(out.from); it != names.end()) out.profile_name = it->second;
  out.context_id = str(obj(m, "context"), "id");
  ErrorInfo error = first_error(m);
  out.error_code = error.code;
  out.error_title = error.title;
  if (std::string reason = read_content(type, m, out); !reason.empty()) {
    return core::Unusable{where, reason, out.id};
  }
  return out;
}

core::Event read_status(const json& s, const std::string& where, const std::string& number_id) {
  if (!s.is_object()) return core::Unusable{where, "status is not an object", {}};
  core::StatusUpdate out;
  out.message_id = str(s, "id");
  out.recipient = str(s, "recipient_id");
  out.phone_number_id = number_id;
  out.timestamp = integer(s, "timestamp");
  const std::string status = str(s, "status");
  if (out.message_id.empty()) return core::Unusable{where, "status without an id", {}};
  auto state = core::delivery_state_from_string(status);
  if (!state)
    return core::Unusable{where, "status of unknown kind '" + status + "'", out.message_id};
  out.state = *state;
  ErrorInfo error = first_error(s);
  out.error_code = error.code;
  out.error_title = error.title;
  out.error_detail = error.detail;
  return out;
}

void read_value(const json& value, const std::string& where, Webhook& out) {
  const std::string number_id = str(obj(value, "metadata"), "phone_number_id");
  std::unordered_map<std::string, std::string> names;
  for (const json& c : arr(value, "contacts")) {
    std::string wa_id = str(c, "wa_id");
    if (!wa_id.empty()) names.emplace(std::move(wa_id), str(obj(c, "profile"), "name"));
  }
  const json& messages = arr(value, "messages");
  for (std::size_t i = 0; i < messages.size(); ++i) {
    out.events.push_back(read_message(messages[i], where + ".messages[" + std::to_string(i) + "]",
                                      number_id, names));
  }
  const json& statuses = arr(value, "statuses");
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    out.events.push_back(
        read_status(statuses[i], where + ".statuses[" + std::to_string(i) + "]", number_id));
  }
  // Account-level errors (value.errors[], e.g. a throughput limit) concern no
  // single message; record them so they are seen.
  const json& errors = arr(value, "errors");
  for (std::size_t i = 0; i < errors.size(); ++i) {
    ErrorInfo e{static_cast<int>(integer(errors[i], "code")), str(errors[i], "title"), {}};
    out.events.push_back(core::Unusable{where + ".errors[" + std::to_string(i) + "]",
                                        "platform error " + std::to_string(e.code) + ": " + e.title,
                                        {}});
  }
}

}  // namespace

core::Result<Webhook> parse_webhook(std::string_view body) {
  json root = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (root.is_discarded())
    return core::make_error(core::ErrorCode::kInvalidInput, "body is not JSON");
  const json* object = member(root, "object");
  if (object == nullptr || !object->is_string()) {
    return core::make_error(core::ErrorCode::kInvalidInput, "JSON without a string \"object\"");
  }
  Webhook out;
  out.object = object->get<std::string>();
  if (out.object != kBusinessAccountObject) {
    out.ignored = true;
    return out;
  }
  const json* entries = member(root, "entry");
  if (entries == nullptr || !entries->is_array()) {
    out.events.push_back(core::Unusable{"entry", "payload without an entry array", {}});
    return out;
  }
  for (std::size_t e = 0; e < entries->size(); ++e) {
    const std::string entry_where = "entry[" + std::to_string(e) + "]";
    const json& entry = (*entries)[e];
    const json* changes = member(entry, "changes");
    if (changes == nullptr || !changes->is_array()) {
      out.events.push_back(core::Unusable{entry_where, "entry without a changes array", {}});
      continue;
    }
    for (std::size_t c = 0; c < changes->size(); ++c) {
      const json& change = (*changes)[c];
      const std::string where = entry_where + ".changes[" + std::to_string(c) + "]";
      if (str(change, "field") != "messages") {
        ++out.skipped_changes;
        continue;
      }
      const json* value = member(change, "value");
      if (value == nullptr || !value->is_object()) {
        out.events.push_back(core::Unusable{where, "change without a value object", {}});
        continue;
      }
      read_value(*value, where, out);
    }
  }
  return out;
}

}  // namespace vaxbot::whatsapp

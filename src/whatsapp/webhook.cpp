#include "whatsapp/webhook.h"

#include <unordered_map>

#include "whatsapp/json_read.h"

namespace vaxbot::whatsapp {
namespace {

using core::InboundMessage;
using core::MessageKind;
using namespace json_read;

// errors[0] of a message or status. Older payloads put the detail at the top
// level ("details"), newer ones under error_data.details; read both.
struct ErrorInfo {
  int code = 0;
  std::string title;
  std::string detail;
};

ErrorInfo first_error(element j) {
  element e;
  if (arr(j, "errors").at(0).get(e)) return {};
  ErrorInfo info;
  info.code = static_cast<int>(integer(e, "code"));
  info.title = str(e, "title");
  if (info.title.empty()) info.title = str(e, "message");
  info.detail = str(obj(e, "error_data"), "details");
  if (info.detail.empty()) info.detail = str(e, "details");
  return info;
}

void read_media(object m, InboundMessage& out) {
  out.media_id = str(m, "id");
  out.mime_type = str(m, "mime_type");
  out.text = str(m, "caption");
  out.filename = str(m, "filename");
}

// Fills the kind-specific content. Returns a reason when the content is
// unusable, empty otherwise.
std::string read_content(const std::string& type, element m, InboundMessage& out) {
  auto kind = core::message_kind_from_string(type);
  if (type == "interactive") {
    object inter = obj(m, "interactive");
    const std::string itype = str(inter, "type");
    if (itype != "button_reply" && itype != "list_reply") {
      return "interactive of unknown type '" + itype + "'";
    }
    object reply = obj(inter, itype);
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
  object body = obj(m, type);
  switch (out.kind) {
    case MessageKind::kText:
      if (auto b = member(body, "body"); !b || !b->is_string()) {
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
      if (element first; !arr(m, "contacts").at(0).get(first)) {
        out.text = str(obj(first, "name"), "formatted_name");
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

core::Event read_message(element m, const std::string& where, const std::string& number_id,
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

core::Event read_status(element s, const std::string& where, const std::string& number_id) {
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

void read_value(element value, const std::string& where, Webhook& out) {
  const std::string number_id = str(obj(value, "metadata"), "phone_number_id");
  std::unordered_map<std::string, std::string> names;
  for (element c : arr(value, "contacts")) {
    std::string wa_id = str(c, "wa_id");
    if (!wa_id.empty()) names.emplace(std::move(wa_id), str(obj(c, "profile"), "name"));
  }
  std::size_t i = 0;
  for (element m : arr(value, "messages")) {
    out.events.push_back(
        read_message(m, where + ".messages[" + std::to_string(i++) + "]", number_id, names));
  }
  i = 0;
  for (element s : arr(value, "statuses")) {
    out.events.push_back(
        read_status(s, where + ".statuses[" + std::to_string(i++) + "]", number_id));
  }
  // Account-level errors (value.errors[], e.g. a throughput limit) concern no
  // single message; record them so they are seen.
  i = 0;
  for (element error : arr(value, "errors")) {
    ErrorInfo e{static_cast<int>(integer(error, "code")), str(error, "title"), {}};
    out.events.push_back(core::Unusable{where + ".errors[" + std::to_string(i++) + "]",
                                        "platform error " + std::to_string(e.code) + ": " + e.title,
                                        {}});
  }
}

}  // namespace

core::Result<Webhook> parse_webhook(std::string_view body) {
  Parser parser;
  element root;
  if (!parser.parse(body, root))
    return core::make_error(core::ErrorCode::kInvalidInput, "body is not JSON");
  std::string_view object_name;
  if (auto v = member(root, "object"); !v || v->get(object_name)) {
    return core::make_error(core::ErrorCode::kInvalidInput, "JSON without a string \"object\"");
  }
  Webhook out;
  out.object = std::string(object_name);
  if (out.object != kBusinessAccountObject) {
    out.ignored = true;
    return out;
  }
  array entries;
  if (auto v = member(root, "entry"); !v || v->get(entries)) {
    out.events.push_back(core::Unusable{"entry", "payload without an entry array", {}});
    return out;
  }
  std::size_t e = 0;
  for (element entry : entries) {
    const std::string entry_where = "entry[" + std::to_string(e++) + "]";
    array changes;
    if (auto v = member(entry, "changes"); !v || v->get(changes)) {
      out.events.push_back(core::Unusable{entry_where, "entry without a changes array", {}});
      continue;
    }
    std::size_t c = 0;
    for (element change : changes) {
      const std::string where = entry_where + ".changes[" + std::to_string(c++) + "]";
      if (str(change, "field") != "messages") {
        ++out.skipped_changes;
        continue;
      }
      auto value = member(change, "value");
      if (!value || !value->is_object()) {
        out.events.push_back(core::Unusable{where, "change without a value object", {}});
        continue;
      }
      read_value(*value, where, out);
    }
  }
  return out;
}

}  // namespace vaxbot::whatsapp

#include "whatsapp/send.h"

#include <nlohmann/json.hpp>

namespace vaxbot::whatsapp {

std::string send_body(const std::string& wa_id, const core::OutboundMessage& m) {
  nlohmann::json j = {{"messaging_product", "whatsapp"},
                      {"recipient_type", "individual"},
                      {"to", "+" + wa_id}};
  using Kind = core::OutboundMessage::Kind;
  if (m.kind == Kind::kText || m.options.empty()) {
    j["type"] = "text";
    j["text"] = {{"preview_url", false}, {"body", m.body}};
  } else if (m.kind == Kind::kButtons) {
    nlohmann::json buttons = nlohmann::json::array();
    for (const auto& o : m.options) {
      buttons.push_back({{"type", "reply"}, {"reply", {{"id", o.id}, {"title", o.title}}}});
    }
    j["type"] = "interactive";
    j["interactive"] = {{"type", "button"}, {"body", {{"text", m.body}}}, {"action", {{"buttons", buttons}}}};
  } else {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& o : m.options) {
      nlohmann::json row = {{"id", o.id}, {"title", o.title}};
      if (!o.description.empty()) row["description"] = o.description;
      rows.push_back(row);
    }
    j["type"] = "interactive";
    j["interactive"] = {{"type", "list"},
                        {"body", {{"text", m.body}}},
                        {"action", {{"button", m.button}, {"sections", {{{"rows", rows}}}}}}};
  }
  return j.dump();
}

}  // namespace vaxbot::whatsapp

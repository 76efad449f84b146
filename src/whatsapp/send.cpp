#include "whatsapp/send.h"

#include <cstdio>

namespace vaxbot::whatsapp {
namespace {

// JSON string escaping for UTF-8 text: quotes, backslashes and control
// characters are escaped; everything else (Bengali, Devanagari, emoji) is
// copied as is. Written by hand because this runs for every reply on the
// writer thread, where building a JSON object tree cost ~11% of its time.
void quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

}  // namespace

std::string send_body(const std::string& wa_id, const core::OutboundMessage& m) {
  std::string out;
  out.reserve(256 + m.body.size() + 64 * m.options.size());
  out += R"({"messaging_product":"whatsapp","recipient_type":"individual","to":)";
  quoted(out, "+" + wa_id);
  using Kind = core::OutboundMessage::Kind;
  if (m.kind == Kind::kText || m.options.empty()) {
    out += R"(,"type":"text","text":{"preview_url":false,"body":)";
    quoted(out, m.body);
    out += "}}";
    return out;
  }
  out += R"(,"type":"interactive","interactive":{"type":)";
  out += m.kind == Kind::kButtons ? R"("button")" : R"("list")";
  out += R"(,"body":{"text":)";
  quoted(out, m.body);
  out += R"(},"action":{)";
  if (m.kind == Kind::kButtons) {
    out += R"("buttons":[)";
    for (std::size_t i = 0; i < m.options.size(); ++i) {
      if (i > 0) out += ',';
      out += R"({"type":"reply","reply":{"id":)";
      quoted(out, m.options[i].id);
      out += R"(,"title":)";
      quoted(out, m.options[i].title);
      out += "}}";
    }
    out += "]}}}";
    return out;
  }
  out += R"("button":)";
  quoted(out, m.button);
  out += R"(,"sections":[{"rows":[)";
  for (std::size_t i = 0; i < m.options.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"id":)";
    quoted(out, m.options[i].id);
    out += R"(,"title":)";
    quoted(out, m.options[i].title);
    if (!m.options[i].description.empty()) {
      out += R"(,"description":)";
      quoted(out, m.options[i].description);
    }
    out += '}';
  }
  out += "]}]}}}";
  return out;
}

}  // namespace vaxbot::whatsapp

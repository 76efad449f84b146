#include "whatsapp/send.h"

#include <algorithm>
#include <cstdint>
#include <exception>
#include <iterator>
#include <limits>

#include "core/json.h"
#include "whatsapp/json_read.h"

namespace vaxbot::whatsapp {
namespace {

void template_body(std::string& out, const core::OutboundMessage& m) {
  out += R"(,"type":"template","template":{"name":)";
  core::append_json_string(out, m.template_name);
  out += R"(,"language":{"code":)";
  core::append_json_string(out, m.template_language);
  out += '}';
  if (!m.template_parameters.empty()) {
    out += R"(,"components":[{"type":"body","parameters":[)";
    for (std::size_t i = 0; i < m.template_parameters.size(); ++i) {
      const auto& [name, text] = m.template_parameters[i];
      if (i > 0) out += ',';
      out += R"({"type":"text",)";
      if (!name.empty()) {
        out += R"("parameter_name":)";
        core::append_json_string(out, name);
        out += ',';
      }
      out += R"("text":)";
      core::append_json_string(out, text);
      out += '}';
    }
    out += "]}]";
  }
  out += "}}";
}

// Cloud API error codes (Meta's error-codes page) by what the sender does about them.
// Rate limits and temporary failures on Meta's side: the same request can succeed later.
constexpr int kRetryCodes[] = {1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 131057};
// The token, the app's permissions (and 200-299) or the account: every send fails
// until a person acts.
constexpr int kAlertCodes[] = {0, 10, 190, 368, 131005, 131031};

// Error texts come from the network: keep what we store (and log) short. Cuts
// at a UTF-8 character boundary.
constexpr std::size_t kMaxErrorText = 300;
std::string capped(std::string s) {
  if (s.size() <= kMaxErrorText) return s;
  std::size_t end = kMaxErrorText;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  s.resize(end);
  return s;
}

ApiAnswer parse_answer_json(int http_status, std::string_view body) {
  using namespace json_read;
  ApiAnswer answer;
  Parser parser;
  element root;
  const bool parsed = parser.parse(body, root);
  if (http_status >= 200 && http_status < 300) {
    element first;
    if (parsed && !arr(root, "messages").at(0).get(first)) {
      if (std::string id = str(first, "id"); !id.empty()) {
        answer.accepted = true;
        answer.message_id = capped(std::move(id));
        return answer;
      }
    }
    bool success = false;
    if (auto v = parsed ? member(root, "success") : std::nullopt;
        v && !v->get(success) && success) {
      answer.accepted = true;
      return answer;
    }
    answer.error.message = "unexpected answer";
    return answer;
  }
  object error;
  if (auto v = parsed ? member(root, "error") : std::nullopt; !v || v->get(error)) {
    answer.error.message = "HTTP " + std::to_string(http_status) + " without an error body";
    return answer;
  }
  std::int64_t code = 0;
  if (auto v = member(error, "code");
      v && !v->get(code) && code >= 0 && code <= std::numeric_limits<int>::max()) {
    answer.error.code = static_cast<int>(code);
  }
  answer.error.message = capped(str(error, "message"));
  answer.error.details = capped(str(obj(error, "error_data"), "details"));
  answer.error.trace_id = capped(str(error, "fbtrace_id"));
  return answer;
}

}  // namespace

std::string send_body(const std::string& wa_id, const core::OutboundMessage& m) {
  std::string out;
  out.reserve(256 + m.body.size() + 64 * m.options.size());
  out += R"({"messaging_product":"whatsapp","recipient_type":"individual","to":)";
  core::append_json_string(out, "+" + wa_id);
  using Kind = core::OutboundMessage::Kind;
  if (m.kind == Kind::kTemplate) {
    template_body(out, m);
    return out;
  }
  if (m.kind == Kind::kText || m.options.empty()) {
    out += R"(,"type":"text","text":{"preview_url":false,"body":)";
    core::append_json_string(out, m.body);
    out += "}}";
    return out;
  }
  out += R"(,"type":"interactive","interactive":{"type":)";
  out += m.kind == Kind::kButtons ? R"("button")" : R"("list")";
  out += R"(,"body":{"text":)";
  core::append_json_string(out, m.body);
  out += R"(},"action":{)";
  if (m.kind == Kind::kButtons) {
    out += R"("buttons":[)";
    for (std::size_t i = 0; i < m.options.size(); ++i) {
      if (i > 0) out += ',';
      out += R"({"type":"reply","reply":{"id":)";
      core::append_json_string(out, m.options[i].id);
      out += R"(,"title":)";
      core::append_json_string(out, m.options[i].title);
      out += "}}";
    }
    out += "]}}}";
    return out;
  }
  out += R"("button":)";
  core::append_json_string(out, m.button);
  out += R"(,"sections":[{"rows":[)";
  for (std::size_t i = 0; i < m.options.size(); ++i) {
    if (i > 0) out += ',';
    out += R"({"id":)";
    core::append_json_string(out, m.options[i].id);
    out += R"(,"title":)";
    core::append_json_string(out, m.options[i].title);
    if (!m.options[i].description.empty()) {
      out += R"(,"description":)";
      core::append_json_string(out, m.options[i].description);
    }
    out += '}';
  }
  out += "]}]}}}";
  return out;
}

std::string read_receipt_body(const std::string& message_id) {
  std::string out = R"({"messaging_product":"whatsapp","status":"read","message_id":)";
  core::append_json_string(out, message_id);
  out += '}';
  return out;
}

ApiAnswer parse_answer(int http_status, std::string_view body) {
  try {
    return parse_answer_json(http_status, body);
  } catch (const std::exception&) {  // only std::bad_alloc is left to come here
    ApiAnswer answer;
    answer.error.message = "unreadable answer";
    return answer;
  }
}

ErrorAction error_action(int code, int http_status) {
  auto listed = [code](const auto& codes) {
    return std::find(std::begin(codes), std::end(codes), code) != std::end(codes);
  };
  if (listed(kRetryCodes)) return ErrorAction::kRetry;
  if (listed(kAlertCodes) || (code >= 200 && code <= 299)) return ErrorAction::kAlert;
  if (code == ApiError::kNoCode) {
    // A proxy's or load balancer's answer, most likely: its status is all there is.
    const bool temporary = http_status == 429 || (http_status >= 500 && http_status <= 599);
    return temporary ? ErrorAction::kRetry : ErrorAction::kFail;
  }
  return ErrorAction::kFail;
}

}  // namespace vaxbot::whatsapp

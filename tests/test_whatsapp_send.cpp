// whatsapp/send.h: Cloud API send bodies, checked field by field after parsing;
// answers parsed; and what the sender does about each error code.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "whatsapp/send.h"

using namespace vaxbot;
using nlohmann::json;

TEST_SUITE("whatsapp send") {
  TEST_CASE("text: recipient with +, no preview, body escaped") {
    core::OutboundMessage m;
    m.body = "Line \"one\"\nলাইন २\t\\ ✅ \x01";
    json j = json::parse(whatsapp::send_body("919800000001", m));
    CHECK(j["messaging_product"] == "whatsapp");
    CHECK(j["recipient_type"] == "individual");
    CHECK(j["to"] == "+919800000001");
    CHECK(j["type"] == "text");
    CHECK(j["text"]["preview_url"] == false);
    CHECK(j["text"]["body"] == m.body);
  }

  TEST_CASE("buttons: type button, each reply with id and title") {
    core::OutboundMessage m;
    m.kind = core::OutboundMessage::Kind::kButtons;
    m.body = "Confirm?";
    m.options = {{"confirm", "Confirm", ""}, {"change_slot", "সময় বদলান", ""}};
    json j = json::parse(whatsapp::send_body("919800000001", m));
    CHECK(j["type"] == "interactive");
    CHECK(j["interactive"]["type"] == "button");
    CHECK(j["interactive"]["body"]["text"] == "Confirm?");
    REQUIRE(j["interactive"]["action"]["buttons"].size() == 2);
    CHECK(j["interactive"]["action"]["buttons"][1]["type"] == "reply");
    CHECK(j["interactive"]["action"]["buttons"][1]["reply"]["id"] == "change_slot");
    CHECK(j["interactive"]["action"]["buttons"][1]["reply"]["title"] == "সময় বদলান");
  }

  TEST_CASE("list: button label, one section, rows with optional description") {
    core::OutboundMessage m;
    m.kind = core::OutboundMessage::Kind::kList;
    m.body = "Choose";
    m.button = "Centres";
    m.options = {{"a", "Ward 7", "7 Sample Row"}, {"more", "More…", ""}};
    json j = json::parse(whatsapp::send_body("919800000002", m));
    CHECK(j["interactive"]["type"] == "list");
    CHECK(j["interactive"]["action"]["button"] == "Centres");
    const json& rows = j["interactive"]["action"]["sections"][0]["rows"];
    REQUIRE(rows.size() == 2);
    CHECK(rows[0]["description"] == "7 Sample Row");
    CHECK_FALSE(rows[1].contains("description"));
    CHECK(rows[1]["title"] == "More…");
  }

  TEST_CASE("interactive without options falls back to text") {
    core::OutboundMessage m;
    m.kind = core::OutboundMessage::Kind::kButtons;
    m.body = "x";
    CHECK(json::parse(whatsapp::send_body("1", m))["type"] == "text");
  }

  TEST_CASE("template: name, language, body parameters named and positional") {
    core::OutboundMessage m;
    m.kind = core::OutboundMessage::Kind::kTemplate;
    m.template_name = "booking_reminder";
    m.template_language = "bn";
    m.template_parameters = {{"venue", "UPHC \"Ward\" 12"}, {"", "১০:৩০"}};
    json j = json::parse(whatsapp::send_body("919800000001", m));
    CHECK(j["messaging_product"] == "whatsapp");
    CHECK(j["recipient_type"] == "individual");
    CHECK(j["to"] == "+919800000001");
    CHECK(j["type"] == "template");
    CHECK(j["template"]["name"] == "booking_reminder");
    CHECK(j["template"]["language"] == json{{"code", "bn"}});
    REQUIRE(j["template"]["components"].size() == 1);
    const json& body = j["template"]["components"][0];
    CHECK(body["type"] == "body");
    REQUIRE(body["parameters"].size() == 2);
    CHECK(body["parameters"][0] ==
          json{{"type", "text"}, {"parameter_name", "venue"}, {"text", "UPHC \"Ward\" 12"}});
    CHECK(body["parameters"][1] == json{{"type", "text"}, {"text", "১০:৩০"}});
  }

  TEST_CASE("template without parameters has no components") {
    core::OutboundMessage m;
    m.kind = core::OutboundMessage::Kind::kTemplate;
    m.template_name = "hello_world";
    m.template_language = "en_US";
    json j = json::parse(whatsapp::send_body("1", m));
    CHECK(j["template"] == json{{"name", "hello_world"}, {"language", {{"code", "en_US"}}}});
  }

  TEST_CASE("read receipt body") {
    json j = json::parse(whatsapp::read_receipt_body("wamid.HBg\"x\""));
    CHECK(j == json{{"messaging_product", "whatsapp"},
                    {"status", "read"},
                    {"message_id", "wamid.HBg\"x\""}});
  }

  TEST_CASE("parse_answer: a sent message gives its wamid") {
    auto a = whatsapp::parse_answer(200, R"({"messaging_product":"whatsapp",
        "contacts":[{"input":"+919800000001","wa_id":"919800000001"}],
        "messages":[{"id":"wamid.HBgM","message_status":"accepted"}]})");
    CHECK(a.accepted);
    CHECK(a.message_id == "wamid.HBgM");
    CHECK(a.error.code == whatsapp::ApiError::kNoCode);
    CHECK(a.error.message.empty());
  }

  TEST_CASE("parse_answer: a read receipt's success has no id") {
    auto a = whatsapp::parse_answer(200, R"({"success":true})");
    CHECK(a.accepted);
    CHECK(a.message_id.empty());
    CHECK_FALSE(whatsapp::parse_answer(200, R"({"success":false})").accepted);
  }

  TEST_CASE("parse_answer: a 2xx that is no success is not accepted") {
    for (const char* body :
         {"", "not json", "[]", "{}", R"({"messages":[]})", R"({"messages":[{"id":""}]})",
          R"({"messages":[{"id":7}]})", R"({"messages":["wamid"]})", R"({"success":"true"})"}) {
      CAPTURE(body);
      auto a = whatsapp::parse_answer(200, body);
      CHECK_FALSE(a.accepted);
      CHECK(a.message_id.empty());
      CHECK(a.error.code == whatsapp::ApiError::kNoCode);
      CHECK(a.error.message == "unexpected answer");
    }
    CHECK_FALSE(whatsapp::parse_answer(204, "").accepted);
  }

  TEST_CASE("parse_answer: a Graph error with code, details and trace id") {
    auto a = whatsapp::parse_answer(400, R"({"error":{
        "message":"(#131047) Re-engagement message","type":"OAuthException","code":131047,
        "error_data":{"messaging_product":"whatsapp","details":"More than 24 hours have passed"},
        "fbtrace_id":"AbCdEf123"}})");
    CHECK_FALSE(a.accepted);
    CHECK(a.error.code == 131047);
    CHECK(a.error.message == "(#131047) Re-engagement message");
    CHECK(a.error.details == "More than 24 hours have passed");
    CHECK(a.error.trace_id == "AbCdEf123");
  }

  TEST_CASE("parse_answer: a success body with an error status is still an error") {
    auto a = whatsapp::parse_answer(500, R"({"messages":[{"id":"wamid.x"}]})");
    CHECK_FALSE(a.accepted);
    CHECK(a.message_id.empty());
    CHECK(a.error.message == "HTTP 500 without an error body");
  }

  TEST_CASE("parse_answer: partial and odd error objects") {
    auto a = whatsapp::parse_answer(
        401, R"({"error":{"message":"Invalid OAuth access token.","code":190}})");
    CHECK(a.error.code == 190);
    CHECK(a.error.details.empty());
    CHECK(a.error.trace_id.empty());
    auto b = whatsapp::parse_answer(
        400, R"({"error":{"message":"x","code":"131047","error_data":"d"}})");
    CHECK(b.error.code == whatsapp::ApiError::kNoCode);  // a string is no code
    CHECK(b.error.message == "x");
    CHECK(b.error.details.empty());
    CHECK(whatsapp::parse_answer(400, R"({"error":{"code":1.5}})").error.code ==
          whatsapp::ApiError::kNoCode);
    CHECK(whatsapp::parse_answer(400, R"({"error":{"code":99999999999}})").error.code ==
          whatsapp::ApiError::kNoCode);
    CHECK(whatsapp::parse_answer(400, R"({"error":{"code":-5}})").error.code ==
          whatsapp::ApiError::kNoCode);
  }

  TEST_CASE("parse_answer: an error status without an error body names the status") {
    for (const char* body : {"", "<html>Bad Gateway</html>", "{}", R"({"error":"nope"})", "[1]",
                             "{\"error\":{\"code\":1"}) {
      CAPTURE(body);
      auto a = whatsapp::parse_answer(502, body);
      CHECK_FALSE(a.accepted);
      CHECK(a.error.code == whatsapp::ApiError::kNoCode);
      CHECK(a.error.message == "HTTP 502 without an error body");
    }
  }

  TEST_CASE("parse_answer: long error texts are cut at a character boundary") {
    std::string long_text;
    for (int i = 0; i < 200; ++i) long_text += "অ";  // 3 bytes each
    json body = {
        {"error",
         {{"message", long_text}, {"code", 100}, {"error_data", {{"details", long_text}}}}}};
    auto a = whatsapp::parse_answer(400, body.dump());
    CHECK(a.error.message.size() <= 300);
    CHECK(a.error.message.size() >= 290);
    CHECK(long_text.starts_with(a.error.message));
    CHECK(a.error.message.size() % 3 == 0);
    CHECK(a.error.details == a.error.message);
    std::string dumped;
    CHECK_NOTHROW(dumped = json(a.error.message).dump());  // valid UTF-8: no half character
  }

  TEST_CASE("error_action: every listed code") {
    using whatsapp::error_action;
    using whatsapp::ErrorAction;
    for (int code : {1, 2, 4, 80007, 130429, 131000, 131016, 131048, 131056, 131057}) {
      CAPTURE(code);
      CHECK(error_action(code, 400) == ErrorAction::kRetry);
      CHECK(error_action(code, 500) == ErrorAction::kRetry);
    }
    for (int code : {0, 190, 10, 200, 250, 299, 131005, 368, 131031}) {
      CAPTURE(code);
      CHECK(error_action(code, 401) == ErrorAction::kAlert);
      CHECK(error_action(code, 500) == ErrorAction::kAlert);
    }
    for (int code : {131047, 131026, 131051, 100, 131008, 131009, 132000, 132001, 132012, 131030,
                     199, 300, 3, 424242}) {
      CAPTURE(code);
      CHECK(error_action(code, 400) == ErrorAction::kFail);
      CHECK(error_action(code, 503) == ErrorAction::kFail);  // the code decides, not the status
    }
  }

  TEST_CASE("error_action: without a code the HTTP status decides") {
    using whatsapp::error_action;
    using whatsapp::ErrorAction;
    constexpr int kNoCode = whatsapp::ApiError::kNoCode;
    CHECK(error_action(kNoCode, 429) == ErrorAction::kRetry);
    CHECK(error_action(kNoCode, 500) == ErrorAction::kRetry);
    CHECK(error_action(kNoCode, 503) == ErrorAction::kRetry);
    CHECK(error_action(kNoCode, 599) == ErrorAction::kRetry);
    CHECK(error_action(kNoCode, 400) == ErrorAction::kFail);
    CHECK(error_action(kNoCode, 404) == ErrorAction::kFail);
    CHECK(error_action(kNoCode, 200) == ErrorAction::kFail);
  }
}

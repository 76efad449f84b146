// whatsapp/send.h: Cloud API send bodies, checked field by field after parsing.
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
}

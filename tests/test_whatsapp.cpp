// whatsapp/: signatures and the webhook parser, one fixture file per case.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "support.h"
#include "whatsapp/signature.h"
#include "whatsapp/webhook.h"

using namespace vaxbot;
using core::MessageKind;

namespace {

whatsapp::Webhook parse_fixture(const std::string& name) {
  auto parsed = whatsapp::parse_webhook(test::fixture("webhooks/" + name));
  REQUIRE_MESSAGE(parsed.ok(), name);
  return *parsed;
}

core::InboundMessage message(const whatsapp::Webhook& w, std::size_t i) {
  REQUIRE(i < w.events.size());
  const auto* m = std::get_if<core::InboundMessage>(&w.events[i]);
  REQUIRE_MESSAGE(m != nullptr, "event ", i, " is ", core::event_label(w.events[i]));
  return *m;
}

core::Unusable unusable(const whatsapp::Webhook& w, std::size_t i) {
  REQUIRE(i < w.events.size());
  const auto* u = std::get_if<core::Unusable>(&w.events[i]);
  REQUIRE_MESSAGE(u != nullptr, "event ", i, " is ", core::event_label(w.events[i]));
  return *u;
}

}  // namespace

TEST_SUITE("whatsapp signature") {
  // The vectors published with the fixtures (tests/fixtures/webhooks/README.md).
  TEST_CASE("matches the published HMAC of every fixture") {
    const std::pair<const char*, const char*> vectors[] = {
        {"document.json", "e647b9bf2d3fdfcb9d9d392345f66c0c829df4448992c5e18611dade135c02bd"},
        {"image_with_caption.json",
         "96b41b4a3abf088aa083965a6865e9e5aa27fd16b5df975868a76a9ac7f553fe"},
        {"interactive_button_reply.json",
         "e00fe9b88046e6cd9a43c58bad29b83884737d21e95e888d70b264e0c8b02f02"},
        {"interactive_list_reply.json",
         "c8e149960182cca1b1a429f526f77a8c165a94ac7fab4143a3fcf043b831a5e0"},
        {"location.json", "e160a37051acf8ac75846ccb6b6c91f38f99bb179f604b63eadbd5fb0ca7560e"},
        {"multi_message_batch.json",
         "863be8ab02a4f70738128cdd171cc066fd0d151d74d5631c2b2be6eac60c87cb"},
        {"status_delivered.json",
         "9cb732f53f35edc567c44d92c400b1ce82d4ec7a8bef2c3dbc8c1344bd369cbb"},
        {"status_failed.json", "0c872f11425f114ca041f4bea555f06a05b0418a33d33633970be1b46c01c906"},
        {"text_first_dose_date.json",
         "3ee80a4e9026d71ab3f58a1f920ed8625067fec3fea253acd1572669615c4271"},
        {"text_hi.json", "d1b8710fdc2cec5d41f36f6f1143a59e430b2fedf3bcd64cf1ff2912eeb3fbcb"},
        {"unsupported_type.json",
         "2345798c2dfe977aafc9a03e0e1961d4f388f2330fb78c3f5dea25cf0111d54a"},
    };
    whatsapp::SignatureVerifier verifier(test::kFixtureSecret);
    for (const auto& [file, hex] : vectors) {
      const std::string body = test::fixture(std::string("webhooks/") + file);
      const std::string header = std::string("sha256=") + hex;
      CHECK_MESSAGE(verifier.sign(body) == header, file);
      CHECK_MESSAGE(verifier.verify(body, header) == whatsapp::SignatureCheck::kValid, file);
    }
  }

  TEST_CASE("refuses every variant of a bad header") {
    whatsapp::SignatureVerifier verifier(test::kFixtureSecret);
    const std::string body = test::fixture("webhooks/text_hi.json");
    const std::string good = verifier.sign(body);
    std::string upper = good;
    for (std::size_t i = 7; i < upper.size(); ++i)
      upper[i] = static_cast<char>(std::toupper(upper[i]));
    CHECK(verifier.verify(body, upper) == whatsapp::SignatureCheck::kValid);  // hex case is free

    CHECK(verifier.verify(body, "") == whatsapp::SignatureCheck::kMissing);
    CHECK(verifier.verify(body, good.substr(7)) == whatsapp::SignatureCheck::kMalformed);
    CHECK(verifier.verify(body, "sha1=" + good.substr(7)) == whatsapp::SignatureCheck::kMalformed);
    CHECK(verifier.verify(body, good + "0") == whatsapp::SignatureCheck::kMalformed);
    CHECK(verifier.verify(body, good.substr(0, good.size() - 1)) ==
          whatsapp::SignatureCheck::kMalformed);
    std::string not_hex = good;
    not_hex.back() = 'g';
    CHECK(verifier.verify(body, not_hex) == whatsapp::SignatureCheck::kMalformed);
    std::string flipped = good;
    flipped.back() = flipped.back() == '0' ? '1' : '0';
    CHECK(verifier.verify(body, flipped) == whatsapp::SignatureCheck::kMismatch);
    CHECK(verifier.verify(body + " ", good) == whatsapp::SignatureCheck::kMismatch);
    whatsapp::SignatureVerifier other("another secret");
    CHECK(other.verify(body, good) == whatsapp::SignatureCheck::kMismatch);
    // The first verifier still works on this thread after another one re-keyed it.
    CHECK(verifier.verify(body, good) == whatsapp::SignatureCheck::kValid);
  }
}

TEST_SUITE("whatsapp webhook parser") {
  TEST_CASE("text: sender, profile name, id, timestamp, number id") {
    auto w = parse_fixture("text_hi.json");
    REQUIRE(w.events.size() == 1);
    const auto& m = message(w, 0);
    CHECK(m.kind == MessageKind::kText);
    CHECK(m.text == "Hi");
    CHECK(m.from == "919800000001");
    CHECK(m.profile_name == "Ananya Sen");
    CHECK(m.id == "wamid.HBgMOTE5ODAwMDAwMDAxFQIAEhgUOTVEMzhGMTdFQ0Y3QTZDRDNGNjkA");
    CHECK(m.timestamp == 1767852000);
    CHECK(m.phone_number_id == "109876543210987");
    CHECK(m.context_id.empty());
  }

  TEST_CASE("text carrying a date is kept verbatim") {
    auto w = parse_fixture("text_first_dose_date.json");
    CHECK(message(w, 0).text == "14/11/2025");
  }

  TEST_CASE("interactive replies: id, title, description, context") {
    auto list = parse_fixture("interactive_list_reply.json");
    const auto& l = message(list, 0);
    CHECK(l.kind == MessageKind::kListReply);
    CHECK(l.reply_id == "venue_uphc_ward_12");
    CHECK(l.text == "UPHC Ward 12 Beleghata");
    CHECK_FALSE(l.description.empty());
    CHECK(l.context_id.find("FQIAERgS") != std::string::npos);

    auto button = parse_fixture("interactive_button_reply.json");
    const auto& b = message(button, 0);
    CHECK(b.kind == MessageKind::kButtonReply);
    CHECK(b.reply_id == "confirm_booking");
    CHECK(b.text == "Confirm");
    CHECK_FALSE(b.context_id.empty());
  }

  TEST_CASE("template quick-reply button") {
    const auto m = message(parse_fixture("button_template_reply.json"), 0);
    CHECK(m.kind == MessageKind::kButton);
    CHECK(m.reply_id == "REMIND_YES");
    CHECK(m.text == "Yes, remind me");
    CHECK(m.context_id == "wamid.HBgMOTE5ODAwMDAwMDA0FQIAERgSREMINDER01");
  }

  TEST_CASE("media: image with caption, document without, audio, video, sticker") {
    const auto image = message(parse_fixture("image_with_caption.json"), 0);
    CHECK(image.kind == MessageKind::kImage);
    CHECK(image.text == "Aadhaar card front");
    CHECK(image.mime_type == "image/jpeg");
    CHECK_FALSE(image.media_id.empty());

    const auto doc = message(parse_fixture("document.json"), 0);
    CHECK(doc.kind == MessageKind::kDocument);
    CHECK(doc.mime_type == "application/pdf");
    CHECK_FALSE(doc.filename.empty());
    CHECK(doc.text.empty());
    CHECK(doc.from == "919800000002");

    const auto audio = message(parse_fixture("audio_voice_note.json"), 0);
    CHECK(audio.kind == MessageKind::kAudio);
    CHECK(audio.media_id == "1029384756473829");
    const auto video = message(parse_fixture("video.json"), 0);
    CHECK(video.kind == MessageKind::kVideo);
    CHECK(video.text == "my card");
    const auto sticker = message(parse_fixture("sticker.json"), 0);
    CHECK(sticker.kind == MessageKind::kSticker);
    CHECK(sticker.mime_type == "image/webp");
  }

  TEST_CASE("location: numbers, name and address") {
    const auto m = message(parse_fixture("location.json"), 0);
    CHECK(m.kind == MessageKind::kLocation);
    REQUIRE(m.latitude.has_value());
    REQUIRE(m.longitude.has_value());
    CHECK(*m.latitude > 22.0);
    CHECK(*m.latitude < 23.0);
    CHECK(*m.longitude > 88.0);
    CHECK(m.text == "Sealdah Station");
    CHECK_FALSE(m.description.empty());
  }

  TEST_CASE("contacts card, reactions, system number change") {
    const auto card = message(parse_fixture("contacts_card.json"), 0);
    CHECK(card.kind == MessageKind::kContacts);
    CHECK(card.text == "Mita Das");
    CHECK(card.profile_name == "Sourav Das");  // value.contacts, not the card

    const auto thumbs = message(parse_fixture("reaction.json"), 0);
    CHECK(thumbs.kind == MessageKind::kReaction);
    CHECK(thumbs.text == "\xF0\x9F\x91\x8D");
    CHECK(thumbs.detail == "wamid.HBgMOTE5ODAwMDAwMDA0FQIAERgSCONFIRM0001");
    const auto removed = message(parse_fixture("reaction_removed.json"), 0);
    CHECK(removed.kind == MessageKind::kReaction);
    CHECK(removed.text.empty());

    const auto system = message(parse_fixture("system_changed_number.json"), 0);
    CHECK(system.kind == MessageKind::kSystem);
    CHECK(system.detail == "919800000044");
    CHECK(system.profile_name.empty());  // system messages carry no contacts
  }

  TEST_CASE("unsupported and unknown, in both error shapes, and types we do not know") {
    const auto poll = message(parse_fixture("unsupported_type.json"), 0);
    CHECK(poll.kind == MessageKind::kUnsupported);
    CHECK(poll.detail == "poll_creation");
    CHECK(poll.error_code == 131051);

    const auto edit = message(parse_fixture("unsupported_edit.json"), 0);
    CHECK(edit.kind == MessageKind::kUnsupported);
    CHECK(edit.detail == "edit");
    CHECK(edit.error_code == 131051);
    CHECK(edit.error_title == "Message type unknown");

    const auto legacy = message(parse_fixture("unknown_legacy.json"), 0);
    CHECK(legacy.kind == MessageKind::kUnknown);
    CHECK(legacy.error_code == 131051);
    CHECK(legacy.error_title == "Unsupported message type");

    const auto order = message(parse_fixture("new_type_order.json"), 0);
    CHECK(order.kind == MessageKind::kUnsupported);
    CHECK(order.detail == "order");
  }

  TEST_CASE("one POST with two residents: every message, names matched by wa_id") {
    auto w = parse_fixture("multi_message_batch.json");
    REQUIRE(w.events.size() == 2);
    CHECK(message(w, 0).from == "919800000001");
    CHECK(message(w, 0).profile_name == "Ananya Sen");
    CHECK(message(w, 1).from == "919800000003");
    CHECK(message(w, 1).profile_name == "Farida Begum");
  }

  TEST_CASE("statuses: sent, delivered, read, failed with its error") {
    auto delivered = parse_fixture("status_delivered.json");
    REQUIRE(delivered.events.size() == 1);
    const auto& d = std::get<core::StatusUpdate>(delivered.events[0]);
    CHECK(d.state == core::DeliveryState::kDelivered);
    CHECK(d.recipient == "919800000001");
    CHECK(d.timestamp == 1767852275);

    const auto f = std::get<core::StatusUpdate>(parse_fixture("status_failed.json").events[0]);
    CHECK(f.state == core::DeliveryState::kFailed);
    CHECK(f.error_code == 131047);
    CHECK(f.error_title == "Re-engagement message");
    CHECK(f.error_detail.find("24 hours") != std::string::npos);

    auto two = parse_fixture("status_sent_read.json");
    REQUIRE(two.events.size() == 2);
    CHECK(std::get<core::StatusUpdate>(two.events[0]).state == core::DeliveryState::kSent);
    CHECK(std::get<core::StatusUpdate>(two.events[1]).state == core::DeliveryState::kRead);
  }

  TEST_CASE("\\u escapes with surrogate pairs decode to UTF-8") {
    const auto m = message(parse_fixture("text_unicode_escapes.json"), 0);
    CHECK(m.text ==
          "\xe0\xa6\xa8\xe0\xa6\xae\xe0\xa6\xb8\xe0\xa7\x8d\xe0\xa6\x95\xe0\xa6\xbe\xe0\xa6\xb0 "
          "\xf0\x9f\x99\x8f "
          "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87");
    CHECK(m.profile_name ==
          "\xe0\xa6\x85\xe0\xa6\xa8\xe0\xa6\xa8\xe0\xa7\x8d\xe0\xa6\xaf\xe0\xa6\xbe "
          "\xe0\xa6\xb8\xe0\xa7\x87\xe0\xa6\xa8");
  }

  TEST_CASE("a 7,000-character text is kept whole") {
    std::string body;
    for (int i = 0; i < 7000; ++i) body += static_cast<char>('a' + i % 26);
    auto w = whatsapp::parse_webhook(test::text_webhook({"wamid.LONG"}, "919800000001", body));
    REQUIRE(w.ok());
    CHECK(message(*w, 0).text == body);
  }

  TEST_CASE("odd shapes never crash: each bad part becomes an unusable event") {
    auto w = parse_fixture("odd_shapes.json");
    REQUIRE(w.events.size() == 9);
    CHECK(unusable(w, 0).reason == "message without a sender");
    CHECK(unusable(w, 0).id == "wamid.ODD0001");
    CHECK(unusable(w, 1).reason == "message without an id");
    CHECK(unusable(w, 2).reason == "text without a body");
    CHECK(unusable(w, 2).where == "entry[0].changes[0].messages[2]");
    CHECK(unusable(w, 3).reason == "location without coordinates");
    CHECK(unusable(w, 4).reason == "interactive of unknown type 'nfm_reply'");
    CHECK(unusable(w, 5).reason == "message is not an object");
    // A bad timestamp alone does not lose the message.
    CHECK(message(w, 6).text == "kept");
    CHECK(message(w, 6).timestamp == 0);
    CHECK(unusable(w, 7).reason == "status of unknown kind 'teleported'");
    CHECK(unusable(w, 8).reason == "status without an id");
  }

  TEST_CASE("account-level errors are recorded, other fields and objects are skipped") {
    auto errors = parse_fixture("account_error.json");
    REQUIRE(errors.events.size() == 1);
    CHECK(unusable(errors, 0).reason == "platform error 130429: Rate limit hit");

    auto field = parse_fixture("other_field.json");
    CHECK(field.events.empty());
    CHECK(field.skipped_changes == 1);

    auto object = parse_fixture("other_object.json");
    CHECK(object.ignored);
    CHECK(object.object == "page");
    CHECK(object.events.empty());
  }

  TEST_CASE("not JSON, or JSON that is not a webhook, is an error") {
    for (const char* body : {"", "not json", "{", "[1,2]", "{\"entry\":[]}", "{\"object\":5}",
                             "\"whatsapp_business_account\"", "{\"object\":\"x\"} trailing"}) {
      auto r = whatsapp::parse_webhook(body);
      CHECK_MESSAGE(!r.ok(), body);
      if (!r.ok()) CHECK(r.error().code == core::ErrorCode::kInvalidInput);
    }
    auto no_entry = whatsapp::parse_webhook(R"({"object":"whatsapp_business_account"})");
    REQUIRE(no_entry.ok());
    REQUIRE(no_entry->events.size() == 1);
    CHECK(unusable(*no_entry, 0).reason == "payload without an entry array");
  }

  TEST_CASE("parsers are shared safely: 8 threads reading small and large batches at once") {
    // Parsers come from a pool (whatsapp/json_read.h); batches above its size
    // limit get a parser of their own. Each thread must read only its own body.
    std::atomic<int> wrong{0}, read{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 40; ++i) {
          std::vector<std::string> ids;
          const int n = i % 8 == 0 ? 400 : 1 + i % 3;  // 400 messages: ~120 KB, above the limit
          for (int k = 0; k < n; ++k)
            ids.push_back("wamid.T" + std::to_string(t) + "-" + std::to_string(i) + "-" +
                          std::to_string(k));
          auto w = whatsapp::parse_webhook(test::text_webhook(ids));
          bool same = w.ok() && w->events.size() == ids.size();
          for (std::size_t k = 0; same && k < ids.size(); ++k) {
            const auto* m = std::get_if<core::InboundMessage>(&w->events[k]);
            same = m != nullptr && m->id == ids[k];
          }
          ++(same ? read : wrong);
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK(wrong.load() == 0);
    CHECK(read.load() == 8 * 40);
  }

  TEST_CASE("a batch of 1,000 messages yields 1,000 events in order") {
    std::vector<std::string> ids;
    for (int i = 0; i < 1000; ++i) ids.push_back("wamid.BATCH" + std::to_string(i));
    auto w = whatsapp::parse_webhook(test::text_webhook(ids));
    REQUIRE(w.ok());
    REQUIRE(w->events.size() == 1000);
    for (int i = 0; i < 1000; ++i)
      CHECK(message(*w, static_cast<std::size_t>(i)).id == ids[static_cast<std::size_t>(i)]);
  }
}

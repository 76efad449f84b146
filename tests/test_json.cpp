// core/json.h: JSON strings, arrays and objects written by hand, read back by
// an independent parser (nlohmann) and compared with what went in.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "booking/text_utils.h"
#include "core/json.h"

using namespace vaxbot;
using nlohmann::json;

namespace {

std::string written(std::string_view s) {
  std::string out;
  core::append_json_string(out, s);
  return out;
}

}  // namespace

TEST_SUITE("core json") {
  TEST_CASE("ordinary text and every script are copied as is") {
    for (std::string_view s :
         {std::string_view(""), std::string_view("Hi"), std::string_view("টিকা কেন্দ্র ✅"),
          std::string_view("टीका 😀 𝄞"), std::string_view("100% / <b>&amp;</b>")}) {
      CAPTURE(s);
      CHECK(written(s) == "\"" + std::string(s) + "\"");
      CHECK(json::parse(written(s)).get<std::string>() == s);
    }
  }

  TEST_CASE("quotes, backslashes and every control character are escaped") {
    std::string s = "say \"hi\" \\ back";
    for (char c = 0; c < 0x20; ++c) s += c;
    s += '\x7f';
    const std::string out = written(s);
    for (char c : out) CHECK(static_cast<unsigned char>(c) >= 0x20);
    CHECK(out.find("\\\"hi\\\"") != std::string::npos);
    CHECK(out.find("\\n") != std::string::npos);
    CHECK(out.find("\\u001f") != std::string::npos);
    CHECK(json::parse(out).get<std::string>() == s);
  }

  TEST_CASE("bytes that are not well-formed UTF-8 become U+FFFD, the rest is kept") {
    const std::string fffd = "\xEF\xBF\xBD";
    struct Case {
      std::string in, expected;
    };
    for (const Case& c : std::vector<Case>{
             {"a\xff"
              "b",
              "a" + fffd + "b"},                               // never valid
             {"\xC0\xAF", fffd + fffd},                        // overlong '/'
             {"\xE0\x80\xAF", fffd + fffd + fffd},             // overlong, 3 bytes
             {"\xED\xA0\x80", fffd + fffd + fffd},             // a UTF-16 surrogate
             {"\xF4\x90\x80\x80", fffd + fffd + fffd + fffd},  // above U+10FFFF
             {"\xE0\xA4", fffd + fffd},                        // cut short at the end
             {"\xE0\xA4\xB8", "\xE0\xA4\xB8"},                 // स, whole
             {"\xF0\x9F\x98\x80!", "\xF0\x9F\x98\x80!"},       // 😀, whole
         }) {
      CAPTURE(c.in);
      CHECK(json::parse(written(c.in)).get<std::string>() == c.expected);
    }
  }

  TEST_CASE("random text always gives valid JSON; well-formed UTF-8 comes back unchanged") {
    std::mt19937 rng(7);
    int unchanged = 0;
    for (int round = 0; round < 4000; ++round) {
      // Characters from every plane, with a stray byte now and then.
      std::string s;
      for (std::size_t n = rng() % 30; n > 0; --n) {
        switch (rng() % 4) {
          case 0:
            s += static_cast<char>(rng() % 128);
            break;
          case 1: {
            auto cp = static_cast<char32_t>(rng() % 0x110000);
            if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0x0985;  // no surrogates: অ instead
            booking::text::append_utf8(s, cp);
            break;
          }
          case 2:
            booking::text::append_utf8(
                s, static_cast<char32_t>(0x0900 + rng() % 0x100));  // Devanagari and Bengali
            break;
          default:
            if (rng() % 8 == 0) s += static_cast<char>(0x80 + rng() % 128);
        }
      }
      json parsed = json::parse(written(s), nullptr, false);
      REQUIRE(parsed.is_string());
      if (booking::text::is_valid_utf8(s)) {
        REQUIRE(parsed.get<std::string>() == s);
        ++unchanged;
      }
    }
    CHECK(unchanged > 1000);
  }

  TEST_CASE("arrays and objects of strings") {
    CHECK(core::json_array({}) == "[]");
    CHECK(core::json_object({}) == "{}");
    const std::vector<std::string> values = {"VX-1", "Centre \"A\"", "২৫/১১/২০২৬", ""};
    CHECK(json::parse(core::json_array(values)).get<std::vector<std::string>>() == values);
    const std::map<std::string, std::string> vars = {
        {"vaccine", "covishield"}, {"id_masked", "XXXX 0937"}, {"note", "a\nb\\c"}};
    CHECK(json::parse(core::json_object(vars)).get<std::map<std::string, std::string>>() == vars);
  }
}

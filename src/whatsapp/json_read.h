// Reading Meta's JSON (webhooks, answers to sends) with simdjson's DOM, for
// whatsapp/ only. simdjson reads a surge webhook in about 8,800 instructions
// where building an nlohmann tree took 95,000 (callgrind,
// text_first_dose_date.json), and every webhook and every send is read.
//
// Parser: simdjson's parsers keep their buffers (about 14 bytes per byte of
// the largest document they read), so they are pooled, not made per document
// nor kept per thread (serve runs hundreds of HTTP threads): a Parser takes one
// from the pool and gives it back when destroyed; the pool keeps at most
// kPooled, and only those sized for documents up to kPooledBytes (a rare large
// batch gets a parser that is then freed). The elements parse() gives live as
// long as the Parser and until its next parse().
//
// The readers never throw: a missing key or a value of the wrong type reads as
// empty (string, object, array), nullopt or 0, and the caller decides what
// that means.
#pragma once

#include <simdjson.h>

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace vaxbot::whatsapp::json_read {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

class Parser {
 public:
  static constexpr std::size_t kPooled = 16;
  static constexpr std::size_t kPooledBytes = 64 * 1024;
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  // False when `text` is not JSON (or not UTF-8).
  bool parse(std::string_view text, element& root);

 private:
  std::unique_ptr<simdjson::dom::parser> parser_;
};

// An empty array and an empty object, for readers that find nothing.
struct Empty {
  simdjson::dom::parser parser;
  array empty_array;
  object empty_object;
  Empty() {
    element root;
    array both;
    if (parser.parse(std::string_view("[[],{}]")).get(root) || root.get(both) ||
        both.at(0).get(empty_array) || both.at(1).get(empty_object)) {
      std::abort();  // cannot happen: a constant, valid document
    }
  }
};
inline const Empty& empty() {
  static const Empty e;
  return e;
}

// Readers that never throw: a missing key or a value of the wrong type reads
// as empty / nullopt, and the caller decides whether that makes the event unusable.
inline std::optional<element> member(object o, std::string_view key) {
  element v;
  if (o.at_key(key).get(v)) return std::nullopt;
  return v;
}

inline std::optional<element> member(element j, std::string_view key) {
  object o;
  if (j.get(o)) return std::nullopt;
  return member(o, key);
}

template <class J>
std::string str(J j, std::string_view key) {
  std::string_view s;
  if (auto v = member(j, key); v && !v->get(s)) return std::string(s);
  return {};
}

template <class J>
object obj(J j, std::string_view key) {
  object o;
  if (auto v = member(j, key); v && !v->get(o)) return o;
  return empty().empty_object;
}

template <class J>
array arr(J j, std::string_view key) {
  array a;
  if (auto v = member(j, key); v && !v->get(a)) return a;
  return empty().empty_array;
}

template <class J>
std::optional<double> number(J j, std::string_view key) {
  auto v = member(j, key);
  if (!v) return std::nullopt;
  double d = 0;
  if (v->is_number() && !v->get(d)) return d;
  std::string_view s;
  if (!v->get(s)) {  // tolerate "22.57" as well as 22.57
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
    if (ec == std::errc() && p == s.data() + s.size()) return d;
  }
  return std::nullopt;
}

// Meta sends integers as strings ("1767852000") and error codes as numbers; accept both.
template <class J>
std::int64_t integer(J j, std::string_view key) {
  auto v = member(j, key);
  if (!v) return 0;
  std::int64_t n = 0;
  if (!v->get(n)) return n;
  std::string_view s;
  if (!v->get(s)) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec == std::errc() && p == s.data() + s.size()) return n;
  }
  return 0;
}

}  // namespace vaxbot::whatsapp::json_read

// JSON written by hand where building a tree would cost: the send bodies, the
// transcript's reply values and the session's variables are written for every
// reply or turn, on the writer thread.
//
// append_json_string() appends `s` as one JSON string (RFC 8259): quotes,
// backslashes and control characters are escaped; well-formed UTF-8 (Bengali,
// Devanagari, emoji) is copied as is; a byte that is not part of well-formed
// UTF-8 becomes U+FFFD, so the output is always valid JSON and valid UTF-8.
// Runs of ordinary characters are copied in one piece.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vaxbot::core {

void append_json_string(std::string& out, std::string_view s);

// ["a","b"] and {"k":"v"}: arrays and objects of strings.
std::string json_array(const std::vector<std::string>& values);
std::string json_object(const std::map<std::string, std::string>& members);

}  // namespace vaxbot::core

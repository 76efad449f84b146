// Templates: every text vaxbot sends, per language, from templates/<code>.json.
//
// A template file is one JSON object mapping a key to a text, e.g.
//   { "welcome": "Welcome, {{name}}! ...", "btn_confirm": "Confirm" }
// Keys starting with "_" are comments. Texts may hold {{placeholders}}
// (letters, digits and '_' between double braces).
//
// load() reads en.json, bn.json and hi.json from a directory and refuses, with
// a file:line:col diagnostic each, a file that is not JSON, a text that is not
// a string, a key present in one language and missing in another (there is no
// silent fallback to English), a placeholder that is not in `known`, and a
// {{ without its }}. Once loaded, Templates is immutable and thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/diagnostic.h"
#include "core/language.h"
#include "core/result.h"

namespace vaxbot::templates {

using Vars = std::map<std::string, std::string, std::less<>>;

class Templates {
 public:
  // Loads every language; diagnostics are appended to `problems`. Returns an
  // error when there is any problem.
  static core::Result<Templates> load(const std::filesystem::path& dir,
                                      const std::set<std::string, std::less<>>& known_placeholders,
                                      std::vector<core::Diagnostic>& problems);
  // The same, but returns what could be read even when there are problems
  // (so `vaxbot check` can go on to check lengths and keys in one run).
  static Templates read(const std::filesystem::path& dir,
                        const std::set<std::string, std::less<>>& known_placeholders,
                        std::vector<core::Diagnostic>& problems);

  bool has(std::string_view key) const;
  // The text of key in language with {{placeholders}} replaced from vars
  // (a placeholder without a value is left empty). An unknown key renders as
  // the key itself, so a slip shows up in tests and never crashes.
  std::string render(core::Language language, std::string_view key, const Vars& vars = {}) const;
  // The raw text (with placeholders), for checks.
  const std::string* raw(core::Language language, std::string_view key) const;
  std::vector<std::string> keys() const;
  // Where a key is defined in a language's file, for diagnostics.
  core::Diagnostic locate(core::Language language, std::string_view key, std::string message) const;

 private:
  std::map<std::string, std::string, std::less<>> texts_[3];
  std::string sources_[3];  // file text, to locate keys
  std::string paths_[3];
};

// The placeholders in a text, in order ("{{a}} and {{b}}" -> a, b).
std::vector<std::string> placeholders(std::string_view text);

// The inverse of render(): `rendered` cut into the literal pieces of `text`
// (a template's raw text) and the values its placeholders took, so that
// pieces[0] + values[0] + pieces[1] + ... + values[n-1] + pieces[n] == rendered.
// nullopt when `rendered` was not made from `text`. Where a value could end in
// more than one place, the first is taken: any cut that joins back is right.
// The transcript stores a reply this way, its pieces shared by every resident.
struct Cut {
  std::vector<std::string> pieces;
  std::vector<std::string> values;
};
std::optional<Cut> split(std::string_view text, std::string_view rendered);

// Number of Unicode code points in UTF-8 text (how WhatsApp counts characters).
std::size_t length(std::string_view utf8);

}  // namespace vaxbot::templates

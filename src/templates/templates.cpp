#include "templates/templates.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vaxbot::templates {
namespace {

std::size_t index(core::Language l) {
  return static_cast<std::size_t>(l);
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

// Calls f(name) for each {{name}}; returns false on a "{{" without a proper "}}".
template <typename F>
bool scan(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const std::size_t close = text.find("}}", pos + 2);
    if (close == std::string_view::npos) return false;
    std::string_view name = text.substr(pos + 2, close - pos - 2);
    if (name.empty()) return false;
    for (char c : name) {
      if (!is_name_char(c)) return false;
    }
    f(name, pos, close + 2);
    pos = close + 2;
  }
  return true;
}

}  // namespace

std::vector<std::string> placeholders(std::string_view text) {
  std::vector<std::string> out;
  scan(text, [&](std::string_view name, std::size_t, std::size_t) { out.emplace_back(name); });
  return out;
}

std::size_t length(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) {
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  }
  return n;
}

core::Result<Templates> Templates::load(const std::filesystem::path& dir,
                                        const std::set<std::string, std::less<>>& known,
                                        std::vector<core::Diagnostic>& problems) {
  const std::size_t before = problems.size();
  Templates t = read(dir, known, problems);
  if (problems.size() > before) {
    return core::make_error(core::ErrorCode::kInvalidInput, "templates have problems");
  }
  return t;
}

Templates Templates::read(const std::filesystem::path& dir,
                          const std::set<std::string, std::less<>>& known,
                          std::vector<core::Diagnostic>& problems) {
  Templates t;
  bool parsed[3] = {false, false, false};
  std::set<std::string, std::less<>> seen;        // every key written in any language
  std::set<std::string, std::less<>> written[3];  // per language (a non-string text counts:
                                                  // it is reported as such, not also as missing)
  for (core::Language lang : core::kLanguages) {
    const std::size_t i = index(lang);
    t.paths_[i] = (dir / (std::string(core::code(lang)) + ".json")).string();
    std::ifstream in(t.paths_[i], std::ios::binary);
    if (!in) {
      problems.push_back({t.paths_[i], 1, 1, "cannot read the file"});
      continue;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    t.sources_[i] = ss.str();
    const std::string& src = t.sources_[i];
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(src);
    } catch (const nlohmann::json::parse_error& e) {
      core::Diagnostic d{t.paths_[i], 1, 1, std::string("not valid JSON: ") + e.what()};
      core::locate(src, e.byte > 0 ? e.byte - 1 : 0, d.line, d.col);
      problems.push_back(d);
      continue;
    } catch (const nlohmann::json::exception& e) {  // e.g. a number too large for a double
      problems.push_back({t.paths_[i], 1, 1, std::string("not usable JSON: ") + e.what()});
      continue;
    }
    if (!j.is_object()) {
      problems.push_back({t.paths_[i], 1, 1, "must be a JSON object of key: text"});
      continue;
    }
    parsed[i] = true;
    for (const auto& item : j.items()) {
      const std::string& key = item.key();
      const auto& value = item.value();
      if (key.starts_with("_")) continue;
      seen.insert(key);
      written[i].insert(key);
      if (!value.is_string()) {
        problems.push_back(
            core::at_key(t.paths_[i], src, key, "the text of \"" + key + "\" must be a string"));
        continue;
      }
      const std::string& text = value.get_ref<const std::string&>();
      bool ok = scan(text, [&](std::string_view name, std::size_t, std::size_t) {
        if (!known.contains(name)) {
          problems.push_back(core::at_key(
              t.paths_[i], src, key,
              "\"" + key + "\" uses an unknown placeholder {{" + std::string(name) + "}}"));
        }
      });
      if (!ok) {
        problems.push_back(core::at_key(
            t.paths_[i], src, key, "\"" + key + "\" has a malformed placeholder (write {{name}})"));
      }
      t.texts_[i].emplace(key, text);
    }
  }
  // Every key in every language: a missing translation is an error, never a fallback.
  // Languages whose file could not be read as JSON are already reported once.
  for (core::Language lang : core::kLanguages) {
    const std::size_t i = index(lang);
    if (!parsed[i]) continue;
    for (const std::string& k : seen) {
      if (written[i].contains(k)) continue;
      std::string where;
      for (core::Language other : core::kLanguages) {
        if (t.texts_[index(other)].contains(k)) {
          where = std::string(core::code(other)) + ".json";
          break;
        }
      }
      problems.push_back({t.paths_[i], 1, 1, "missing \"" + k + "\" (present in " + where + ")"});
    }
  }
  return t;
}

bool Templates::has(std::string_view key) const {
  return texts_[0].contains(key);
}

const std::string* Templates::raw(core::Language language, std::string_view key) const {
  const auto& texts = texts_[index(language)];
  auto it = texts.find(key);
  return it == texts.end() ? nullptr : &it->second;
}

std::optional<Cut> split(std::string_view text, std::string_view rendered) {
  Cut cut;
  std::size_t last = 0;
  if (!scan(text, [&](std::string_view, std::size_t begin, std::size_t end) {
        cut.pieces.emplace_back(text.substr(last, begin - last));
        last = end;
      })) {
    return std::nullopt;
  }
  cut.pieces.emplace_back(text.substr(last));
  const std::string& head = cut.pieces.front();
  if (rendered.size() < head.size() || rendered.substr(0, head.size()) != head) return std::nullopt;
  std::size_t pos = head.size();
  for (std::size_t i = 1; i < cut.pieces.size(); ++i) {
    const std::string& piece = cut.pieces[i];
    std::size_t found = 0;
    if (i + 1 == cut.pieces.size()) {  // the last piece ends the text
      if (rendered.size() < pos + piece.size() ||
          rendered.substr(rendered.size() - piece.size()) != piece) {
        return std::nullopt;
      }
      found = rendered.size() - piece.size();
    } else {
      found = rendered.find(piece, pos);
      if (found == std::string_view::npos) return std::nullopt;
    }
    cut.values.emplace_back(rendered.substr(pos, found - pos));
    pos = found + piece.size();
  }
  if (cut.values.empty() && rendered != head) return std::nullopt;
  return cut;
}

std::string Templates::render(core::Language language, std::string_view key,
                              const Vars& vars) const {
  const std::string* text = raw(language, key);
  if (text == nullptr) return std::string(key);
  std::string out;
  out.reserve(text->size() + 32);
  std::size_t last = 0;
  scan(*text, [&](std::string_view name, std::size_t begin, std::size_t end) {
    out.append(*text, last, begin - last);
    if (auto it = vars.find(name); it != vars.end()) out += it->second;
    last = end;
  });
  out.append(*text, last);
  return out;
}

std::vector<std::string> Templates::keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : texts_[0]) out.push_back(k);
  return out;
}

core::Diagnostic Templates::locate(core::Language language, std::string_view key,
                                   std::string message) const {
  const std::size_t i = index(language);
  return core::at_key(paths_[i], sources_[i], key, std::move(message));
}

}  // namespace vaxbot::templates

#include "booking/catalog.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "booking/text_utils.h"

namespace vaxbot::booking {
namespace {

using nlohmann::json;

constexpr int kMaxIntervalDays = 365;
constexpr int kMaxCapacity = 10000;
constexpr int kMaxWard = 999;

constexpr std::array<IdType, 5> kAllIdTypes = {IdType::kAadhaar, IdType::kPan, IdType::kVoterId,
                                               IdType::kPassport, IdType::kDrivingLicence};

// Where each object member (its key) and each array element starts in a JSON
// text, by JSON pointer ("/centres/3/name"). nlohmann keeps no positions, so a
// second, tolerant pass over text nlohmann already accepted finds them. It
// also notices keys written twice in one object (nlohmann keeps the last one
// silently).
class PositionIndex {
 public:
  explicit PositionIndex(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
    value("", 0);
  }

  // The offset of pointer, else of its nearest ancestor that has one, else 0.
  std::size_t offset_of(std::string pointer) const {
    while (true) {
      if (auto it = offsets_.find(pointer); it != offsets_.end()) return it->second;
      const auto slash = pointer.rfind('/');
      if (slash == std::string::npos || pointer.empty()) return 0;
      pointer.resize(slash);
    }
  }
  bool has(const std::string& pointer) const { return offsets_.count(pointer) > 0; }

  struct Duplicate {
    std::string pointer;
    std::size_t offset;
  };
  const std::vector<Duplicate>& duplicates() const { return duplicates_; }

 private:
  static constexpr int kMaxDepth = 64;

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }

  // At an opening quote: returns the decoded string and moves past the closing quote.
  std::string string() {
    const std::size_t start = pos_++;
    bool escaped = false;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      if (text_[pos_] == '\\') {
        escaped = true;
        ++pos_;
      }
      ++pos_;
    }
    pos_ = std::min(pos_ + 1, text_.size());
    const std::string_view raw = text_.substr(start, pos_ - start);
    if (!escaped) return std::string(raw.substr(1, raw.size() >= 2 ? raw.size() - 2 : 0));
    try {
      return json::parse(raw).get<std::string>();
    } catch (const std::exception&) {
      return std::string(raw);
    }
  }

  static std::string escape(const std::string& key) {
    std::string out;
    for (char c : key) {
      if (c == '~')
        out += "~0";
      else if (c == '/')
        out += "~1";
      else
        out += c;
    }
    return out;
  }

  void value(const std::string& path, int depth) {
    skip_space();
    if (pos_ >= text_.size()) return;
    const char c = text_[pos_];
    if (c == '"') {
      string();
    } else if (c == '{') {
      ++pos_;
      std::set<std::string> seen;
      while (true) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] == '}') break;
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (text_[pos_] != '"') return;  // not JSON nlohmann accepted; give up quietly
        const std::size_t key_at = pos_;
        const std::string child = path + "/" + escape(string());
        if (depth < kMaxDepth) {
          if (offsets_.count(child) > 0)
            duplicates_.push_back({child, key_at});
          else
            offsets_[child] = key_at;
        }
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ':') ++pos_;
        value(child, depth + 1);
      }
      pos_ = std::min(pos_ + 1, text_.size());
    } else if (c == '[') {
      ++pos_;
      std::size_t i = 0;
      while (true) {
        skip_space();
        if (pos_ >= text_.size() || text_[pos_] == ']') break;
        if (text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        const std::string child = path + "/" + std::to_string(i++);
        if (depth < kMaxDepth) offsets_[child] = pos_;
        const std::size_t before = pos_;
        value(child, depth + 1);
        if (pos_ == before) return;  // no progress: not JSON nlohmann accepted
      }
      pos_ = std::min(pos_ + 1, text_.size());
    } else {
      while (pos_ < text_.size() &&
             std::string_view(",}] \t\r\n").find(text_[pos_]) == std::string_view::npos) {
        ++pos_;
      }
    }
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::map<std::string, std::size_t> offsets_;
  std::vector<Duplicate> duplicates_;
};

// One data file being checked: its text, positions, and where problems go.
class File {
 public:
  File(const std::filesystem::path& path, std::vector<core::Diagnostic>& out)
      : name_(path.string()), out_(out) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      report_at(0, "cannot read the file");
      return;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    text_ = ss.str();
    if (text_.find_first_not_of(" \t\r\n") == std::string::npos || text_ == "\xEF\xBB\xBF") {
      report_at(0, "the file is empty");
      return;
    }
    try {
      root_ = json::parse(text_);
    } catch (const json::parse_error& e) {
      std::string what = e.what();
      // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
      if (auto colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
      report_at(e.byte > 0 ? e.byte - 1 : 0, "JSON syntax error: " + what);
      return;
    }
    index_.emplace(text_);
    for (const auto& d : index_->duplicates()) {
      report_at(d.offset, "key '" + last_segment(d.pointer) + "' appears twice in this object");
    }
    parsed_ = true;
  }

  bool parsed() const { return parsed_; }
  const json& root() const { return root_; }
  const std::string& name() const { return name_; }
  // The file name alone, for messages that mention this file from another one.
  std::string short_name() const { return std::filesystem::path(name_).filename().string(); }

  void report(const std::string& pointer, std::string message) {
    report_at(index_ ? index_->offset_of(pointer) : 0, std::move(message));
  }
  int line_of(const std::string& pointer) const {
    int line = 1, col = 1;
    if (index_) core::locate(text_, index_->offset_of(pointer), line, col);
    return line;
  }
  std::size_t problems() const { return out_.size(); }

 private:
  static std::string last_segment(const std::string& pointer) {
    return pointer.substr(pointer.rfind('/') + 1);
  }
  void report_at(std::size_t offset, std::string message) {
    core::Diagnostic d{name_, 1, 1, std::move(message)};
    core::locate(text_, offset, d.line, d.col);
    out_.push_back(std::move(d));
  }

  std::string name_;
  std::vector<core::Diagnostic>& out_;
  std::string text_;
  json root_;
  std::optional<PositionIndex> index_;
  bool parsed_ = false;
};

std::string in_quotes(std::string_view s) {
  return "'" + std::string(s) + "'";
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Reports keys other than `allowed` (keys starting with '_' are comments).
void check_keys(File& f, const json& obj, const std::string& ptr,
                const std::vector<std::string>& allowed) {
  for (const auto& [key, unused] : obj.items()) {
    if (key.starts_with("_")) continue;
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      f.report(ptr + "/" + key,
               "unknown key " + in_quotes(key) + " (expected " + join(allowed) + ")");
    }
  }
}

bool require_object(File& f, const json& v, const std::string& ptr, const std::string& what) {
  if (v.is_object()) return true;
  f.report(ptr, what + " must be a JSON object { ... }");
  return false;
}

// The array at obj[key], non-empty; reports and returns nullptr otherwise.
const json* require_array(File& f, const json& obj, const std::string& ptr,
                          const std::string& key) {
  if (!obj.contains(key)) {
    f.report(ptr, "missing " + in_quotes(key) + " (a list [ ... ])");
    return nullptr;
  }
  const json& v = obj.at(key);
  if (!v.is_array()) {
    f.report(ptr + "/" + key, in_quotes(key) + " must be a list [ ... ]");
    return nullptr;
  }
  if (v.empty()) {
    f.report(ptr + "/" + key, in_quotes(key) + " is empty");
    return nullptr;
  }
  return &v;
}

std::optional<std::string> require_text(File& f, const json& obj, const std::string& ptr,
                                        const std::string& key, std::size_t max_len,
                                        const char* limit_reason) {
  if (!obj.contains(key)) {
    f.report(ptr, "missing " + in_quotes(key));
    return std::nullopt;
  }
  const json& v = obj.at(key);
  if (!v.is_string()) {
    f.report(ptr + "/" + key, in_quotes(key) + " must be a text in double quotes");
    return std::nullopt;
  }
  std::string s = v.get<std::string>();
  if (s.find_first_not_of(" \t") == std::string::npos) {
    f.report(ptr + "/" + key, in_quotes(key) + " is empty");
    return std::nullopt;
  }
  const std::size_t n = code_points(s);
  if (max_len > 0 && n > max_len) {
    f.report(ptr + "/" + key, in_quotes(key) + " \"" + s + "\" has " + std::to_string(n) +
                                  " characters; at most " + std::to_string(max_len) + " fit " +
                                  limit_reason);
    return std::nullopt;
  }
  return s;
}

std::optional<int> require_int(File& f, const json& obj, const std::string& ptr,
                               const std::string& key, int min, int max) {
  if (!obj.contains(key)) {
    f.report(ptr, "missing " + in_quotes(key));
    return std::nullopt;
  }
  const json& v = obj.at(key);
  const std::string range =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (!v.is_number_integer()) {
    f.report(ptr + "/" + key, in_quotes(key) + " must be " + range + ", not " + v.dump());
    return std::nullopt;
  }
  const auto n = v.is_number_unsigned() ? static_cast<std::int64_t>(std::min<std::uint64_t>(
                                              v.get<std::uint64_t>(), std::uint64_t{1} << 62))
                                        : v.get<std::int64_t>();
  if (n < min || n > max) {
    f.report(ptr + "/" + key, in_quotes(key) + " must be " + range + ", not " + v.dump());
    return std::nullopt;
  }
  return static_cast<int>(n);
}

std::optional<LocalizedName> require_names(File& f, const json& obj, const std::string& ptr,
                                           const std::string& key) {
  if (!obj.contains(key)) {
    f.report(ptr, "missing " + in_quotes(key) + " (an object with en, bn and hi)");
    return std::nullopt;
  }
  const std::string p = ptr + "/" + key;
  const json& v = obj.at(key);
  if (!v.is_object()) {
    f.report(
        p,
        in_quotes(key) +
            " must be an object with en, bn and hi, e.g. {\"en\": ..., \"bn\": ..., \"hi\": ...}");
    return std::nullopt;
  }
  check_keys(f, v, p, {"en", "bn", "hi"});
  const char* why = "a WhatsApp list row title";
  auto en = require_text(f, v, p, "en", kMaxRowTitle, why);
  auto bn = require_text(f, v, p, "bn", kMaxRowTitle, why);
  auto hi = require_text(f, v, p, "hi", kMaxRowTitle, why);
  if (!en || !bn || !hi) return std::nullopt;
  return LocalizedName{*en, *bn, *hi};
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

// Reads a list of vaccine keys: strings, no repeats, each known (when `known` is given).
std::vector<std::string> vaccine_list(File& f, const json& obj, const std::string& ptr,
                                      const std::set<std::string, std::less<>>* known,
                                      const std::string& vaccines_file) {
  std::vector<std::string> out;
  const json* list = require_array(f, obj, ptr, "vaccines");
  if (list == nullptr) return out;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string p = ptr + "/vaccines/" + std::to_string(i);
    const json& v = (*list)[i];
    if (!v.is_string()) {
      f.report(p, "a vaccine must be given by its key in double quotes, e.g. \"covishield\"");
      continue;
    }
    std::string key = v.get<std::string>();
    if (known != nullptr && known->count(key) == 0) {
      f.report(p, "unknown vaccine " + in_quotes(key) + " (not a key in " + vaccines_file + ")");
      continue;
    }
    if (std::find(out.begin(), out.end(), key) != out.end()) {
      f.report(p, "vaccine " + in_quotes(key) + " is listed twice");
      continue;
    }
    out.push_back(std::move(key));
  }
  return out;
}

std::vector<Vaccine> read_vaccines(File& f) {
  std::vector<Vaccine> out;
  if (!f.parsed() || !require_object(f, f.root(), "", "the file")) return out;
  check_keys(f, f.root(), "", {"vaccines"});
  const json* list = require_array(f, f.root(), "", "vaccines");
  if (list == nullptr) return out;
  std::map<std::string, std::string> first_seen;  // key -> pointer
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string p = "/vaccines/" + std::to_string(i);
    const json& v = (*list)[i];
    if (!require_object(f, v, p, "a vaccine")) continue;
    check_keys(f, v, p, {"key", "name", "min_interval_days"});
    auto key = require_text(f, v, p, "key", kMaxIdLength, "a key");
    auto name = require_text(f, v, p, "name", kMaxButtonTitle, "a WhatsApp button");
    auto interval = require_int(f, v, p, "min_interval_days", 1, kMaxIntervalDays);
    if (key && !std::all_of(key->begin(), key->end(), is_key_char)) {
      f.report(p + "/key", "key " + in_quotes(*key) + " may hold only a-z, 0-9 and _");
      key.reset();
    }
    if (key) {
      if (auto it = first_seen.find(*key); it != first_seen.end()) {
        f.report(p + "/key", "duplicate vaccine key " + in_quotes(*key) + " (first on line " +
                                 std::to_string(f.line_of(it->second)) + ")");
        continue;
      }
      first_seen[*key] = p + "/key";
    }
    if (key && name && interval) out.push_back({*key, *name, *interval});
  }
  return out;
}

std::vector<IdProofType> read_id_types(File& f) {
  std::vector<IdProofType> out;
  if (!f.parsed() || !require_object(f, f.root(), "", "the file")) return out;
  check_keys(f, f.root(), "", {"id_types"});
  const json* list = require_array(f, f.root(), "", "id_types");
  if (list == nullptr) return out;
  std::vector<std::string> known;
  for (IdType t : kAllIdTypes) known.emplace_back(to_string(t));
  std::map<std::string, std::string> first_seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string p = "/id_types/" + std::to_string(i);
    const json& v = (*list)[i];
    if (!require_object(f, v, p, "an ID type")) continue;
    check_keys(f, v, p, {"key", "name"});
    auto key = require_text(f, v, p, "key", kMaxIdLength, "a key");
    auto names = require_names(f, v, p, "name");
    if (!key) continue;
    auto known_it = std::find(known.begin(), known.end(), *key);
    if (known_it == known.end()) {
      f.report(p + "/key",
               "unknown ID type " + in_quotes(*key) + " (vaxbot recognises " + join(known) + ")");
      continue;
    }
    if (auto it = first_seen.find(*key); it != first_seen.end()) {
      f.report(p + "/key", "duplicate ID type " + in_quotes(*key) + " (first on line " +
                               std::to_string(f.line_of(it->second)) + ")");
      continue;
    }
    first_seen[*key] = p + "/key";
    if (names)
      out.push_back(
          {*key, kAllIdTypes[static_cast<std::size_t>(known_it - known.begin())], *names});
  }
  return out;
}

std::vector<Centre> read_centres(File& f, const std::set<std::string, std::less<>>* vaccines,
                                 const std::string& vaccines_file) {
  std::vector<Centre> out;
  if (!f.parsed() || !require_object(f, f.root(), "", "the file")) return out;
  check_keys(f, f.root(), "", {"centres"});
  const json* list = require_array(f, f.root(), "", "centres");
  if (list == nullptr) return out;
  std::map<std::string, std::string> first_seen;
  for (std::size_t i = 0; i < list->size(); ++i) {
    const std::string p = "/centres/" + std::to_string(i);
    const json& v = (*list)[i];
    if (!require_object(f, v, p, "a centre")) continue;
    check_keys(f, v, p, {"id", "ward", "name", "address", "vaccines"});
    auto id = require_text(f, v, p, "id", kMaxIdLength, "an id");
    auto ward = require_int(f, v, p, "ward", 1, kMaxWard);
    auto names = require_names(f, v, p, "name");
    auto address =
        require_text(f, v, p, "address", kMaxRowDescription, "a WhatsApp list row description");
    const std::size_t before = f.problems();
    auto given = vaccine_list(f, v, p, vaccines, vaccines_file);
    const bool vaccines_ok = f.problems() == before;
    if (id && !is_valid_venue_id(*id)) {
      f.report(p + "/id", "id " + in_quotes(*id) + " may hold only a-z, 0-9, - and _");
      id.reset();
    }
    if (id) {
      if (auto it = first_seen.find(*id); it != first_seen.end()) {
        f.report(p + "/id", "duplicate centre id " + in_quotes(*id) + " (first on line " +
                                std::to_string(f.line_of(it->second)) + ")");
        continue;
      }
      first_seen[*id] = p + "/id";
    }
    if (id && ward && names && address && vaccines_ok) {
      out.push_back({*id, *names, *ward, *address, std::move(given)});
    }
  }
  return out;
}

std::optional<WeeklySchedule> read_schedule(File& f, const json& v, const std::string& p,
                                            const std::set<std::string, std::less<>>* vaccines,
                                            const Centre* centre, const std::string& vaccines_file,
                                            const std::string& centres_file) {
  if (!require_object(f, v, p, "a schedule")) return std::nullopt;
  check_keys(f, v, p, {"weekdays", "windows"});
  const std::size_t before = f.problems();
  WeeklySchedule s;
  if (const json* days = require_array(f, v, p, "weekdays")) {
    for (std::size_t i = 0; i < days->size(); ++i) {
      const std::string dp = p + "/weekdays/" + std::to_string(i);
      const json& d = (*days)[i];
      bool found = false;
      for (int w = 1; w <= 7 && d.is_string(); ++w) {
        if (d.get<std::string>() != to_string(static_cast<Weekday>(w))) continue;
        found = true;
        auto& open = s.open[static_cast<std::size_t>(w - 1)];
        if (open) f.report(dp, "weekday " + d.dump() + " is listed twice");
        open = true;
      }
      if (!found) f.report(dp, "unknown weekday " + d.dump() + " (monday, tuesday, ..., sunday)");
    }
  }
  if (const json* windows = require_array(f, v, p, "windows")) {
    std::vector<std::pair<int, int>> spans;  // minutes, per window (or -1 when bad)
    std::vector<std::string> pointers;
    for (std::size_t i = 0; i < windows->size(); ++i) {
      const std::string wp = p + "/windows/" + std::to_string(i);
      const json& w = (*windows)[i];
      if (!require_object(f, w, wp, "a time window")) continue;
      check_keys(f, w, wp, {"start", "end", "capacity", "vaccines"});
      TimeWindow tw;
      int from = -1, to = -1;  // minutes since midnight; -1 = not a valid time
      for (const char* key : {"start", "end"}) {
        auto t = require_text(f, w, wp, key, 0, "");
        if (!t) continue;
        auto minutes = parse_hhmm(*t);
        if (!minutes) {
          f.report(wp + "/" + key,
                   in_quotes(key) + " \"" + *t + "\" is not a time of day (HH:MM, 00:00 to 23:59)");
          continue;
        }
        const bool is_start = std::string_view(key) == "start";
        (is_start ? tw.start : tw.end) = *t;
        (is_start ? from : to) = *minutes;
      }
      if (from >= 0 && to >= 0 && to <= from) {
        f.report(wp + "/end", "'end' " + tw.end + " is not after 'start' " + tw.start);
        from = to = -1;
      }
      auto capacity = require_int(f, w, wp, "capacity", 1, kMaxCapacity);
      tw.vaccines = vaccine_list(f, w, wp, vaccines, vaccines_file);
      if (centre != nullptr) {
        for (std::size_t k = 0; k < tw.vaccines.size(); ++k) {
          const auto& given = centre->vaccines;
          if (std::find(given.begin(), given.end(), tw.vaccines[k]) == given.end()) {
            f.report(wp + "/vaccines/" + std::to_string(k),
                     "centre " + in_quotes(centre->id) + " does not give " +
                         in_quotes(tw.vaccines[k]) + " (see its 'vaccines' in " + centres_file +
                         ")");
          }
        }
      }
      if (from >= 0 && to >= 0) {
        // Two windows overlapping for the same vaccine would offer one hour twice.
        for (std::size_t j = 0; j < s.windows.size(); ++j) {
          const auto& other = s.windows[j];
          if (spans[j].first < 0 || !(spans[j].first < to && from < spans[j].second)) continue;
          for (const auto& vk : tw.vaccines) {
            if (std::find(other.vaccines.begin(), other.vaccines.end(), vk) == other.vaccines.end())
              continue;
            f.report(wp, "window " + tw.start + "-" + tw.end + " overlaps the window " +
                             other.start + "-" + other.end + " on line " +
                             std::to_string(f.line_of(pointers[j])) + " for " + in_quotes(vk));
            break;
          }
        }
      }
      if (capacity) tw.capacity = *capacity;
      spans.emplace_back(from, to);
      pointers.push_back(wp);
      s.windows.push_back(std::move(tw));
    }
  }
  if (f.problems() != before) return std::nullopt;
  return s;
}

void read_schedules(File& f, Catalog& catalog, const std::set<std::string, std::less<>>* vaccines,
                    bool centres_ok, const std::string& vaccines_file,
                    const std::string& centres_file) {
  if (!f.parsed() || !require_object(f, f.root(), "", "the file")) return;
  check_keys(f, f.root(), "", {"default", "centres"});
  const json& root = f.root();
  if (!root.contains("default") && !root.contains("centres")) {
    f.report("", "give a 'default' schedule, 'centres' schedules, or both");
    return;
  }
  if (root.contains("default")) {
    catalog.default_schedule = read_schedule(f, root.at("default"), "/default", vaccines, nullptr,
                                             vaccines_file, centres_file);
  }
  if (root.contains("centres") && require_object(f, root.at("centres"), "/centres", "'centres'")) {
    for (const auto& [id, value] : root.at("centres").items()) {
      const std::string p = "/centres/" + id;
      const Centre* centre = catalog.centre(id);
      if (centre == nullptr) {
        // A centre that failed its own checks has been reported in centres.json already.
        if (centres_ok)
          f.report(p, "unknown centre " + in_quotes(id) + " (not an id in " + centres_file + ")");
        continue;
      }
      if (auto s = read_schedule(f, value, p, vaccines, centre, vaccines_file, centres_file)) {
        catalog.centre_schedules[id] = std::move(*s);
      }
    }
  }
}

// Every vaccine a centre gives must get at least one slot a week.
void check_coverage(File& centres_file, const Catalog& catalog, const std::string& schedule_file) {
  for (std::size_t i = 0; i < catalog.centres.size(); ++i) {
    const Centre& c = catalog.centres[i];
    const std::string p = "/centres/" + std::to_string(i);
    const WeeklySchedule* s = catalog.schedule_for(c.id);
    if (s == nullptr) {
      centres_file.report(p + "/id", "centre " + in_quotes(c.id) +
                                         " has no schedule: add it to 'centres' in " +
                                         schedule_file + " or give a 'default'");
      continue;
    }
    for (std::size_t k = 0; k < c.vaccines.size(); ++k) {
      bool covered = false;
      for (const auto& w : s->windows) {
        covered = covered || std::find(w.vaccines.begin(), w.vaccines.end(), c.vaccines[k]) !=
                                 w.vaccines.end();
      }
      if (!covered) {
        centres_file.report(p + "/vaccines/" + std::to_string(k),
                            "centre " + in_quotes(c.id) + " gives " + in_quotes(c.vaccines[k]) +
                                " but no window of its schedule in " + schedule_file + " does");
      }
    }
  }
}

}  // namespace

const Vaccine* Catalog::vaccine(std::string_view key) const {
  for (const auto& v : vaccines) {
    if (v.key == key) return &v;
  }
  return nullptr;
}

const Centre* Catalog::centre(std::string_view id) const {
  for (const auto& c : centres) {
    if (c.id == id) return &c;
  }
  return nullptr;
}

const IdProofType* Catalog::id_type(std::string_view key) const {
  for (const auto& t : id_types) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

const WeeklySchedule* Catalog::schedule_for(std::string_view centre_id) const {
  if (auto it = centre_schedules.find(centre_id); it != centre_schedules.end()) return &it->second;
  return default_schedule ? &*default_schedule : nullptr;
}

VaccinesLoad load_vaccines(const std::filesystem::path& vaccines_json) {
  VaccinesLoad out;
  try {
    File f(vaccines_json, out.diagnostics);
    out.vaccines = read_vaccines(f);
  } catch (const std::exception& e) {  // a nlohmann type error we did not foresee: a bug
    out.diagnostics.push_back(
        {vaccines_json.string(), 1, 1, std::string("internal error: ") + e.what()});
  }
  return out;
}

CatalogLoad load_catalog(const std::filesystem::path& data_dir) {
  CatalogLoad out;
  auto& diags = out.diagnostics;
  Catalog& catalog = out.catalog;
  try {
    File vaccines(data_dir / "vaccines.json", diags);
    catalog.vaccines = read_vaccines(vaccines);
    const bool vaccines_ok = diags.empty();
    std::set<std::string, std::less<>> known;
    for (const auto& v : catalog.vaccines) known.insert(v.key);
    // Unknown-vaccine checks only against a vaccine list that loaded cleanly,
    // so one typo in vaccines.json does not cascade through every other file.
    const auto* known_ptr = vaccines_ok ? &known : nullptr;

    File id_types(data_dir / "id_types.json", diags);
    catalog.id_types = read_id_types(id_types);

    const std::size_t before_centres = diags.size();
    File centres(data_dir / "centres.json", diags);
    catalog.centres = read_centres(centres, known_ptr, vaccines.short_name());
    const bool centres_ok = diags.size() == before_centres;

    const std::size_t before_schedule = diags.size();
    File schedule(data_dir / "schedule.json", diags);
    read_schedules(schedule, catalog, known_ptr, centres_ok, vaccines.short_name(),
                   centres.short_name());
    if (centres_ok && schedule.parsed() && diags.size() == before_schedule) {
      check_coverage(centres, catalog, schedule.short_name());
    }
  } catch (const std::exception& e) {
    diags.push_back({data_dir.string(), 1, 1, std::string("internal error: ") + e.what()});
  }
  return out;
}

std::vector<SlotSpec> generate_slots(const Catalog& catalog, CivilDate today, int days) {
  std::vector<SlotSpec> out;
  for (const Centre& c : catalog.centres) {
    const WeeklySchedule* s = catalog.schedule_for(c.id);
    if (s == nullptr) continue;
    for (int d = 0; d < days; ++d) {
      const CivilDate date = add_days(today, d);
      if (!s->open_on(weekday(date))) continue;
      for (const TimeWindow& w : s->windows) {
        for (const std::string& v : w.vaccines) {
          // The default schedule offers each centre only the vaccines it gives.
          if (std::find(c.vaccines.begin(), c.vaccines.end(), v) == c.vaccines.end()) continue;
          out.push_back({c.id, date, w.start, w.end, v, w.capacity});
        }
      }
    }
  }
  return out;
}

Eligibility eligibility(const Vaccine& vaccine, CivilDate first_dose, CivilDate today) {
  Eligibility e;
  e.eligible_from = add_days(first_dose, vaccine.min_interval_days);
  if (today < first_dose) {
    e.state = EligibilityState::kFirstDoseInFuture;
  } else if (today < e.eligible_from) {
    e.state = EligibilityState::kTooEarly;
    e.days_to_wait = static_cast<int>(days_between(today, e.eligible_from));
  }
  return e;
}

std::size_t code_points(std::string_view utf8) {
  return text::decode_utf8(utf8).size();
}

std::optional<int> parse_hhmm(std::string_view t) {
  auto digit = [&](std::size_t i) { return t[i] >= '0' && t[i] <= '9'; };
  if (t.size() != 5 || t[2] != ':' || !digit(0) || !digit(1) || !digit(3) || !digit(4))
    return std::nullopt;
  const int h = (t[0] - '0') * 10 + (t[1] - '0');
  const int m = (t[3] - '0') * 10 + (t[4] - '0');
  if (h > 23 || m > 59) return std::nullopt;
  return h * 60 + m;
}

bool is_valid_venue_id(std::string_view id) {
  if (id.empty() || id.size() > kMaxIdLength) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return is_key_char(c) || c == '-'; });
}

}  // namespace vaxbot::booking

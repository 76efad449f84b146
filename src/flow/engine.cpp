#include "flow/engine.h"

#include <algorithm>
#include <charconv>

#include "booking/civil_date.h"
#include "booking/date_input.h"
#include "booking/id_proof.h"
#include "booking/text_utils.h"

namespace vaxbot::flow {
namespace {

using core::Language;
using core::MessageKind;

constexpr std::string_view kMoreId = "more";
constexpr std::string_view kLangPrefix = "lang:";
constexpr std::size_t kRowsPerPage = kMaxListRows - 1;  // one row left for "more"
constexpr std::size_t kTapLookupRows = 90;              // how far a tap on an old list is looked up

enum class Command { kNone, kGreeting, kRestart, kHelp, kStatus, kCancel, kLanguage };

// Lower-cases ASCII, trims, collapses inner spaces and drops trailing punctuation.
std::string normalise(std::string_view s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  while (!out.empty() && (out.back() == '!' || out.back() == '.' || out.back() == '?'))
    out.pop_back();
  return out;
}

Command command_of(const std::string& t) {
  static const std::vector<std::string> greetings = {
      "hi",
      "hii",
      "hello",
      "hey",
      "helo",
      "hlo",
      "namaste",
      "namaskar",
      "nomoskar",
      "start",
      "\xe0\xa6\xa8\xe0\xa6\xae\xe0\xa6\xb8\xe0\xa7\x8d\xe0\xa6\x95\xe0\xa6\xbe\xe0\xa6"
      "\xb0",  // নমস্কার
      "\xe0\xa6\xb9\xe0\xa7\x8d\xe0\xa6\xaf\xe0\xa6\xbe\xe0\xa6\xb2\xe0\xa7\x8b",  // হ্যালো
      "\xe0\xa6\xb9\xe0\xa6\xbe\xe0\xa6\x87",                                      // হাই
      "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa4\xe0\xa5\x87",  // नमस्ते
      "\xe0\xa4\xa8\xe0\xa4\xae\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\x95\xe0\xa4\xbe\xe0\xa4"
      "\xb0",                                              // नमस्कार
      "\xe0\xa4\xb9\xe0\xa5\x87\xe0\xa4\xb2\xe0\xa5\x8b",  // हेलो
      "\xe0\xa4\xb9\xe0\xa4\xbe\xe0\xa4\x87",              // हाइ
  };
  static const std::vector<std::pair<Command, std::vector<std::string>>> words = {
      {Command::kRestart,
       {"restart", "start again", "menu",
        "\xe0\xa6\x86\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\xb0 "
        "\xe0\xa6\xb6\xe0\xa7\x81\xe0\xa6\xb0\xe0\xa7\x81",  // আবার শুরু
        "\xe0\xa4\xab\xe0\xa4\xbf\xe0\xa4\xb0 \xe0\xa4\xb8\xe0\xa5\x87 "
        "\xe0\xa4\xb6\xe0\xa5\x81\xe0\xa4\xb0\xe0\xa5\x82"}},  // फिर से शुरू
      {Command::kHelp,
       {"help", "?",
        "\xe0\xa6\xb8\xe0\xa6\xbe\xe0\xa6\xb9\xe0\xa6\xbe\xe0\xa6\xaf\xe0\xa7\x8d\xe0\xa6"
        "\xaf",                                    // সাহায্য
        "\xe0\xa4\xae\xe0\xa4\xa6\xe0\xa4\xa6"}},  // मदद
      {Command::kStatus,
       {"status", "my booking",
        "\xe0\xa6\xb8\xe0\xa7\x8d\xe0\xa6\x9f\xe0\xa7\x8d\xe0\xa6\xaf\xe0\xa6\xbe\xe0\xa6\x9f"
        "\xe0\xa6\xbe\xe0\xa6\xb8",  // স্ট্যাটাস
        "\xe0\xa4\xb8\xe0\xa5\x8d\xe0\xa4\xa5\xe0\xa4\xbf\xe0\xa4\xa4\xe0\xa4\xbf"}},  // स्थिति
      {Command::kCancel,
       {"cancel", "cancel booking",
        "\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\xa4\xe0\xa6\xbf\xe0\xa6\xb2",  // বাতিল
        "\xe0\xa4\xb0\xe0\xa4\xa6\xe0\xa5\x8d\xe0\xa4\xa6"}},            // रद्द
      {Command::kLanguage,
       {"language", "lang", "bhasha",
        "\xe0\xa6\xad\xe0\xa6\xbe\xe0\xa6\xb7\xe0\xa6\xbe",    // ভাষা
        "\xe0\xa4\xad\xe0\xa4\xbe\xe0\xa4\xb7\xe0\xa4\xbe"}},  // भाषा
  };
  if (std::find(greetings.begin(), greetings.end(), t) != greetings.end())
    return Command::kGreeting;
  for (const auto& [cmd, list] : words) {
    if (std::find(list.begin(), list.end(), t) != list.end()) return cmd;
  }
  return Command::kNone;
}

// A slot id kept in the session; 0 when it is not a number (never throws).
std::int64_t slot_number(const std::string& s) {
  std::int64_t n = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && p == s.data() + s.size() ? n : 0;
}

// "3", "৩" or "३" -> 3: a typed option number in any of the three scripts.
std::optional<std::size_t> small_number(std::string_view text) {
  std::size_t n = 0, digits = 0;
  for (const auto& cp : booking::text::decode_utf8(text)) {
    const int d = booking::text::digit_value(cp.value);
    if (d < 0 || ++digits > 3) return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(d);
  }
  if (digits == 0) return std::nullopt;
  return n;
}

std::string get(const std::map<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

// Splits "a;b;c" into parts.
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

class Engine {
 public:
  Engine(const Flow& flow, const templates::Templates& texts, World& world, Session session,
         const core::InboundMessage& message, std::int64_t now_ms)
      : flow_(flow), texts_(texts), world_(world), msg_(message), now_(now_ms) {
    turn_.session = std::move(session);
    today_ = booking::local_date(now_ms, flow.utc_offset_minutes);
  }

  Turn run() {
    Session& s = turn_.session;
    const std::string text = normalise(msg_.text);
    const bool typed = msg_.kind == MessageKind::kText;
    const Command cmd = typed ? command_of(text) : Command::kNone;
    if (!s.step.empty() && s.updated_ms > 0 && now_ - s.updated_ms > kSessionIdleMs) {
      say("session_expired");
      s.step.clear();
      s.pending.clear();
    }
    s.updated_ms = now_;

    if (msg_.kind == MessageKind::kReaction || msg_.kind == MessageKind::kSystem) return finish();
    if (msg_.reply_id.starts_with(kLangPrefix)) {
      set_language(msg_.reply_id.substr(kLangPrefix.size()));
      return finish();
    }
    if (!s.pending.empty() && cmd == Command::kNone && answer_pending(text)) return finish();
    switch (cmd) {
      case Command::kGreeting:
        start(core::language_of_script(msg_.text).value_or(Language::kEn));
        return finish();
      case Command::kRestart:
        start(s.language);
        return finish();
      case Command::kHelp:
        say("help");
        reprompt();
        return finish();
      case Command::kStatus:
        status();
        return finish();
      case Command::kCancel:
        cancel();
        return finish();
      case Command::kLanguage:
        ask_language();
        return finish();
      case Command::kNone:
        break;
    }
    if (s.step.empty()) {
      start(core::language_of_script(msg_.text).value_or(s.language));
      return finish();
    }
    const Step* step = flow_.step(s.step);
    if (step == nullptr) {  // the flow changed under a session: start over
      start(s.language);
      return finish();
    }
    if (!usable_kind()) {
      say("send_text_instead", {{"expected", expectation(*step)}});
      return finish();
    }
    answer(*step);
    return finish();
  }

 private:
  Turn finish() {
    fold_notices();
    return std::move(turn_);
  }

  // A notice said just before another message of the same turn ("That slot was
  // just taken." before the slots left; "Sorry, that is not one of the
  // options." before the list again) goes in one message with it when both fit
  // WhatsApp's limit: a lost race or a slip costs the resident one message, not
  // two or three, and the outbox one send instead of several.
  void fold_notices() {
    std::vector<Reply>& r = turn_.replies;
    for (std::size_t i = 0; i + 1 < r.size();) {
      const Reply& notice = r[i];
      Reply& next = r[i + 1];
      const std::size_t limit =
          next.kind == Reply::Kind::kText ? kMaxTextBody : kMaxInteractiveBody;
      if (notice.kind != Reply::Kind::kText || next.kind == Reply::Kind::kTemplate ||
          templates::length(notice.body) + kFoldSeparator.size() + templates::length(next.body) >
              limit) {
        ++i;
        continue;
      }
      next.body = notice.body + std::string(kFoldSeparator) + next.body;
      next.key = notice.key + "+" + next.key;
      r.erase(r.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }

  Language lang() const { return turn_.session.language; }

  bool usable_kind() const {
    return msg_.kind == MessageKind::kText || msg_.kind == MessageKind::kButtonReply ||
           msg_.kind == MessageKind::kListReply || msg_.kind == MessageKind::kButton;
  }

  templates::Vars vars() {
    const Session& s = turn_.session;
    templates::Vars v;
    v["name"] = msg_.profile_name;
    for (const auto& [k, val] : s.vars) v[k] = val;
    if (auto d = booking::parse_iso(get(s.vars, "first_dose_date")); d.ok()) {
      v["first_dose_date"] = booking::to_ddmmyyyy(*d);
    }
    if (auto vac = get(s.vars, "vaccine"); !vac.empty()) v["vaccine"] = world_.vaccine_name(vac);
    if (auto t = get(s.vars, "id_type"); !t.empty()) v["id_type"] = world_.id_type_name(lang(), t);
    v["centre"] = get(s.vars, "centre_title");
    if (auto slot = get(s.vars, "slot"); !slot.empty()) {
      if (auto b = world_.describe_slot(lang(), slot_number(slot))) {
        v["centre"] = b->centre;
        v["address"] = b->address;
        v["date"] = b->date;
        v["time"] = b->time;
      }
    }
    return v;
  }

  void say(const std::string& key, templates::Vars extra = {}) {
    templates::Vars v = vars();
    for (auto& [k, val] : extra) v[k] = std::move(val);
    Reply r;
    r.key = key;
    r.body = texts_.render(lang(), key, v);
    turn_.replies.push_back(std::move(r));
  }

  std::string booking_summary(const BookingView& b) {
    return texts_.render(lang(), "booking_summary",
                         {{"reference", b.reference},
                          {"centre", b.centre},
                          {"address", b.address},
                          {"date", b.date},
                          {"time", b.time},
                          {"vaccine", b.vaccine},
                          {"id_type", b.id_type},
                          {"id_masked", b.id_masked}});
  }

  // ---- starting, language, global commands ----

  void start(Language language) {
    Session& s = turn_.session;
    s.language = language;
    s.vars.clear();
    s.misses = 0;
    s.page = 0;
    s.pending.clear();
    s.step = flow_.start;
    const Step* first = flow_.step(flow_.start);
    if (flow_.welcome.empty() || first == nullptr || first->input == InputKind::kChoice) {
      if (!flow_.welcome.empty()) say(flow_.welcome);
      if (first != nullptr) prompt(*first);
      return;
    }
    // The welcome already asks the first question, with buttons to switch language.
    Reply r;
    r.kind = Reply::Kind::kButtons;
    r.key = flow_.welcome;
    r.body = texts_.render(lang(), flow_.welcome, vars());
    r.options = language_options();
    turn_.replies.push_back(std::move(r));
  }

  std::vector<Option> language_options() const {
    return {{"lang:en", "English", ""},
            {"lang:bn", "\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\x82\xe0\xa6\xb2\xe0\xa6\xbe", ""},
            {"lang:hi", "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80",
             ""}};
  }

  void set_language(const std::string& code) {
    Session& s = turn_.session;
    if (auto l = core::language_from_code(code)) s.language = *l;
    s.pending.clear();
    say("language_changed");
    reprompt();
  }

  void ask_language() {
    turn_.session.pending = "language";
    Reply r;
    r.kind = Reply::Kind::kButtons;
    r.key = "choose_language";
    r.body = texts_.render(lang(), "choose_language", vars());
    r.options = language_options();
    turn_.replies.push_back(std::move(r));
  }

  void status() {
    if (auto b = world_.active_booking_for_resident(lang(), msg_.from)) {
      say("status_booking", {{"booking", booking_summary(*b)}});
    } else {
      say("status_none");
    }
    reprompt();
  }

  void cancel() {
    Session& s = turn_.session;
    auto b = world_.active_booking_for_resident(lang(), msg_.from);
    if (!b) {
      say("cancel_none");
      reprompt();
      return;
    }
    s.pending = "cancel";
    s.vars["cancel_reference"] = b->reference;
    Reply r;
    r.kind = Reply::Kind::kButtons;
    r.key = "cancel_confirm";
    templates::Vars v = vars();
    v["booking"] = booking_summary(*b);
    r.body = texts_.render(lang(), "cancel_confirm", v);
    r.options = {{"cancel_yes", texts_.render(lang(), "btn_yes_cancel"), ""},
                 {"cancel_no", texts_.render(lang(), "btn_no_keep"), ""}};
    turn_.replies.push_back(std::move(r));
  }

  // Returns true when the message answered the pending question.
  bool answer_pending(const std::string& text) {
    Session& s = turn_.session;
    if (s.pending == "language") {
      const std::vector<std::pair<std::string, std::vector<std::string>>> names = {
          {"en", {"1", "english", "en"}},
          {"bn",
           {"2", "bangla", "bengali", "bn",
            "\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\x82\xe0\xa6\xb2\xe0\xa6\xbe"}},
          {"hi",
           {"3", "hindi", "hi",
            "\xe0\xa4\xb9\xe0\xa4\xbf\xe0\xa4\xa8\xe0\xa5\x8d\xe0\xa4\xa6\xe0\xa5\x80"}}};
      for (const auto& [code, list] : names) {
        if (std::find(list.begin(), list.end(), text) != list.end()) {
          set_language(code);
          return true;
        }
      }
      s.pending.clear();
      return false;
    }
    if (s.pending == "cancel") {
      const std::string yes_title = normalise(texts_.render(lang(), "btn_yes_cancel"));
      const std::string no_title = normalise(texts_.render(lang(), "btn_no_keep"));
      const bool yes =
          msg_.reply_id == "cancel_yes" || text == "1" || text == "yes" || text == yes_title;
      const bool no =
          msg_.reply_id == "cancel_no" || text == "2" || text == "no" || text == no_title;
      const std::string reference = get(s.vars, "cancel_reference");
      s.pending.clear();
      s.vars.erase("cancel_reference");
      if (yes) {
        turn_.effects.push_back(Cancel{reference});
        s.step.clear();
        s.vars.clear();
        say("cancelled", {{"reference", reference}});
        return true;
      }
      if (no) {
        say("cancel_kept");
        reprompt();
        return true;
      }
      return false;  // anything else: the question lapses and the message is read normally
    }
    s.pending.clear();
    return false;
  }

  // ---- steps ----

  void reprompt() {
    const Step* step = flow_.step(turn_.session.step);
    if (step != nullptr) prompt(*step);
  }

  std::string expectation(const Step& step) {
    switch (step.input) {
      case InputKind::kDate:
        return texts_.render(lang(), "expect_date");
      case InputKind::kIdNumber:
        return texts_.render(lang(), "expect_id");
      default:
        return texts_.render(lang(), "expect_choice");
    }
  }

  // The rows a list needs to show the session's page: every row up to the end
  // of that page, and one more to know whether a "more" row is due. Fetching
  // only these keeps a long list of slots from being read and rendered on
  // every turn.
  std::size_t rows_for_page() const {
    const auto page = static_cast<std::size_t>(std::max(0, turn_.session.page));
    return std::max(kMaxListRows, (page + 1) * kRowsPerPage) + 1;
  }

  // The options of a choice step as the resident sees them now: for slots, the
  // first `limit` (rows_for_page() unless a caller needs more).
  std::vector<Option> options(const Step& step, std::size_t limit = 0) {
    const Session& s = turn_.session;
    std::vector<Option> out;
    if (!step.options.empty()) {
      for (const auto& o : step.options) out.push_back({o.id, texts_.render(lang(), o.title), ""});
      return out;
    }
    const std::string today = booking::to_iso(today_);
    if (step.options_from == "vaccines") return world_.vaccines(lang());
    if (step.options_from == "centres")
      return world_.centres(lang(), get(s.vars, "vaccine"), today);
    if (step.options_from == "slots") {
      return world_.slots(lang(), get(s.vars, "centre"), get(s.vars, "vaccine"), today,
                          limit == 0 ? rows_for_page() : limit);
    }
    if (step.options_from == "id_types") {
      for (const std::string& c : split(get(s.vars, "id_candidates"), ';')) {
        const std::string type = c.substr(0, c.find(':'));
        out.push_back({type, world_.id_type_name(lang(), type), ""});
      }
    }
    return out;
  }

  // The rows shown on the current page (with a "more" row when more remain).
  std::vector<Option> page_of(const std::vector<Option>& all) {
    Session& s = turn_.session;
    if (all.size() <= kMaxListRows) {
      s.page = 0;
      return all;
    }
    const std::size_t pages = (all.size() + kRowsPerPage - 1) / kRowsPerPage;
    if (s.page < 0 || static_cast<std::size_t>(s.page) >= pages) s.page = 0;
    const std::size_t begin = static_cast<std::size_t>(s.page) * kRowsPerPage;
    const std::size_t end = std::min(all.size(), begin + kRowsPerPage);
    std::vector<Option> rows(all.begin() + static_cast<std::ptrdiff_t>(begin),
                             all.begin() + static_cast<std::ptrdiff_t>(end));
    rows.push_back({std::string(kMoreId), texts_.render(lang(), "more_row"),
                    texts_.render(lang(), "more_row_description")});
    return rows;
  }

  void prompt(const Step& step) {
    Session& s = turn_.session;
    if (step.input != InputKind::kChoice) {
      say(step.prompt);
      return;
    }
    std::vector<Option> all = options(step);
    if (all.empty()) {
      // Nothing left to choose: say so, and step back where that makes sense.
      if (step.options_from == "slots") {
        say("no_slots");
        const Step* centres = find_step("centres");
        if (centres != nullptr && centres != &step) {
          s.step = centres->name;
          s.page = 0;
          prompt(*centres);
          return;
        }
      } else {
        say("no_options");
      }
      end_conversation();
      return;
    }
    Reply r;
    r.key = step.prompt;
    r.body = texts_.render(lang(), step.prompt, vars());
    if (step.options_from.empty() && all.size() <= kMaxButtons) {
      r.kind = Reply::Kind::kButtons;
      r.options = std::move(all);
    } else {
      r.kind = Reply::Kind::kList;
      r.button = texts_.render(lang(), step.button.empty() ? "list_button" : step.button);
      r.options = page_of(all);
    }
    turn_.replies.push_back(std::move(r));
  }

  const Step* find_step(std::string_view source) const {
    for (const auto& [name, st] : flow_.steps) {
      if (st.options_from == source) return &st;
    }
    return nullptr;
  }

  void end_conversation() {
    Session& s = turn_.session;
    s.step.clear();
    s.vars.clear();
    s.page = 0;
    s.misses = 0;
  }

  void miss(const std::string& key, const Step& step) {
    Session& s = turn_.session;
    say(key);
    if (++s.misses >= kMissesBeforeHelp) {
      say("help");
      s.misses = 0;
    }
    if (step.input == InputKind::kChoice) prompt(step);
  }

  void answer(const Step& step) {
    Session& s = turn_.session;
    switch (step.input) {
      case InputKind::kDate: {
        auto parsed = booking::parse_first_dose_date(msg_.text, today_);
        if (!parsed.ok()) {
          std::string key = booking::to_string(parsed.reason());  // "date.in_future"
          std::replace(key.begin(), key.end(), '.', '_');
          return miss(key, step);
        }
        s.vars[step.save_as] = booking::to_iso(parsed.date());
        break;
      }
      case InputKind::kIdNumber: {
        auto recognised = booking::recognise_id(msg_.text);
        if (!recognised.ok()) {
          std::string key = booking::to_string(recognised.reason());  // "id.aadhaar_checksum"
          std::replace(key.begin(), key.end(), '.', '_');
          return miss(key, step);
        }
        // Only a keyed hash, the last four characters and a masked form are kept: never the number.
        std::string candidates;
        for (const auto& c : recognised.candidates()) {
          if (!candidates.empty()) candidates += ';';
          candidates += std::string(booking::to_string(c.type)) + ":" +
                        world_.id_hash(c.normalised) + ":" + booking::last4(c.normalised) + ":" +
                        booking::mask_id(c.normalised);
        }
        s.vars.erase("id_type");
        s.vars["id_candidates"] = candidates;
        if (recognised.candidates().size() == 1)
          choose_id_type(std::string(booking::to_string(recognised.candidates()[0].type)));
        break;
      }
      case InputKind::kChoice: {
        std::vector<Option> all = options(step);
        std::vector<Option> shown = page_of(all);
        const Option* chosen = match(shown, all);
        if (chosen == nullptr && !msg_.reply_id.empty() && all.size() >= rows_for_page()) {
          // A tap on a row of a later page of an older list: look further.
          all = options(step, kTapLookupRows);
          chosen = match(shown, all);
        }
        if (chosen == nullptr) return miss("choice_not_understood", step);
        if (chosen->id == kMoreId) {
          ++s.page;
          prompt(step);
          return;
        }
        s.vars[step.save_as] = chosen->id;
        s.vars[step.save_as + "_title"] = chosen->title;
        if (step.options_from == "id_types") choose_id_type(chosen->id);
        break;
      }
      case InputKind::kNone:
        break;
    }
    s.misses = 0;
    s.page = 0;
    route(step);
  }

  void choose_id_type(const std::string& type) {
    Session& s = turn_.session;
    for (const std::string& c : split(get(s.vars, "id_candidates"), ';')) {
      auto parts = split(c, ':');
      if (parts.size() == 4 && parts[0] == type) {
        s.vars["id_type"] = parts[0];
        s.vars["id_hash"] = parts[1];
        s.vars["id_last4"] = parts[2];
        s.vars["id_masked"] = parts[3];
      }
    }
  }

  const Option* match(const std::vector<Option>& shown, const std::vector<Option>& all) {
    const std::string& id = msg_.reply_id;
    if (!id.empty()) {
      for (const auto& o : shown) {
        if (o.id == id) return &o;
      }
      for (const auto& o : all) {  // a tap on an earlier page of the same list
        if (o.id == id) return &o;
      }
      return nullptr;
    }
    const std::string text = normalise(msg_.text);
    if (auto n = small_number(text)) {
      if (*n >= 1 && *n <= shown.size()) return &shown[*n - 1];
      return nullptr;
    }
    auto squash = [](const std::string& s) {
      std::string out;
      for (char c : normalise(s)) {
        if (c != ' ') out += c;
      }
      return out;
    };
    const std::string typed = squash(text);
    for (const auto& o : shown) {
      if (squash(o.title) == typed) return &o;
    }
    for (const auto& o : all) {
      if (squash(o.title) == typed) return &o;
    }
    return nullptr;
  }

  bool holds(const std::string& when, const Step& step) {
    Session& s = turn_.session;
    if (when.empty()) return true;
    if (when.starts_with("answer:")) return get(s.vars, step.save_as) == when.substr(7);
    if (when == "id_type_known") return !get(s.vars, "id_type").empty();
    if (when == "has_active_booking") {
      auto b = world_.active_booking_for_id(lang(), get(s.vars, "id_hash"));
      if (b) s.vars["booking"] = booking_summary(*b);
      return b.has_value();
    }
    if (when == "eligible") {
      auto first = booking::parse_iso(get(s.vars, "first_dose_date"));
      auto interval = world_.vaccine_interval_days(get(s.vars, "vaccine"));
      if (!first.ok() || !interval) return false;
      const booking::CivilDate from = booking::add_days(*first, *interval);
      s.vars["interval"] = std::to_string(*interval);
      s.vars["eligible_from"] = booking::to_ddmmyyyy(from);
      s.vars["days"] = std::to_string(booking::days_between(today_, from));
      return !(today_ < from);
    }
    return false;
  }

  void route(const Step& step) {
    for (const Route& r : step.next) {
      if (!holds(r.when, step)) continue;
      if (r.action == "book" && !book()) return;
      go(r.go_to);
      return;
    }
  }

  // Emits the booking, or says the seat went and offers the slots that remain.
  bool book() {
    Session& s = turn_.session;
    const std::string slot = get(s.vars, "slot");
    const std::int64_t slot_id = slot_number(slot);
    if (slot_id == 0 || world_.free_seats(slot_id) <= 0) {
      say("slot_taken");
      s.vars.erase("slot");
      if (const Step* slots = find_step("slots")) {
        s.step = slots->name;
        s.page = 0;
        prompt(*slots);
      }
      return false;
    }
    Book b;
    b.slot_id = slot_id;
    b.reference = world_.new_reference();
    b.resident = msg_.from;
    b.id_type = get(s.vars, "id_type");
    b.id_hash = get(s.vars, "id_hash");
    b.id_last4 = get(s.vars, "id_last4");
    b.vaccine = get(s.vars, "vaccine");
    b.first_dose_date = get(s.vars, "first_dose_date");
    s.vars["reference"] = b.reference;
    turn_.effects.emplace_back(std::in_place_type<Book>, std::move(b));
    return true;
  }

  void go(const std::string& name) {
    Session& s = turn_.session;
    const Step* next = flow_.step(name);
    if (next == nullptr) return;
    s.step = next->name;
    s.page = 0;
    prompt(*next);
    if (next->end) end_conversation();
  }

  const Flow& flow_;
  const templates::Templates& texts_;
  World& world_;
  const core::InboundMessage& msg_;
  std::int64_t now_;
  booking::CivilDate today_{};
  Turn turn_;
};

}  // namespace

const std::set<std::string, std::less<>>& known_placeholders() {
  static const std::set<std::string, std::less<>> k = {
      "name",      "first_dose_date", "vaccine",  "interval", "eligible_from", "days",
      "centre",    "address",         "date",     "time",     "reference",     "id_type",
      "id_masked", "booking",         "expected", "seats"};
  return k;
}

const std::vector<std::string>& engine_template_keys() {
  static const std::vector<std::string> k = {"session_expired",
                                             "help",
                                             "status_booking",
                                             "status_none",
                                             "cancel_none",
                                             "cancel_confirm",
                                             "btn_yes_cancel",
                                             "btn_no_keep",
                                             "cancelled",
                                             "cancel_kept",
                                             "choose_language",
                                             "language_changed",
                                             "send_text_instead",
                                             "expect_date",
                                             "expect_id",
                                             "expect_choice",
                                             "more_row",
                                             "more_row_description",
                                             "list_button",
                                             "no_slots",
                                             "no_options",
                                             "slot_taken",
                                             "choice_not_understood",
                                             "booking_summary",
                                             "date_unrecognised",
                                             "date_impossible",
                                             "date_in_future",
                                             "date_too_early",
                                             "id_empty",
                                             "id_unrecognised",
                                             "id_aadhaar_checksum",
                                             "id_aadhaar_leading_digit"};
  return k;
}

Turn run(const Flow& flow, const templates::Templates& texts, World& world, Session session,
         const core::InboundMessage& message, std::int64_t now_ms) {
  return Engine(flow, texts, world, std::move(session), message, now_ms).run();
}

}  // namespace vaxbot::flow

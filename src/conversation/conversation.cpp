#include "conversation/conversation.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "booking/civil_date.h"
#include "booking/id_proof.h"
#include "core/hex.h"
#include "core/json.h"
#include "core/log.h"
#include "flow/engine.h"
#include "store/conversation_store.h"
#include "store/outbox_store.h"
#include "store/slot_store.h"
#include "whatsapp/send.h"

namespace vaxbot::conversation {
namespace {

using core::Language;

constexpr std::size_t kMaxButtonTitle = 20, kMaxRowTitle = 24, kMaxRowDescription = 72;
using flow::kMaxInteractiveBody;

const std::string& localized(const booking::LocalizedName& n, Language l) {
  const std::string& s = l == Language::kBn ? n.bn : l == Language::kHi ? n.hi : n.en;
  return s.empty() ? n.en : s;
}

// The store as the engine sees it. A database failure is remembered and
// turns the whole turn into an error (the transaction rolls back).
class StoreWorld final : public flow::World {
 public:
  StoreWorld(const Content& content, store::SlotStore& slots, booking::RandomSource& random,
             const std::string& key)
      : content_(content), slots_(slots), random_(random), key_(key) {}

  const std::optional<core::Error>& failure() const { return failure_; }

  std::vector<flow::Option> vaccines(Language) override {
    std::vector<flow::Option> out;
    for (const auto& v : content_.catalog.vaccines) out.push_back({v.key, v.name, ""});
    return out;
  }
  std::optional<int> vaccine_interval_days(const std::string& key) override {
    const auto* v = content_.catalog.vaccine(key);
    return v ? std::optional<int>(v->min_interval_days) : std::nullopt;
  }
  std::string vaccine_name(const std::string& key) override {
    const auto* v = content_.catalog.vaccine(key);
    return v ? v->name : key;
  }
  std::string id_type_name(Language l, const std::string& key) override {
    const auto* t = content_.catalog.id_type(key);
    return t ? localized(t->name, l) : key;
  }
  std::vector<flow::Option> centres(Language l, const std::string& vaccine,
                                    const std::string& from) override {
    std::vector<flow::Option> out;
    auto date = booking::parse_iso(from);
    if (!date.ok()) return out;
    auto venues = slots_.venues_with_free_slots(*date, vaccine);
    if (!check(venues)) return out;
    for (const auto& v : *venues) out.push_back({v.id, venue_name(v, l), v.address});
    return out;
  }
  std::vector<flow::Option> slots(Language l, const std::string& centre, const std::string& vaccine,
                                  const std::string& from, std::size_t limit) override {
    std::vector<flow::Option> out;
    auto date = booking::parse_iso(from);
    if (!date.ok()) return out;
    auto free = slots_.free_slots(centre, *date, vaccine, static_cast<int>(limit));
    if (!check(free)) return out;
    for (const auto& s : *free) {
      out.push_back({std::to_string(s.id),
                     content_.texts.render(
                         l, "slot_row_title",
                         {{"date", booking::to_ddmmyyyy(s.date)}, {"time", s.start + "-" + s.end}}),
                     content_.texts.render(l, "slot_row_description",
                                           {{"seats", std::to_string(s.free_seats())}})});
    }
    return out;
  }
  int free_seats(std::int64_t slot_id) override {
    auto s = slots_.slot(slot_id);
    return s.ok() ? s->free_seats() : 0;
  }
  std::optional<flow::BookingView> describe_slot(Language l, std::int64_t slot_id) override {
    auto s = slots_.slot(slot_id);
    if (!s.ok()) return std::nullopt;
    flow::BookingView b;
    b.date = booking::to_ddmmyyyy(s->date);
    b.time = s->start + "-" + s->end;
    b.vaccine = vaccine_name(s->vaccine);
    auto v = slots_.venue(s->venue_id);
    if (check(v) && v->has_value()) {
      b.centre = venue_name(**v, l);
      b.address = (*v)->address;
    }
    return b;
  }
  std::optional<flow::BookingView> active_booking_for_id(Language l,
                                                         const std::string& hash) override {
    auto b = slots_.active_booking_for(hash);
    if (!check(b) || !b->has_value()) return std::nullopt;
    return view(l, **b);
  }
  std::optional<flow::BookingView> active_booking_for_resident(
      Language l, const std::string& resident) override {
    auto b = slots_.active_booking_for_resident(resident);
    if (!check(b) || !b->has_value()) return std::nullopt;
    return view(l, **b);
  }
  std::string id_hash(const std::string& normalised) override {
    return conversation::id_hash(key_, normalised);
  }
  std::string new_reference() override {
    auto r = booking::generate_reference(random_);
    if (!r.ok()) {
      failure_ = r.error();
      return {};
    }
    return *r;
  }

 private:
  template <typename T>
  bool check(const core::Result<T>& r) {
    if (!r.ok() && !failure_) failure_ = r.error();
    return r.ok();
  }

  std::string venue_name(const store::Venue& v, Language l) const {
    const std::string& n = l == Language::kBn ? v.name_bn : l == Language::kHi ? v.name_hi : v.name;
    return n.empty() ? v.name : n;
  }

  flow::BookingView view(Language l, const store::Booking& booking) {
    flow::BookingView b = describe_slot(l, booking.slot_id).value_or(flow::BookingView{});
    b.reference = booking.reference;
    b.id_type = id_type_name(l, booking.id_type);
    b.id_masked =
        booking.id_type == "aadhaar" ? "XXXX XXXX " + booking.id_last4 : "****" + booking.id_last4;
    return b;
  }

  const Content& content_;
  store::SlotStore& slots_;
  booking::RandomSource& random_;
  const std::string& key_;
  std::optional<core::Error> failure_;
};

// The session's variables as a JSON object of strings, read and written on
// every turn: simdjson reads them in a tenth of the instructions of an nlohmann
// tree. What is not a string (never written by vaxbot) is left out.
std::map<std::string, std::string> vars_from_json(const std::string& text) {
  std::map<std::string, std::string> out;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::object members;
  if (parser.parse(text).get(members)) return out;
  for (auto [key, value] : members) {
    std::string_view v;
    if (!value.get(v)) out.emplace(key, v);
  }
  return out;
}

// A reply as the transcript keeps it: the body cut into its template's pieces
// and the values that filled them (shared pieces are stored once), then the
// options, numbered, as the resident sees them. A body its template does not
// explain (a slip, a changed file) is kept whole.
store::Reply transcript_reply(const templates::Templates& texts, Language language,
                              const core::OutboundMessage& m) {
  store::Reply r;
  r.key = m.key;
  // The template text of the key; for notices folded into the message after
  // them ("slot_taken+ask_slot"), their texts joined as the engine joins them.
  auto raw_text = [&](Language l) -> std::optional<std::string> {
    std::string joined;
    std::size_t from = 0;
    for (;;) {
      const std::size_t plus = m.key.find('+', from);
      const std::string* raw = texts.raw(l, m.key.substr(from, plus - from));
      if (raw == nullptr) return std::nullopt;
      if (from > 0) joined += flow::kFoldSeparator;
      joined += *raw;
      if (plus == std::string::npos) return joined;
      from = plus + 1;
    }
  };
  std::optional<templates::Cut> cut;
  if (auto raw = raw_text(language)) cut = templates::split(*raw, m.body);
  for (Language l : core::kLanguages) {
    if (cut) break;
    if (auto raw = raw_text(l)) cut = templates::split(*raw, m.body);
  }
  if (cut) {
    r.pieces = std::move(cut->pieces);
    r.values = std::move(cut->values);
  } else {
    r.pieces = {m.body};
  }
  for (std::size_t i = 0; i < m.options.size(); ++i) {
    r.pieces.back() += "\n[" + std::to_string(i + 1) + "] " + m.options[i].title;
  }
  return r;
}

// The longest a placeholder's value usually is, for the length checks.
std::size_t longest_value(const std::string& placeholder) {
  if (placeholder == "booking") return 300;  // a booking summary
  if (placeholder == "address") return 72;   // data/ keeps addresses to a row description
  if (placeholder == "date") return 10;      // 14/11/2025
  if (placeholder == "time") return 11;      // 09:00-11:00
  if (placeholder == "seats") return 3;
  return 24;  // names: centres, vaccines, residents
}

}  // namespace

std::string id_hash(const std::string& key, const std::string& normalised_id) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(normalised_id.data()), normalised_id.size(), mac,
       &len);
  return core::to_hex(mac, len);
}

struct Conversation::Impl {
  const Content& content;
  const core::Clock& clock;
  booking::RandomSource& random;
  std::string key;
  store::Database* db = nullptr;
  std::unique_ptr<store::SlotStore> slots;
  std::unique_ptr<store::ConversationStore> conversations;
  std::unique_ptr<store::OutboxStore> outbox;
  std::shared_ptr<spdlog::logger> log = core::logger("conversation");

  core::Status message(const core::InboundMessage& m);
};

Conversation::Conversation(const Content& content, const core::Clock& clock,
                           booking::RandomSource& random, std::string id_key)
    : impl_(new Impl{content, clock, random, std::move(id_key), nullptr, nullptr, nullptr,
                     nullptr}) {}

Conversation::~Conversation() = default;

core::Status Conversation::handle(store::Database& db, const core::Event& event) {
  if (impl_->db != &db) {  // statements are prepared once per connection
    impl_->slots = std::make_unique<store::SlotStore>(db);
    impl_->conversations = std::make_unique<store::ConversationStore>(db);
    impl_->outbox = std::make_unique<store::OutboxStore>(db);
    impl_->db = &db;
  }
  if (const auto* m = std::get_if<core::InboundMessage>(&event)) {
    // The module's edge: nothing thrown below (a library, a bug) reaches the writer thread.
    try {
      return impl_->message(*m);
    } catch (const std::exception& e) {
      impl_->log->error("a message from a resident could not be handled: {}", e.what());
      return core::make_error(core::ErrorCode::kInternal, std::string("conversation: ") + e.what());
    }
  }
  if (const auto* st = std::get_if<core::StatusUpdate>(&event)) {
    // Meta's report on a reply: the row and its transcript line move forward.
    std::string error;
    if (st->error_code != 0) error = std::to_string(st->error_code) + " " + st->error_title;
    return impl_->outbox->apply_status(st->message_id, std::string(core::to_string(st->state)),
                                       error);
  }
  return core::ok_status();  // unusable parts are recorded by the store, nothing more to do
}

core::Status Conversation::Impl::message(const core::InboundMessage& m) {
  const std::int64_t now = clock.now_ms();
  auto stored = conversations->session(m.from);
  if (!stored.ok()) return stored.error();
  flow::Session session;
  if (stored->has_value()) {
    const store::SessionRow& row = **stored;
    session.step = row.flow == content.flow.id ? row.step : "";
    session.language = core::language_from_code(row.language).value_or(Language::kEn);
    session.vars = vars_from_json(row.vars_json);
    session.misses = row.misses;
    session.page = row.page;
    session.pending = row.pending;
    session.updated_ms = row.updated_ms;
  }
  const std::string step_before = session.step;
  StoreWorld world(content, *slots, random, key);
  flow::Turn turn = flow::run(content.flow, content.texts, world, std::move(session), m, now);
  if (world.failure()) return *world.failure();

  for (const flow::Effect& effect : turn.effects) {
    if (const auto* b = std::get_if<flow::Book>(&effect)) {
      store::Booking booking;
      booking.reference = b->reference;
      booking.resident = b->resident;
      booking.id_type = b->id_type;
      booking.id_hash = b->id_hash;
      booking.id_last4 = b->id_last4;
      booking.vaccine = b->vaccine;
      auto first = booking::parse_iso(b->first_dose_date);
      if (first.ok()) booking.first_dose_date = *first;
      booking.slot_id = b->slot_id;
      booking.created_at_ms = now;
      booking.updated_at_ms = now;
      if (auto r = slots->create_booking(booking); !r.ok()) return r.error();
      log->info("booked {} for a resident (slot {})", b->reference, b->slot_id);
    } else if (const auto* c = std::get_if<flow::Cancel>(&effect)) {
      if (auto r = slots->cancel_booking(c->reference, now); !r.ok()) return r.error();
      log->info("cancelled {}", c->reference);
    }
  }

  const flow::Session& s = turn.session;
  store::SessionRow row{m.from,
                        content.flow.id,
                        s.step,
                        std::string(core::code(s.language)),
                        core::json_object(s.vars),
                        s.misses,
                        s.page,
                        s.pending,
                        s.updated_ms};
  if (auto st = conversations->save_session(row); !st.ok()) return st;
  if (!step_before.empty()) {
    if (auto st = conversations->set_step(m.id, step_before); !st.ok()) return st;
  }
  for (const core::OutboundMessage& reply : turn.replies) {
    store::Reply out = transcript_reply(content.texts, s.language, reply);
    out.resident = m.from;
    out.step = s.step;
    out.body = whatsapp::send_body(m.from, reply);
    out.priority = step_before.empty() ? core::priority::kGreeting : core::priority::kReply;
    out.at_ms = now;
    if (auto id = conversations->queue_reply(out); !id.ok()) return id.error();
  }
  return core::ok_status();
}

core::Result<Content> load_content(const ContentPaths& paths,
                                   std::vector<core::Diagnostic>& problems) {
  const std::size_t before = problems.size();
  auto flow = flow::load_flow(paths.flows / paths.flow_file, problems);
  // Read what can be read, so one run reports every problem (keys, lengths) at once.
  std::optional<templates::Templates> texts =
      templates::Templates::read(paths.templates, flow::known_placeholders(), problems);
  auto catalog = booking::load_catalog(paths.data);
  problems.insert(problems.end(), catalog.diagnostics.begin(), catalog.diagnostics.end());
  if (!flow.ok()) return core::make_error(core::ErrorCode::kInvalidInput, "content has problems");
  // Cross-checks: every key used exists; every text fits WhatsApp in every language.
  const std::string flow_file = (paths.flows / paths.flow_file).string();
  std::string flow_text;
  if (std::ifstream in(flow_file, std::ios::binary); in) {
    std::ostringstream ss;
    ss << in.rdbuf();
    flow_text = ss.str();
  }
  std::vector<std::pair<std::string, std::string>> used = flow->template_keys();
  for (const auto& k : flow::engine_template_keys()) used.emplace_back(k, "");
  used.emplace_back("slot_row_title", "");
  used.emplace_back("slot_row_description", "");
  for (const auto& [key, step] : used) {
    if (!texts->has(key)) {
      problems.push_back(core::at_definition(flow_file, flow_text, step,
                                             "template \"" + key + "\"" +
                                                 (step.empty() ? "" : " (step \"" + step + "\")") +
                                                 " is not in templates/"));
    }
  }
  std::set<std::string> buttons, rows, descriptions, bodies;
  for (const auto& [name, st] : flow->steps) {
    for (const auto& o : st.options) buttons.insert(o.title);
    if (!st.button.empty()) buttons.insert(st.button);
    bodies.insert(st.prompt);
  }
  for (const char* k : {"btn_yes_cancel", "btn_no_keep", "list_button"}) buttons.insert(k);
  rows.insert("more_row");
  rows.insert("slot_row_title");
  descriptions.insert("more_row_description");
  descriptions.insert("slot_row_description");
  for (const auto& k : texts->keys()) {
    if (!buttons.contains(k) && !rows.contains(k) && !descriptions.contains(k)) bodies.insert(k);
  }
  for (Language l : core::kLanguages) {
    auto limit = [&](const std::set<std::string>& keys, std::size_t max, const char* what) {
      for (const auto& k : keys) {
        const std::string* t = texts->raw(l, k);
        if (t == nullptr) continue;
        // Placeholders count as the longest value they usually take.
        std::size_t n = templates::length(texts->render(l, k, {}));
        for (const auto& p : templates::placeholders(*t)) n += longest_value(p);
        if (n > max) {
          problems.push_back(texts->locate(l, k,
                                           "\"" + k + "\" is " + std::to_string(n) +
                                               " characters with its placeholders filled; a " +
                                               what + " takes at most " + std::to_string(max)));
        }
      }
    };
    limit(buttons, kMaxButtonTitle, "button title");
    limit(rows, kMaxRowTitle, "list row title");
    limit(descriptions, kMaxRowDescription, "list row description");
    limit(bodies, kMaxInteractiveBody, "message body");
  }
  if (problems.size() > before)
    return core::make_error(core::ErrorCode::kInvalidInput, "content has problems");
  return Content{std::move(*flow), std::move(*texts), std::move(catalog.catalog)};
}

}  // namespace vaxbot::conversation

#include "booking/date_input.h"

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "booking/text_utils.h"

namespace vaxbot::booking {

namespace {

// ---------------------------------------------------------------------------
// Tokens: runs of digits (any script, stored as ASCII), runs of letters
// (stored folded, UTF-8) and, before each token, a summary of the separator
// characters since the previous token.

struct Gap {
  int spaces = 0;
  std::string punct;  // '/', '-', '.', ',', '|' (danda) or '?' (anything else), in order
  bool empty() const { return spaces == 0 && punct.empty(); }
};

enum class Kind { kNumber, kWord };

struct Token {
  Kind kind = Kind::kWord;
  std::string text;
  Gap before;
};

bool is_word_char(char32_t cp) {
  if (text::is_ascii_letter(cp)) return true;
  if (text::digit_value(cp) >= 0 || text::is_danda(cp)) return false;
  if (cp >= 0x0900 && cp <= 0x09FF) return true;  // Devanagari and Bengali blocks
  return cp >= 0x00C0 && cp <= 0x024F && cp != 0x00D7 && cp != 0x00F7;  // Latin letters
}

// Folds spelling variants that do not change a month name's identity.
// Returns 0 for a character that is dropped.
char32_t fold_char(char32_t cp) {
  if (cp >= U'A' && cp <= U'Z') return cp - U'A' + U'a';
  switch (cp) {
    // Bengali: composed nukta letters -> base letter; nukta dropped; long i/u -> short.
    case 0x09DC:
      return 0x09A1;
    case 0x09DD:
      return 0x09A2;
    case 0x09DF:
      return 0x09AF;
    case 0x09BC:
      return 0;
    case 0x09C0:
      return 0x09BF;
    case 0x09C2:
      return 0x09C1;
    case 0x0988:
      return 0x0987;
    case 0x098A:
      return 0x0989;
    case 0x0981:
      return 0x0982;
    // Devanagari: same folds.
    case 0x093C:
      return 0;
    case 0x0940:
      return 0x093F;
    case 0x0942:
      return 0x0941;
    case 0x0908:
      return 0x0907;
    case 0x090A:
      return 0x0909;
    case 0x0901:
      return 0x0902;
    default:
      break;
  }
  if (cp >= 0x0958 && cp <= 0x095F) {
    constexpr char32_t kBase[8] = {0x0915, 0x0916, 0x0917, 0x091C, 0x0921, 0x0922, 0x092B, 0x092F};
    return kBase[cp - 0x0958];
  }
  return cp;
}

char gap_char(char32_t cp) {
  if (text::is_dash(cp)) return '-';
  if (text::is_danda(cp)) return '|';
  switch (cp) {
    case U'/':
      return '/';
    case U'.':
      return '.';
    case U',':
      return ',';
    default:
      return '?';
  }
}

std::vector<Token> tokenize(std::string_view input) {
  const auto cps = text::decode_utf8(input);
  std::vector<Token> tokens;
  Gap gap;
  std::size_t i = 0;
  while (i < cps.size()) {
    const char32_t cp = cps[i].value;
    if (text::is_ignorable(cp)) {
      ++i;
      continue;
    }
    const bool digit = text::digit_value(cp) >= 0;
    if (digit || is_word_char(cp)) {
      Token tok;
      tok.kind = digit ? Kind::kNumber : Kind::kWord;
      tok.before = std::move(gap);
      gap = Gap{};
      while (i < cps.size()) {
        const char32_t c = cps[i].value;
        if (text::is_ignorable(c)) {
          ++i;
          continue;
        }
        if (digit) {
          const int v = text::digit_value(c);
          if (v < 0) break;
          tok.text.push_back(static_cast<char>('0' + v));
        } else {
          if (!is_word_char(c)) break;
          const char32_t f = fold_char(c);
          if (f != 0) text::append_utf8(tok.text, f);
        }
        ++i;
      }
      tokens.push_back(std::move(tok));
      continue;
    }
    if (text::is_space(cp)) {
      ++gap.spaces;
    } else {
      gap.punct.push_back(gap_char(cp));
    }
    ++i;
  }
  return tokens;
}

// ---------------------------------------------------------------------------
// Vocabulary.

struct MonthName {
  const char* name;
  int month;
};

constexpr MonthName kMonthNames[] = {
    // English (any case; folded to lower case).
    {"january", 1},
    {"jan", 1},
    {"february", 2},
    {"feb", 2},
    {"march", 3},
    {"mar", 3},
    {"april", 4},
    {"apr", 4},
    {"may", 5},
    {"june", 6},
    {"jun", 6},
    {"july", 7},
    {"jul", 7},
    {"august", 8},
    {"aug", 8},
    {"september", 9},
    {"sep", 9},
    {"sept", 9},
    {"october", 10},
    {"oct", 10},
    {"november", 11},
    {"nov", 11},
    {"december", 12},
    {"dec", 12},
    // Bengali (ী/ি, composed/decomposed য় and the nukta are folded away).
    {"জানুয়ারি", 1},
    {"জানুয়ারী", 1},
    {"জানুআরি", 1},
    {"ফেব্রুয়ারি", 2},
    {"ফেব্রুয়ারী", 2},
    {"ফেব্রুআরি", 2},
    {"মার্চ", 3},
    {"এপ্রিল", 4},
    {"মে", 5},
    {"জুন", 6},
    {"জুলাই", 7},
    {"আগস্ট", 8},
    {"আগষ্ট", 8},
    {"অগাস্ট", 8},
    {"সেপ্টেম্বর", 9},
    {"সেপ্টেম্বার", 9},
    {"অক্টোবর", 10},
    {"অক্টোবার", 10},
    {"নভেম্বর", 11},
    {"নভেম্বার", 11},
    {"ডিসেম্বর", 12},
    {"ডিসেম্বার", 12},
    // Hindi (nukta, composed or not, is folded away).
    {"जनवरी", 1},
    {"फ़रवरी", 2},
    {"फरवरी", 2},
    {"मार्च", 3},
    {"अप्रैल", 4},
    {"मई", 5},
    {"जून", 6},
    {"जुलाई", 7},
    {"अगस्त", 8},
    {"सितंबर", 9},
    {"सितम्बर", 9},
    {"अक्टूबर", 10},
    {"अक्तूबर", 10},
    {"नवंबर", 11},
    {"नवम्बर", 11},
    {"दिसंबर", 12},
    {"दिसम्बर", 12},
};

constexpr const char* kDaySuffixes[] = {"st", "nd", "rd", "th", "ই", "লা", "রা", "ঠা", "শে", "এ"};

// True when `raw` folds (fold_char on each code point) to `folded`; stops at the first difference.
bool folds_to(std::string_view raw, std::string_view folded) {
  std::size_t pos = 0;
  std::size_t matched = 0;
  std::string buf;
  while (pos < raw.size()) {
    const char32_t cp = text::next_code_point(raw, pos);
    if (text::is_ignorable(cp)) continue;
    const char32_t f = fold_char(cp);
    if (f == 0) continue;
    buf.clear();
    text::append_utf8(buf, f);
    if (folded.substr(matched, buf.size()) != buf) return false;
    matched += buf.size();
  }
  return matched == folded.size();
}

int month_from_word(const std::string& folded) {
  for (const auto& entry : kMonthNames) {
    if (folds_to(entry.name, folded)) return entry.month;
  }
  return 0;
}

bool is_day_suffix(const std::string& folded) {
  for (const char* s : kDaySuffixes) {
    if (folds_to(s, folded)) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Pattern matching over tokens.

struct Candidate {
  std::size_t end = 0;            // one past the last token used
  std::optional<CivilDate> date;  // empty when the values are impossible
};

bool is_number(const std::vector<Token>& t, std::size_t k, std::size_t min_len,
               std::size_t max_len) {
  return k < t.size() && t[k].kind == Kind::kNumber && t[k].text.size() >= min_len &&
         t[k].text.size() <= max_len;
}

bool is_year_token(const std::vector<Token>& t, std::size_t k) {
  return k < t.size() && t[k].kind == Kind::kNumber &&
         (t[k].text.size() == 2 || t[k].text.size() == 4);
}

int to_int(const std::string& digits) {
  int v = 0;
  for (const char c : digits) v = v * 10 + (c - '0');
  return v;
}

int year_of(const std::string& digits) {
  const int v = to_int(digits);
  return digits.size() == 2 ? 2000 + v : v;
}

// Separator of a numeric date: one of "/-." (spaces around it allowed), or
// ' ' for spaces only; 0 when the gap is not a numeric separator.
char numeric_sep(const Gap& g) {
  if (g.punct.empty()) return g.spaces > 0 ? ' ' : 0;
  if (g.punct.size() == 1 && (g.punct[0] == '/' || g.punct[0] == '-' || g.punct[0] == '.')) {
    return g.punct[0];
  }
  return 0;
}

// A gap inside a month-name date: spaces and at most two of - / . ,
bool name_gap_ok(const Gap& g) {
  if (g.punct.size() > 2) return false;
  for (const char c : g.punct) {
    if (c != '-' && c != '/' && c != '.' && c != ',') return false;
  }
  return true;
}

// A tight numeric join such as the '.' in "1.2": the neighbour continues a
// dotted/slashed/hyphenated number sequence, so the span is not a date.
bool tight_numeric_join(const Gap& g) {
  return g.spaces == 0 && g.punct.size() == 1 &&
         (g.punct[0] == '/' || g.punct[0] == '-' || g.punct[0] == '.');
}

// The span [begin, end) stands apart from its neighbours.
bool stands_apart(const std::vector<Token>& t, std::size_t begin, std::size_t end) {
  if (begin > 0) {
    const Gap& g = t[begin].before;
    if (g.empty()) return false;
    if (t[begin - 1].kind == Kind::kNumber && tight_numeric_join(g)) return false;
  }
  if (end < t.size()) {
    const Gap& g = t[end].before;
    if (g.empty()) return false;
    if (t[end].kind == Kind::kNumber && tight_numeric_join(g)) return false;
  }
  return true;
}

std::optional<CivilDate> make_date(int year, int month, int day) {
  const CivilDate d{year, month, day};
  if (!is_valid(d)) return std::nullopt;
  return d;
}

std::optional<Candidate> match_numeric(const std::vector<Token>& t, std::size_t i) {
  if (!is_number(t, i, 1, 4) || !is_number(t, i + 1, 1, 2) || !is_number(t, i + 2, 1, 4)) {
    return std::nullopt;
  }
  const char sep1 = numeric_sep(t[i + 1].before);
  const char sep2 = numeric_sep(t[i + 2].before);
  if (sep1 == 0 || sep1 != sep2) return std::nullopt;
  // Numbers separated only by spaces are a date only when they are the whole message.
  if (sep1 == ' ' && !(i == 0 && t.size() == 3)) return std::nullopt;
  if (!stands_apart(t, i, i + 3)) return std::nullopt;

  const std::string& a = t[i].text;
  const std::string& b = t[i + 1].text;
  const std::string& c = t[i + 2].text;
  Candidate cand;
  cand.end = i + 3;
  if (a.size() <= 2 && (c.size() == 2 || c.size() == 4)) {
    cand.date = make_date(year_of(c), to_int(b), to_int(a));  // day first
  } else if (a.size() == 4 && c.size() <= 2) {
    cand.date = make_date(to_int(a), to_int(b), to_int(c));  // year first
  } else {
    return std::nullopt;
  }
  return cand;
}

// After the day number at index k-1: skip an attached ordinal suffix.
std::size_t skip_day_suffix(const std::vector<Token>& t, std::size_t k) {
  if (k < t.size() && t[k].kind == Kind::kWord && t[k].before.empty() && is_day_suffix(t[k].text)) {
    return k + 1;
  }
  return k;
}

std::optional<Candidate> match_day_month_year(const std::vector<Token>& t, std::size_t i) {
  if (!is_number(t, i, 1, 2)) return std::nullopt;
  std::size_t k = skip_day_suffix(t, i + 1);
  if (k < t.size() && t[k].kind == Kind::kWord && t[k].text == "of" && t[k].before.spaces > 0 &&
      t[k].before.punct.empty()) {
    ++k;
  }
  if (k >= t.size() || t[k].kind != Kind::kWord || !name_gap_ok(t[k].before)) return std::nullopt;
  const int month = month_from_word(t[k].text);
  if (month == 0) return std::nullopt;
  ++k;
  if (!is_year_token(t, k) || !name_gap_ok(t[k].before)) return std::nullopt;
  if (!stands_apart(t, i, k + 1)) return std::nullopt;
  return Candidate{k + 1, make_date(year_of(t[k].text), month, to_int(t[i].text))};
}

std::optional<Candidate> match_month_day_year(const std::vector<Token>& t, std::size_t i) {
  if (i >= t.size() || t[i].kind != Kind::kWord) return std::nullopt;
  const int month = month_from_word(t[i].text);
  if (month == 0) return std::nullopt;
  if (!is_number(t, i + 1, 1, 2) || !name_gap_ok(t[i + 1].before)) return std::nullopt;
  const std::size_t k = skip_day_suffix(t, i + 2);
  if (!is_year_token(t, k) || !name_gap_ok(t[k].before)) return std::nullopt;
  if (!stands_apart(t, i, k + 1)) return std::nullopt;
  return Candidate{k + 1, make_date(year_of(t[k].text), month, to_int(t[i + 1].text))};
}

}  // namespace

const char* to_string(DateReason reason) {
  switch (reason) {
    case DateReason::kUnrecognised:
      return "date.unrecognised";
    case DateReason::kImpossible:
      return "date.impossible";
    case DateReason::kInFuture:
      return "date.in_future";
    case DateReason::kTooEarly:
      return "date.too_early";
  }
  return "date.unrecognised";
}

DateParse parse_first_dose_date(std::string_view text, CivilDate today) {
  const std::vector<Token> tokens = tokenize(text);

  std::optional<CivilDate> found;
  bool any_impossible = false;
  std::size_t count = 0;
  std::size_t i = 0;
  while (i < tokens.size()) {
    std::optional<Candidate> best;
    for (auto matcher : {&match_numeric, &match_day_month_year, &match_month_day_year}) {
      auto cand = matcher(tokens, i);
      if (cand && (!best || cand->end > best->end)) best = std::move(cand);
    }
    if (!best) {
      ++i;
      continue;
    }
    ++count;
    if (!best->date) {
      any_impossible = true;
    } else if (!found) {
      found = best->date;
    } else if (*found != *best->date) {
      return DateReason::kUnrecognised;  // two different dates: ambiguous
    }
    i = best->end;
  }

  if (count == 0) return DateReason::kUnrecognised;
  if (any_impossible) return found ? DateReason::kUnrecognised : DateReason::kImpossible;
  const CivilDate date = *found;
  if (date > today) return DateReason::kInFuture;
  if (date < kVaccinationStart) return DateReason::kTooEarly;
  return date;
}

}  // namespace vaxbot::booking

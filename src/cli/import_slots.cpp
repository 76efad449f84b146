// vaxbot import-slots: adds or updates centres and slots from a CSV file that
// centre staff export from a spreadsheet. Every row is checked before anything
// is written; then all rows go in one transaction (store::SlotStore::import),
// so a file is imported whole or not at all. Safe while `vaxbot serve` runs on
// the same database: the import waits for the server's writer between batches.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <tuple>

#include "booking/catalog.h"
#include "booking/civil_date.h"
#include "cli/args.h"
#include "cli/commands.h"
#include "core/diagnostic.h"
#include "store/database.h"
#include "store/slot_store.h"

namespace vaxbot::cli {
namespace {

const std::vector<OptionSpec> kImportOptions = {
    {"db", true, "SQLite database file", "vaxbot.db"},
    {"data", true, "directory holding vaccines.json (the vaccine keys)", "data"},
    {"busy-timeout", true, "milliseconds to wait for a running server's writer", "30000"},
    {"help", false, "show this help", ""},
};

constexpr const char* kSynopsis = "vaxbot import-slots [--db PATH] [--data DIR] FILE.csv";
constexpr const char* kHeader = "venue_id,venue_name,address,date,start,end,vaccine,capacity";
constexpr std::size_t kColumns = 8;
constexpr int kMaxCapacity = 10000;

struct Record {
  int line = 0;  // where the record starts
  std::vector<std::string> fields;
};

// RFC 4180 records: fields separated by commas; a field in double quotes may
// hold commas, line breaks and doubled quotes (""). Lines end in \n or \r\n.
// Returns an error message (with line) for a quote that is never closed or
// text after a closing quote.
core::Result<std::vector<Record>> parse_csv(std::string_view text) {
  std::vector<Record> out;
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);  // spreadsheets' UTF-8 mark
  std::size_t i = 0;
  int line = 1;
  while (i < text.size()) {
    Record r;
    r.line = line;
    std::string field;
    bool end_of_record = false;
    while (!end_of_record) {
      if (i < text.size() && text[i] == '"') {
        const int opened = line;
        ++i;
        while (true) {
          if (i >= text.size()) {
            return core::make_error(core::ErrorCode::kInvalidInput,
                                    std::to_string(opened) + ": a quoted field is never closed");
          }
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              field += '"';
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          field += text[i++];
        }
        if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
          return core::make_error(
              core::ErrorCode::kInvalidInput,
              std::to_string(line) + ": text after a closing quote (write \"\" for a quote)");
        }
      } else {
        while (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r')
          field += text[i++];
      }
      r.fields.push_back(std::move(field));
      field.clear();
      if (i >= text.size()) {
        end_of_record = true;
      } else if (text[i] == ',') {
        ++i;
      } else {
        if (text[i] == '\r') ++i;
        if (i < text.size() && text[i] == '\n') ++i;
        ++line;
        end_of_record = true;
      }
    }
    const bool blank =
        r.fields.size() == 1 && r.fields[0].find_first_not_of(" \t") == std::string::npos;
    if (!blank) out.push_back(std::move(r));
  }
  return out;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

std::string column_error(const char* column, const std::string& message) {
  return std::string("column '") + column + "': " + message;
}

// Checks one record; returns the row or a message naming the column.
core::Result<store::ImportRow> to_row(const Record& r,
                                      const std::vector<booking::Vaccine>& vaccines,
                                      const std::string& file) {
  auto bad = [](std::string message) {
    return core::make_error(core::ErrorCode::kInvalidInput, std::move(message));
  };
  if (r.fields.size() != kColumns) {
    return bad("expected " + std::to_string(kColumns) + " columns (" + kHeader + "), found " +
               std::to_string(r.fields.size()));
  }
  std::vector<std::string> f;
  for (const auto& v : r.fields) f.push_back(trim(v));
  store::ImportRow row;
  row.origin = file + ":" + std::to_string(r.line);
  const std::string& id = f[0];
  if (!booking::is_valid_venue_id(id)) {
    return bad(
        column_error("venue_id", "'" + id + "' must be 1 to 64 characters of a-z, 0-9, - and _"));
  }
  if (f[1].empty()) return bad(column_error("venue_name", "is empty"));
  if (auto n = booking::code_points(f[1]); n > booking::kMaxRowTitle) {
    return bad(column_error(
        "venue_name", "'" + f[1] + "' has " + std::to_string(n) + " characters; at most " +
                          std::to_string(booking::kMaxRowTitle) + " fit a WhatsApp list row"));
  }
  if (f[2].empty()) return bad(column_error("address", "is empty"));
  if (auto n = booking::code_points(f[2]); n > booking::kMaxRowDescription) {
    return bad(column_error("address", "has " + std::to_string(n) + " characters; at most " +
                                           std::to_string(booking::kMaxRowDescription) +
                                           " fit a WhatsApp list row"));
  }
  auto date = booking::parse_iso(f[3]);
  if (!date.ok()) {
    return bad(column_error("date", "'" + f[3] + "' is not a real date in the form YYYY-MM-DD"));
  }
  const auto start = booking::parse_hhmm(f[4]);
  if (!start)
    return bad(column_error("start", "'" + f[4] + "' is not a time HH:MM (00:00 to 23:59)"));
  const auto end = booking::parse_hhmm(f[5]);
  if (!end) return bad(column_error("end", "'" + f[5] + "' is not a time HH:MM (00:00 to 23:59)"));
  if (*end <= *start) return bad(column_error("end", f[5] + " is not after start " + f[4]));
  bool known = false;
  std::string keys;
  for (const auto& v : vaccines) {
    known = known || v.key == f[6];
    keys += (keys.empty() ? "" : ", ") + v.key;
  }
  if (!known) return bad(column_error("vaccine", "'" + f[6] + "' is not one of " + keys));
  int capacity = 0;
  const bool digits = !f[7].empty() && f[7].size() <= 5 &&
                      f[7].find_first_not_of("0123456789") == std::string::npos;
  if (digits) capacity = std::stoi(f[7]);
  if (!digits || capacity < 1 || capacity > kMaxCapacity) {
    return bad(column_error("capacity", "'" + f[7] + "' is not a whole number from 1 to " +
                                            std::to_string(kMaxCapacity)));
  }
  row.venue = store::Venue{id, f[1], "", "", f[2], 0};
  row.slot = booking::SlotSpec{id, *date, f[4], f[5], f[6], capacity};
  return row;
}

}  // namespace

int import_slots(const std::vector<std::string>& argv) {
  auto parsed = Args::parse(argv, kImportOptions);
  if (!parsed.ok()) {
    std::cerr << "vaxbot import-slots: " << parsed.error().message << "\n"
              << usage(kSynopsis, kImportOptions);
    return 2;
  }
  const Args& args = *parsed;
  if (args.has("help")) {
    std::cout
        << usage(kSynopsis, kImportOptions) << "\nThe CSV file starts with the header\n  "
        << kHeader
        << "\n(date YYYY-MM-DD, times HH:MM, vaccine a key of vaccines.json, capacity > 0).\n"
           "A row for an existing venue, date, start and vaccine updates its end and capacity.\n"
           "Nothing is imported when any row is wrong.\n";
    return 0;
  }
  if (args.positional().size() != 1) {
    std::cerr << "vaxbot import-slots: give exactly one CSV file\n"
              << usage(kSynopsis, kImportOptions);
    return 2;
  }
  auto busy = args.get_int("busy-timeout", 30000, 0, 3'600'000);
  if (!busy.ok()) {
    std::cerr << "vaxbot import-slots: " << busy.error().message << "\n";
    return 2;
  }
  const std::string file = args.positional().front();

  const auto vaccines =
      booking::load_vaccines(std::filesystem::path(args.get("data", "data")) / "vaccines.json");
  if (!vaccines.ok()) {
    for (const auto& d : vaccines.diagnostics) std::cerr << core::to_string(d) << "\n";
    std::cerr << "vaxbot import-slots: the vaccine list is broken; nothing imported\n";
    return 1;
  }

  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << file << ": cannot read the file; nothing imported\n";
    return 1;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  auto records = parse_csv(ss.str());
  if (!records.ok()) {
    std::cerr << file << ":" << records.error().message << "\nnothing imported\n";
    return 1;
  }
  if (records->empty()) {
    std::cerr << file << ":1: the file is empty; the first line must be " << kHeader
              << "\nnothing imported\n";
    return 1;
  }
  const Record& header = records->front();
  std::string header_text;
  for (const auto& h : header.fields) header_text += (header_text.empty() ? "" : ",") + trim(h);
  if (header_text != kHeader) {
    std::cerr << file << ":" << header.line << ": the header must be exactly " << kHeader
              << ", not " << header_text << "\nnothing imported\n";
    return 1;
  }

  // Check every row first, and report every bad one, so staff fix a file in one go.
  std::vector<store::ImportRow> rows;
  std::map<std::tuple<std::string, std::string, std::string, std::string>, int>
      first_line;  // slot key
  std::map<std::string, std::pair<int, std::pair<std::string, std::string>>>
      venue_first;  // id -> line, name/address
  int bad = 0;
  for (std::size_t i = 1; i < records->size(); ++i) {
    const Record& r = (*records)[i];
    auto row = to_row(r, vaccines.vaccines, file);
    std::string problem;
    if (!row.ok()) {
      problem = row.error().message;
    } else {
      const auto& s = row->slot;
      const auto key = std::make_tuple(s.venue_id, booking::to_iso(s.date), s.start, s.vaccine);
      const auto venue = std::make_pair(row->venue.name, row->venue.address);
      if (auto it = first_line.find(key); it != first_line.end()) {
        problem =
            "the same venue_id, date, start and vaccine as line " + std::to_string(it->second);
      } else if (auto v = venue_first.find(s.venue_id);
                 v != venue_first.end() && v->second.second != venue) {
        problem = column_error(
            v->second.second.first != venue.first ? "venue_name" : "address",
            "differs from line " + std::to_string(v->second.first) + " for venue " + s.venue_id);
      } else {
        first_line.emplace(key, r.line);
        venue_first.emplace(s.venue_id, std::make_pair(r.line, venue));
        rows.push_back(std::move(*row));
      }
    }
    if (!problem.empty()) {
      std::cerr << file << ":" << r.line << ": " << problem << "\n";
      ++bad;
    }
  }
  if (bad > 0) {
    std::cerr << file << ": " << bad << (bad == 1 ? " bad row" : " bad rows")
              << "; nothing imported\n";
    return 1;
  }

  store::DatabaseOptions options;
  options.path = args.get("db", "vaxbot.db");
  options.busy_timeout_ms = static_cast<int>(*busy);
  auto db = store::Database::open(options);
  if (!db.ok()) {
    std::cerr << "vaxbot import-slots: " << db.error().message << "; nothing imported\n";
    return 1;
  }
  store::SlotStore slots(**db);
  auto summary = slots.import(rows);
  if (!summary.ok()) {
    std::cerr << summary.error().message << "\nnothing imported\n";
    return 1;
  }
  std::cout << "imported " << rows.size() << (rows.size() == 1 ? " row" : " rows") << " from "
            << file << ": venues " << summary->venues_added << " added, " << summary->venues_updated
            << " updated, " << summary->venues_unchanged << " unchanged; slots "
            << summary->slots_added << " added, " << summary->slots_updated << " updated, "
            << summary->slots_unchanged << " unchanged\n";
  return 0;
}

}  // namespace vaxbot::cli

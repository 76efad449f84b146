// Keys: the hashes store/ files rows under, instead of indexing long text.
//
// A wamid (Meta's message id, about 58 characters) indexed as text costs its
// length again in the index; its 47-bit key costs 6 bytes. Keys are not
// unique: every lookup compares the full text too, so a collision only costs
// one more row read. texts rows take a 31-bit key of their content as their
// id (4 bytes wherever a message refers to one), probing upward on a
// collision. FNV-1a, so the values never change between builds or machines:
// they are stored.
#pragma once

#include <cstdint>
#include <string_view>

namespace vaxbot::store {

inline std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 14695981039346656037ULL) {
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

// Fits SQLite's 6-byte integers (which are signed).
inline std::int64_t wamid_key(std::string_view wamid) {
  return static_cast<std::int64_t>(fnv1a(wamid) >> 17);
}

// Fits SQLite's 4-byte integers; never 0.
inline std::int64_t text_key(std::string_view key, std::string_view format) {
  const std::uint64_t h = fnv1a(format, fnv1a(std::string_view("\0", 1), fnv1a(key)));
  const auto k = static_cast<std::int64_t>(h >> 33);
  return k == 0 ? 1 : k;
}

}  // namespace vaxbot::store

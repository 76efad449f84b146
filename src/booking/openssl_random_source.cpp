#include "booking/openssl_random_source.h"

#include <openssl/rand.h>

#include <algorithm>
#include <climits>

namespace vaxbot::booking {

bool OpenSslRandomSource::fill(std::span<std::byte> out) {
  while (!out.empty()) {
    const std::size_t chunk = std::min<std::size_t>(out.size(), static_cast<std::size_t>(INT_MAX));
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(chunk)) != 1) {
      return false;
    }
    out = out.subspan(chunk);
  }
  return true;
}

}  // namespace vaxbot::booking

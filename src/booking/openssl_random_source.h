// OpenSslRandomSource: the production RandomSource, backed by OpenSSL's
// RAND_bytes (a CSPRNG seeded by the operating system). fill() returns false
// when OpenSSL reports an error (e.g. the generator could not be seeded).
// Stateless apart from OpenSSL's own generator; safe to use from several threads.
#pragma once

#include "booking/booking_reference.h"

namespace vaxbot::booking {

class OpenSslRandomSource final : public RandomSource {
 public:
  bool fill(std::span<std::byte> out) override;
};

}  // namespace vaxbot::booking

#include "whatsapp/signature.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstring>

#include "core/hex.h"

namespace vaxbot::whatsapp {
namespace {

constexpr std::string_view kPrefix = "sha256=";
constexpr std::size_t kDigestSize = 32;

std::atomic<unsigned long> next_generation{1};

// One keyed HMAC context per thread, re-keyed only when a different verifier
// uses the thread (tests make many verifiers; the server makes one).
struct ThreadMac {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  unsigned long generation = 0;

  ~ThreadMac() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

thread_local ThreadMac thread_mac;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::string_view to_string(SignatureCheck check) {
  switch (check) {
    case SignatureCheck::kValid:
      return "valid";
    case SignatureCheck::kMissing:
      return "missing";
    case SignatureCheck::kMalformed:
      return "malformed";
    case SignatureCheck::kMismatch:
      return "mismatch";
  }
  return "?";
}

SignatureVerifier::SignatureVerifier(std::string secret)
    : secret_(std::move(secret)), generation_(next_generation.fetch_add(1)) {}

SignatureVerifier::~SignatureVerifier() {
  OPENSSL_cleanse(secret_.data(), secret_.size());
}

bool SignatureVerifier::digest(std::string_view body, unsigned char out[32]) const {
  ThreadMac& t = thread_mac;
  if (t.mac == nullptr) {
    t.mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    if (t.mac == nullptr) return false;
  }
  if (t.ctx == nullptr) {
    t.ctx = EVP_MAC_CTX_new(t.mac);
    if (t.ctx == nullptr) return false;
  }
  if (t.generation != generation_) {
    char digest_name[] = "SHA256";
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest_name, 0),
                           OSSL_PARAM_construct_end()};
    const auto* key = reinterpret_cast<const unsigned char*>(secret_.data());
    if (EVP_MAC_init(t.ctx, key, secret_.size(), params) != 1) {
      t.generation = 0;
      return false;
    }
    t.generation = generation_;
  } else if (EVP_MAC_init(t.ctx, nullptr, 0, nullptr) != 1) {  // same key, fresh state
    return false;
  }
  std::size_t len = 0;
  return EVP_MAC_update(t.ctx, reinterpret_cast<const unsigned char*>(body.data()), body.size()) ==
             1 &&
         EVP_MAC_final(t.ctx, out, &len, kDigestSize) == 1 && len == kDigestSize;
}

SignatureCheck SignatureVerifier::verify(std::string_view body, std::string_view header) const {
  if (header.empty()) return SignatureCheck::kMissing;
  if (header.size() != kPrefix.size() + 2 * kDigestSize || !header.starts_with(kPrefix)) {
    return SignatureCheck::kMalformed;
  }
  unsigned char expected[kDigestSize];
  std::string_view hex = header.substr(kPrefix.size());
  for (std::size_t i = 0; i < kDigestSize; ++i) {
    int hi = hex_value(hex[2 * i]);
    int lo = hex_value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return SignatureCheck::kMalformed;
    expected[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  unsigned char actual[kDigestSize];
  if (!digest(body, actual)) return SignatureCheck::kMismatch;  // fail closed
  return CRYPTO_memcmp(expected, actual, kDigestSize) == 0 ? SignatureCheck::kValid
                                                           : SignatureCheck::kMismatch;
}

std::string SignatureVerifier::sign(std::string_view body) const {
  unsigned char mac[kDigestSize];
  if (!digest(body, mac)) return {};
  return std::string(kPrefix) + core::to_hex(mac, kDigestSize);
}

}  // namespace vaxbot::whatsapp

// Webhook signatures: X-Hub-Signature-256 = "sha256=" + hex(HMAC-SHA256(app secret, raw body)).
//
// SignatureVerifier holds the app secret and checks a header against the exact
// bytes received, comparing digests in constant time (CRYPTO_memcmp). It is
// thread-safe: each thread keeps its own OpenSSL MAC context, keyed once and
// reused, so verifying costs one HMAC and no allocation on the hot path.
//
// sign() makes the header value for a body; tests and the load tools use it.
#pragma once

#include <string>
#include <string_view>

namespace vaxbot::whatsapp {

enum class SignatureCheck {
  kValid,
  kMissing,    // no header
  kMalformed,  // not "sha256=" followed by 64 hex digits
  kMismatch,   // well-formed, wrong digest
};

std::string_view to_string(SignatureCheck check);

class SignatureVerifier {
 public:
  explicit SignatureVerifier(std::string secret);
  ~SignatureVerifier();
  SignatureVerifier(const SignatureVerifier&) = delete;
  SignatureVerifier& operator=(const SignatureVerifier&) = delete;

  // header: the X-Hub-Signature-256 value, empty when absent.
  SignatureCheck verify(std::string_view body, std::string_view header) const;

  // "sha256=<64 lowercase hex>" for body.
  std::string sign(std::string_view body) const;

 private:
  bool digest(std::string_view body, unsigned char out[32]) const;

  std::string secret_;
  unsigned long generation_;  // tells a thread's cached context which verifier keyed it
};

}  // namespace vaxbot::whatsapp

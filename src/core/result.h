// Result<T>: the value of an operation that can fail in an expected way.
//
// Expected failures (bad input, a full queue, a database that is unavailable)
// are values, never exceptions: a function returns Result<T> and the caller
// checks ok(). Exceptions thrown by libraries are caught at the edge of the
// module that uses the library and turned into an Error here.
//
// Error carries a machine-readable code (for branching and metrics) and a
// human-readable message (for logs and for the people who read them). Neither
// may contain a secret or a resident's ID number.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace vaxbot::core {

enum class ErrorCode {
  kInvalidInput,  // the input is wrong; retrying the same input will not help
  kNotFound,      // the thing asked for does not exist
  kConflict,      // the request is valid but the state does not allow it (e.g. slot full)
  kUnavailable,   // a resource is temporarily unavailable; retry later
  kOverloaded,    // too much work queued; retry later
  kInternal,      // a bug or an unexpected library failure
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : v_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }

  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void>: success carries nothing.
struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() {
  return Ok{};
}

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

}  // namespace vaxbot::core

// The outcome of a storage operation, as a value: ok, or a failure of one kind with a message.
// Expected failures (a key that is absent, a corrupt block, an unreadable file) travel as a Status
// and are checked by the caller, in the manner of RocksDB's `Status`; exceptions stay for bugs.
//
// Contract: a default-constructed Status is OK and costs nothing (no allocation: the message is
// empty). `is_not_found()` is the one failure a read expects in normal operation; corruption,
// I/O errors and the rest (busy, incomplete, ...) are storage errors that must reach the caller.
// The type is [[nodiscard]]: an ignored Status is a compile error (-Werror), so no error is
// dropped by accident; `(void)` says "on purpose".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace vigil {

class [[nodiscard]] Status {
 public:
  enum class Kind : std::uint8_t { ok, not_found, corruption, io_error, other };

  // -- constructors ------------------------------------------------------------------------------

  Status() noexcept = default;
  static Status not_found(std::string message = {}) { return Status(Kind::not_found, std::move(message)); }
  static Status corruption(std::string message) { return Status(Kind::corruption, std::move(message)); }
  static Status io_error(std::string message) { return Status(Kind::io_error, std::move(message)); }
  // Any other failure (busy, incomplete, timed out, ...): the message names it.
  static Status other(std::string message) { return Status(Kind::other, std::move(message)); }

  // -- observers ---------------------------------------------------------------------------------

  bool ok() const noexcept { return kind_ == Kind::ok; }
  bool is_not_found() const noexcept { return kind_ == Kind::not_found; }
  bool is_corruption() const noexcept { return kind_ == Kind::corruption; }
  bool is_io_error() const noexcept { return kind_ == Kind::io_error; }
  // A failure other than not-found: what a read must report rather than treat as "absent".
  bool is_error() const noexcept { return kind_ != Kind::ok && kind_ != Kind::not_found; }
  Kind kind() const noexcept { return kind_; }
  const std::string& message() const noexcept { return message_; }

  // "OK", or the kind and the message: "corruption: block checksum mismatch ...".
  std::string to_string() const {
    std::string out(kind_name(kind_));
    if (kind_ != Kind::ok && !message_.empty()) {
      out += ": ";
      out += message_;
    }
    return out;
  }

  static std::string_view kind_name(Kind k) noexcept {
    switch (k) {
      case Kind::ok:
        return "OK";
      case Kind::not_found:
        return "not found";
      case Kind::corruption:
        return "corruption";
      case Kind::io_error:
        return "I/O error";
      case Kind::other:
        break;
    }
    return "error";
  }

  // Keeps the first failure: `s.update(t)` makes s t's failure if s is OK.
  void update(const Status& s) {
    if (ok() && !s.ok()) *this = s;
  }

 private:
  Status(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  Kind kind_ = Kind::ok;
  std::string message_;
};

}  // namespace vigil

// Errors that reach a user: one sentence, a category, no stack trace.
//
// Crema reports recoverable failures (bad prototxt, missing file, corrupt caffemodel, shape
// mismatch, bad command-line value) by throwing crema::Error. The message is the whole
// sentence a user sees; it names the thing at fault (file:line:col, the layer's name and
// type, both shapes). The `crema` command catches Error at the top, prints the message and
// exits non-zero. Library users catch it the same way.
//
// Note [Exceptions, not Status]: building a net or a solver is a deep chain of calls in which
// every failure ends the operation; exceptions keep that code linear and make it impossible
// to drop an error on the floor. The per-iteration hot path (Forward/Backward/Update) never
// throws on valid input: everything it could reject is rejected at SetUp/Reshape time.
// Broken internal invariants are bugs, checked with CREMA_DCHECK (debug builds only).
#ifndef CREMA_CORE_ERROR_H_
#define CREMA_CORE_ERROR_H_

#include <cassert>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crema {

enum class ErrorCode {
  kInvalidArgument,  // a value given by the user is wrong (prototxt, flag, shape)
  kNotFound,         // a named file, layer, blob or type does not exist
  kCorruption,       // a file exists but its contents cannot be decoded
  kIOError,          // the operating system refused a read or write
  kUnsupported,      // valid input that this build cannot run
  kTimeout,          // a wait ran past its deadline
};

// Short lowercase name of a code, e.g. "invalid argument".
std::string_view ErrorCodeName(ErrorCode code);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

// Concatenates anything that streams into std::ostream.
template <typename... Args>
std::string StrCat(const Args&... args) {
  std::ostringstream os;
  (os << ... << args);
  return os.str();
}

// Builders used as `throw InvalidArgument("Layer 'x' ...")`.
inline Error InvalidArgument(const std::string& m) { return Error(ErrorCode::kInvalidArgument, m); }
inline Error NotFound(const std::string& m) { return Error(ErrorCode::kNotFound, m); }
inline Error Corruption(const std::string& m) { return Error(ErrorCode::kCorruption, m); }
inline Error IOError(const std::string& m) { return Error(ErrorCode::kIOError, m); }
inline Error Unsupported(const std::string& m) { return Error(ErrorCode::kUnsupported, m); }
inline Error Timeout(const std::string& m) { return Error(ErrorCode::kTimeout, m); }

// Runs `fn`; a crema::Error it throws is rethrown with "<prefix>: " before its message (the
// code is kept), so lower layers can speak of a record and callers add which layer or file.
template <typename Fn>
auto WithErrorContext(const std::string& prefix, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Error& e) {
    throw Error(e.code(), StrCat(prefix, ": ", e.what()));
  }
}

// IOError for a failed system call on `path`, with strerror(errno) appended.
Error IOErrorFromErrno(const std::string& what, const std::string& path);

}  // namespace crema

// Throws InvalidArgument(StrCat(...)) unless `cond` holds. For user-facing checks.
#define CREMA_REQUIRE(cond, ...)                                    \
  do {                                                              \
    if (!(cond)) throw ::crema::InvalidArgument(::crema::StrCat(__VA_ARGS__)); \
  } while (0)

// Internal invariants: compiled out in release builds.
#define CREMA_DCHECK(cond) assert(cond)

#endif  // CREMA_CORE_ERROR_H_

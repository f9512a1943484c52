#include "crema/core/error.h"

#include <cerrno>
#include <cstring>

namespace crema {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid argument";
    case ErrorCode::kNotFound: return "not found";
    case ErrorCode::kCorruption: return "corruption";
    case ErrorCode::kIOError: return "I/O error";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kTimeout: return "timeout";
  }
  return "error";
}

Error IOErrorFromErrno(const std::string& what, const std::string& path) {
  const int saved = errno;
  return IOError(StrCat("cannot ", what, " '", path, "': ", std::strerror(saved)));
}

}  // namespace crema

#include "common.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <vector>

#include <glog/logging.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/stubs/logging.h>

#include "crema/core/error.h"

namespace crema::fuzz {

namespace {

std::string& ScratchDir() {
  static std::string dir;
  return dir;
}

void RemoveScratchDir() {
  std::error_code ignored;
  if (!ScratchDir().empty()) std::filesystem::remove_all(ScratchDir(), ignored);
}

}  // namespace

void QuietLogging() {
  FLAGS_logtostderr = true;
  FLAGS_minloglevel = google::GLOG_FATAL;
  // protobuf's complaints about invalid UTF-8 in string fields, which proto2 accepts.
  google::protobuf::SetLogHandler(nullptr);
}

std::string ScratchPath(const std::string& name) {
  std::string& dir = ScratchDir();
  if (dir.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/crema-fuzz-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr) {
      std::perror("crema fuzz: mkdtemp");
      std::abort();
    }
    dir = buffer.data();
    std::atexit(&RemoveScratchDir);
  }
  return dir + "/" + name;
}

std::string WriteScratchFile(const std::string& name, const uint8_t* data, size_t size) {
  const std::string path = ScratchPath(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) {
    std::perror("crema fuzz: writing the scratch file");
    std::abort();
  }
  return path;
}

std::string WriteScratchFile(const std::string& name, const std::string& contents) {
  return WriteScratchFile(name, reinterpret_cast<const uint8_t*>(contents.data()),
                          contents.size());
}

bool SmallNumbers(const google::protobuf::Message& message, int64_t limit, int max_repeated) {
  using google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(message, &fields);
  const auto small = [limit](int64_t value) { return value >= -limit && value <= limit; };
  for (const FieldDescriptor* field : fields) {
    const int n = field->is_repeated() ? reflection->FieldSize(message, field) : 1;
    if (n > max_repeated) return false;
    for (int i = 0; i < n; ++i) {
      const bool repeated = field->is_repeated();
      switch (field->cpp_type()) {
        case FieldDescriptor::CPPTYPE_INT32:
          if (!small(repeated ? reflection->GetRepeatedInt32(message, field, i)
                              : reflection->GetInt32(message, field))) return false;
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          if (!small(repeated ? reflection->GetRepeatedInt64(message, field, i)
                              : reflection->GetInt64(message, field))) return false;
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          if ((repeated ? reflection->GetRepeatedUInt32(message, field, i)
                        : reflection->GetUInt32(message, field)) > static_cast<uint64_t>(limit))
            return false;
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          if ((repeated ? reflection->GetRepeatedUInt64(message, field, i)
                        : reflection->GetUInt64(message, field)) > static_cast<uint64_t>(limit))
            return false;
          break;
        case FieldDescriptor::CPPTYPE_MESSAGE:
          if (!SmallNumbers(repeated ? reflection->GetRepeatedMessage(message, field, i)
                                     : reflection->GetMessage(message, field),
                            limit, max_repeated)) return false;
          break;
        default:
          break;
      }
    }
  }
  return true;
}

bool SmallDataset(const Hdf5File& file, const std::string& name, int64_t max_values) {
  std::vector<int64_t> dims;
  try {
    dims = file.Shape(name);
  } catch (const Error&) {
    return true;
  }
  int64_t count = 1;
  for (int64_t d : dims) {
    if (d > max_values || (count *= d) > max_values) return false;
  }
  return true;
}

}  // namespace crema::fuzz

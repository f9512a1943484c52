#include "crema/io/proto_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include "crema/core/error.h"
#include "crema/io/upgrade.h"

namespace crema {

namespace {

// Collects the first text-format error as "source:line:col: message" (1-based).
class FirstErrorCollector : public google::protobuf::io::ErrorCollector {
 public:
  explicit FirstErrorCollector(std::string source) : source_(std::move(source)) {}
  void AddError(int line, int column,
                const std::string& message) override {
    if (!first_.empty()) return;
    first_ = StrCat(source_, ":", line + 1, ":", column + 1, ": ", message);
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  std::string source_;
  std::string first_;
};

}  // namespace

std::string ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOErrorFromErrno("open", path);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) throw IOErrorFromErrno("read", path);
  return contents.str();
}

void WriteStringToFile(const std::string& path, const std::string& contents) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw IOErrorFromErrno("create", tmp);
  size_t written = 0;
  while (written < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + written, contents.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error error = IOErrorFromErrno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      throw error;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    Error error = IOErrorFromErrno("flush", tmp);
    ::unlink(tmp.c_str());
    throw error;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Error error = IOErrorFromErrno("rename into place", path);
    ::unlink(tmp.c_str());
    throw error;
  }
}

void ParseTextProto(const std::string& text, const std::string& source,
                    google::protobuf::Message* message) {
  FirstErrorCollector errors(source);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, message)) {
    throw InvalidArgument(errors.first().empty()
                              ? StrCat(source, ": cannot parse as ", message->GetTypeName())
                              : errors.first());
  }
}

void ReadTextProto(const std::string& path, google::protobuf::Message* message) {
  ParseTextProto(ReadFileToString(path), path, message);
}

void ReadBinaryProto(const std::string& path, google::protobuf::Message* message) {
  const std::string bytes = ReadFileToString(path);
  google::protobuf::io::ArrayInputStream array(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&array);
  coded.SetTotalBytesLimit(INT_MAX);
  if (!message->ParseFromCodedStream(&coded) || !coded.ConsumedEntireMessage()) {
    throw Corruption(StrCat(path, ": not a valid binary ", message->GetTypeName(),
                            " (the file is truncated or of another kind)"));
  }
}

void WriteTextProto(const std::string& path, const google::protobuf::Message& message) {
  std::string text;
  if (!google::protobuf::TextFormat::PrintToString(message, &text)) {
    throw Corruption(StrCat("cannot print ", message.GetTypeName(), " for ", path));
  }
  WriteStringToFile(path, text);
}

void WriteBinaryProto(const std::string& path, const google::protobuf::Message& message) {
  std::string bytes;
  if (!message.SerializeToString(&bytes)) {
    throw Corruption(StrCat("cannot serialize ", message.GetTypeName(), " for ", path,
                            " (missing required fields or over 2 GB)"));
  }
  WriteStringToFile(path, bytes);
}

caffe::NetParameter ReadNetParamsFromTextFile(const std::string& path) {
  caffe::NetParameter param;
  ReadTextProto(path, &param);
  UpgradeNetAsNeeded(path, &param);
  return param;
}

caffe::NetParameter ReadNetParamsFromBinaryFile(const std::string& path) {
  caffe::NetParameter param;
  ReadBinaryProto(path, &param);
  UpgradeNetAsNeeded(path, &param);
  return param;
}

caffe::SolverParameter ReadSolverParamsFromTextFile(const std::string& path) {
  caffe::SolverParameter param;
  ReadTextProto(path, &param);
  UpgradeSolverAsNeeded(path, &param);
  return param;
}

}  // namespace crema

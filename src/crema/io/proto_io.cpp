#include "crema/io/proto_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <filesystem>
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
  FirstErrorCollector(std::string source, const std::string& text)
      : source_(std::move(source)), text_(text) {}
  void AddError(int line, int column, const std::string& message) override {
    if (!first_.empty()) return;
    column = ColumnOfUnknownField(line, column, message);
    // At the end of the text the parser names no token ("Expected identifier, got: ").
    const bool at_end = message.ends_with("got: ");
    first_ = StrCat(source_, ":", line + 1, ":", column + 1, ": ", message,
                    at_end ? "the end of the file" : "");
  }
  void AddWarning(int, int, const std::string&) override {}
  const std::string& first() const { return first_; }

 private:
  // The parser reports an unknown field at the token after its name; point at the name.
  int ColumnOfUnknownField(int line, int column, const std::string& message) const {
    const std::string marker = "no field named \"";
    const size_t at = message.find(marker);
    if (at == std::string::npos) return column;
    const size_t name_start = at + marker.size();
    const size_t name_end = message.find('"', name_start);
    if (name_end == std::string::npos) return column;
    const std::string name = message.substr(name_start, name_end - name_start);
    size_t line_start = 0;
    for (int i = 0; i < line && line_start != std::string::npos; ++i) {
      line_start = text_.find('\n', line_start);
      if (line_start != std::string::npos) ++line_start;
    }
    if (line_start == std::string::npos) return column;
    const std::string line_text = text_.substr(line_start, text_.find('\n', line_start) - line_start);
    const size_t found = line_text.rfind(name, static_cast<size_t>(column));
    return found == std::string::npos ? column : static_cast<int>(found);
  }

  std::string source_;
  const std::string& text_;
  std::string first_;
};

}  // namespace

std::string ReadFileToString(const std::string& path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) {
    throw IOError(StrCat("'", path, "' is a directory, not a file"));
  }
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
  // The descriptor is closed whether or not fsync succeeds.
  const bool synced = ::fsync(fd) == 0;
  const Error sync_error = IOErrorFromErrno("flush", tmp);
  const bool closed = ::close(fd) == 0;
  if (!synced || !closed) {
    const Error error = synced ? IOErrorFromErrno("flush", tmp) : sync_error;
    ::unlink(tmp.c_str());
    throw error;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Error error = IOErrorFromErrno("rename into place", path);
    ::unlink(tmp.c_str());
    throw error;
  }
  SyncParentDirectory(path);
}

void SyncParentDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) parent = ".";
  const int fd = ::open(parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  (void)::fsync(fd);
  ::close(fd);
}

namespace {

// Parses text format; with `locations`, records where each field was found.
void ParseText(const std::string& text, const std::string& source,
               google::protobuf::Message* message,
               google::protobuf::TextFormat::ParseInfoTree* locations) {
  FirstErrorCollector errors(source, text);
  google::protobuf::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (locations != nullptr) parser.WriteLocationsTo(locations);
  if (!parser.ParseFromString(text, message)) {
    throw InvalidArgument(errors.first().empty()
                              ? StrCat(source, ": cannot parse as ", message->GetTypeName())
                              : errors.first());
  }
}

}  // namespace

void ParseTextProto(const std::string& text, const std::string& source,
                    google::protobuf::Message* message) {
  ParseText(text, source, message, nullptr);
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

caffe::NetParameter ReadNetParamsFromTextFile(const std::string& path,
                                              std::vector<int>* layer_lines) {
  caffe::NetParameter param;
  if (layer_lines == nullptr) {
    ReadTextProto(path, &param);
    UpgradeNetAsNeeded(path, &param);
    return param;
  }
  google::protobuf::TextFormat::ParseInfoTree locations;
  ParseText(ReadFileToString(path), path, &param, &locations);
  // Legacy nets list their layers in `layers`; an upgrade keeps their order.
  const auto* descriptor = caffe::NetParameter::descriptor();
  const auto* field = descriptor->FindFieldByName(param.layer_size() > 0 ? "layer" : "layers");
  const int listed = param.layer_size() > 0 ? param.layer_size() : param.layers_size();
  UpgradeNetAsNeeded(path, &param);
  layer_lines->assign(static_cast<size_t>(param.layer_size()), 0);
  if (listed == param.layer_size()) {
    for (int i = 0; i < listed; ++i) {
      (*layer_lines)[static_cast<size_t>(i)] = locations.GetLocation(field, i).line + 1;
    }
  }
  return param;
}

caffe::NetParameter ReadNetParamsFromBinaryFile(const std::string& path) {
  caffe::NetParameter param;
  ReadBinaryProto(path, &param);
  UpgradeNetAsNeeded(path, &param);
  return param;
}

namespace {

// A net file named by a solver is looked up from the working directory, as Caffe does, and
// failing that beside the solver file, so a solver can be run from anywhere.
void ResolveBesideSolver(const std::filesystem::path& solver_dir, std::string* file) {
  namespace fs = std::filesystem;
  if (file->empty() || fs::exists(*file) || fs::path(*file).is_absolute()) return;
  const fs::path beside = solver_dir / *file;
  if (fs::exists(beside)) *file = beside.string();
}

}  // namespace

caffe::SolverParameter ReadSolverParamsFromTextFile(const std::string& path) {
  namespace fs = std::filesystem;
  caffe::SolverParameter param;
  ReadTextProto(path, &param);
  UpgradeSolverAsNeeded(path, &param);
  // Caffe's defaults for snapshot_prefix: the solver file without its extension, or the
  // solver file's stem inside the named directory.
  if (!param.has_snapshot_prefix()) {
    param.set_snapshot_prefix(fs::path(path).replace_extension().string());
  } else if (fs::is_directory(param.snapshot_prefix())) {
    param.set_snapshot_prefix((fs::path(param.snapshot_prefix()) / fs::path(path).stem()).string());
  }
  const fs::path solver_dir = fs::path(path).parent_path();
  if (param.has_net()) ResolveBesideSolver(solver_dir, param.mutable_net());
  if (param.has_train_net()) ResolveBesideSolver(solver_dir, param.mutable_train_net());
  for (std::string& test_net : *param.mutable_test_net()) ResolveBesideSolver(solver_dir, &test_net);
  return param;
}

}  // namespace crema

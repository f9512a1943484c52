#include "crema/data/feature_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>
#include <utility>

#include "crema/core/error.h"
#include "crema/data/hdf5_dataset.h"
#include "crema/io/proto_io.h"

namespace crema {

namespace {

// Text is written in pieces of about this many bytes.
constexpr size_t kTextBufferBytes = size_t{1} << 20;
// HDF5 rows are appended in batches of at most this many records or about this many bytes.
constexpr int64_t kHdf5BatchRecords = 4096;
constexpr int64_t kHdf5BatchBytes = int64_t{4} << 20;

void AppendNumber(float value, bool json, std::string* out) {
  if (std::isnan(value)) {
    out->append(json ? "null" : "nan");
  } else if (std::isinf(value)) {
    out->append(json ? "null" : value > 0 ? "inf" : "-inf");
  } else {
    char digits[32];
    const auto end = std::to_chars(digits, digits + sizeof(digits), value).ptr;
    out->append(digits, end);
  }
}

void AppendJsonString(std::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
          out->append(escaped);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendCsvField(std::string_view text, std::string* out) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(text);
    return;
  }
  out->push_back('"');
  for (const char c : text) {
    if (c == '"') out->push_back('"');
    out->push_back(c);
  }
  out->push_back('"');
}

// A file written through a buffer; the owner appends to buffer() and calls MaybeFlush().
class BufferedFile {
 public:
  explicit BufferedFile(const std::string& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd_ < 0) throw IOErrorFromErrno("create", path);
    buffer_.reserve(kTextBufferBytes + 4096);
  }
  ~BufferedFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  BufferedFile(const BufferedFile&) = delete;
  BufferedFile& operator=(const BufferedFile&) = delete;

  std::string* buffer() { return &buffer_; }
  void MaybeFlush() {
    if (buffer_.size() >= kTextBufferBytes) Flush();
  }
  // Writes the buffer, syncs and closes the file.
  void Close() {
    Flush();
    if (::fsync(fd_) != 0) throw IOErrorFromErrno("flush", path_);
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) throw IOErrorFromErrno("close", path_);
  }

 private:
  void Flush() {
    size_t written = 0;
    while (written < buffer_.size()) {
      const ssize_t n = ::write(fd_, buffer_.data() + written, buffer_.size() - written);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw IOErrorFromErrno("write", path_);
      }
      written += static_cast<size_t>(n);
    }
    buffer_.clear();
  }

  std::string path_;
  int fd_ = -1;
  std::string buffer_;
};

class JsonWriter : public FeatureWriter {
 public:
  JsonWriter(std::string path, std::vector<FeatureColumn> columns)
      : FeatureWriter(std::move(path), std::move(columns)), file_(temporary_path()) {}

 protected:
  void AppendRecord(std::string_view id, const std::vector<const float*>& values) override {
    std::string* out = file_.buffer();
    out->append("{\"");
    out->append(kSampleIdColumn);
    out->append("\":");
    AppendJsonString(id, out);
    for (size_t c = 0; c < columns().size(); ++c) {
      out->push_back(',');
      AppendJsonString(columns()[c].name, out);
      out->append(":[");
      for (int64_t i = 0; i < columns()[c].size; ++i) {
        if (i > 0) out->push_back(',');
        AppendNumber(values[c][i], /*json=*/true, out);
      }
      out->push_back(']');
    }
    out->append("}\n");
    file_.MaybeFlush();
  }
  void Finish() override { file_.Close(); }

 private:
  BufferedFile file_;
};

class CsvWriter : public FeatureWriter {
 public:
  CsvWriter(std::string path, std::vector<FeatureColumn> columns)
      : FeatureWriter(std::move(path), std::move(columns)), file_(temporary_path()) {
    std::string* out = file_.buffer();
    out->append(kSampleIdColumn);
    for (const FeatureColumn& column : this->columns()) {
      for (int64_t i = 0; i < column.size; ++i) {
        out->push_back(',');
        AppendCsvField(StrCat(column.name, "_", i), out);
      }
    }
    out->push_back('\n');
    file_.MaybeFlush();
  }

 protected:
  void AppendRecord(std::string_view id, const std::vector<const float*>& values) override {
    std::string* out = file_.buffer();
    AppendCsvField(id, out);
    for (size_t c = 0; c < columns().size(); ++c) {
      for (int64_t i = 0; i < columns()[c].size; ++i) {
        out->push_back(',');
        AppendNumber(values[c][i], /*json=*/false, out);
      }
    }
    out->push_back('\n');
    file_.MaybeFlush();
  }
  void Finish() override { file_.Close(); }

 private:
  BufferedFile file_;
};

class Hdf5Writer : public FeatureWriter {
 public:
  Hdf5Writer(std::string path, std::vector<FeatureColumn> columns)
      : FeatureWriter(std::move(path), std::move(columns)),
        file_(Hdf5File::Create(temporary_path())),
        values_(this->columns().size()) {
    int64_t record_bytes = 0;
    for (const FeatureColumn& column : this->columns()) {
      file_.CreateFloatRows(column.name, {column.size});
      record_bytes += column.size * static_cast<int64_t>(sizeof(float));
    }
    file_.CreateStringRows(kSampleIdColumn);
    batch_records_ = std::clamp<int64_t>(kHdf5BatchBytes / std::max<int64_t>(record_bytes, 1), 1,
                                         kHdf5BatchRecords);
    ids_.reserve(static_cast<size_t>(batch_records_));
  }

 protected:
  void AppendRecord(std::string_view id, const std::vector<const float*>& values) override {
    ids_.emplace_back(id);
    for (size_t c = 0; c < columns().size(); ++c) {
      values_[c].insert(values_[c].end(), values[c], values[c] + columns()[c].size);
    }
    if (static_cast<int64_t>(ids_.size()) >= batch_records_) WriteBatch();
  }
  void Finish() override {
    WriteBatch();
    file_.Close();
    // HDF5 leaves the data in the page cache; the rename must not overtake it.
    const int fd = ::open(temporary_path().c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw IOErrorFromErrno("open", temporary_path());
    const bool synced = ::fsync(fd) == 0;
    ::close(fd);
    if (!synced) throw IOErrorFromErrno("flush", temporary_path());
  }

 private:
  void WriteBatch() {
    if (ids_.empty()) return;
    const auto rows = static_cast<int64_t>(ids_.size());
    for (size_t c = 0; c < columns().size(); ++c) {
      file_.AppendFloatRows(columns()[c].name, rows, values_[c].data());
      values_[c].clear();
    }
    file_.AppendStrings(kSampleIdColumn, ids_);
    ids_.clear();
  }

  Hdf5File file_;
  int64_t batch_records_ = 1;
  std::vector<std::string> ids_;             // the batch's ids
  std::vector<std::vector<float>> values_;  // per column: the batch's rows
};

}  // namespace

FeatureFormat ParseFeatureFormat(const std::string& name) {
  if (name == "json") return FeatureFormat::kJson;
  if (name == "csv") return FeatureFormat::kCsv;
  if (name == "hdf5") return FeatureFormat::kHdf5;
  throw InvalidArgument(
      StrCat("unknown feature output format '", name, "' (known formats: json, csv, hdf5)"));
}

const char* FeatureFileExtension(FeatureFormat format) {
  switch (format) {
    case FeatureFormat::kJson: return "json";
    case FeatureFormat::kCsv: return "csv";
    case FeatureFormat::kHdf5: return "h5";
  }
  return "";
}

std::string FeaturePartFileName(int rank, FeatureFormat format) {
  char name[32];
  std::snprintf(name, sizeof(name), "part-%05d.", rank);
  return name + std::string(FeatureFileExtension(format));
}

std::string FeatureTemporaryPath(const std::string& path) {
  const std::filesystem::path final_path(path);
  return (final_path.parent_path() /
          StrCat(".", final_path.filename().string(), ".tmp.", ::getpid()))
      .string();
}

namespace {

// "part-" five digits "." and one of the formats' extensions.
bool IsPartFileName(const std::string& name) {
  if (name.size() < 11 || name.compare(0, 5, "part-") != 0 || name[10] != '.') return false;
  for (size_t i = 5; i < 10; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
  }
  const std::string extension = name.substr(11);
  return extension == "json" || extension == "csv" || extension == "h5";
}

// ".part-NNNNN.<ext>.tmp.<pid>", a writer's temporary file.
bool IsPartTemporaryName(const std::string& name) {
  const size_t tmp = name.find(".tmp.");
  return name.size() > 1 && name[0] == '.' && tmp != std::string::npos &&
         IsPartFileName(name.substr(1, tmp - 1));
}

}  // namespace

int PrepareFeatureDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status) && !fs::is_directory(status)) {
    throw InvalidArgument(StrCat("output '", dir, "' exists and is not a directory"));
  }
  fs::create_directories(dir, ec);
  if (ec) throw IOError(StrCat("cannot create directory '", dir, "': ", ec.message()));
  std::vector<fs::path> stale;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name == kSuccessMarker || IsPartFileName(name) || IsPartTemporaryName(name)) {
      stale.push_back(it->path());
    }
  }
  if (ec) throw IOError(StrCat("cannot list directory '", dir, "': ", ec.message()));
  // The marker goes first: while parts are being replaced the directory must not claim to
  // be complete.
  std::sort(stale.begin(), stale.end(), [](const fs::path& a, const fs::path& b) {
    return (a.filename() == kSuccessMarker) > (b.filename() == kSuccessMarker);
  });
  for (const fs::path& path : stale) {
    if (!fs::remove(path, ec) && ec) {
      throw IOError(StrCat("cannot remove '", path.string(), "' left by an earlier run: ",
                           ec.message()));
    }
  }
  return static_cast<int>(stale.size());
}

void MarkFeatureDirectoryComplete(const std::string& dir) {
  WriteStringToFile((std::filesystem::path(dir) / kSuccessMarker).string(), "");
}

FeatureWriter::FeatureWriter(std::string path, std::vector<FeatureColumn> columns)
    : path_(std::move(path)),
      temporary_path_(FeatureTemporaryPath(path_)),
      columns_(std::move(columns)) {}

std::unique_ptr<FeatureWriter> FeatureWriter::Create(FeatureFormat format,
                                                     const std::string& path,
                                                     std::vector<FeatureColumn> columns) {
  if (columns.empty()) {
    throw InvalidArgument(StrCat("feature file '", path, "' needs at least one column"));
  }
  std::set<std::string> names;
  for (const FeatureColumn& column : columns) {
    if (column.name.empty() || column.name == kSampleIdColumn) {
      throw InvalidArgument(StrCat("feature file '", path, "' cannot have a column named '",
                                   column.name, "'"));
    }
    if (!names.insert(column.name).second) {
      throw InvalidArgument(StrCat("feature file '", path, "' lists column '", column.name,
                                   "' twice"));
    }
    if (column.size < 1) {
      throw InvalidArgument(StrCat("feature column '", column.name, "' of '", path,
                                   "' must hold at least one value per record, not ",
                                   column.size));
    }
  }
  switch (format) {
    case FeatureFormat::kJson: return std::make_unique<JsonWriter>(path, std::move(columns));
    case FeatureFormat::kCsv: return std::make_unique<CsvWriter>(path, std::move(columns));
    case FeatureFormat::kHdf5: return std::make_unique<Hdf5Writer>(path, std::move(columns));
  }
  throw InvalidArgument("unknown feature output format");
}

FeatureWriter::~FeatureWriter() {
  // The subclass has closed the file by now.
  if (!committed_) ::unlink(temporary_path_.c_str());
}

void FeatureWriter::Append(std::string_view id, const std::vector<const float*>& values) {
  CREMA_DCHECK(values.size() == columns_.size() && !committed_);
  if (failed_) {
    throw IOError(StrCat("cannot write '", temporary_path_, "' after an earlier error"));
  }
  try {
    AppendRecord(id, values);
  } catch (...) {
    failed_ = true;
    throw;
  }
  ++records_;
}

void FeatureWriter::Commit() {
  CREMA_DCHECK(!committed_);
  if (failed_) {
    throw IOError(StrCat("cannot finish '", temporary_path_, "' after an earlier error"));
  }
  failed_ = true;  // until the rename succeeds
  Finish();
  if (std::rename(temporary_path_.c_str(), path_.c_str()) != 0) {
    throw IOErrorFromErrno("rename into place", path_);
  }
  committed_ = true;
  failed_ = false;
}

}  // namespace crema

#include "crema/data/cifar.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <system_error>

#include <glog/logging.h>

#include "crema/core/error.h"
#include "crema/data/progress.h"
#include "crema/data/staged_lmdb.h"
#include "crema/proto/caffe.pb.h"

namespace crema {

namespace {

namespace fs = std::filesystem;

constexpr int kChannels = 3;
constexpr int kSize = 32;
constexpr int kImageBytes = kChannels * kSize * kSize;  // 3072

const char* const kCifar10Train[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                     "data_batch_4.bin", "data_batch_5.bin"};
const char* const kCifar10Test = "test_batch.bin";
const char* const kCifar100Train = "train.bin";
const char* const kCifar100Test = "test.bin";

std::string Join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

bool Exists(const std::string& path) {
  std::error_code ec;
  return fs::exists(path, ec);
}

bool HoldsCifar10(const std::string& dir) {
  for (const char* name : kCifar10Train) {
    if (Exists(Join(dir, name))) return true;
  }
  return Exists(Join(dir, kCifar10Test));
}

bool HoldsCifar100(const std::string& dir) {
  return Exists(Join(dir, kCifar100Train)) || Exists(Join(dir, kCifar100Test));
}

int LabelBytes(CifarVersion version) { return version == CifarVersion::kCifar10 ? 1 : 2; }

const char* VersionName(CifarVersion version) {
  return version == CifarVersion::kCifar10 ? "CIFAR-10" : "CIFAR-100";
}

// Records in `path`, checked to be a positive whole number.
int64_t CountRecords(const std::string& path, int record_bytes, CifarVersion version) {
  std::error_code ec;
  const uintmax_t size = fs::file_size(path, ec);
  if (ec) throw IOError(StrCat("cannot read ", VersionName(version), " file '", path, "': ",
                               ec.message()));
  if (size == 0) {
    throw Corruption(StrCat(VersionName(version), " file '", path, "' is empty"));
  }
  if (size % static_cast<uintmax_t>(record_bytes) != 0) {
    throw Corruption(StrCat(VersionName(version), " file '", path, "' is truncated or not a ",
                            VersionName(version), " binary file: its ", size,
                            " bytes are not a whole number of ", record_bytes, "-byte records (",
                            size / static_cast<uintmax_t>(record_bytes), " records and ",
                            size % static_cast<uintmax_t>(record_bytes), " bytes over)"));
  }
  return static_cast<int64_t>(size / static_cast<uintmax_t>(record_bytes));
}

// Writes the records of `files` (with `counts` records each) to a new database at `db_path`.
void WriteDatabase(const std::vector<std::string>& files, const std::vector<int64_t>& counts,
                   CifarVersion version, CifarLabel label, const std::string& db_path) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  StagedLmdb db(db_path);
  Progress progress(StrCat("convert cifar (", fs::path(db.path()).filename().string(), ")"),
                    total, "images");
  const int label_bytes = LabelBytes(version);
  // CIFAR-100 records start with the coarse label, then the fine one.
  const size_t label_index =
      version == CifarVersion::kCifar100 && label == CifarLabel::kFine ? 1 : 0;
  std::string record(static_cast<size_t>(label_bytes + kImageBytes), '\0');
  caffe::Datum datum;
  datum.set_channels(kChannels);
  datum.set_height(kSize);
  datum.set_width(kSize);
  std::string value;
  char key[32];
  int64_t index = 0;
  for (size_t f = 0; f < files.size(); ++f) {
    std::ifstream in(files[f], std::ios::binary);
    if (!in) throw IOErrorFromErrno(StrCat("open ", VersionName(version), " file"), files[f]);
    for (int64_t i = 0; i < counts[f]; ++i) {
      if (!in.read(record.data(), static_cast<std::streamsize>(record.size()))) {
        throw IOError(StrCat("cannot read record ", i, " of ", VersionName(version), " file '",
                             files[f], "' (the file changed while it was read?)"));
      }
      datum.set_label(static_cast<uint8_t>(record[label_index]));
      datum.set_data(record.data() + label_bytes, kImageBytes);
      datum.SerializeToString(&value);
      std::snprintf(key, sizeof(key), "%05lld", static_cast<long long>(index));
      db.writer().Put(key, value);
      progress.Update(++index);
    }
  }
  db.Commit();
  progress.Done();
}

}  // namespace

CifarFiles FindCifarFiles(const std::string& in_dir) {
  std::error_code ec;
  if (!fs::is_directory(in_dir, ec)) {
    throw NotFound(StrCat("CIFAR input directory '", in_dir, "' does not exist or is not a ",
                          "directory"));
  }
  // The folders the official archives unpack to.
  std::string dir = in_dir;
  if (!HoldsCifar10(dir) && !HoldsCifar100(dir)) {
    for (const char* sub : {"cifar-10-batches-bin", "cifar-100-binary"}) {
      if (fs::is_directory(Join(in_dir, sub), ec)) {
        dir = Join(in_dir, sub);
        break;
      }
    }
  }
  const bool cifar10 = HoldsCifar10(dir);
  const bool cifar100 = HoldsCifar100(dir);
  if (cifar10 && cifar100) {
    throw InvalidArgument(StrCat("'", dir, "' holds both CIFAR-10 files (data_batch_*.bin, ",
                                 "test_batch.bin) and CIFAR-100 files (train.bin, test.bin); ",
                                 "keep one dataset per directory"));
  }
  if (!cifar10 && !cifar100) {
    throw NotFound(StrCat("'", in_dir, "' holds no CIFAR binary files: expected ",
                          "data_batch_1.bin … data_batch_5.bin and test_batch.bin (CIFAR-10) ",
                          "or train.bin and test.bin (CIFAR-100)"));
  }
  CifarFiles files;
  files.dir = dir;
  files.version = cifar10 ? CifarVersion::kCifar10 : CifarVersion::kCifar100;
  if (cifar10) {
    for (const char* name : kCifar10Train) files.train_files.push_back(Join(dir, name));
    files.test_files.push_back(Join(dir, kCifar10Test));
  } else {
    files.train_files.push_back(Join(dir, kCifar100Train));
    files.test_files.push_back(Join(dir, kCifar100Test));
  }
  for (const auto* list : {&files.train_files, &files.test_files}) {
    for (const std::string& file : *list) {
      if (!Exists(file)) {
        throw NotFound(StrCat(VersionName(files.version), " file '", file, "' is missing"));
      }
    }
  }
  return files;
}

CifarResult ConvertCifar(const std::string& in_dir, const std::string& out_dir,
                         CifarLabel label) {
  const CifarFiles files = FindCifarFiles(in_dir);
  if (files.version == CifarVersion::kCifar10 && label == CifarLabel::kCoarse) {
    throw InvalidArgument(StrCat("'", files.dir, "' holds CIFAR-10, which has no coarse ",
                                 "labels (coarse labels are CIFAR-100's)"));
  }
  const int record_bytes = LabelBytes(files.version) + kImageBytes;
  std::vector<int64_t> train_counts;
  std::vector<int64_t> test_counts;
  CifarResult result;
  result.version = files.version;
  for (const std::string& file : files.train_files) {
    train_counts.push_back(CountRecords(file, record_bytes, files.version));
    result.train_count += train_counts.back();
  }
  for (const std::string& file : files.test_files) {
    test_counts.push_back(CountRecords(file, record_bytes, files.version));
    result.test_count += test_counts.back();
  }

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw IOError(StrCat("cannot create output directory '", out_dir, "': ", ec.message()));
  const std::string prefix = files.version == CifarVersion::kCifar10 ? "cifar10" : "cifar100";
  result.train_db = Join(out_dir, prefix + "_train_lmdb");
  result.test_db = Join(out_dir, prefix + "_test_lmdb");
  // Refuse before writing anything when either output exists.
  CheckNewDatabasePath(result.train_db);
  CheckNewDatabasePath(result.test_db);

  LOG(INFO) << "Writing Training data: " << result.train_count << " " << VersionName(files.version)
            << " images from " << files.dir;
  WriteDatabase(files.train_files, train_counts, files.version, label, result.train_db);
  LOG(INFO) << "Writing Testing data: " << result.test_count << " images";
  try {
    WriteDatabase(files.test_files, test_counts, files.version, label, result.test_db);
  } catch (...) {
    // Both databases or neither: a training set without its test set is half a conversion,
    // and a rerun would refuse to overwrite it.
    fs::remove_all(result.train_db, ec);
    throw;
  }
  return result;
}

}  // namespace crema

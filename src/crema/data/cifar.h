// CIFAR-10 and CIFAR-100 binary files and their conversion to the LMDBs Caffe's CIFAR
// examples train on.
//
// The binary versions of both datasets are files of fixed-size records, no header:
//   CIFAR-10   data_batch_1.bin … data_batch_5.bin (train), test_batch.bin (test);
//              a record is 1 label byte (0–9) then 3072 pixel bytes;
//   CIFAR-100  train.bin, test.bin; a record is 2 label bytes, coarse (0–19) then fine
//              (0–99), then 3072 pixel bytes.
// The pixels are 3×32×32, planar, red plane first (RGB), rows top to bottom.
//
// ConvertCifar writes what Caffe's convert_cifar_data writes: per record a key
// printf("%05d", i) with i the running index within its database, and a raw Datum with
// channels 3, height 32, width 32, the 3072 bytes copied unchanged (so RGB planar, unlike
// the BGR of datasets made from image files) and the label byte.
//
// Functions are thread-safe as long as callers use distinct output directories.
#ifndef CREMA_DATA_CIFAR_H_
#define CREMA_DATA_CIFAR_H_

#include <cstdint>
#include <string>
#include <vector>

namespace crema {

enum class CifarVersion { kCifar10, kCifar100 };

// Which CIFAR-100 label goes into the Datum.
enum class CifarLabel { kFine, kCoarse };

struct CifarFiles {
  CifarVersion version = CifarVersion::kCifar10;
  std::string dir;                       // where the files were found
  std::vector<std::string> train_files;  // in order
  std::vector<std::string> test_files;
};

// Finds the dataset in `in_dir`: CIFAR-10 when it holds data_batch_*.bin/test_batch.bin,
// CIFAR-100 when it holds train.bin/test.bin. The folders the official archives unpack to
// (cifar-10-batches-bin/, cifar-100-binary/) are looked into when in_dir holds them.
// Throws NotFound naming in_dir when it holds neither dataset, NotFound naming the file
// when one of the dataset's files is missing, and InvalidArgument when it holds both.
CifarFiles FindCifarFiles(const std::string& in_dir);

struct CifarResult {
  CifarVersion version = CifarVersion::kCifar10;
  std::string train_db;  // out_dir/cifar10_train_lmdb or out_dir/cifar100_train_lmdb
  std::string test_db;   // …_test_lmdb
  int64_t train_count = 0;
  int64_t test_count = 0;
};

// Converts the dataset in `in_dir` into two LMDBs in `out_dir` (created if missing):
// cifar10_{train,test}_lmdb or cifar100_{train,test}_lmdb. `label` selects the CIFAR-100
// label. Every input file is checked (present, non-empty, a whole number of records) before
// anything is written; each database is written under "<name>.partial" and renamed when
// complete (staged_lmdb.h), so no half-written database is left under a final name; when
// the test database fails, the finished training database is removed too (all or nothing).
// Throws what FindCifarFiles throws; Corruption naming the file when its size is not a
// positive multiple of the record size (truncated, or not CIFAR); IOError naming the file
// when it cannot be read; InvalidArgument when `label` is kCoarse for CIFAR-10, and what
// StagedLmdb throws (an output database already exists, out_dir cannot be created, ...).
CifarResult ConvertCifar(const std::string& in_dir, const std::string& out_dir,
                         CifarLabel label = CifarLabel::kFine);

}  // namespace crema

#endif  // CREMA_DATA_CIFAR_H_

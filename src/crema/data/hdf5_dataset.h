// HDF5 files as Caffe uses them: numeric datasets read as float (HDF5Data), float datasets
// written by shape (HDF5Output, `.caffemodel.h5` / `.solverstate.h5` snapshots), and small
// int and string values (a snapshot's `iter`, `learned_net`).
//
// Hdf5File is a thin owner of one open file. Every HDF5 object it opens on the way (datasets,
// dataspaces, datatypes, property lists) is closed before the call returns, on every path,
// including when it throws. HDF5's own printing of error stacks to stderr is switched off for
// the duration of each call; failures become crema::Error sentences instead, ending with the
// innermost HDF5 message where that says more than ours.
//
// Names are HDF5 paths inside the file: "data", "label", "data/conv1/0" (groups separated by
// '/'; a leading '/' is optional).
//
// Element types: reads accept integer and floating-point datasets of any width and byte
// order; HDF5 converts each value to float (a double is rounded to the nearest float, an
// integer beyond 2^24 may lose its low bits). Writes store IEEE 32-bit floats
// (H5T_IEEE_F32LE, what Caffe writes), 64-bit doubles or 32-bit ints, little-endian, and
// strings (a scalar fixed-length one, or arrays of variable-length UTF-8 ones).
//
// Thread-safety: the serial HDF5 library is not thread-safe, so every call into it holds one
// process-wide lock. Different Hdf5File objects may therefore be used from different threads
// at once; one object must not be used by two threads at the same time.
#ifndef CREMA_DATA_HDF5_DATASET_H_
#define CREMA_DATA_HDF5_DATASET_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace crema {

class Hdf5File {
 public:
  // Opens the existing file `path` read-only.
  // Throws IOError naming `path` when it does not exist or cannot be read (the message gives
  // the system's reason) and Corruption naming `path` when it is not an HDF5 file or HDF5
  // cannot open it.
  static Hdf5File Open(const std::string& path);

  // Creates `path` for writing, replacing any file of that name.
  // Throws IOError naming `path` when the file cannot be created (missing directory, no
  // permission).
  static Hdf5File Create(const std::string& path);

  // Closes the file; a failure to close is ignored (call Close() to see it).
  ~Hdf5File();
  Hdf5File(Hdf5File&& other) noexcept;
  Hdf5File& operator=(Hdf5File&& other) noexcept;
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  const std::string& path() const { return path_; }

  // True when an object (dataset or group) exists at `name`. Never throws for a missing
  // name or a missing group on its path.
  bool Exists(const std::string& name) const;

  // The names of the members (datasets and groups) of `group` ("/" or "" for the root),
  // sorted by name. Throws Corruption naming the file and `group` when it is missing or is
  // not a group.
  std::vector<std::string> List(const std::string& group) const;

  // The dimensions of dataset `name`, outermost first; empty for a scalar dataset.
  // Throws Corruption naming the file and `name` when the dataset is missing or `name` is
  // not a dataset.
  std::vector<int64_t> Shape(const std::string& name) const;

  // Every value of dataset `name`, in row-major order, converted to float.
  // Throws Corruption naming the file and `name` when the dataset is missing, does not hold
  // numbers (strings, compounds, ...), holds more than INT_MAX values (more than a Blob can
  // hold) or cannot be read.
  std::vector<float> ReadFloat(const std::string& name) const;

  // Rows [begin, end) along the first dimension of dataset `name`, converted to float, into
  // out[0 .. (end − begin) · (product of the other dimensions)).
  // Throws what ReadFloat throws, and InvalidArgument naming the file and `name` when the
  // dataset is scalar or the range is not within [0, rows].
  // REQUIRES: `out` has room for the values read.
  void ReadFloatRows(const std::string& name, int64_t begin, int64_t end, float* out) const;

  // The one value of an integer dataset `name` with exactly one element (a scalar, or a
  // one-element array as Caffe's snapshots store `iter`).
  // Throws Corruption naming the file and `name` when the dataset is missing, not integer,
  // holds more or fewer than one value, or does not fit an int.
  int ReadInt(const std::string& name) const;

  // The string held by a scalar string dataset `name` (fixed- or variable-length), without
  // trailing NULs. Throws Corruption naming the file and `name` when the dataset is missing,
  // is not a scalar string, or is a fixed-length string wider than 1 MiB (Crema's strings are
  // names and paths).
  std::string ReadString(const std::string& name) const;

  // Creates dataset `name` with dimensions `shape` (empty: a scalar) and writes
  // shape-product values from `data`. Groups on the path are created as needed.
  // Throws InvalidArgument naming the file and `name` when the name is empty, an object of
  // that name exists or a dimension is negative; IOError naming both when HDF5 cannot write
  // (e.g. the file was opened read-only).
  // REQUIRES: `data` holds the product of `shape` values.
  void WriteFloat(const std::string& name, const std::vector<int64_t>& shape, const float* data);
  void WriteDouble(const std::string& name, const std::vector<int64_t>& shape,
                   const double* data);
  void WriteInt32(const std::string& name, const std::vector<int64_t>& shape,
                  const int32_t* data);

  // Creates group `name` and the groups on its path, unless it already exists (an empty
  // group is how Caffe's .caffemodel.h5 records a layer without parameters). Throws
  // InvalidArgument naming the file and `name` when the name is empty or a dataset has it;
  // IOError naming both when HDF5 cannot create it.
  void CreateGroup(const std::string& name);

  // Writes `value` as a one-element 1-D int32 dataset (how Caffe's snapshots store `iter`).
  // Throws what WriteFloat throws.
  void WriteInt(const std::string& name, int value);

  // Writes `value` as a scalar, fixed-length, NUL-terminated string dataset (how Caffe's
  // snapshots store `learned_net`). Throws what WriteFloat throws.
  void WriteString(const std::string& name, const std::string& value);

  // Writes `values` as a 1-D dataset of variable-length UTF-8 strings. Throws what
  // WriteFloat throws.
  void WriteStrings(const std::string& name, const std::vector<std::string>& values);

  // Every string of a 1-D (or scalar) string dataset `name`, fixed- or variable-length,
  // without trailing NULs. Throws Corruption naming the file and `name` when the dataset is
  // missing, does not hold strings, has more than one dimension, holds more than INT_MAX
  // strings, fixed-length strings wider than 1 MiB or more than INT_MAX bytes of them, or
  // cannot be read.
  std::vector<std::string> ReadStrings(const std::string& name) const;

  // Growable datasets, for data written a batch of rows at a time without holding it all in
  // memory: created empty with an unlimited first dimension (chunked storage) and extended by
  // each append.
  //
  // Creates float dataset `name` of shape (0, row_dims...) (IEEE 32-bit, little-endian).
  // Throws what WriteFloat throws.
  void CreateFloatRows(const std::string& name, const std::vector<int64_t>& row_dims);
  // Creates a 1-D, empty dataset of variable-length UTF-8 strings. Throws what WriteFloat
  // throws.
  void CreateStringRows(const std::string& name);
  // Appends `rows` rows (rows × the product of the row dimensions values, row-major) to a
  // dataset made by CreateFloatRows. Throws InvalidArgument naming the file and `name` when
  // it is not such a dataset, IOError naming both when HDF5 cannot extend or write it.
  // REQUIRES: rows >= 0; `data` holds the values.
  void AppendFloatRows(const std::string& name, int64_t rows, const float* data);
  // Appends strings to a dataset made by CreateStringRows; throws as AppendFloatRows.
  void AppendStrings(const std::string& name, const std::vector<std::string>& values);

  // Flushes written data to disk. Throws IOError naming the file on failure.
  void Flush();

  // Closes the file now; later calls other than destruction are not allowed. Throws IOError
  // naming the file when HDF5 reports a failure (e.g. buffered data could not be written).
  void Close();

 private:
  Hdf5File(std::string path, int64_t id) : path_(std::move(path)), id_(id) {}
  void Write(const std::string& name, const std::vector<int64_t>& shape, int64_t memory_type,
             int64_t file_type, const void* data);
  void CreateGrowable(const std::string& name, const std::vector<int64_t>& row_dims,
                      int64_t file_type, int64_t row_bytes);
  void Append(const std::string& name, int64_t rows, int64_t memory_type, bool strings,
              const void* data);

  std::string path_;
  int64_t id_ = -1;  // the hid_t of the open file; -1 when closed
};

// Makes a crash inside the HDF5 library end the process with exit status 1 and one line on
// stderr, "<prefix>HDF5 file '<path>' is corrupt: the HDF5 library crashed reading it ...",
// instead of dying by the signal. The HDF5 1.10 of Debian 12 dereferences null on some
// corrupt files (a failed allocation of a size a corrupt header declares), and no check
// short of parsing HDF5 ourselves tells those files apart before it is called.
//
// Installs handlers for SIGSEGV, SIGBUS, SIGFPE and SIGILL once; a later call only changes
// the prefix (at most 511 bytes are kept). A fault outside an Hdf5File call goes to the
// disposition the handler replaced (a sanitizer's report, or the default: the signal), as if
// the handler were not there. For programs that own the process (command-line tools); a
// library or a fuzzer that wants HDF5's crashes reported as crashes does not call it.
void ReportHdf5CrashesAsErrors(const std::string& prefix);

}  // namespace crema

#endif  // CREMA_DATA_HDF5_DATASET_H_

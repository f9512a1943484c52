// Feature records and the part files that hold them: what `crema features` writes.
//
// A record is one sample: its id and, per column, that sample's values of one blob,
// flattened (C×H×W values for a (N, C, H, W) blob). Columns are fixed when the writer is
// made; every record has every column. Layouts (docs/formats.md):
//
//   json  JSON lines, one object per record, the id first under "SampleID", then one array
//         per column in column order:
//           {"SampleID":"00000000","ip1":[0.5,-1.25],"label":[7]}
//   csv   a header row "SampleID,<col>_0,<col>_1,…" (one field per value, columns in
//         order), then one row per record: the id, then the values. A field containing a
//         comma, a double quote, CR or LF is quoted, with its quotes doubled (RFC 4180).
//   hdf5  dataset "SampleID" (1-D, variable-length UTF-8 strings) and, per column, a float
//         dataset (records, size) named like the column (a '/' in a name makes groups, as
//         HDF5 paths do). Rows are appended in batches, so a part larger than memory can be
//         written.
//
// Numbers are written as the shortest decimal that reads back as the same float
// (std::to_chars), so values survive a round trip through text exactly. JSON has no NaN or
// infinity: such values are written as null. CSV writes nan, inf and -inf. Ids are written
// as given; JSON output assumes they are UTF-8 (LMDB keys and file paths are, in practice).
//
// Atomicity: a writer writes to a hidden temporary file beside its path
// (FeatureTemporaryPath: "dir/.part-00000.json.tmp.<pid>"; readers of a directory of parts
// skip names that start with '.' or '_') and Commit flushes it to disk and renames it into
// place. A write error, or destroying the writer without Commit, removes the temporary file,
// so no reader ever finds a partial file under the final name (an older file of that name
// stays until a Commit replaces it).
//
// Thread-safety: a writer is used by one thread at a time.
#ifndef CREMA_DATA_FEATURE_WRITER_H_
#define CREMA_DATA_FEATURE_WRITER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace crema {

enum class FeatureFormat { kJson, kCsv, kHdf5 };

// "json", "csv" or "hdf5". Throws InvalidArgument naming `name` and listing the known
// formats otherwise.
FeatureFormat ParseFeatureFormat(const std::string& name);
// The file extension of a format, without the dot: "json", "csv", "h5".
const char* FeatureFileExtension(FeatureFormat format);
// The part file of one rank: "part-00003.json" (rank as %05d).
std::string FeaturePartFileName(int rank, FeatureFormat format);

// Where a writer for `path` writes before Commit: "<dir of path>/.<name of path>.tmp.<pid>".
std::string FeatureTemporaryPath(const std::string& path);

// The name of the id column.
inline constexpr char kSampleIdColumn[] = "SampleID";

// A directory of parts (what `crema features` writes): one part file per rank, then an
// empty marker file "_SUCCESS" once every part is whole (the usual marker of complete
// output).
inline constexpr char kSuccessMarker[] = "_SUCCESS";

// Makes `dir` ready for a new run's parts: creates it (with missing parents), and removes
// what an earlier run left that a reader could take for this run's output — the _SUCCESS
// marker, part files ("part-" five digits ".json", ".csv" or ".h5") and their hidden
// temporaries. Other files are left alone. Returns the number of files removed.
// Throws InvalidArgument when `dir` exists and is not a directory, IOError naming the path
// when the directory cannot be created or a file cannot be removed.
int PrepareFeatureDirectory(const std::string& dir);
// Writes the empty `dir`/_SUCCESS (atomically). Throws IOError naming it on failure.
void MarkFeatureDirectoryComplete(const std::string& dir);

struct FeatureColumn {
  std::string name;  // the blob's name
  int64_t size = 0;  // values per record
};

class FeatureWriter {
 public:
  // Opens a writer of `format` records with `columns` for `path`, creating its temporary
  // file (and, for csv, writing the header into it).
  // Throws InvalidArgument when there are no columns, a column's size is not positive, or
  // a column's name is empty, repeats or is "SampleID"; IOError naming the temporary file
  // when it cannot be created.
  static std::unique_ptr<FeatureWriter> Create(FeatureFormat format, const std::string& path,
                                               std::vector<FeatureColumn> columns);

  // Without a successful Commit: closes and removes the temporary file.
  virtual ~FeatureWriter();
  FeatureWriter(const FeatureWriter&) = delete;
  FeatureWriter& operator=(const FeatureWriter&) = delete;

  // Appends one record: `id` and, for each column c, values[c][0 .. columns[c].size).
  // Output is buffered; a failed write of the buffer throws IOError naming the temporary
  // file, after which the writer accepts nothing but destruction.
  // REQUIRES: values.size() == columns().size(); not committed.
  void Append(std::string_view id, const std::vector<const float*>& values);

  // Writes what is buffered, flushes the file to disk and renames it to path(), replacing
  // any file there. Throws IOError naming the file on failure (the temporary file is then
  // removed and path() untouched).
  // REQUIRES: not committed; no earlier call threw.
  void Commit();

  const std::string& path() const { return path_; }
  const std::string& temporary_path() const { return temporary_path_; }
  const std::vector<FeatureColumn>& columns() const { return columns_; }
  // Records appended so far.
  int64_t records() const { return records_; }

 protected:
  FeatureWriter(std::string path, std::vector<FeatureColumn> columns);

  // Format hooks. Each throws IOError naming temporary_path() on failure.
  virtual void AppendRecord(std::string_view id, const std::vector<const float*>& values) = 0;
  // Writes everything buffered and closes the temporary file (synced to disk).
  virtual void Finish() = 0;
  // Subclass destructors close the temporary file if still open; this base's destructor
  // then removes it unless Commit renamed it.

 private:
  std::string path_;
  std::string temporary_path_;
  std::vector<FeatureColumn> columns_;
  int64_t records_ = 0;
  bool committed_ = false;
  bool failed_ = false;
};

}  // namespace crema

#endif  // CREMA_DATA_FEATURE_WRITER_H_

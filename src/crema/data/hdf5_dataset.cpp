#include "crema/data/hdf5_dataset.h"

#include <hdf5.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <csignal>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <set>
#include <type_traits>

#include "crema/core/error.h"
#include "crema/data/hdf5_check.h"

namespace crema {

static_assert(std::is_same_v<hid_t, int64_t>, "Hdf5File stores an hid_t in an int64_t");

namespace {

std::recursive_mutex& Hdf5Mutex() {
  // Every object is closed by its owner, so HDF5 has nothing to clean up at exit; after a
  // corrupt file its clean-up can fail and print "infinite loop closing library" and a dump
  // of its state after crema's error. This runs before the first HDF5 call, as it must.
  static const bool no_atexit = H5dont_atexit() >= 0;
  static std::recursive_mutex mutex;
  (void)no_atexit;
  return mutex;
}

// The file each thread is inside HDF5 for (null outside), for ReportHdf5CrashesAsErrors.
thread_local const char* file_in_hdf5 = nullptr;

// Holds the process-wide HDF5 lock and keeps HDF5 from printing error stacks while alive,
// and marks the calling thread as inside HDF5 on file `path`. Declare it before any Handle
// in a function, so that handles are closed under the lock.
class Hdf5Call {
 public:
  explicit Hdf5Call(const std::string& path)
      : lock_(Hdf5Mutex()), outer_file_(file_in_hdf5) {
    file_in_hdf5 = path.c_str();
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Hdf5Call() {
    H5Eclear2(H5E_DEFAULT);
    H5Eset_auto2(H5E_DEFAULT, func_, data_);
    file_in_hdf5 = outer_file_;
  }
  Hdf5Call(const Hdf5Call&) = delete;
  Hdf5Call& operator=(const Hdf5Call&) = delete;

 private:
  std::unique_lock<std::recursive_mutex> lock_;
  const char* outer_file_;
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

// ReportHdf5CrashesAsErrors: what the handler writes before the file's name, and the
// dispositions it replaced, one per signal of kCrashSignals.
constexpr int kCrashSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL};
char crash_prefix[512];
struct sigaction replaced_actions[std::size(kCrashSignals)];

void WriteAll(const char* text, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(STDERR_FILENO, text, size);
    if (n <= 0) return;
    text += n;
    size -= static_cast<size_t>(n);
  }
}

// Async-signal-safe: only write() and _exit(). A fault outside HDF5 is not HDF5's, and a
// signal another process sent is not a fault: the replaced disposition is put back, a sent
// signal raised again, and a fault meets it when the faulting instruction runs again.
void OnCrashSignal(int signal, siginfo_t* info, void* /*context*/) {
  const char* file = file_in_hdf5;
  const bool fault = info != nullptr && info->si_code > 0;  // from the kernel, not kill()
  if (file == nullptr || !fault) {
    for (size_t i = 0; i < std::size(kCrashSignals); ++i) {
      if (kCrashSignals[i] == signal) sigaction(signal, &replaced_actions[i], nullptr);
    }
    if (!fault) raise(signal);
    return;
  }
  constexpr char kMiddle[] = "HDF5 file '";
  constexpr char kEnd[] =
      "' is corrupt: the HDF5 library crashed reading it (replace or recreate the file)\n";
  char line[sizeof(crash_prefix) + sizeof(kMiddle) + 4096 + sizeof(kEnd)];
  size_t size = 0;
  const auto append = [&](const char* text) {
    for (; *text != '\0' && size < sizeof(line) - sizeof(kEnd); ++text) line[size++] = *text;
  };
  append(crash_prefix);
  append(kMiddle);
  append(file);
  for (const char* text = kEnd; *text != '\0'; ++text) line[size++] = *text;
  WriteAll(line, size);  // one write: under mpirun other processes share the stream
  _exit(1);
}

// Owns one HDF5 identifier and closes it with the matching H5?close.
class Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  Handle(hid_t id, Closer close) : id_(id), close_(close) {}
  ~Handle() {
    if (id_ >= 0) close_(id_);
  }
  Handle(Handle&& other) noexcept : id_(other.id_), close_(other.close_) { other.id_ = -1; }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle& operator=(Handle&&) = delete;

  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
  Closer close_;
};

herr_t KeepInnermost(unsigned n, const H5E_error2_t* error, void* out) {
  if (n == 0 && error != nullptr && error->desc != nullptr) {
    *static_cast<std::string*>(out) = error->desc;
  }
  return 0;
}

// " (HDF5: <the innermost message of the current error stack>)", or "" when there is none.
// Clears the stack.
std::string Hdf5Detail() {
  std::string detail;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, &KeepInnermost, &detail);
  H5Eclear2(H5E_DEFAULT);
  return detail.empty() ? std::string() : StrCat(" (HDF5: ", detail, ")");
}

// A file access property list that takes file locks where the file system supports them
// and goes on without where it does not (shared cluster file systems often do not).
Handle FileAccessList() {
  Handle fapl(H5Pcreate(H5P_FILE_ACCESS), &H5Pclose);
#if H5_VERSION_GE(1, 12, 1) || (H5_VERS_MAJOR == 1 && H5_VERS_MINOR == 10 && H5_VERS_RELEASE >= 7)
  if (fapl.ok()) H5Pset_file_locking(fapl.get(), true, true);
#endif
  return fapl;
}

std::string Where(const std::string& name, const std::string& path) {
  return StrCat("dataset '", name, "' in HDF5 file '", path, "'");
}

std::string ShapeText(const std::vector<int64_t>& dims) {
  std::string text = "(";
  for (size_t i = 0; i < dims.size(); ++i) text += StrCat(i ? ", " : "", dims[i]);
  return text + ")";
}

// The dimensions of an open dataset. Throws Corruption naming the dataset.
std::vector<int64_t> DimsOf(hid_t dataset, const std::string& name, const std::string& path) {
  Handle space(H5Dget_space(dataset), &H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  if (rank < 0) {
    throw Corruption(StrCat("cannot read the shape of ", Where(name, path), Hdf5Detail()));
  }
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) {
    throw Corruption(StrCat("cannot read the shape of ", Where(name, path), Hdf5Detail()));
  }
  std::vector<int64_t> result;
  for (hsize_t d : dims) {
    if (d > static_cast<hsize_t>(INT64_MAX)) {
      throw Corruption(StrCat(Where(name, path), " has an impossible dimension ", d));
    }
    result.push_back(static_cast<int64_t>(d));
  }
  return result;
}

// Product of dims; throws Corruption when it overflows.
int64_t CountOf(const std::vector<int64_t>& dims, size_t first, const std::string& name,
                const std::string& path) {
  int64_t count = 1;
  for (size_t i = first; i < dims.size(); ++i) {
    if (dims[i] != 0 && count > INT64_MAX / dims[i]) {
      throw Corruption(StrCat(Where(name, path), " of shape ", ShapeText(dims),
                              " is too large to read"));
    }
    count *= dims[i];
  }
  return count;
}

H5T_class_t ClassOf(hid_t dataset) {
  Handle type(H5Dget_type(dataset), &H5Tclose);
  return type.ok() ? H5Tget_class(type.get()) : H5T_NO_CLASS;
}

std::string ClassText(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floating-point numbers";
    case H5T_STRING: return "strings";
    case H5T_COMPOUND: return "compound records";
    default: return "values of a non-numeric type";
  }
}

// The longest fixed-length string read: Crema's strings are names, paths and ids, and the
// field width comes from the file, so a few bytes could otherwise ask for gigabytes.
constexpr size_t kMaxStringBytes = size_t{1} << 20;

// The width of a fixed-length string type; throws Corruption naming the dataset when it is
// over kMaxStringBytes.
size_t StringWidth(hid_t type, const std::string& name, const std::string& path) {
  const size_t width = H5Tget_size(type);
  if (width > kMaxStringBytes) {
    throw Corruption(StrCat(Where(name, path), " holds strings of ", width,
                            " bytes, more than the ", kMaxStringBytes, " Crema reads"));
  }
  return width;
}

// Numbers of up to 16 bytes (long double); a corrupt header can declare any width, and HDF5
// sizes its conversion buffer by it (gigabytes for a few values).
void RequireNumeric(hid_t dataset, const std::string& name, const std::string& path) {
  const H5T_class_t c = ClassOf(dataset);
  if (c != H5T_INTEGER && c != H5T_FLOAT) {
    throw Corruption(StrCat(Where(name, path), " holds ", ClassText(c), ", not numbers"));
  }
  Handle type(H5Dget_type(dataset), &H5Tclose);
  const size_t width = type.ok() ? H5Tget_size(type.get()) : 0;
  if (width == 0 || width > 16) {
    throw Corruption(StrCat(Where(name, path), " holds numbers ", width,
                            " bytes wide; numbers are 1 to 16 bytes"));
  }
}

// CheckHdf5LocalHeaps, once per file and process (a file is its device, inode, size and
// modification time): HDF5Data opens its files again every epoch.
void CheckLocalHeapsOnce(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return;  // left for the open to report
  const std::array<int64_t, 5> identity = {
      static_cast<int64_t>(st.st_dev), static_cast<int64_t>(st.st_ino),
      static_cast<int64_t>(st.st_size), static_cast<int64_t>(st.st_mtim.tv_sec),
      static_cast<int64_t>(st.st_mtim.tv_nsec)};
  static std::mutex mutex;
  static std::set<std::array<int64_t, 5>> checked;
  {
    const std::lock_guard<std::mutex> lock(mutex);
    if (checked.count(identity) != 0) return;
  }
  CheckHdf5LocalHeaps(path);
  const std::lock_guard<std::mutex> lock(mutex);
  checked.insert(identity);
}

}  // namespace

Hdf5File Hdf5File::Open(const std::string& path) {
  if (::access(path.c_str(), R_OK) != 0) throw IOErrorFromErrno("open HDF5 file", path);
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw IOError(StrCat("cannot open HDF5 file '", path, "': it is a directory"));
  }
  Hdf5Call call(path);
  const htri_t is_hdf5 = H5Fis_hdf5(path.c_str());
  if (is_hdf5 <= 0) {
    const std::string detail = Hdf5Detail();
    throw Corruption(StrCat("'", path, "' is not an HDF5 file", detail));
  }
  CheckLocalHeapsOnce(path);
  Handle fapl = FileAccessList();
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.ok() ? fapl.get() : H5P_DEFAULT);
  if (id < 0) throw Corruption(StrCat("cannot open HDF5 file '", path, "'", Hdf5Detail()));
  return Hdf5File(path, id);
}

Hdf5File Hdf5File::Create(const std::string& path) {
  Hdf5Call call(path);
  Handle fapl = FileAccessList();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT,
                             fapl.ok() ? fapl.get() : H5P_DEFAULT);
  if (id < 0) throw IOError(StrCat("cannot create HDF5 file '", path, "'", Hdf5Detail()));
  return Hdf5File(path, id);
}

Hdf5File::~Hdf5File() {
  if (id_ >= 0) {
    Hdf5Call call(path_);
    H5Fclose(id_);
  }
}

Hdf5File::Hdf5File(Hdf5File&& other) noexcept
    : path_(std::move(other.path_)), id_(other.id_) {
  other.id_ = -1;
}

Hdf5File& Hdf5File::operator=(Hdf5File&& other) noexcept {
  if (this != &other) {
    if (id_ >= 0) {
      Hdf5Call call(path_);
      H5Fclose(id_);
    }
    path_ = std::move(other.path_);
    id_ = other.id_;
    other.id_ = -1;
  }
  return *this;
}

bool Hdf5File::Exists(const std::string& name) const {
  Hdf5Call call(path_);
  const std::string relative = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  if (relative.empty()) return true;  // the root group
  // H5Lexists fails, rather than answering false, when a group on the path is missing:
  // test each prefix in turn.
  for (size_t slash = relative.find('/');; slash = relative.find('/', slash + 1)) {
    const std::string prefix = relative.substr(0, slash);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) break;
  }
  // A dangling soft link exists as a link but names no object.
  return H5Oexists_by_name(id_, relative.c_str(), H5P_DEFAULT) > 0;
}

std::vector<std::string> Hdf5File::List(const std::string& group) const {
  Hdf5Call call(path_);
  const std::string name = group.empty() ? "/" : group;
  if (!Exists(name)) {
    throw Corruption(StrCat("HDF5 file '", path_, "' has no group '", name, "'"));
  }
  Handle object(H5Oopen(id_, name.c_str(), H5P_DEFAULT), &H5Oclose);
  if (!object.ok() || H5Iget_type(object.get()) != H5I_GROUP) {
    throw Corruption(StrCat("'", name, "' in HDF5 file '", path_, "' is not a group"));
  }
  H5G_info_t info;
  if (H5Gget_info(object.get(), &info) < 0) {
    throw Corruption(StrCat("cannot list group '", name, "' in HDF5 file '", path_, "'",
                            Hdf5Detail()));
  }
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = H5Lget_name_by_idx(object.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i,
                                            nullptr, 0, H5P_DEFAULT);
    if (size < 0) {
      throw Corruption(StrCat("cannot list group '", name, "' in HDF5 file '", path_, "'",
                              Hdf5Detail()));
    }
    std::string member(static_cast<size_t>(size) + 1, '\0');
    H5Lget_name_by_idx(object.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, member.data(),
                       member.size(), H5P_DEFAULT);
    member.resize(static_cast<size_t>(size));
    names.push_back(std::move(member));
  }
  return names;
}

namespace {

// Opens dataset `name`; throws Corruption naming it when it is missing or not a dataset.
Handle OpenDataset(const Hdf5File& file, hid_t id, const std::string& name) {
  if (name.empty() || !file.Exists(name)) {
    throw Corruption(StrCat("HDF5 file '", file.path(), "' has no dataset '", name, "'"));
  }
  Handle object(H5Oopen(id, name.c_str(), H5P_DEFAULT), &H5Oclose);
  if (!object.ok()) {
    throw Corruption(StrCat("cannot open ", Where(name, file.path()), Hdf5Detail()));
  }
  if (H5Iget_type(object.get()) != H5I_DATASET) {
    throw Corruption(StrCat("'", name, "' in HDF5 file '", file.path(), "' is not a dataset"));
  }
  return object;
}

}  // namespace

std::vector<int64_t> Hdf5File::Shape(const std::string& name) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  return DimsOf(dataset.get(), name, path_);
}

std::vector<float> Hdf5File::ReadFloat(const std::string& name) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  RequireNumeric(dataset.get(), name, path_);
  const std::vector<int64_t> dims = DimsOf(dataset.get(), name, path_);
  // A few bytes of file can declare any shape; what no Blob could hold is not read.
  const int64_t count = CountOf(dims, 0, name, path_);
  if (count > INT_MAX) {
    throw Corruption(StrCat(Where(name, path_), " of shape ", ShapeText(dims),
                            " holds more than ", INT_MAX, " values, more than a blob can hold"));
  }
  std::vector<float> values(static_cast<size_t>(count));
  if (!values.empty() && H5Dread(dataset.get(), H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL,
                                 H5P_DEFAULT, values.data()) < 0) {
    throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
  }
  return values;
}

void Hdf5File::ReadFloatRows(const std::string& name, int64_t begin, int64_t end,
                             float* out) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  RequireNumeric(dataset.get(), name, path_);
  const std::vector<int64_t> dims = DimsOf(dataset.get(), name, path_);
  if (dims.empty()) {
    throw InvalidArgument(StrCat(Where(name, path_), " is a scalar; it has no rows to read"));
  }
  if (begin < 0 || end < begin || end > dims[0]) {
    throw InvalidArgument(StrCat("rows [", begin, ", ", end, ") are not within the ", dims[0],
                                 " rows of ", Where(name, path_)));
  }
  const int64_t row_size = CountOf(dims, 1, name, path_);
  if (end == begin || row_size == 0) return;
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> count(dims.begin(), dims.end());
  start[0] = static_cast<hsize_t>(begin);
  count[0] = static_cast<hsize_t>(end - begin);
  Handle file_space(H5Dget_space(dataset.get()), &H5Sclose);
  const hsize_t total = static_cast<hsize_t>(end - begin) * static_cast<hsize_t>(row_size);
  Handle memory_space(H5Screate_simple(1, &total, nullptr), &H5Sclose);
  if (!file_space.ok() || !memory_space.ok() ||
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                          count.data(), nullptr) < 0 ||
      H5Dread(dataset.get(), H5T_NATIVE_FLOAT, memory_space.get(), file_space.get(),
              H5P_DEFAULT, out) < 0) {
    throw Corruption(StrCat("cannot read rows [", begin, ", ", end, ") of ", Where(name, path_),
                            Hdf5Detail()));
  }
}

int Hdf5File::ReadInt(const std::string& name) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  if (ClassOf(dataset.get()) != H5T_INTEGER) {
    throw Corruption(StrCat(Where(name, path_), " holds ", ClassText(ClassOf(dataset.get())),
                            ", not an integer"));
  }
  const std::vector<int64_t> dims = DimsOf(dataset.get(), name, path_);
  if (CountOf(dims, 0, name, path_) != 1) {
    throw Corruption(StrCat(Where(name, path_), " of shape ", ShapeText(dims),
                            " holds more or fewer than one integer"));
  }
  long long value = 0;
  if (H5Dread(dataset.get(), H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value) < 0) {
    throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
  }
  if (value < INT_MIN || value > INT_MAX) {
    throw Corruption(StrCat(Where(name, path_), " holds ", value, ", which does not fit an int"));
  }
  return static_cast<int>(value);
}

std::string Hdf5File::ReadString(const std::string& name) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  Handle file_type(H5Dget_type(dataset.get()), &H5Tclose);
  if (!file_type.ok() || H5Tget_class(file_type.get()) != H5T_STRING) {
    throw Corruption(StrCat(Where(name, path_), " holds ", ClassText(ClassOf(dataset.get())),
                            ", not a string"));
  }
  const std::vector<int64_t> dims = DimsOf(dataset.get(), name, path_);
  if (CountOf(dims, 0, name, path_) != 1) {
    throw Corruption(StrCat(Where(name, path_), " of shape ", ShapeText(dims),
                            " holds more or fewer than one string"));
  }
  Handle memory_type(H5Tcopy(H5T_C_S1), &H5Tclose);
  H5Tset_cset(memory_type.get(), H5Tget_cset(file_type.get()));
  std::string value;
  const htri_t variable = H5Tis_variable_str(file_type.get());
  if (variable > 0) {
    H5Tset_size(memory_type.get(), H5T_VARIABLE);
    char* text = nullptr;
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &text) < 0) {
      throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
    }
    if (text != nullptr) value = text;
    Handle space(H5Dget_space(dataset.get()), &H5Sclose);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type.get(), space.get(), H5P_DEFAULT, &text);
#else
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, &text);
#endif
  } else {
    // One byte more than stored, so a string that fills its whole field keeps its last
    // character when converted to a NUL-terminated one.
    const size_t size = StringWidth(file_type.get(), name, path_) + 1;
    H5Tset_size(memory_type.get(), size);
    H5Tset_strpad(memory_type.get(), H5T_STR_NULLTERM);
    std::string buffer(size, '\0');
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                buffer.data()) < 0) {
      throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
    }
    value = buffer.c_str();
  }
  return value;
}

void Hdf5File::Write(const std::string& name, const std::vector<int64_t>& shape,
                     int64_t memory_type, int64_t file_type, const void* data) {
  Hdf5Call call(path_);
  const std::string relative = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  if (relative.empty()) {
    throw InvalidArgument(StrCat("a dataset written to HDF5 file '", path_, "' needs a name"));
  }
  for (int64_t d : shape) {
    if (d < 0) {
      throw InvalidArgument(StrCat("cannot write ", Where(name, path_), " with shape ",
                                   ShapeText(shape), ": a dimension is negative"));
    }
  }
  if (Exists(name)) {
    throw InvalidArgument(StrCat("HDF5 file '", path_, "' already has an object named '", name,
                                 "'"));
  }
  const std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(),
                                                nullptr),
               &H5Sclose);
  Handle link_list(H5Pcreate(H5P_LINK_CREATE), &H5Pclose);
  if (!space.ok() || !link_list.ok() ||
      H5Pset_create_intermediate_group(link_list.get(), 1) < 0) {
    throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  }
  Handle dataset(H5Dcreate2(id_, name.c_str(), file_type, space.get(), link_list.get(),
                            H5P_DEFAULT, H5P_DEFAULT),
                 &H5Dclose);
  if (!dataset.ok()) throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  bool empty = false;
  for (int64_t d : shape) empty = empty || d == 0;
  if (!empty &&
      H5Dwrite(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    throw IOError(StrCat("cannot write ", Where(name, path_), Hdf5Detail()));
  }
}

void Hdf5File::WriteFloat(const std::string& name, const std::vector<int64_t>& shape,
                          const float* data) {
  Hdf5Call call(path_);
  Write(name, shape, H5T_NATIVE_FLOAT, H5T_IEEE_F32LE, data);
}

void Hdf5File::WriteDouble(const std::string& name, const std::vector<int64_t>& shape,
                           const double* data) {
  Hdf5Call call(path_);
  Write(name, shape, H5T_NATIVE_DOUBLE, H5T_IEEE_F64LE, data);
}

void Hdf5File::WriteInt32(const std::string& name, const std::vector<int64_t>& shape,
                          const int32_t* data) {
  Hdf5Call call(path_);
  Write(name, shape, H5T_NATIVE_INT32, H5T_STD_I32LE, data);
}

void Hdf5File::CreateGroup(const std::string& name) {
  Hdf5Call call(path_);
  const std::string relative = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  if (relative.empty()) {
    throw InvalidArgument(StrCat("a group created in HDF5 file '", path_, "' needs a name"));
  }
  if (Exists(name)) {
    Handle object(H5Oopen(id_, name.c_str(), H5P_DEFAULT), &H5Oclose);
    if (object.ok() && H5Iget_type(object.get()) == H5I_GROUP) return;
    throw InvalidArgument(StrCat("HDF5 file '", path_, "' already has an object named '", name,
                                 "' that is not a group"));
  }
  Handle link_list(H5Pcreate(H5P_LINK_CREATE), &H5Pclose);
  if (!link_list.ok() || H5Pset_create_intermediate_group(link_list.get(), 1) < 0) {
    throw IOError(StrCat("cannot create group '", name, "' in HDF5 file '", path_, "'",
                         Hdf5Detail()));
  }
  Handle group(H5Gcreate2(id_, name.c_str(), link_list.get(), H5P_DEFAULT, H5P_DEFAULT),
               &H5Gclose);
  if (!group.ok()) {
    throw IOError(StrCat("cannot create group '", name, "' in HDF5 file '", path_, "'",
                         Hdf5Detail()));
  }
}

void Hdf5File::WriteInt(const std::string& name, int value) {
  const int32_t stored = value;
  WriteInt32(name, {1}, &stored);
}

void Hdf5File::WriteString(const std::string& name, const std::string& value) {
  Hdf5Call call(path_);
  Handle type(H5Tcopy(H5T_C_S1), &H5Tclose);
  if (!type.ok() || H5Tset_size(type.get(), value.size() + 1) < 0 ||
      H5Tset_strpad(type.get(), H5T_STR_NULLTERM) < 0) {
    throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  }
  Write(name, {}, type.get(), type.get(), value.c_str());
}

namespace {

// A variable-length UTF-8 string type, or an invalid handle.
Handle VariableStringType() {
  Handle type(H5Tcopy(H5T_C_S1), &H5Tclose);
  if (type.ok() && (H5Tset_size(type.get(), H5T_VARIABLE) < 0 ||
                    H5Tset_cset(type.get(), H5T_CSET_UTF8) < 0)) {
    return Handle(-1, &H5Tclose);
  }
  return type;
}

std::vector<const char*> CStrings(const std::vector<std::string>& values) {
  std::vector<const char*> pointers(values.size());
  for (size_t i = 0; i < values.size(); ++i) pointers[i] = values[i].c_str();
  return pointers;
}

}  // namespace

void Hdf5File::WriteStrings(const std::string& name, const std::vector<std::string>& values) {
  Hdf5Call call(path_);
  Handle type = VariableStringType();
  if (!type.ok()) throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  const std::vector<const char*> pointers = CStrings(values);
  Write(name, {static_cast<int64_t>(values.size())}, type.get(), type.get(), pointers.data());
}

std::vector<std::string> Hdf5File::ReadStrings(const std::string& name) const {
  Hdf5Call call(path_);
  Handle dataset = OpenDataset(*this, id_, name);
  Handle file_type(H5Dget_type(dataset.get()), &H5Tclose);
  if (!file_type.ok() || H5Tget_class(file_type.get()) != H5T_STRING) {
    throw Corruption(StrCat(Where(name, path_), " holds ", ClassText(ClassOf(dataset.get())),
                            ", not strings"));
  }
  const std::vector<int64_t> dims = DimsOf(dataset.get(), name, path_);
  if (dims.size() > 1) {
    throw Corruption(StrCat(Where(name, path_), " of shape ", ShapeText(dims),
                            " is not a list of strings"));
  }
  const auto count = static_cast<size_t>(CountOf(dims, 0, name, path_));
  if (count > INT_MAX) {
    throw Corruption(StrCat(Where(name, path_), " of shape ", ShapeText(dims),
                            " holds more than ", INT_MAX, " strings"));
  }
  std::vector<std::string> values(count);
  if (count == 0) return values;
  Handle memory_type(H5Tcopy(H5T_C_S1), &H5Tclose);
  H5Tset_cset(memory_type.get(), H5Tget_cset(file_type.get()));
  if (H5Tis_variable_str(file_type.get()) > 0) {
    H5Tset_size(memory_type.get(), H5T_VARIABLE);
    std::vector<char*> texts(count, nullptr);
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                texts.data()) < 0) {
      throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
    }
    for (size_t i = 0; i < count; ++i) {
      if (texts[i] != nullptr) values[i] = texts[i];
    }
    Handle space(H5Dget_space(dataset.get()), &H5Sclose);
#if H5_VERSION_GE(1, 12, 0)
    H5Treclaim(memory_type.get(), space.get(), H5P_DEFAULT, texts.data());
#else
    H5Dvlen_reclaim(memory_type.get(), space.get(), H5P_DEFAULT, texts.data());
#endif
  } else {
    // One byte more per string than stored, as in ReadString.
    const size_t size = StringWidth(file_type.get(), name, path_) + 1;
    if (count > INT_MAX / size) {
      throw Corruption(StrCat(Where(name, path_), ": ", count, " strings of ", size - 1,
                              " bytes are more than ", INT_MAX, " bytes"));
    }
    H5Tset_size(memory_type.get(), size);
    H5Tset_strpad(memory_type.get(), H5T_STR_NULLTERM);
    std::string buffer(size * count, '\0');
    if (H5Dread(dataset.get(), memory_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                buffer.data()) < 0) {
      throw Corruption(StrCat("cannot read ", Where(name, path_), Hdf5Detail()));
    }
    for (size_t i = 0; i < count; ++i) values[i] = buffer.c_str() + i * size;
  }
  return values;
}

void Hdf5File::CreateGrowable(const std::string& name, const std::vector<int64_t>& row_dims,
                              int64_t file_type, int64_t row_bytes) {
  const std::string relative = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  if (relative.empty()) {
    throw InvalidArgument(StrCat("a dataset written to HDF5 file '", path_, "' needs a name"));
  }
  std::vector<hsize_t> dims = {0};
  std::vector<hsize_t> max_dims = {H5S_UNLIMITED};
  std::vector<hsize_t> chunk = {1};
  for (int64_t d : row_dims) {
    if (d <= 0) {
      throw InvalidArgument(StrCat("cannot create ", Where(name, path_), " with rows of shape ",
                                   ShapeText(row_dims), ": a dimension is not positive"));
    }
    dims.push_back(static_cast<hsize_t>(d));
    max_dims.push_back(static_cast<hsize_t>(d));
    chunk.push_back(static_cast<hsize_t>(d));
  }
  // Chunks of about 1 MiB of whole rows; HDF5 limits a chunk to 4 GiB.
  constexpr int64_t kChunkBytes = int64_t{1} << 20;
  chunk[0] = static_cast<hsize_t>(std::clamp<int64_t>(kChunkBytes / row_bytes, 1, 1 << 16));
  if (row_bytes > (int64_t{1} << 32) - 1) {
    throw InvalidArgument(StrCat("cannot create ", Where(name, path_), ": a row of shape ",
                                 ShapeText(row_dims), " is larger than an HDF5 chunk (4 GiB)"));
  }
  if (Exists(name)) {
    throw InvalidArgument(StrCat("HDF5 file '", path_, "' already has an object named '", name,
                                 "'"));
  }
  const int rank = static_cast<int>(dims.size());
  Handle space(H5Screate_simple(rank, dims.data(), max_dims.data()), &H5Sclose);
  Handle link_list(H5Pcreate(H5P_LINK_CREATE), &H5Pclose);
  Handle create_list(H5Pcreate(H5P_DATASET_CREATE), &H5Pclose);
  if (!space.ok() || !link_list.ok() || !create_list.ok() ||
      H5Pset_create_intermediate_group(link_list.get(), 1) < 0 ||
      H5Pset_chunk(create_list.get(), rank, chunk.data()) < 0) {
    throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  }
  Handle dataset(H5Dcreate2(id_, name.c_str(), file_type, space.get(), link_list.get(),
                            create_list.get(), H5P_DEFAULT),
                 &H5Dclose);
  if (!dataset.ok()) throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
}

void Hdf5File::CreateFloatRows(const std::string& name, const std::vector<int64_t>& row_dims) {
  Hdf5Call call(path_);
  int64_t row_bytes = static_cast<int64_t>(sizeof(float));
  for (int64_t d : row_dims) {
    if (d > 0) row_bytes = row_bytes <= INT64_MAX / d ? row_bytes * d : INT64_MAX;
  }
  CreateGrowable(name, row_dims, H5T_IEEE_F32LE, row_bytes);
}

void Hdf5File::CreateStringRows(const std::string& name) {
  Hdf5Call call(path_);
  Handle type = VariableStringType();
  if (!type.ok()) throw IOError(StrCat("cannot create ", Where(name, path_), Hdf5Detail()));
  CreateGrowable(name, {}, type.get(), static_cast<int64_t>(sizeof(char*)));
}

void Hdf5File::Append(const std::string& name, int64_t rows, int64_t memory_type, bool strings,
                      const void* data) {
  Handle dataset = OpenDataset(*this, id_, name);
  const H5T_class_t type_class = ClassOf(dataset.get());
  Handle space(H5Dget_space(dataset.get()), &H5Sclose);
  const int rank = space.ok() ? H5Sget_simple_extent_ndims(space.get()) : -1;
  std::vector<hsize_t> dims(static_cast<size_t>(std::max(rank, 0)));
  std::vector<hsize_t> max_dims(dims.size());
  if (rank < 1 || H5Sget_simple_extent_dims(space.get(), dims.data(), max_dims.data()) < 0 ||
      max_dims[0] != H5S_UNLIMITED || type_class != (strings ? H5T_STRING : H5T_FLOAT)) {
    throw InvalidArgument(StrCat("cannot append to ", Where(name, path_), ": it is not a ",
                                 "growable dataset of ", strings ? "strings" : "float rows"));
  }
  if (rows <= 0) return;
  std::vector<hsize_t> start(dims.size(), 0);
  std::vector<hsize_t> count = dims;
  start[0] = dims[0];
  count[0] = static_cast<hsize_t>(rows);
  dims[0] += static_cast<hsize_t>(rows);
  hsize_t total = 1;
  for (hsize_t c : count) total *= c;
  if (H5Dset_extent(dataset.get(), dims.data()) < 0) {
    throw IOError(StrCat("cannot extend ", Where(name, path_), Hdf5Detail()));
  }
  Handle file_space(H5Dget_space(dataset.get()), &H5Sclose);
  Handle memory_space(H5Screate_simple(1, &total, nullptr), &H5Sclose);
  if (!file_space.ok() || !memory_space.ok() ||
      H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr,
                          count.data(), nullptr) < 0 ||
      H5Dwrite(dataset.get(), memory_type, memory_space.get(), file_space.get(), H5P_DEFAULT,
               data) < 0) {
    throw IOError(StrCat("cannot write ", rows, " rows to ", Where(name, path_), Hdf5Detail()));
  }
}

void Hdf5File::AppendFloatRows(const std::string& name, int64_t rows, const float* data) {
  Hdf5Call call(path_);
  Append(name, rows, H5T_NATIVE_FLOAT, /*strings=*/false, data);
}

void Hdf5File::AppendStrings(const std::string& name, const std::vector<std::string>& values) {
  Hdf5Call call(path_);
  Handle type = VariableStringType();
  if (!type.ok()) throw IOError(StrCat("cannot write ", Where(name, path_), Hdf5Detail()));
  const std::vector<const char*> pointers = CStrings(values);
  Append(name, static_cast<int64_t>(values.size()), type.get(), /*strings=*/true,
         pointers.data());
}

void Hdf5File::Flush() {
  Hdf5Call call(path_);
  if (H5Fflush(id_, H5F_SCOPE_LOCAL) < 0) {
    throw IOError(StrCat("cannot flush HDF5 file '", path_, "'", Hdf5Detail()));
  }
}

void Hdf5File::Close() {
  Hdf5Call call(path_);
  const hid_t id = id_;
  id_ = -1;
  if (id >= 0 && H5Fclose(id) < 0) {
    throw IOError(StrCat("cannot close HDF5 file '", path_, "'", Hdf5Detail()));
  }
}

void ReportHdf5CrashesAsErrors(const std::string& prefix) {
  const size_t size = std::min(prefix.size(), sizeof(crash_prefix) - 1);
  std::copy_n(prefix.data(), size, crash_prefix);
  crash_prefix[size] = '\0';
  static const bool installed = [] {
    struct sigaction action = {};
    action.sa_sigaction = &OnCrashSignal;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    for (size_t i = 0; i < std::size(kCrashSignals); ++i) {
      sigaction(kCrashSignals[i], &action, &replaced_actions[i]);
    }
    return true;
  }();
  (void)installed;
}

}  // namespace crema

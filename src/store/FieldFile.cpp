#include "store/FieldFile.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <exception>
#include <system_error>

#include "core/Error.hpp"

#if !H5_HAVE_PARALLEL
#error "Vigie's field files need HDF5 built with MPI (H5_HAVE_PARALLEL); install libhdf5-openmpi-dev"
#endif

namespace vigie::store {

using core::Error;
using core::ExitCode;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSchema = "vigie.fields/1";
// Other Vigie stores (the observation store, "vigie.obs/1") are field files with a schema of their own.
constexpr const char* kSchemaPrefix = "vigie.";
constexpr const char* kRowOrder = "row 0 is the southern edge; x increases with column index";
// Level 1 with byte shuffling: count and risk fields are mostly zeros or smooth, where level 1 already gets
// most of the size reduction at a fraction of the time of higher levels (measured on the Vancouver store).
constexpr int kDeflateLevel = 1;
// 128 x 128 doubles is 128 KiB: large enough for deflate to pay off, small enough that a rank's box touches
// few chunks it shares with others (parallel HDF5 funnels each shared chunk through one owning rank).
constexpr hsize_t kChunkEdge = 128;
constexpr hsize_t kCompressAbove = 64 * 64;
// 1-D datasets grow with the time axis; 1024 values per chunk keeps a decade of hourly bins in under 100
// chunks.
constexpr hsize_t kVectorChunk = 1024;

template <class T>
struct NativeType;
template <>
struct NativeType<double> {
  static hid_t id() { return H5T_NATIVE_DOUBLE; }
};
template <>
struct NativeType<float> {
  static hid_t id() { return H5T_NATIVE_FLOAT; }
};
template <>
struct NativeType<std::int32_t> {
  static hid_t id() { return H5T_NATIVE_INT32; }
};
template <>
struct NativeType<std::int64_t> {
  static hid_t id() { return H5T_NATIVE_INT64; }
};
template <>
struct NativeType<std::uint8_t> {
  static hid_t id() { return H5T_NATIVE_UINT8; }
};

// Rank 0 draws the suffix and broadcasts it: every rank must open the same temporary name.
std::string uniqueSuffix(MPI_Comm comm, int rank) {
  std::array<char, 160> text{};
  if (rank == 0) {
    std::array<char, 64> host{};
    if (::gethostname(host.data(), host.size() - 1) != 0) host[0] = '\0';
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    std::snprintf(text.data(), text.size(), "%s-%ld-%llx", host.data(), static_cast<long>(::getpid()),
                  static_cast<unsigned long long>(ticks));
  }
  VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(text.size()), MPI_CHAR, 0, comm));
  text.back() = '\0';
  return text.data();
}

std::string broadcastString(MPI_Comm comm, std::string text) {
  auto size = static_cast<unsigned long long>(text.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&size, 1, MPI_UNSIGNED_LONG_LONG, 0, comm));
  text.resize(size);
  if (size > 0) VIGIE_CHECK_MPI(MPI_Bcast(text.data(), static_cast<int>(size), MPI_CHAR, 0, comm));
  return text;
}

// Turns a problem seen on some ranks into the same exception on every rank, so a bad argument on one rank
// cannot leave the others waiting in a collective HDF5 call.
void agree(MPI_Comm comm, const std::string& where, const std::string& problem) {
  int bad = problem.empty() ? 0 : 1;
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &bad, 1, MPI_INT, MPI_MAX, comm));
  if (bad != 0) {
    throw Error(ExitCode::Internal,
                where + ": " + (problem.empty() ? std::string("invalid arguments on another rank") : problem),
                true);
  }
}

std::string boxProblem(const Box& box, const GridGeometry& g) {
  if (box.ni < 0 || box.nj < 0) return "box has a negative size";
  if (box.cells() == 0) return {};
  if (box.i0 < 0 || box.j0 < 0 || box.i0 + box.ni > g.nx || box.j0 + box.nj > g.ny) {
    return "box columns [" + std::to_string(box.i0) + "," + std::to_string(box.i0 + box.ni) + ") rows [" +
           std::to_string(box.j0) + "," + std::to_string(box.j0 + box.nj) + ") leave the " +
           std::to_string(g.nx) + " x " + std::to_string(g.ny) + " grid";
  }
  return {};
}

// Field names become HDF5 link names and XDMF paths: keep them to characters neither needs to escape.
void checkName(const std::string& where, const std::string& name) {
  const bool ok =
      !name.empty() && name != "." && name != ".." && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
               c == '-' || c == '.';
      });
  if (!ok) {
    throw Error(ExitCode::Internal,
                where + ": invalid field name '" + name + "' (letters, digits, '_', '-', '.' only)", true);
  }
}

// "risk" -> "/fields/risk"; "counts/theft" or "/counts/theft" -> "/counts/theft" (every component checked).
std::string datasetPath(const std::string& where, const std::string& name) {
  if (name.find('/') == std::string::npos) {
    checkName(where, name);
    return "/fields/" + name;
  }
  std::string path;
  std::size_t pos = name.front() == '/' ? 1 : 0;
  while (pos <= name.size()) {
    const std::size_t next = std::min(name.find('/', pos), name.size());
    const std::string part = name.substr(pos, next - pos);
    checkName(where, part);
    path += "/" + part;
    pos = next + 1;
  }
  return path;
}

// Groups are always paths from the root; "" and "/" are the root itself.
std::string groupPath(const std::string& where, const std::string& group) {
  if (group.empty() || group == "/") return "/";
  return datasetPath(where, group.find('/') == std::string::npos ? "/" + group : group);
}

// An attribute's owner: the root for "" or "/", else a dataset named as for datasetPath.
std::string objectPath(const std::string& where, const std::string& object) {
  if (object.empty() || object == "/") return "/";
  return datasetPath(where, object);
}

H5Handle fileAccess(MPI_Comm comm) {
  auto fapl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_FILE_ACCESS)));
  VIGIE_CHECK_H5(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL));
  // The 1.8 format stores attributes over 64 KiB (a long config text) densely; 1.10-only structures are
  // avoided so older readers still open the files.
  VIGIE_CHECK_H5(H5Pset_libver_bounds(fapl.get(), H5F_LIBVER_V18, H5F_LIBVER_V18));
  // Every metadata access in this class is collective, so rank 0 can read metadata once and broadcast it
  // instead of every rank hitting the file system.
  VIGIE_CHECK_H5(H5Pset_all_coll_metadata_ops(fapl.get(), true));
  VIGIE_CHECK_H5(H5Pset_coll_metadata_write(fapl.get(), true));
  return fapl;
}

H5Handle collectiveTransfer() {
  auto dxpl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_DATASET_XFER)));
  // Collective transfers are also what parallel HDF5 requires for writing filtered (deflated) datasets.
  VIGIE_CHECK_H5(H5Pset_dxpl_mpio(dxpl.get(), H5FD_MPIO_COLLECTIVE));
  return dxpl;
}

H5Handle scalarSpace() {
  return H5Handle::dataspace(VIGIE_CHECK_H5(H5Screate(H5S_SCALAR)));
}

void writeAttribute(hid_t obj, const std::string& name, hid_t type, const void* value) {
  if (VIGIE_CHECK_H5(H5Aexists(obj, name.c_str())) > 0) VIGIE_CHECK_H5(H5Adelete(obj, name.c_str()));
  const auto space = scalarSpace();
  const auto attr = H5Handle::attribute(
      VIGIE_CHECK_H5(H5Acreate2(obj, name.c_str(), type, space.get(), H5P_DEFAULT, H5P_DEFAULT)));
  VIGIE_CHECK_H5(H5Awrite(attr.get(), type, value));
}

void writeStringAttribute(hid_t obj, const std::string& name, const std::string& value) {
  const auto type = H5Handle::datatype(VIGIE_CHECK_H5(H5Tcopy(H5T_C_S1)));
  // Fixed-length, null-padded: HDF5 has no zero-length string type, so "" is stored as one NUL.
  VIGIE_CHECK_H5(H5Tset_size(type.get(), std::max<std::size_t>(value.size(), 1)));
  VIGIE_CHECK_H5(H5Tset_strpad(type.get(), H5T_STR_NULLPAD));
  VIGIE_CHECK_H5(H5Tset_cset(type.get(), H5T_CSET_UTF8));
  const std::string padded = value.empty() ? std::string(1, '\0') : value;
  writeAttribute(obj, name, type.get(), padded.data());
}

H5Handle openAttribute(hid_t obj, const std::string& name, const std::string& where) {
  if (VIGIE_CHECK_H5(H5Aexists(obj, name.c_str())) <= 0) {
    throw Error(ExitCode::InputData, where + ": no attribute '" + name + "'", true);
  }
  auto attr = H5Handle::attribute(VIGIE_CHECK_H5(H5Aopen(obj, name.c_str(), H5P_DEFAULT)));
  const auto space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Aget_space(attr.get())));
  if (VIGIE_CHECK_H5(H5Sget_simple_extent_npoints(space.get())) != 1) {
    throw Error(ExitCode::InputData, where + ": attribute '" + name + "' is not a single value", true);
  }
  return attr;
}

std::string readStringAttribute(hid_t obj, const std::string& name, const std::string& where) {
  const auto attr = openAttribute(obj, name, where);
  const auto file_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Aget_type(attr.get())));
  if (H5Tget_class(file_type.get()) != H5T_STRING) {
    throw Error(ExitCode::InputData, where + ": attribute '" + name + "' is not a string", true);
  }
  if (VIGIE_CHECK_H5(H5Tis_variable_str(file_type.get())) > 0) {
    // Files written by other tools (h5py) store variable-length strings.
    const auto mem_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Tcopy(H5T_C_S1)));
    VIGIE_CHECK_H5(H5Tset_size(mem_type.get(), H5T_VARIABLE));
    VIGIE_CHECK_H5(H5Tset_cset(mem_type.get(), H5Tget_cset(file_type.get())));
    char* text = nullptr;
    VIGIE_CHECK_H5(H5Aread(attr.get(), mem_type.get(), static_cast<void*>(&text)));
    std::string value = text != nullptr ? text : "";
    H5free_memory(text);
    return value;
  }
  const std::size_t size = H5Tget_size(file_type.get());
  if (size == 0) ::vigie::core::throwHdf5Error("H5Tget_size", __FILE__, __LINE__);
  std::string value(size, '\0');
  VIGIE_CHECK_H5(H5Aread(attr.get(), file_type.get(), value.data()));
  value.resize(value.find('\0') == std::string::npos ? value.size() : value.find('\0'));
  if (H5Tget_strpad(file_type.get()) == H5T_STR_SPACEPAD) {
    value.erase(value.find_last_not_of(' ') + 1);
  }
  return value;
}

H5T_class_t attributeClass(hid_t attr) {
  const auto type = H5Handle::datatype(VIGIE_CHECK_H5(H5Aget_type(attr)));
  return H5Tget_class(type.get());
}

double readDoubleAttribute(hid_t obj, const std::string& name, const std::string& where) {
  const auto attr = openAttribute(obj, name, where);
  const auto cls = attributeClass(attr.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) {
    throw Error(ExitCode::InputData, where + ": attribute '" + name + "' is not a number", true);
  }
  double value = 0;
  VIGIE_CHECK_H5(H5Aread(attr.get(), H5T_NATIVE_DOUBLE, &value));
  return value;
}

std::int64_t readIntAttribute(hid_t obj, const std::string& name, const std::string& where) {
  const auto attr = openAttribute(obj, name, where);
  if (attributeClass(attr.get()) != H5T_INTEGER) {
    throw Error(ExitCode::InputData, where + ": attribute '" + name + "' is not an integer", true);
  }
  std::int64_t value = 0;
  VIGIE_CHECK_H5(H5Aread(attr.get(), H5T_NATIVE_INT64, &value));
  return value;
}

bool linkExists(hid_t file, const std::string& path) {
  return VIGIE_CHECK_H5(H5Lexists(file, path.c_str(), H5P_DEFAULT)) > 0;
}

// H5Lexists fails rather than answering false when an intermediate group is missing, so each prefix of an
// absolute path is checked in turn.
bool pathExists(hid_t file, const std::string& path) {
  if (path == "/") return true;
  std::size_t pos = 1;
  while (pos <= path.size()) {
    const std::size_t next = std::min(path.find('/', pos), path.size());
    if (!linkExists(file, path.substr(0, next))) return false;
    pos = next + 1;
  }
  return true;
}

H5Handle openObject(hid_t file, const std::string& path, const std::string& where) {
  if (!pathExists(file, path)) throw Error(ExitCode::InputData, where + ": no object " + path, true);
  return {VIGIE_CHECK_H5(H5Oopen(file, path.c_str(), H5P_DEFAULT)), H5Oclose};
}

// Link creation that makes the missing groups of a path on the way.
H5Handle intermediateGroups() {
  auto lcpl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_LINK_CREATE)));
  VIGIE_CHECK_H5(H5Pset_create_intermediate_group(lcpl.get(), 1));
  return lcpl;
}

std::vector<hsize_t> datasetDims(hid_t dset, std::vector<hsize_t>* max_dims = nullptr) {
  const auto space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset)));
  const int rank = VIGIE_CHECK_H5(H5Sget_simple_extent_ndims(space.get()));
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  std::vector<hsize_t> maxd(static_cast<std::size_t>(rank));
  VIGIE_CHECK_H5(H5Sget_simple_extent_dims(space.get(), dims.data(), maxd.data()));
  if (max_dims != nullptr) *max_dims = std::move(maxd);
  return dims;
}

H5T_class_t datasetClass(hid_t dset) {
  const auto type = H5Handle::datatype(VIGIE_CHECK_H5(H5Dget_type(dset)));
  return H5Tget_class(type.get());
}

H5Handle fixedStringType(std::size_t size) {
  auto type = H5Handle::datatype(VIGIE_CHECK_H5(H5Tcopy(H5T_C_S1)));
  VIGIE_CHECK_H5(H5Tset_size(type.get(), std::max<std::size_t>(size, 1)));
  VIGIE_CHECK_H5(H5Tset_strpad(type.get(), H5T_STR_NULLPAD));
  VIGIE_CHECK_H5(H5Tset_cset(type.get(), H5T_CSET_UTF8));
  return type;
}

// The XDMF number type of a stored dataset type, or nullptr for a type the sidecar cannot describe.
const char* xdmfNumberType(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_FLOAT:
      return "Float";
    case H5T_INTEGER:
      if (H5Tget_sign(type) == H5T_SGN_NONE) return H5Tget_size(type) == 1 ? "UChar" : "UInt";
      return H5Tget_size(type) == 1 ? "Char" : "Int";
    default:
      return nullptr;
  }
}

struct GridScan {
  hsize_t nx = 0;
  hsize_t ny = 0;
  std::vector<XdmfField> found;
};

// H5Lvisit callback: no exception may cross HDF5's C frames, so failures return -1 and the caller checks.
herr_t collectGridDataset(hid_t root, const char* name, const H5L_info_t* info, void* data) {
  if (info->type != H5L_TYPE_HARD) return 0;
  auto* scan = static_cast<GridScan*>(data);
  const hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
  if (obj < 0) return -1;
  herr_t status = 0;
  if (H5Iget_type(obj) == H5I_DATASET) {
    const hid_t space = H5Dget_space(obj);
    const hid_t type = H5Dget_type(obj);
    if (space < 0 || type < 0) {
      status = -1;
    } else {
      std::array<hsize_t, 3> dims{};
      const int rank = H5Sget_simple_extent_ndims(space);
      if (rank == 2 || rank == 3) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
      const hsize_t* plane = rank == 3 ? &dims[1] : dims.data();
      const char* number = xdmfNumberType(type);
      if ((rank == 2 || (rank == 3 && dims[0] > 0)) && plane[0] == scan->ny && plane[1] == scan->nx &&
          number != nullptr) {
        const std::string path = std::string("/") + name;
        const bool in_fields = path.rfind("/fields/", 0) == 0 && path.find('/', 8) == std::string::npos;
        scan->found.push_back(XdmfField{in_fields ? path.substr(8) : path.substr(1), path,
                                        rank == 3 ? static_cast<int>(dims[0]) : 0, number,
                                        static_cast<int>(H5Tget_size(type))});
      }
    }
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
  }
  H5Oclose(obj);
  return status;
}

bool deflateAvailable() {
  if (VIGIE_CHECK_H5(H5Zfilter_avail(H5Z_FILTER_DEFLATE)) <= 0) return false;
  unsigned int config = 0;
  VIGIE_CHECK_H5(H5Zget_filter_info(H5Z_FILTER_DEFLATE, &config));
  return (config & H5Z_FILTER_CONFIG_ENCODE_ENABLED) != 0;
}

// Selects `box` (all time planes when nt > 0) in `space`, or nothing when the box is empty.
void selectBox(hid_t space, const Box& box, bool is_3d, hsize_t nt) {
  if (box.cells() == 0) {
    VIGIE_CHECK_H5(H5Sselect_none(space));
    return;
  }
  if (is_3d) {
    const std::array<hsize_t, 3> start{0, static_cast<hsize_t>(box.j0), static_cast<hsize_t>(box.i0)};
    const std::array<hsize_t, 3> count{nt, static_cast<hsize_t>(box.nj), static_cast<hsize_t>(box.ni)};
    VIGIE_CHECK_H5(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr));
  } else {
    const std::array<hsize_t, 2> start{static_cast<hsize_t>(box.j0), static_cast<hsize_t>(box.i0)};
    const std::array<hsize_t, 2> count{static_cast<hsize_t>(box.nj), static_cast<hsize_t>(box.ni)};
    VIGIE_CHECK_H5(H5Sselect_hyperslab(space, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr));
  }
}

// The memory side of a transfer: `count` contiguous values, or a one-element space with nothing selected
// for a rank whose box is empty (it must still call H5Dwrite/H5Dread for the collective to complete).
H5Handle memorySpace(std::size_t count) {
  const hsize_t n = std::max<hsize_t>(count, 1);
  auto space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Screate_simple(1, &n, nullptr)));
  if (count == 0) VIGIE_CHECK_H5(H5Sselect_none(space.get()));
  return space;
}

}  // namespace

FieldFile::FieldFile(MPI_Comm comm, fs::path path) : m_comm(comm), m_path(std::move(path)) {
  VIGIE_CHECK_MPI(MPI_Comm_rank(comm, &m_rank));
}

FieldFile::FieldFile(FieldFile&& other) noexcept
    : m_comm(other.m_comm),
      m_rank(other.m_rank),
      m_path(std::move(other.m_path)),
      m_temp(std::move(other.m_temp)),
      m_geometry(std::move(other.m_geometry)),
      m_file(std::move(other.m_file)),
      m_writable(other.m_writable),
      m_owns_temp(std::exchange(other.m_owns_temp, false)) {}

FieldFile::~FieldFile() {
  // Closing an MPI-IO file is collective. While an exception unwinds, the other ranks may not be coming (a
  // local error ends in MPI_Abort), so the handle is abandoned instead: HDF5 closes it at MPI_Finalize when
  // every rank unwound the same way. The temporary file is unlinked either way.
  if (std::uncaught_exceptions() > 0) {
    m_file.release();
  } else {
    m_file.close();
  }
  if (m_owns_temp && m_rank == 0) {
    std::error_code ignored;
    fs::remove(m_temp, ignored);
  }
}

FieldFile FieldFile::create(MPI_Comm comm, const fs::path& path, const GridGeometry& g) {
  if (g.nx <= 0 || g.ny <= 0 || !(g.cell_m > 0) || g.epsg < 0) {
    throw Error(ExitCode::Usage,
                path.string() + ": invalid grid geometry (nx " + std::to_string(g.nx) + ", ny " +
                    std::to_string(g.ny) + ", cell_m " + std::to_string(g.cell_m) + ", epsg " +
                    std::to_string(g.epsg) + ")",
                true);
  }
  FieldFile f(comm, path);
  f.m_geometry = g;
  f.m_temp = path;
  f.m_temp += ".tmp-" + uniqueSuffix(comm, f.m_rank);
  f.m_writable = true;

  const auto fapl = fileAccess(comm);
  const hid_t id = H5Fcreate(f.m_temp.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl.get());
  if (id < 0) {
    throw Error(ExitCode::Io, f.m_temp.string() + ": cannot create the HDF5 file (does the folder exist?)",
                true);
  }
  f.m_file = H5Handle::file(id);
  f.m_owns_temp = true;

  const hid_t root = f.m_file.get();
  writeStringAttribute(root, "schema", kSchema);
  const auto grid =
      H5Handle::group(VIGIE_CHECK_H5(H5Gcreate2(root, "grid", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  const std::int64_t epsg = g.epsg;
  const std::int64_t nx = g.nx;
  const std::int64_t ny = g.ny;
  writeAttribute(grid.get(), "epsg", H5T_NATIVE_INT64, &epsg);
  writeStringAttribute(grid.get(), "crs", g.epsg > 0 ? "EPSG:" + std::to_string(g.epsg) : "none");
  writeAttribute(grid.get(), "x0", H5T_NATIVE_DOUBLE, &g.x0);
  writeAttribute(grid.get(), "y0", H5T_NATIVE_DOUBLE, &g.y0);
  writeAttribute(grid.get(), "cell_m", H5T_NATIVE_DOUBLE, &g.cell_m);
  writeAttribute(grid.get(), "nx", H5T_NATIVE_INT64, &nx);
  writeAttribute(grid.get(), "ny", H5T_NATIVE_INT64, &ny);
  writeStringAttribute(grid.get(), "boundary", g.boundary);
  writeStringAttribute(grid.get(), "row_order", kRowOrder);
  H5Handle::group(VIGIE_CHECK_H5(H5Gcreate2(root, "fields", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)));
  return f;
}

FieldFile FieldFile::open(MPI_Comm comm, const fs::path& path) {
  return openExisting(comm, path, false);
}

FieldFile FieldFile::openReadWrite(MPI_Comm comm, const fs::path& path) {
  return openExisting(comm, path, true);
}

FieldFile FieldFile::openExisting(MPI_Comm comm, const fs::path& path, bool writable) {
  FieldFile f(comm, path);
  int exists = 0;
  if (f.m_rank == 0) exists = fs::is_regular_file(path) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (exists == 0) throw Error(ExitCode::InputData, path.string() + ": no such field file", true);

  const auto fapl = fileAccess(comm);
  const hid_t id = H5Fopen(path.c_str(), writable ? H5F_ACC_RDWR : H5F_ACC_RDONLY, fapl.get());
  if (id < 0) {
    throw Error(ExitCode::InputData,
                path.string() + ": cannot open as an HDF5 file" + (writable ? " for writing" : ""), true);
  }
  f.m_file = H5Handle::file(id);
  f.m_writable = writable;

  const std::string where = path.string();
  const hid_t root = f.m_file.get();
  if (VIGIE_CHECK_H5(H5Aexists(root, "schema")) <= 0 ||
      readStringAttribute(root, "schema", where).rfind(kSchemaPrefix, 0) != 0 || !linkExists(root, "/grid")) {
    throw Error(ExitCode::InputData, where + ": not a Vigie field file (no schema \"vigie.*\")", true);
  }
  const auto grid = H5Handle::group(VIGIE_CHECK_H5(H5Gopen2(root, "grid", H5P_DEFAULT)));
  const std::string grid_where = where + ": /grid";
  GridGeometry& g = f.m_geometry;
  g.epsg = static_cast<int>(readIntAttribute(grid.get(), "epsg", grid_where));
  g.x0 = readDoubleAttribute(grid.get(), "x0", grid_where);
  g.y0 = readDoubleAttribute(grid.get(), "y0", grid_where);
  g.cell_m = readDoubleAttribute(grid.get(), "cell_m", grid_where);
  g.nx = static_cast<int>(readIntAttribute(grid.get(), "nx", grid_where));
  g.ny = static_cast<int>(readIntAttribute(grid.get(), "ny", grid_where));
  g.boundary = readStringAttribute(grid.get(), "boundary", grid_where);
  if (g.nx <= 0 || g.ny <= 0)
    throw Error(ExitCode::InputData, grid_where + ": nx and ny must be positive", true);
  return f;
}

fs::path FieldFile::xdmfPath() const {
  auto xmf = m_path;
  xmf += ".xmf";
  return xmf;
}

void FieldFile::requireOpen(const char* what) const {
  if (!m_file) {
    throw Error(ExitCode::Internal,
                m_path.string() + ": cannot " + what + ": the file was committed or moved from", true);
  }
}

void FieldFile::requireWritable(const char* what) const {
  requireOpen(what);
  if (!m_writable)
    throw Error(ExitCode::Internal, m_path.string() + ": cannot " + what + ": opened read-only", true);
}

void FieldFile::writeField(const std::string& name, bool is_3d, bool extendible, int nt, const Box& box,
                           const void* data, std::size_t count, hid_t type, const void* fill,
                           const FieldMeta& meta) {
  requireWritable("write a field");
  const std::string where = m_path.string() + ": field '" + name + "'";
  const std::string path = datasetPath(where, name);
  const GridGeometry& g = m_geometry;

  std::string problem = boxProblem(box, g);
  const long long planes = is_3d ? nt : 1;
  if (is_3d && (extendible ? nt < 0 : nt <= 0)) {
    problem = std::string("nt must be ") + (extendible ? "non-negative" : "positive") + ", not " +
              std::to_string(nt);
  }
  if (problem.empty() && static_cast<long long>(count) != box.cells() * planes) {
    problem = "local data has " + std::to_string(count) + " values, the box needs " +
              std::to_string(box.cells() * planes);
  }
  agree(m_comm, where, problem);

  // The boxes must tile the grid; a gap would leave fill values that look like data.
  std::array<long long, 3> totals{box.cells(), nt, -static_cast<long long>(nt)};
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &totals[0], 1, MPI_LONG_LONG, MPI_SUM, m_comm));
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, &totals[1], 2, MPI_LONG_LONG, MPI_MAX, m_comm));
  if (totals[0] != static_cast<long long>(g.nx) * g.ny) {
    throw Error(ExitCode::Internal,
                where + ": the ranks' boxes cover " + std::to_string(totals[0]) + " cells, the grid has " +
                    std::to_string(static_cast<long long>(g.nx) * g.ny),
                true);
  }
  if (totals[1] != -totals[2]) throw Error(ExitCode::Internal, where + ": ranks disagree on nt", true);
  if (pathExists(m_file.get(), path)) throw Error(ExitCode::Internal, where + ": already written", true);

  const int rank = is_3d ? 3 : 2;
  const std::array<hsize_t, 3> dims =
      is_3d ? std::array<hsize_t, 3>{static_cast<hsize_t>(nt), static_cast<hsize_t>(g.ny),
                                     static_cast<hsize_t>(g.nx)}
            : std::array<hsize_t, 3>{static_cast<hsize_t>(g.ny), static_cast<hsize_t>(g.nx), 0};
  std::array<hsize_t, 3> max_dims = dims;
  if (extendible) max_dims[0] = H5S_UNLIMITED;
  const auto dcpl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  const hsize_t plane_cells = static_cast<hsize_t>(g.nx) * static_cast<hsize_t>(g.ny);
  // Parallel HDF5 1.10 writes deflated chunks only through collective transfers, which every write here is;
  // checked at 1, 2 and 4 ranks, with empty boxes, by tests/mpi/test_store.cpp.
  // An extendible dataset must be chunked whether or not deflate is there.
  const bool compress = (is_3d || plane_cells > kCompressAbove) && deflateAvailable();
  if (compress || extendible) {
    // A city-sized plane (up to kChunkEdge cells a side) is one chunk: partial edge chunks waste space and
    // time.
    const hsize_t cy = static_cast<hsize_t>(g.ny) <= 2 * kChunkEdge ? static_cast<hsize_t>(g.ny) : kChunkEdge;
    const hsize_t cx = static_cast<hsize_t>(g.nx) <= 2 * kChunkEdge ? static_cast<hsize_t>(g.nx) : kChunkEdge;
    // 3-D chunks hold several time planes (about 256 Ki values): one plane per chunk made the Vancouver store
    // (2191 daily bins x 11 categories) spend most of its time in per-chunk overhead.
    const hsize_t ct =
        std::clamp<hsize_t>(262144 / (cy * cx), 1, std::max<hsize_t>(static_cast<hsize_t>(nt), 1));
    const std::array<hsize_t, 3> chunk =
        is_3d ? std::array<hsize_t, 3>{extendible ? std::min<hsize_t>(ct, 64) : ct, cy, cx}
              : std::array<hsize_t, 3>{cy, cx, 0};
    VIGIE_CHECK_H5(H5Pset_chunk(dcpl.get(), rank, chunk.data()));
  }
  if (compress) {
    VIGIE_CHECK_H5(H5Pset_shuffle(dcpl.get()));
    VIGIE_CHECK_H5(H5Pset_deflate(dcpl.get(), kDeflateLevel));
  }
  VIGIE_CHECK_H5(H5Pset_fill_value(dcpl.get(), type, fill));

  const auto file_space =
      H5Handle::dataspace(VIGIE_CHECK_H5(H5Screate_simple(rank, dims.data(), max_dims.data())));
  const auto lcpl = intermediateGroups();
  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(
      H5Dcreate2(m_file.get(), path.c_str(), type, file_space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  if (planes == 0) {
    VIGIE_CHECK_H5(H5Sselect_none(file_space.get()));
  } else {
    selectBox(file_space.get(), box, is_3d, static_cast<hsize_t>(planes));
  }
  const auto mem_space = memorySpace(count);
  const auto dxpl = collectiveTransfer();
  const std::array<unsigned char, 8> dummy{};
  VIGIE_CHECK_H5(H5Dwrite(dset.get(), type, mem_space.get(), file_space.get(), dxpl.get(),
                          count > 0 ? data : dummy.data()));

  writeStringAttribute(dset.get(), "units", meta.units);
  writeStringAttribute(dset.get(), "long_name", meta.description);
  writeAttribute(dset.get(), "_FillValue", type, fill);
}

template <class T>
std::vector<T> FieldFile::readField(const std::string& name, const Box& box, bool want_3d,
                                    int* nt_out) const {
  requireOpen("read a field");
  const std::string where = m_path.string() + ": field '" + name + "'";
  const std::string path = datasetPath(where, name);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  const GridGeometry& g = m_geometry;

  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset.get())));
  const int rank = VIGIE_CHECK_H5(H5Sget_simple_extent_ndims(file_space.get()));
  std::array<hsize_t, 3> dims{};
  if (rank == (want_3d ? 3 : 2))
    VIGIE_CHECK_H5(H5Sget_simple_extent_dims(file_space.get(), dims.data(), nullptr));
  const hsize_t fy = dims[want_3d ? 1 : 0];
  const hsize_t fx = dims[want_3d ? 2 : 1];
  if (rank != (want_3d ? 3 : 2) || fy != static_cast<hsize_t>(g.ny) || fx != static_cast<hsize_t>(g.nx)) {
    throw Error(ExitCode::InputData,
                where + ": expected a " + (want_3d ? "[nt][ny][nx]" : "[ny][nx]") + " dataset on the " +
                    std::to_string(g.nx) + " x " + std::to_string(g.ny) + " grid",
                true);
  }
  {
    const auto file_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Dget_type(dset.get())));
    // HDF5 converts between widths of one class; across classes (float read as int) it would silently round.
    if (H5Tget_class(file_type.get()) != H5Tget_class(NativeType<T>::id())) {
      throw Error(ExitCode::InputData, where + ": stored type does not match the requested one", true);
    }
  }
  agree(m_comm, where, boxProblem(box, g));

  const hsize_t nt = want_3d ? dims[0] : 1;
  std::vector<T> out(static_cast<std::size_t>(box.cells()) * static_cast<std::size_t>(nt));
  selectBox(file_space.get(), box, want_3d, nt);
  const auto mem_space = memorySpace(out.size());
  const auto dxpl = collectiveTransfer();
  T dummy{};
  VIGIE_CHECK_H5(H5Dread(dset.get(), NativeType<T>::id(), mem_space.get(), file_space.get(), dxpl.get(),
                         out.empty() ? &dummy : out.data()));
  if (nt_out != nullptr) *nt_out = want_3d ? static_cast<int>(nt) : 0;
  return out;
}

template <class T>
void FieldFile::write2d(const std::string& name, const Box& box, std::span<const T> local,
                        const FieldMeta& meta) {
  const T fill = static_cast<T>(meta.fill);
  writeField(name, false, false, 0, box, local.data(), local.size(), NativeType<T>::id(), &fill, meta);
}

template <class T>
void FieldFile::write3d(const std::string& name, int nt, const Box& box, std::span<const T> local,
                        const FieldMeta& meta) {
  const T fill = static_cast<T>(meta.fill);
  writeField(name, true, false, nt, box, local.data(), local.size(), NativeType<T>::id(), &fill, meta);
}

template <class T>
std::vector<T> FieldFile::read2d(const std::string& name, const Box& box) const {
  return readField<T>(name, box, false, nullptr);
}

template <class T>
std::vector<T> FieldFile::read3d(const std::string& name, const Box& box, int* nt_out) const {
  return readField<T>(name, box, true, nt_out);
}

void FieldFile::setAttribute(const std::string& name, const std::string& value) {
  requireWritable("set an attribute");
  writeStringAttribute(m_file.get(), name, value);
}

void FieldFile::setAttribute(const std::string& name, double value) {
  requireWritable("set an attribute");
  writeAttribute(m_file.get(), name, H5T_NATIVE_DOUBLE, &value);
}

void FieldFile::setAttribute(const std::string& name, std::int64_t value) {
  requireWritable("set an attribute");
  writeAttribute(m_file.get(), name, H5T_NATIVE_INT64, &value);
}

std::string FieldFile::stringAttribute(const std::string& name) const {
  requireOpen("read an attribute");
  return readStringAttribute(m_file.get(), name, m_path.string());
}

double FieldFile::doubleAttribute(const std::string& name) const {
  requireOpen("read an attribute");
  return readDoubleAttribute(m_file.get(), name, m_path.string());
}

std::int64_t FieldFile::intAttribute(const std::string& name) const {
  requireOpen("read an attribute");
  return readIntAttribute(m_file.get(), name, m_path.string());
}

bool FieldFile::hasField(const std::string& name) const {
  requireOpen("look up a field");
  return pathExists(m_file.get(), datasetPath(m_path.string(), name));
}

std::vector<std::string> FieldFile::fieldNames() const {
  requireOpen("list fields");
  std::vector<std::string> names;
  if (!linkExists(m_file.get(), "/fields")) return names;
  const auto fields = H5Handle::group(VIGIE_CHECK_H5(H5Gopen2(m_file.get(), "fields", H5P_DEFAULT)));
  const auto collect = [](hid_t, const char* link, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(link);
    return 0;
  };
  VIGIE_CHECK_H5(H5Literate(fields.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names));
  return names;
}

void FieldFile::commit() {
  requireWritable("commit");
  const std::vector<XdmfField> fields = gridDatasets();
  const bool in_place = m_temp.empty();
  // H5Fclose is collective and MPI_File_close completes every rank's writes, so after the barrier the
  // temporary file is whole and rank 0 may rename it.
  if (m_file.close() < 0) {
    throw Error(ExitCode::Io, (in_place ? m_path : m_temp).string() + ": closing the HDF5 file failed", true);
  }
  VIGIE_CHECK_MPI(MPI_Barrier(m_comm));
  std::string problem;
  if (m_rank == 0) {
    std::error_code ec;
    if (!in_place) fs::rename(m_temp, m_path, ec);
    if (ec) {
      problem = m_temp.string() + ": cannot rename to " + m_path.string() + " (" + ec.message() + ")";
    } else {
      m_owns_temp = false;
      // The sidecar comes after the rename so it never names a file that is not there.
      try {
        writeXdmf(xdmfPath(), m_path.filename().string(), m_geometry, fields);
      } catch (const Error& e) {
        problem = e.what();
      }
    }
  }
  problem = broadcastString(m_comm, problem);
  if (!problem.empty()) throw Error(ExitCode::Io, problem, true);
  m_owns_temp = false;
}

void FieldFile::writeVector(const std::string& name, const void* data, std::size_t n, hid_t type,
                            const void* fill, const FieldMeta* meta) {
  requireWritable("write a dataset");
  const std::string where = m_path.string() + ": dataset '" + name + "'";
  const std::string path = datasetPath(where, name);
  std::array<long long, 2> sizes{static_cast<long long>(n), -static_cast<long long>(n)};
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, sizes.data(), 2, MPI_LONG_LONG, MPI_MAX, m_comm));
  if (sizes[0] != -sizes[1]) throw Error(ExitCode::Internal, where + ": ranks disagree on the length", true);

  const hsize_t len = n;
  H5Handle dset;
  if (pathExists(m_file.get(), path)) {
    dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
    std::vector<hsize_t> max_dims;
    const auto dims = datasetDims(dset.get(), &max_dims);
    const auto file_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Dget_type(dset.get())));
    const bool same_kind =
        H5Tget_class(file_type.get()) == H5Tget_class(type) &&
        (H5Tget_class(type) != H5T_STRING || H5Tget_size(file_type.get()) == H5Tget_size(type));
    if (dims.size() != 1 || !same_kind || (max_dims[0] != H5S_UNLIMITED && dims[0] != len)) {
      // A dataset that cannot take the new values in place is replaced (a longer string width, say).
      dset.close();
      VIGIE_CHECK_H5(H5Ldelete(m_file.get(), path.c_str(), H5P_DEFAULT));
    } else if (dims[0] != len) {
      VIGIE_CHECK_H5(H5Dset_extent(dset.get(), &len));
    }
  }
  if (!dset) {
    const hsize_t max_len = H5S_UNLIMITED;
    const auto space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Screate_simple(1, &len, &max_len)));
    const auto dcpl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
    VIGIE_CHECK_H5(H5Pset_chunk(dcpl.get(), 1, &kVectorChunk));
    if (fill != nullptr) VIGIE_CHECK_H5(H5Pset_fill_value(dcpl.get(), type, fill));
    const auto lcpl = intermediateGroups();
    dset = H5Handle::dataset(VIGIE_CHECK_H5(
        H5Dcreate2(m_file.get(), path.c_str(), type, space.get(), lcpl.get(), dcpl.get(), H5P_DEFAULT)));
  }
  // The values are the same everywhere, so rank 0 alone selects them; the others join the collective empty.
  const std::size_t mine = m_rank == 0 ? n : 0;
  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset.get())));
  if (mine == 0) VIGIE_CHECK_H5(H5Sselect_none(file_space.get()));
  const auto mem_space = memorySpace(mine);
  const auto dxpl = collectiveTransfer();
  const std::array<unsigned char, 8> dummy{};
  VIGIE_CHECK_H5(H5Dwrite(dset.get(), type, mem_space.get(), file_space.get(), dxpl.get(),
                          mine > 0 ? data : dummy.data()));
  if (meta != nullptr) {
    writeStringAttribute(dset.get(), "units", meta->units);
    writeStringAttribute(dset.get(), "long_name", meta->description);
    if (fill != nullptr) writeAttribute(dset.get(), "_FillValue", type, fill);
  }
}

H5Handle FieldFile::openVector(const std::string& name, hid_t type, std::size_t* n) const {
  requireOpen("read a dataset");
  const std::string where = m_path.string() + ": dataset '" + name + "'";
  const std::string path = datasetPath(where, name);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  auto dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  const auto dims = datasetDims(dset.get());
  if (dims.size() != 1) throw Error(ExitCode::InputData, where + ": not a 1-D dataset", true);
  if (datasetClass(dset.get()) != H5Tget_class(type)) {
    throw Error(ExitCode::InputData, where + ": stored type does not match the requested one", true);
  }
  *n = static_cast<std::size_t>(dims[0]);
  return dset;
}

template <class T>
void FieldFile::write1d(const std::string& name, std::span<const T> values, const FieldMeta& meta) {
  const T fill = static_cast<T>(meta.fill);
  writeVector(name, values.data(), values.size(), NativeType<T>::id(), &fill, &meta);
}

template <class T>
std::vector<T> FieldFile::read1d(const std::string& name) const {
  std::size_t n = 0;
  const auto dset = openVector(name, NativeType<T>::id(), &n);
  std::vector<T> out(n);
  const auto mem_space = memorySpace(n);
  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset.get())));
  if (n == 0) VIGIE_CHECK_H5(H5Sselect_none(file_space.get()));
  const auto dxpl = collectiveTransfer();
  T dummy{};
  VIGIE_CHECK_H5(H5Dread(dset.get(), NativeType<T>::id(), mem_space.get(), file_space.get(), dxpl.get(),
                         out.empty() ? &dummy : out.data()));
  return out;
}

void FieldFile::writeStrings1d(const std::string& name, const std::vector<std::string>& values) {
  std::size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string packed(values.size() * width, '\0');
  for (std::size_t k = 0; k < values.size(); ++k) values[k].copy(packed.data() + k * width, values[k].size());
  const auto type = fixedStringType(width);
  writeVector(name, packed.data(), values.size(), type.get(), nullptr, nullptr);
}

std::vector<std::string> FieldFile::readStrings1d(const std::string& name) const {
  std::size_t n = 0;
  const auto dset = openVector(name, H5T_C_S1, &n);
  const auto file_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Dget_type(dset.get())));
  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset.get())));
  std::vector<std::string> out(n);
  if (n == 0) return out;
  if (VIGIE_CHECK_H5(H5Tis_variable_str(file_type.get())) > 0) {
    // Variable-length strings (h5py's default) cannot go through MPI-IO collectively; every rank reads alone.
    const auto mem_type = H5Handle::datatype(VIGIE_CHECK_H5(H5Tcopy(H5T_C_S1)));
    VIGIE_CHECK_H5(H5Tset_size(mem_type.get(), H5T_VARIABLE));
    std::vector<char*> texts(n, nullptr);
    VIGIE_CHECK_H5(H5Dread(dset.get(), mem_type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, texts.data()));
    for (std::size_t k = 0; k < n; ++k) out[k] = texts[k] != nullptr ? texts[k] : "";
    VIGIE_CHECK_H5(H5Dvlen_reclaim(mem_type.get(), file_space.get(), H5P_DEFAULT, texts.data()));
    return out;
  }
  const std::size_t width = H5Tget_size(file_type.get());
  if (width == 0) ::vigie::core::throwHdf5Error("H5Tget_size", __FILE__, __LINE__);
  const auto mem_type = fixedStringType(width);
  std::string packed(n * width, '\0');
  const auto mem_space = memorySpace(n);
  const auto dxpl = collectiveTransfer();
  VIGIE_CHECK_H5(
      H5Dread(dset.get(), mem_type.get(), mem_space.get(), file_space.get(), dxpl.get(), packed.data()));
  for (std::size_t k = 0; k < n; ++k) {
    std::string v = packed.substr(k * width, width);
    v.resize(std::min(v.find('\0'), v.size()));
    out[k] = std::move(v);
  }
  return out;
}

template <class T>
void FieldFile::create3dExtendible(const std::string& name, int nt, const Box& box, std::span<const T> local,
                                   const FieldMeta& meta) {
  const T fill = static_cast<T>(meta.fill);
  writeField(name, true, true, nt, box, local.data(), local.size(), NativeType<T>::id(), &fill, meta);
}

void FieldFile::extend3d(const std::string& name, int new_nt) {
  requireWritable("extend a field");
  const std::string where = m_path.string() + ": field '" + name + "'";
  const std::string path = datasetPath(where, name);
  std::array<int, 2> agreed{new_nt, -new_nt};
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, agreed.data(), 2, MPI_INT, MPI_MAX, m_comm));
  if (agreed[0] != -agreed[1])
    throw Error(ExitCode::Internal, where + ": ranks disagree on the new nt", true);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  std::vector<hsize_t> max_dims;
  auto dims = datasetDims(dset.get(), &max_dims);
  if (dims.size() != 3 || max_dims[0] != H5S_UNLIMITED) {
    throw Error(ExitCode::InputData, where + ": not an extendible [nt][ny][nx] dataset", true);
  }
  if (new_nt < 0 || static_cast<hsize_t>(new_nt) < dims[0]) {
    throw Error(ExitCode::Internal,
                where + ": cannot shrink the time axis from " + std::to_string(dims[0]) + " to " +
                    std::to_string(new_nt),
                true);
  }
  if (static_cast<hsize_t>(new_nt) == dims[0]) return;
  dims[0] = static_cast<hsize_t>(new_nt);
  VIGIE_CHECK_H5(H5Dset_extent(dset.get(), dims.data()));
}

void FieldFile::transferSlab(const std::string& name, int t0, int nt, const Box& box, void* data,
                             std::size_t count, hid_t type, bool write) const {
  const std::string where = m_path.string() + ": field '" + name + "'";
  const std::string path = datasetPath(where, name);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  const auto dims = datasetDims(dset.get());
  const GridGeometry& g = m_geometry;
  if (dims.size() != 3 || dims[1] != static_cast<hsize_t>(g.ny) || dims[2] != static_cast<hsize_t>(g.nx)) {
    throw Error(ExitCode::InputData, where + ": expected an [nt][ny][nx] dataset on the grid", true);
  }
  if (datasetClass(dset.get()) != H5Tget_class(type)) {
    throw Error(ExitCode::InputData, where + ": stored type does not match the requested one", true);
  }
  std::string problem = boxProblem(box, g);
  if (t0 < 0 || nt < 0 || static_cast<hsize_t>(t0) + static_cast<hsize_t>(nt) > dims[0]) {
    problem = "time planes [" + std::to_string(t0) + "," + std::to_string(t0 + nt) + ") leave the " +
              std::to_string(dims[0]) + " stored";
  }
  if (problem.empty() && static_cast<long long>(count) != box.cells() * nt) {
    problem = "local data has " + std::to_string(count) + " values, the slab needs " +
              std::to_string(box.cells() * nt);
  }
  agree(m_comm, where, problem);

  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Dget_space(dset.get())));
  if (count == 0) {
    VIGIE_CHECK_H5(H5Sselect_none(file_space.get()));
  } else {
    const std::array<hsize_t, 3> start{static_cast<hsize_t>(t0), static_cast<hsize_t>(box.j0),
                                       static_cast<hsize_t>(box.i0)};
    const std::array<hsize_t, 3> extent{static_cast<hsize_t>(nt), static_cast<hsize_t>(box.nj),
                                        static_cast<hsize_t>(box.ni)};
    VIGIE_CHECK_H5(
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start.data(), nullptr, extent.data(), nullptr));
  }
  const auto mem_space = memorySpace(count);
  const auto dxpl = collectiveTransfer();
  std::array<unsigned char, 8> dummy{};
  void* buffer = count > 0 ? data : dummy.data();
  if (write) {
    VIGIE_CHECK_H5(H5Dwrite(dset.get(), type, mem_space.get(), file_space.get(), dxpl.get(), buffer));
  } else {
    VIGIE_CHECK_H5(H5Dread(dset.get(), type, mem_space.get(), file_space.get(), dxpl.get(), buffer));
  }
}

template <class T>
std::vector<T> FieldFile::readSlab3d(const std::string& name, int t0, int nt, const Box& box) const {
  requireOpen("read a field");
  std::vector<T> out(static_cast<std::size_t>(std::max<long long>(box.cells(), 0)) *
                     static_cast<std::size_t>(std::max(nt, 0)));
  transferSlab(name, t0, nt, box, out.data(), out.size(), NativeType<T>::id(), false);
  return out;
}

template <class T>
void FieldFile::writeSlab3d(const std::string& name, int t0, int nt, const Box& box,
                            std::span<const T> local) {
  requireWritable("write a field");
  // HDF5 takes a non-const buffer pointer for both directions; the write does not modify it.
  transferSlab(name, t0, nt, box, const_cast<T*>(local.data()), local.size(), NativeType<T>::id(), true);
}

std::vector<std::int64_t> FieldFile::shape(const std::string& name) const {
  requireOpen("read a dataset's shape");
  const std::string where = m_path.string() + ": dataset '" + name + "'";
  const std::string path = datasetPath(where, name);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  const auto dims = datasetDims(dset.get());
  return {dims.begin(), dims.end()};
}

void FieldFile::remove(const std::string& name) {
  requireWritable("remove a dataset");
  const std::string where = m_path.string() + ": '" + name + "'";
  const std::string path = datasetPath(where, name);
  if (!pathExists(m_file.get(), path)) throw Error(ExitCode::InputData, where + ": absent", true);
  VIGIE_CHECK_H5(H5Ldelete(m_file.get(), path.c_str(), H5P_DEFAULT));
}

std::vector<std::string> FieldFile::childNames(const std::string& group) const {
  requireOpen("list a group");
  const std::string path = groupPath(m_path.string() + ": group '" + group + "'", group);
  std::vector<std::string> names;
  if (!pathExists(m_file.get(), path)) return names;
  const auto g = H5Handle::group(VIGIE_CHECK_H5(H5Gopen2(m_file.get(), path.c_str(), H5P_DEFAULT)));
  const auto collect = [](hid_t, const char* link, const H5L_info_t*, void* out) -> herr_t {
    static_cast<std::vector<std::string>*>(out)->emplace_back(link);
    return 0;
  };
  VIGIE_CHECK_H5(H5Literate(g.get(), H5_INDEX_NAME, H5_ITER_INC, nullptr, collect, &names));
  return names;
}

void FieldFile::flush() {
  requireWritable("flush");
  VIGIE_CHECK_H5(H5Fflush(m_file.get(), H5F_SCOPE_GLOBAL));
}

void FieldFile::setObjectAttribute(const std::string& object, const std::string& name,
                                   const std::string& value) {
  requireWritable("set an attribute");
  const std::string where = m_path.string();
  const auto obj = openObject(m_file.get(), objectPath(where, object), where);
  writeStringAttribute(obj.get(), name, value);
}

void FieldFile::setObjectAttribute(const std::string& object, const std::string& name, std::int64_t value) {
  requireWritable("set an attribute");
  const std::string where = m_path.string();
  const auto obj = openObject(m_file.get(), objectPath(where, object), where);
  writeAttribute(obj.get(), name, H5T_NATIVE_INT64, &value);
}

void FieldFile::setObjectAttribute(const std::string& object, const std::string& name, double value) {
  requireWritable("set an attribute");
  const std::string where = m_path.string();
  const auto obj = openObject(m_file.get(), objectPath(where, object), where);
  writeAttribute(obj.get(), name, H5T_NATIVE_DOUBLE, &value);
}

std::string FieldFile::objectStringAttribute(const std::string& object, const std::string& name) const {
  requireOpen("read an attribute");
  const std::string where = m_path.string();
  const std::string path = objectPath(where, object);
  const auto obj = openObject(m_file.get(), path, where);
  return readStringAttribute(obj.get(), name, where + ": " + path);
}

std::int64_t FieldFile::objectIntAttribute(const std::string& object, const std::string& name) const {
  requireOpen("read an attribute");
  const std::string where = m_path.string();
  const std::string path = objectPath(where, object);
  const auto obj = openObject(m_file.get(), path, where);
  return readIntAttribute(obj.get(), name, where + ": " + path);
}

bool FieldFile::hasAttribute(const std::string& name) const {
  requireOpen("look up an attribute");
  return VIGIE_CHECK_H5(H5Aexists(m_file.get(), name.c_str())) > 0;
}

std::vector<XdmfField> FieldFile::gridDatasets() const {
  GridScan scan;
  scan.nx = static_cast<hsize_t>(m_geometry.nx);
  scan.ny = static_cast<hsize_t>(m_geometry.ny);
  if (H5Lvisit(m_file.get(), H5_INDEX_NAME, H5_ITER_INC, collectGridDataset, &scan) < 0) {
    throw Error(ExitCode::Io, m_path.string() + ": cannot list the datasets for the XDMF sidecar", true);
  }
  return scan.found;
}

#define VIGIE_STORE_INSTANTIATE(T)                                                                           \
  template void FieldFile::write2d<T>(const std::string&, const Box&, std::span<const T>, const FieldMeta&); \
  template void FieldFile::write3d<T>(const std::string&, int, const Box&, std::span<const T>,               \
                                      const FieldMeta&);                                                     \
  template std::vector<T> FieldFile::read2d<T>(const std::string&, const Box&) const;                        \
  template std::vector<T> FieldFile::read3d<T>(const std::string&, const Box&, int*) const;                  \
  template void FieldFile::write1d<T>(const std::string&, std::span<const T>, const FieldMeta&);             \
  template std::vector<T> FieldFile::read1d<T>(const std::string&) const;                                    \
  template void FieldFile::create3dExtendible<T>(const std::string&, int, const Box&, std::span<const T>,    \
                                                 const FieldMeta&);                                          \
  template std::vector<T> FieldFile::readSlab3d<T>(const std::string&, int, int, const Box&) const;          \
  template void FieldFile::writeSlab3d<T>(const std::string&, int, int, const Box&, std::span<const T>);

VIGIE_STORE_INSTANTIATE(double)
VIGIE_STORE_INSTANTIATE(float)
VIGIE_STORE_INSTANTIATE(std::int32_t)
VIGIE_STORE_INSTANTIATE(std::int64_t)
VIGIE_STORE_INSTANTIATE(std::uint8_t)

#undef VIGIE_STORE_INSTANTIATE

}  // namespace vigie::store

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
constexpr const char* kSchemaPrefix = "vigie.fields/";
constexpr const char* kRowOrder = "row 0 is the southern edge; x increases with column index";
constexpr int kDeflateLevel = 4;
// 128 x 128 doubles is 128 KiB: large enough for deflate to pay off, small enough that a rank's box touches
// few chunks it shares with others (parallel HDF5 funnels each shared chunk through one owning rank).
constexpr hsize_t kChunkEdge = 128;
constexpr hsize_t kCompressAbove = 64 * 64;

template <class T>
struct NativeType;
template <>
struct NativeType<double> {
  static hid_t id() { return H5T_NATIVE_DOUBLE; }
  static constexpr const char* xdmf = "Float";
};
template <>
struct NativeType<float> {
  static hid_t id() { return H5T_NATIVE_FLOAT; }
  static constexpr const char* xdmf = "Float";
};
template <>
struct NativeType<std::int32_t> {
  static hid_t id() { return H5T_NATIVE_INT32; }
  static constexpr const char* xdmf = "Int";
};
template <>
struct NativeType<std::int64_t> {
  static hid_t id() { return H5T_NATIVE_INT64; }
  static constexpr const char* xdmf = "Int";
};
template <>
struct NativeType<std::uint8_t> {
  static hid_t id() { return H5T_NATIVE_UINT8; }
  static constexpr const char* xdmf = "UChar";
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
      m_owns_temp(std::exchange(other.m_owns_temp, false)),
      m_fields(std::move(other.m_fields)) {}

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
  FieldFile f(comm, path);
  int exists = 0;
  if (f.m_rank == 0) exists = fs::is_regular_file(path) ? 1 : 0;
  VIGIE_CHECK_MPI(MPI_Bcast(&exists, 1, MPI_INT, 0, comm));
  if (exists == 0) throw Error(ExitCode::InputData, path.string() + ": no such field file", true);

  const auto fapl = fileAccess(comm);
  const hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get());
  if (id < 0) throw Error(ExitCode::InputData, path.string() + ": cannot open as an HDF5 file", true);
  f.m_file = H5Handle::file(id);

  const std::string where = path.string();
  const hid_t root = f.m_file.get();
  if (VIGIE_CHECK_H5(H5Aexists(root, "schema")) <= 0 ||
      readStringAttribute(root, "schema", where).rfind(kSchemaPrefix, 0) != 0 || !linkExists(root, "/grid")) {
    throw Error(ExitCode::InputData, where + ": not a Vigie field file (no schema \"" + kSchema + "\")",
                true);
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

void FieldFile::writeField(const std::string& name, bool is_3d, int nt, const Box& box, const void* data,
                           std::size_t count, hid_t type, const void* fill, const FieldMeta& meta,
                           const char* xdmf_type, int precision) {
  requireWritable("write a field");
  const std::string where = m_path.string() + ": field '" + name + "'";
  checkName(where, name);
  const GridGeometry& g = m_geometry;

  std::string problem = boxProblem(box, g);
  const long long planes = is_3d ? nt : 1;
  if (is_3d && nt <= 0) problem = "nt must be positive, not " + std::to_string(nt);
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
  if (hasField(name)) throw Error(ExitCode::Internal, where + ": already written", true);

  const int rank = is_3d ? 3 : 2;
  const std::array<hsize_t, 3> dims =
      is_3d ? std::array<hsize_t, 3>{static_cast<hsize_t>(nt), static_cast<hsize_t>(g.ny),
                                     static_cast<hsize_t>(g.nx)}
            : std::array<hsize_t, 3>{static_cast<hsize_t>(g.ny), static_cast<hsize_t>(g.nx), 0};
  const auto dcpl = H5Handle::plist(VIGIE_CHECK_H5(H5Pcreate(H5P_DATASET_CREATE)));
  const hsize_t plane_cells = static_cast<hsize_t>(g.nx) * static_cast<hsize_t>(g.ny);
  // Parallel HDF5 1.10 writes deflated chunks only through collective transfers, which every write here is;
  // checked at 1, 2 and 4 ranks, with empty boxes, by tests/mpi/test_store.cpp.
  if ((is_3d || plane_cells > kCompressAbove) && deflateAvailable()) {
    const hsize_t cy = std::min<hsize_t>(g.ny, kChunkEdge);
    const hsize_t cx = std::min<hsize_t>(g.nx, kChunkEdge);
    const std::array<hsize_t, 3> chunk =
        is_3d ? std::array<hsize_t, 3>{1, cy, cx} : std::array<hsize_t, 3>{cy, cx, 0};
    VIGIE_CHECK_H5(H5Pset_chunk(dcpl.get(), rank, chunk.data()));
    VIGIE_CHECK_H5(H5Pset_deflate(dcpl.get(), kDeflateLevel));
  }
  VIGIE_CHECK_H5(H5Pset_fill_value(dcpl.get(), type, fill));

  const auto file_space = H5Handle::dataspace(VIGIE_CHECK_H5(H5Screate_simple(rank, dims.data(), nullptr)));
  const auto fields = H5Handle::group(VIGIE_CHECK_H5(H5Gopen2(m_file.get(), "fields", H5P_DEFAULT)));
  const auto dset = H5Handle::dataset(VIGIE_CHECK_H5(
      H5Dcreate2(fields.get(), name.c_str(), type, file_space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT)));
  selectBox(file_space.get(), box, is_3d, static_cast<hsize_t>(planes));
  const auto mem_space = memorySpace(count);
  const auto dxpl = collectiveTransfer();
  const std::array<unsigned char, 8> dummy{};
  VIGIE_CHECK_H5(H5Dwrite(dset.get(), type, mem_space.get(), file_space.get(), dxpl.get(),
                          count > 0 ? data : dummy.data()));

  writeStringAttribute(dset.get(), "units", meta.units);
  writeStringAttribute(dset.get(), "long_name", meta.description);
  writeAttribute(dset.get(), "_FillValue", type, fill);
  m_fields.push_back(XdmfField{name, is_3d ? nt : 0, xdmf_type, precision});
}

template <class T>
std::vector<T> FieldFile::readField(const std::string& name, const Box& box, bool want_3d,
                                    int* nt_out) const {
  requireOpen("read a field");
  const std::string where = m_path.string() + ": field '" + name + "'";
  checkName(where, name);
  if (!hasField(name)) throw Error(ExitCode::InputData, where + ": absent", true);
  const GridGeometry& g = m_geometry;

  const auto dset =
      H5Handle::dataset(VIGIE_CHECK_H5(H5Dopen2(m_file.get(), ("/fields/" + name).c_str(), H5P_DEFAULT)));
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
  writeField(name, false, 0, box, local.data(), local.size(), NativeType<T>::id(), &fill, meta,
             NativeType<T>::xdmf, static_cast<int>(sizeof(T)));
}

template <class T>
void FieldFile::write3d(const std::string& name, int nt, const Box& box, std::span<const T> local,
                        const FieldMeta& meta) {
  const T fill = static_cast<T>(meta.fill);
  writeField(name, true, nt, box, local.data(), local.size(), NativeType<T>::id(), &fill, meta,
             NativeType<T>::xdmf, static_cast<int>(sizeof(T)));
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
  checkName(m_path.string(), name);
  return linkExists(m_file.get(), "/fields") && linkExists(m_file.get(), "/fields/" + name);
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
  // H5Fclose is collective and MPI_File_close completes every rank's writes, so after the barrier the
  // temporary file is whole and rank 0 may rename it.
  if (m_file.close() < 0) throw Error(ExitCode::Io, m_temp.string() + ": closing the HDF5 file failed", true);
  VIGIE_CHECK_MPI(MPI_Barrier(m_comm));
  std::string problem;
  if (m_rank == 0) {
    std::error_code ec;
    fs::rename(m_temp, m_path, ec);
    if (ec) {
      problem = m_temp.string() + ": cannot rename to " + m_path.string() + " (" + ec.message() + ")";
    } else {
      m_owns_temp = false;
      // The sidecar comes after the rename so it never names a file that is not there.
      try {
        writeXdmf(xdmfPath(), m_path.filename().string(), m_geometry, m_fields);
      } catch (const Error& e) {
        problem = e.what();
      }
    }
  }
  problem = broadcastString(m_comm, problem);
  if (!problem.empty()) throw Error(ExitCode::Io, problem, true);
  m_owns_temp = false;
}

#define VIGIE_STORE_INSTANTIATE(T)                                                                           \
  template void FieldFile::write2d<T>(const std::string&, const Box&, std::span<const T>, const FieldMeta&); \
  template void FieldFile::write3d<T>(const std::string&, int, const Box&, std::span<const T>,               \
                                      const FieldMeta&);                                                     \
  template std::vector<T> FieldFile::read2d<T>(const std::string&, const Box&) const;                        \
  template std::vector<T> FieldFile::read3d<T>(const std::string&, const Box&, int*) const;

VIGIE_STORE_INSTANTIATE(double)
VIGIE_STORE_INSTANTIATE(float)
VIGIE_STORE_INSTANTIATE(std::int32_t)
VIGIE_STORE_INSTANTIATE(std::int64_t)
VIGIE_STORE_INSTANTIATE(std::uint8_t)

#undef VIGIE_STORE_INSTANTIATE

}  // namespace vigie::store

#pragma once
/// Parallel HDF5 files of fields distributed over MPI ranks in rectangular boxes, with an XDMF sidecar.
#include <mpi.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "store/GridGeometry.hpp"
#include "store/H5Handle.hpp"
#include "store/Xdmf.hpp"

namespace vigie::store {

/// Per-field metadata, stored as the dataset attributes units, long_name and _FillValue.
struct FieldMeta {
  std::string units;
  std::string description;
  double fill = 0;  ///< HDF5 fill value and _FillValue, converted to the field's type
};

/// An HDF5 file of distributed fields: /grid holds the geometry, /fields/<name> the [ny][nx] or [nt][ny][nx]
/// datasets. A dataset name without '/' lives under /fields; a name with '/' is a path from the root
/// ("counts/theft"), its intermediate groups created on write. A new file is written under
/// "<path>.tmp-<unique>" and renamed to <path> by commit(), so a crash never leaves a truncated file under
/// the real name; destroying it without commit() removes the temporary file. A file opened by openReadWrite()
/// is written in place (callers that need crash safety keep their own journal). Every function that touches
/// the file is collective over the communicator it was made with, which must outlive the object. Element
/// types T: double, float, std::int32_t, std::int64_t, std::uint8_t.
class FieldFile {
 public:
  /// Collective. Creates the temporary file with the MPI-IO driver and writes the root attribute schema
  /// ("vigie.fields/1") and the group /grid with attributes epsg, crs, x0, y0, cell_m, nx, ny, boundary,
  /// row_order.
  static FieldFile create(MPI_Comm comm, const std::filesystem::path& path, const GridGeometry& g);
  /// Collective. Opens an existing field file read-only and reads its geometry; Error(InputData) if it is not
  /// one.
  static FieldFile open(MPI_Comm comm, const std::filesystem::path& path);
  /// Collective. Opens an existing field file for writing in place (no temporary file, no rename); commit()
  /// closes it and rewrites the sidecar. Error(InputData) if it is not a field file.
  static FieldFile openReadWrite(MPI_Comm comm, const std::filesystem::path& path);

  /// Collective (closing an MPI-IO file is), except while an exception unwinds: then the handle is abandoned
  /// to HDF5's shutdown. An uncommitted new file is deleted by rank 0 in both cases.
  ~FieldFile();
  FieldFile(FieldFile&& other) noexcept;
  FieldFile& operator=(FieldFile&&) = delete;
  FieldFile(const FieldFile&) = delete;
  FieldFile& operator=(const FieldFile&) = delete;

  /// Collective. Writes /fields/<name> [ny][nx] from this rank's box (local.size() == box.cells()).
  template <class T>
  void write2d(const std::string& name, const Box& box, std::span<const T> local, const FieldMeta& meta);
  /// Collective. Writes /fields/<name> [nt][ny][nx]; local data is t-major: [t][j-j0][i-i0].
  template <class T>
  void write3d(const std::string& name, int nt, const Box& box, std::span<const T> local,
               const FieldMeta& meta);
  /// Collective. Reads `box` of a 2-D field; any box works, the file does not remember the writer's split.
  template <class T>
  [[nodiscard]] std::vector<T> read2d(const std::string& name, const Box& box) const;
  /// Collective. Reads `box` of a 3-D field for every time index ([t][j-j0][i-i0]); stores nt if nt_out is
  /// set.
  template <class T>
  [[nodiscard]] std::vector<T> read3d(const std::string& name, const Box& box, int* nt_out) const;

  /// Collective. Writes the 1-D dataset `name` from replicated data (the same values on every rank; rank 0
  /// writes). An existing 1-D dataset of the same type class is resized to values.size() and overwritten, so
  /// a growing time axis is rewritten in place.
  template <class T>
  void write1d(const std::string& name, std::span<const T> values, const FieldMeta& meta);
  /// Collective. Reads a whole 1-D dataset on every rank.
  template <class T>
  [[nodiscard]] std::vector<T> read1d(const std::string& name) const;
  /// Collective. Writes a 1-D dataset of fixed-length, NUL-padded UTF-8 strings from replicated data; an
  /// existing one is replaced.
  void writeStrings1d(const std::string& name, const std::vector<std::string>& values);
  /// Collective. Reads a 1-D string dataset (fixed- or variable-length) on every rank.
  [[nodiscard]] std::vector<std::string> readStrings1d(const std::string& name) const;

  /// Collective. Like write3d, but the dataset is chunked one plane per chunk with an unlimited time axis, so
  /// extend3d() can grow it; nt may be 0.
  template <class T>
  void create3dExtendible(const std::string& name, int nt, const Box& box, std::span<const T> local,
                          const FieldMeta& meta);
  /// Collective. Grows the time axis of an extendible 3-D dataset to new_nt (>= its current nt); the new
  /// planes hold the fill value.
  void extend3d(const std::string& name, int new_nt);
  /// Collective. Reads planes [t0, t0+nt) of `box` of a 3-D dataset, t-major [t][j-j0][i-i0].
  template <class T>
  [[nodiscard]] std::vector<T> readSlab3d(const std::string& name, int t0, int nt, const Box& box) const;
  /// Collective. Overwrites planes [t0, t0+nt) of `box` of an existing 3-D dataset (read-modify-write of a
  /// rank's own box); the boxes of different ranks must not overlap.
  template <class T>
  void writeSlab3d(const std::string& name, int t0, int nt, const Box& box, std::span<const T> local);
  /// Collective. The dimensions of a dataset, slowest first; Error(InputData) if absent.
  [[nodiscard]] std::vector<std::int64_t> shape(const std::string& name) const;
  /// Collective. Deletes the link to a dataset or group (HDF5 does not reclaim the space).
  void remove(const std::string& name);
  /// Collective. Names of the links inside a group ("" or "/" = root, "counts", "covariates/static"), in name
  /// order; empty if the group is absent.
  [[nodiscard]] std::vector<std::string> childNames(const std::string& group) const;

  /// Collective. Makes every write so far durable in the file (H5Fflush, global scope).
  void flush();

  /// Collective. Sets a string attribute on the root (provenance: git hash, config text); same value on all
  /// ranks.
  void setAttribute(const std::string& name, const std::string& value);
  /// Collective. Sets a double attribute on the root; same value on all ranks.
  void setAttribute(const std::string& name, double value);
  /// Collective. Sets an integer attribute on the root; same value on all ranks.
  void setAttribute(const std::string& name, std::int64_t value);
  /// Collective. Sets a string attribute on an existing dataset or group ("" = root); same value on all
  /// ranks.
  void setObjectAttribute(const std::string& object, const std::string& name, const std::string& value);
  /// Collective. Sets an integer attribute on an existing dataset or group ("" = root).
  void setObjectAttribute(const std::string& object, const std::string& name, std::int64_t value);
  /// Collective. Sets a double attribute on an existing dataset or group ("" = root).
  void setObjectAttribute(const std::string& object, const std::string& name, double value);
  /// Collective. Reads a string attribute of a dataset or group ("" = root); Error(InputData) if absent.
  [[nodiscard]] std::string objectStringAttribute(const std::string& object, const std::string& name) const;
  /// Collective. Reads an integer attribute (any integer width) of a dataset or group ("" = root).
  [[nodiscard]] std::int64_t objectIntAttribute(const std::string& object, const std::string& name) const;
  /// Collective. Whether the root has attribute `name`.
  [[nodiscard]] bool hasAttribute(const std::string& name) const;
  /// Collective. Reads a string attribute of the root; Error(InputData) if it is absent or not a string.
  [[nodiscard]] std::string stringAttribute(const std::string& name) const;
  /// Collective. Reads a numeric attribute of the root as double; Error(InputData) if absent or not numeric.
  [[nodiscard]] double doubleAttribute(const std::string& name) const;
  /// Collective. Reads an integer attribute (any integer width) of the root; Error(InputData) if absent or
  /// not an integer.
  [[nodiscard]] std::int64_t intAttribute(const std::string& name) const;

  /// Not collective. The grid geometry written by create() or read by open().
  [[nodiscard]] GridGeometry geometry() const { return m_geometry; }
  /// Collective. Whether /fields/<name> (or the path `name` when it contains '/') exists.
  [[nodiscard]] bool hasField(const std::string& name) const;
  /// Collective. Names of the datasets under /fields, in name order.
  [[nodiscard]] std::vector<std::string> fieldNames() const;

  /// Collective. Closes the file, renames the temporary file to path() (rank 0, after a barrier; not for a
  /// file opened by openReadWrite) and writes the XDMF sidecar xdmfPath() (rank 0, also through a rename),
  /// which lists every [ny][nx] and [n][ny][nx] dataset in the file wherever it is. The object cannot be used
  /// for I/O afterwards.
  void commit();

  /// Not collective. The file's real name.
  [[nodiscard]] const std::filesystem::path& path() const { return m_path; }
  /// Not collective. Where a new file lives until commit(); empty for a file opened for reading.
  [[nodiscard]] const std::filesystem::path& tempPath() const { return m_temp; }
  /// Not collective. The sidecar written by commit(): "<path>.xmf".
  [[nodiscard]] std::filesystem::path xdmfPath() const;

 private:
  FieldFile(MPI_Comm comm, std::filesystem::path path);
  static FieldFile openExisting(MPI_Comm comm, const std::filesystem::path& path, bool writable);

  void requireOpen(const char* what) const;
  void requireWritable(const char* what) const;
  // nt is 0 for a 2-D field; `fill` points to meta.fill converted to the element type.
  void writeField(const std::string& name, bool is_3d, bool extendible, int nt, const Box& box,
                  const void* data, std::size_t count, hid_t type, const void* fill, const FieldMeta& meta);
  void transferSlab(const std::string& name, int t0, int nt, const Box& box, void* data, std::size_t count,
                    hid_t type, bool write) const;
  // Writes a replicated 1-D dataset of `n` values of `type` (rank 0's selection only); fill/meta may be null.
  void writeVector(const std::string& name, const void* data, std::size_t n, hid_t type, const void* fill,
                   const FieldMeta* meta);
  // Opens a 1-D dataset for reading and returns its length; checks the type class against `type`.
  H5Handle openVector(const std::string& name, hid_t type, std::size_t* n) const;
  // The [ny][nx] and [n][ny][nx] datasets of the whole file, for the sidecar.
  [[nodiscard]] std::vector<XdmfField> gridDatasets() const;
  template <class T>
  std::vector<T> readField(const std::string& name, const Box& box, bool want_3d, int* nt_out) const;

  MPI_Comm m_comm = MPI_COMM_NULL;
  int m_rank = 0;
  std::filesystem::path m_path;
  std::filesystem::path m_temp;
  GridGeometry m_geometry;
  H5Handle m_file;
  bool m_writable = false;
  bool m_owns_temp = false;  // rank 0 deletes m_temp on destruction until commit() has renamed it
};

}  // namespace vigie::store

#pragma once
/// XDMF 3 sidecars that let ParaView and VisIt open a field file's datasets on the lattice.
#include <filesystem>
#include <string>
#include <vector>

#include "store/GridGeometry.hpp"

namespace vigie::store {

/// One [ny][nx] or [nt][ny][nx] dataset, as the sidecar describes it.
struct XdmfField {
  std::string name;  ///< the attribute name shown by viewers
  std::string path;  ///< absolute HDF5 path of the dataset; empty means "/fields/<name>"
  int nt = 0;        ///< 0 for a 2-D field [ny][nx]; the number of time indices for a 3-D one [nt][ny][nx]
  std::string number_type;  ///< XDMF NumberType: Float, Int, UInt or UChar
  int precision = 8;        ///< bytes per value
};

/// Not collective. The XDMF text for `fields` of the HDF5 file named `h5_name` (a basename, resolved by
/// readers relative to the .xmf). The mesh is a 2DCoRectMesh of (ny+1) x (nx+1) nodes and fields are
/// cell-centred; 3-D fields form a Temporal collection with one grid per time index, each reading its slab
/// with a HyperSlab.
[[nodiscard]] std::string xdmfDocument(const std::string& h5_name, const GridGeometry& g,
                                       const std::vector<XdmfField>& fields);

/// Not collective. Writes xdmfDocument(...) to `xmf_path` through a temporary file and a rename, so readers
/// never see half a sidecar. Throws Error(Io) naming the file on failure.
void writeXdmf(const std::filesystem::path& xmf_path, const std::string& h5_name, const GridGeometry& g,
               const std::vector<XdmfField>& fields);

}  // namespace vigie::store

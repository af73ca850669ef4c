#pragma once
/// The city grid: a geographic (or abstract lattice) grid of square cells, decomposed over ranks with a
/// PETSc DMDA. This is the only place where ranks appear; kernels loop over the owned box.
#include <mpi.h>
#include <petscdmda.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/FieldFile.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core

namespace vigie::geo {
class Projection;
}

namespace vigie::grid {

/// How fields behave at the edge of the grid.
enum class Boundary { ZeroFlux, Periodic };

/// Geometry and decomposition request, read from the [grid] section.
struct GridSpec {
  int epsg = 0;     ///< CRS of the grid as an EPSG code; 0 = non-geographic lattice (`grid.crs = none`)
  double x0 = 0.0;  ///< south-west corner, CRS units (metres) or lattice units
  double y0 = 0.0;
  double cell = 1.0;  ///< cell side, metres (or lattice units)
  int nx = 0;         ///< columns (x, eastward)
  int ny = 0;         ///< rows (y, northward); row 0 is the southern edge
  Boundary boundary = Boundary::ZeroFlux;
  std::filesystem::path mask_file;    ///< GeoJSON polygons; empty = every cell is active
  double mask_events_within_m = 0.0;  ///< > 0: the mask is the cells near events (set by ingest), see setMask
  std::string mask_events_until;      ///< ISO date: only events up to this day make the mask (empty: all)
  int px = 0;                         ///< ranks along x (0 = let PETSc decide)
  int py = 0;
};

/// The decomposed city grid.
class CityGrid {
 public:
  /// Declares the [grid] options.
  static void declareOptions(core::OptionSet& options);
  /// Not collective. Reads and checks the [grid] section; throws Error(Usage) naming the key.
  static GridSpec specFromConfig(const core::Config& config);

  /// Collective. Creates the DMDA, the projection to and from WGS84 and the owned part of the mask.
  CityGrid(MPI_Comm comm, GridSpec spec);
  ~CityGrid();
  CityGrid(const CityGrid&) = delete;
  CityGrid& operator=(const CityGrid&) = delete;

  [[nodiscard]] MPI_Comm comm() const noexcept { return m_comm; }
  [[nodiscard]] DM dm() const noexcept { return m_dm; }
  [[nodiscard]] const GridSpec& spec() const noexcept { return m_spec; }
  [[nodiscard]] int nx() const noexcept { return m_spec.nx; }
  [[nodiscard]] int ny() const noexcept { return m_spec.ny; }
  [[nodiscard]] bool geographic() const noexcept { return m_spec.epsg != 0; }
  /// Cells this rank owns.
  [[nodiscard]] const store::Box& ownedBox() const noexcept { return m_box; }
  /// Ranks along x and y chosen for the decomposition.
  [[nodiscard]] std::array<int, 2> processors() const noexcept { return m_procs; }
  /// Geometry for the field files.
  [[nodiscard]] store::GridGeometry geometry() const;

  /// Global cell index, row-major from the south-west corner: j * nx + i.
  [[nodiscard]] std::int64_t globalIndex(int i, int j) const noexcept {
    return static_cast<std::int64_t>(j) * m_spec.nx + i;
  }
  /// Global indices of the owned cells in owned-box order.
  [[nodiscard]] std::vector<std::int64_t> ownedGlobalIndices() const;

  /// Centre of cell (i, j) in grid CRS coordinates.
  [[nodiscard]] std::array<double, 2> cellCentre(int i, int j) const noexcept;
  /// Cell containing point (x, y) in grid CRS coordinates; nullopt outside the grid. A point on an inner
  /// cell edge belongs to the cell to its north-east.
  [[nodiscard]] std::optional<std::array<int, 2>> cellOf(double x, double y) const noexcept;
  /// Grid CRS -> WGS84 (lon, lat). Throws for a lattice grid.
  [[nodiscard]] std::array<double, 2> toLonLat(double x, double y) const;
  /// WGS84 (lon, lat) -> grid CRS. Throws for a lattice grid.
  [[nodiscard]] std::array<double, 2> fromLonLat(double lon, double lat) const;

  /// Owned part of the mask (1 = inside the study area), owned-box order.
  [[nodiscard]] const std::vector<std::uint8_t>& ownedMask() const noexcept { return m_mask; }
  /// Number of active cells over the whole grid (computed once, collectively, at construction).
  [[nodiscard]] std::int64_t activeCells() const noexcept { return m_active_cells; }
  /// Area of the active cells, km^2 (geographic grids) or lattice units^2.
  [[nodiscard]] double activeArea() const noexcept;

  /// Collective. The whole mask (nx * ny values, index j * nx + i) on every rank.
  [[nodiscard]] std::vector<std::uint8_t> globalMask() const;
  /// Collective. Replaces the mask with `global_mask` (nx * ny values, index j * nx + i, the same on every
  /// rank).
  void setMask(const std::vector<std::uint8_t>& global_mask);
  /// True when the mask comes from events (grid.mask_events_within_m > 0) rather than a GeoJSON outline.
  [[nodiscard]] bool maskFromEvents() const noexcept { return m_spec.mask_events_within_m > 0.0; }

  /// A multi-line human summary (same text on every rank).
  [[nodiscard]] std::string summary() const;

 private:
  MPI_Comm m_comm;
  GridSpec m_spec;
  DM m_dm = nullptr;
  store::Box m_box;
  std::array<int, 2> m_procs{1, 1};
  std::vector<std::uint8_t> m_mask;
  std::int64_t m_active_cells = 0;
  std::unique_ptr<geo::Projection> m_to_lonlat;
};

/// Parses "EPSG:NNNN" (or "none") into an EPSG code (0 for none). Throws Error(Usage) otherwise.
int parseCrs(const std::string& text);

}  // namespace vigie::grid

#include "grid/CityGrid.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Reduce.hpp"
#include "geo/GeoJson.hpp"
#include "geo/Projection.hpp"
#include "geo/Rasterize.hpp"

namespace vigie::grid {

using core::Error;
using core::ExitCode;

int parseCrs(const std::string& text) {
  if (text == "none") return 0;
  const std::string prefix = "EPSG:";
  if (text.rfind(prefix, 0) == 0) {
    try {
      std::size_t used = 0;
      const int code = std::stoi(text.substr(prefix.size()), &used);
      if (used == text.size() - prefix.size() && code > 0) return code;
    } catch (const std::exception&) {
    }
  }
  throw Error(ExitCode::Usage, "grid.crs: '" + text + "' is not 'none' or 'EPSG:<code>'", true);
}

void CityGrid::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("grid.crs", OptionType::String, "none",
           "Coordinate reference system of the grid as EPSG:<code> (projected, metres), or none for an "
           "abstract lattice used by model-verification cases")
      .add("grid.x0", OptionType::Double, "0", "x of the grid's south-west corner (CRS units)")
      .add("grid.y0", OptionType::Double, "0", "y of the grid's south-west corner (CRS units)")
      .add("grid.cell_m", OptionType::Double, "100", "cell side in metres (lattice units when crs = none)")
      .add("grid.nx", OptionType::Int, "64", "number of columns (eastward)")
      .add("grid.ny", OptionType::Int, "64", "number of rows (northward); row 0 is the southern edge")
      .add("grid.boundary", OptionType::String, "zero-flux",
           "field behaviour at the grid edge: zero-flux (no transport across it) or periodic")
      .add("grid.mask", OptionType::Path, "",
           "GeoJSON polygons of the study area (e.g. the city outline); cells whose centre is inside are "
           "active. Empty: every cell is active")
      .add("grid.mask_events_within_m", OptionType::Double, "0",
           "when > 0 and no grid.mask is given: the study area is the cells whose centre lies within this "
           "distance of the centre of a cell holding an ingested event (for cities without an outline)")
      .add("grid.mask_events_until", OptionType::String, "",
           "ISO date (YYYY-MM-DD): only events up to and including this day define the event mask (the "
           "training period); empty: all events")
      .add("grid.px", OptionType::Int, "0", "ranks along x (0: PETSc chooses)")
      .add("grid.py", OptionType::Int, "0", "ranks along y (0: PETSc chooses)");
}

GridSpec CityGrid::specFromConfig(const core::Config& config) {
  GridSpec s;
  s.epsg = parseCrs(config.getString("grid.crs"));
  s.x0 = config.getDouble("grid.x0");
  s.y0 = config.getDouble("grid.y0");
  s.cell = config.getDouble("grid.cell_m");
  const auto nx = config.getInt("grid.nx");
  const auto ny = config.getInt("grid.ny");
  if (nx < 1 || ny < 1 || nx > 1'000'000 || ny > 1'000'000 || nx * ny > 2'000'000'000)
    throw Error(ExitCode::Usage, "grid.nx and grid.ny must be in [1, 1e6] with nx*ny < 2e9", true);
  s.nx = static_cast<int>(nx);
  s.ny = static_cast<int>(ny);
  if (!(s.cell > 0)) throw Error(ExitCode::Usage, "grid.cell_m must be positive", true);
  const auto b = config.getString("grid.boundary");
  if (b == "zero-flux") {
    s.boundary = Boundary::ZeroFlux;
  } else if (b == "periodic") {
    s.boundary = Boundary::Periodic;
  } else {
    throw Error(ExitCode::Usage, "grid.boundary: '" + b + "' is not zero-flux or periodic", true);
  }
  s.mask_file = config.getPath("grid.mask");
  if (s.epsg == 0 && !s.mask_file.empty())
    throw Error(ExitCode::Usage, "grid.mask needs a geographic grid (grid.crs = EPSG:<code>)", true);
  s.mask_events_within_m = config.getDouble("grid.mask_events_within_m");
  s.mask_events_until = config.getString("grid.mask_events_until");
  if (s.mask_events_within_m < 0.0)
    throw Error(ExitCode::Usage, "grid.mask_events_within_m must be >= 0", true);
  if (s.mask_events_within_m > 0.0 && !s.mask_file.empty())
    throw Error(ExitCode::Usage, "grid.mask and grid.mask_events_within_m are exclusive: choose one", true);
  s.px = static_cast<int>(config.getInt("grid.px"));
  s.py = static_cast<int>(config.getInt("grid.py"));
  if (s.px < 0 || s.py < 0) throw Error(ExitCode::Usage, "grid.px and grid.py must be >= 0", true);
  return s;
}

CityGrid::CityGrid(MPI_Comm comm, GridSpec spec) : m_comm(comm), m_spec(std::move(spec)) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  // One of px, py given: the other follows from the rank count.
  if (m_spec.px > 0 && m_spec.py == 0 && size % m_spec.px == 0) m_spec.py = size / m_spec.px;
  if (m_spec.py > 0 && m_spec.px == 0 && size % m_spec.py == 0) m_spec.px = size / m_spec.py;
  if ((m_spec.px > 0 || m_spec.py > 0) && m_spec.px * m_spec.py != size) {
    throw Error(ExitCode::Usage,
                "grid.px x grid.py = " + std::to_string(m_spec.px) + " x " + std::to_string(m_spec.py) +
                    " does not match " + std::to_string(size) + " ranks",
                true);
  }
  if (m_spec.epsg != 0 && !geo::Projection::isValidEpsg(m_spec.epsg))
    throw Error(ExitCode::Usage, "grid.crs: EPSG:" + std::to_string(m_spec.epsg) + " is unknown to PROJ",
                true);
  if (m_spec.epsg != 0 && !geo::Projection::isProjectedMetres(m_spec.epsg)) {
    throw Error(ExitCode::Usage,
                "grid.crs: EPSG:" + std::to_string(m_spec.epsg) +
                    " is not a projected CRS in metres (cells are squares in metres: use e.g. EPSG:2154 or a "
                    "UTM zone)",
                true);
  }

  // Periodic fields use PETSc's periodic ghosts; zero-flux fields use ghosted edges that Field fills by
  // copying the edge cell outward (a cell-centred Neumann condition that conserves mass).
  const DMBoundaryType bt =
      m_spec.boundary == Boundary::Periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  VIGIE_CHECK_PETSC(DMDACreate2d(comm, bt, bt, DMDA_STENCIL_BOX, m_spec.nx, m_spec.ny,
                                 m_spec.px > 0 ? m_spec.px : PETSC_DECIDE,
                                 m_spec.py > 0 ? m_spec.py : PETSC_DECIDE, 1, 1, nullptr, nullptr, &m_dm));
  VIGIE_CHECK_PETSC(DMSetUp(m_dm));
  PetscInt i0 = 0, j0 = 0, ni = 0, nj = 0;
  VIGIE_CHECK_PETSC(DMDAGetCorners(m_dm, &i0, &j0, nullptr, &ni, &nj, nullptr));
  m_box = store::Box{static_cast<int>(i0), static_cast<int>(j0), static_cast<int>(ni), static_cast<int>(nj)};
  PetscInt px = 1, py = 1;
  VIGIE_CHECK_PETSC(DMDAGetInfo(m_dm, nullptr, nullptr, nullptr, nullptr, &px, &py, nullptr, nullptr, nullptr,
                                nullptr, nullptr, nullptr, nullptr));
  m_procs = {static_cast<int>(px), static_cast<int>(py)};
  if (m_spec.epsg != 0) {
    VIGIE_CHECK_PETSC(DMDASetUniformCoordinates(
        m_dm, m_spec.x0 + 0.5 * m_spec.cell, m_spec.x0 + (m_spec.nx - 0.5) * m_spec.cell,
        m_spec.y0 + 0.5 * m_spec.cell, m_spec.y0 + (m_spec.ny - 0.5) * m_spec.cell, 0.0, 0.0));
    m_to_lonlat = std::make_unique<geo::Projection>(m_spec.epsg, 4326);
  }

  const auto n_owned = static_cast<std::size_t>(m_box.ni) * static_cast<std::size_t>(m_box.nj);
  if (m_spec.mask_file.empty()) {
    m_mask.assign(n_owned, 1);
  } else {
    // Every rank reads the outline (small) and rasterises only its own box; a cell's value depends only on
    // its centre, so the mask is the same at any decomposition.
    geo::GeoJsonFile gj;
    try {
      gj = geo::readGeoJson(m_spec.mask_file);
      geo::transform(gj, m_spec.epsg);
    } catch (const Error& e) {
      // Every rank reads the same file and fails the same way.
      throw Error(e.code(), e.what(), true);
    }
    std::vector<geo::Polygon> polys;
    for (const auto& f : gj.features) polys.insert(polys.end(), f.polygons.begin(), f.polygons.end());
    if (polys.empty())
      throw Error(ExitCode::InputData, m_spec.mask_file.string() + ": no Polygon or MultiPolygon feature",
                  true);
    m_mask = geo::rasterizePolygons(polys, m_spec.x0, m_spec.y0, m_spec.cell, m_box.i0, m_box.j0, m_box.ni,
                                    m_box.nj);
  }
  std::int64_t local_active = 0;
  for (const auto v : m_mask) local_active += v != 0 ? 1 : 0;
  m_active_cells = core::sumInt(comm, local_active);
}

std::vector<std::uint8_t> CityGrid::globalMask() const {
  // Each rank contributes its owned cells; a MAX reduction assembles the whole mask in global index order.
  std::vector<std::uint8_t> global(static_cast<std::size_t>(m_spec.nx) * static_cast<std::size_t>(m_spec.ny),
                                   0);
  std::size_t k = 0;
  for (int j = m_box.j0; j < m_box.j0 + m_box.nj; ++j)
    for (int i = m_box.i0; i < m_box.i0 + m_box.ni; ++i)
      global[static_cast<std::size_t>(globalIndex(i, j))] = m_mask[k++];
  VIGIE_CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, global.data(), static_cast<int>(global.size()), MPI_UINT8_T,
                                MPI_MAX, m_comm));
  return global;
}

void CityGrid::setMask(const std::vector<std::uint8_t>& global_mask) {
  if (global_mask.size() != static_cast<std::size_t>(m_spec.nx) * static_cast<std::size_t>(m_spec.ny))
    throw Error(ExitCode::Internal, "CityGrid::setMask: the mask does not have nx * ny values");
  std::size_t k = 0;
  for (int j = m_box.j0; j < m_box.j0 + m_box.nj; ++j)
    for (int i = m_box.i0; i < m_box.i0 + m_box.ni; ++i)
      m_mask[k++] = global_mask[static_cast<std::size_t>(globalIndex(i, j))] != 0 ? 1 : 0;
  std::int64_t local_active = 0;
  for (const auto v : m_mask) local_active += v != 0 ? 1 : 0;
  m_active_cells = core::sumInt(m_comm, local_active);
}

CityGrid::~CityGrid() {
  if (m_dm != nullptr) DMDestroy(&m_dm);
}

store::GridGeometry CityGrid::geometry() const {
  store::GridGeometry g;
  g.epsg = m_spec.epsg;
  g.x0 = m_spec.x0;
  g.y0 = m_spec.y0;
  g.cell_m = m_spec.cell;
  g.nx = m_spec.nx;
  g.ny = m_spec.ny;
  g.boundary = m_spec.boundary == Boundary::Periodic ? "periodic" : "zero-flux";
  return g;
}

std::vector<std::int64_t> CityGrid::ownedGlobalIndices() const {
  std::vector<std::int64_t> idx;
  idx.reserve(static_cast<std::size_t>(m_box.ni) * static_cast<std::size_t>(m_box.nj));
  for (int j = m_box.j0; j < m_box.j0 + m_box.nj; ++j)
    for (int i = m_box.i0; i < m_box.i0 + m_box.ni; ++i) idx.push_back(globalIndex(i, j));
  return idx;
}

std::array<double, 2> CityGrid::cellCentre(int i, int j) const noexcept {
  return {m_spec.x0 + (i + 0.5) * m_spec.cell, m_spec.y0 + (j + 0.5) * m_spec.cell};
}

std::optional<std::array<int, 2>> CityGrid::cellOf(double x, double y) const noexcept {
  if (!std::isfinite(x) || !std::isfinite(y)) return std::nullopt;
  const double fx = std::floor((x - m_spec.x0) / m_spec.cell);
  const double fy = std::floor((y - m_spec.y0) / m_spec.cell);
  if (fx < 0 || fy < 0 || fx >= m_spec.nx || fy >= m_spec.ny) return std::nullopt;
  return std::array<int, 2>{static_cast<int>(fx), static_cast<int>(fy)};
}

std::array<double, 2> CityGrid::toLonLat(double x, double y) const {
  if (!m_to_lonlat)
    throw Error(ExitCode::Usage, "a lattice grid (grid.crs = none) has no geographic coordinates");
  const auto [lon, lat] = m_to_lonlat->forward(x, y);
  return {lon, lat};
}

std::array<double, 2> CityGrid::fromLonLat(double lon, double lat) const {
  if (!m_to_lonlat)
    throw Error(ExitCode::Usage, "a lattice grid (grid.crs = none) has no geographic coordinates");
  const auto [x, y] = m_to_lonlat->inverse(lon, lat);
  return {x, y};
}

double CityGrid::activeArea() const noexcept {
  const double cell_area = m_spec.cell * m_spec.cell;
  return static_cast<double>(m_active_cells) * cell_area / (m_spec.epsg != 0 ? 1e6 : 1.0);
}

std::string CityGrid::summary() const {
  std::ostringstream os;
  os << std::fixed << std::setprecision(1);
  const std::int64_t cells = static_cast<std::int64_t>(m_spec.nx) * m_spec.ny;
  if (m_spec.epsg != 0) {
    os << "grid: EPSG:" << m_spec.epsg << ", south-west corner (" << m_spec.x0 << ", " << m_spec.y0
       << ") m, cell " << m_spec.cell << " m\n";
    const auto sw = toLonLat(m_spec.x0, m_spec.y0);
    const auto ne = toLonLat(m_spec.x0 + m_spec.nx * m_spec.cell, m_spec.y0 + m_spec.ny * m_spec.cell);
    os << std::setprecision(5) << "      WGS84 bounds lon " << sw[0] << " .. " << ne[0] << ", lat " << sw[1]
       << " .. " << ne[1] << "\n"
       << std::setprecision(1);
    os << "      " << m_spec.nx << " x " << m_spec.ny << " = " << cells << " cells, extent "
       << m_spec.nx * m_spec.cell / 1000.0 << " x " << m_spec.ny * m_spec.cell / 1000.0 << " km\n";
    os << "      active cells " << m_active_cells << " (" << activeArea() << " km^2)"
       << (!m_spec.mask_file.empty() ? ", mask " + m_spec.mask_file.filename().string()
           : maskFromEvents()        ? ", mask: cells near events"
                                     : ", no mask")
       << "\n";
  } else {
    os << "grid: lattice (no CRS), " << m_spec.nx << " x " << m_spec.ny << " = " << cells
       << " cells, spacing " << m_spec.cell << "\n";
  }
  os << "      boundary " << (m_spec.boundary == Boundary::Periodic ? "periodic" : "zero-flux") << ", ranks "
     << m_procs[0] * m_procs[1] << " (" << m_procs[0] << " x " << m_procs[1] << ")";
  return os.str();
}

}  // namespace vigie::grid

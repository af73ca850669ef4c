// CityGrid and Field at 1, 2 and 4 ranks: decomposition, ghosts, coordinates, mask, reductions.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cmath>

#include "../support/GatherField.hpp"
#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "grid/Field.hpp"

namespace {

using vigie::grid::Boundary;
using vigie::grid::CityGrid;
using vigie::grid::Field;
using vigie::grid::GridSpec;

GridSpec lattice(int nx, int ny, Boundary b) {
  GridSpec s;
  s.nx = nx;
  s.ny = ny;
  s.boundary = b;
  return s;
}

GridSpec marseille() {
  GridSpec s;
  s.epsg = 2154;
  s.x0 = 881100;
  s.y0 = 6232800;
  s.cell = 100;
  s.nx = 246;
  s.ny = 251;
  s.mask_file = std::filesystem::path(VIGIE_SOURCE_DIR) / "inputs/marseille/commune_outline.geojson";
  return s;
}

double f(int i, int j) {
  return 1000.0 * j + i + 0.25;
}

TEST(CityGrid, DecompositionCoversEveryCellOnce) {
  for (const auto& spec : {lattice(37, 23, Boundary::ZeroFlux), lattice(5, 64, Boundary::Periodic)}) {
    const CityGrid g(MPI_COMM_WORLD, spec);
    std::vector<double> ones(g.ownedGlobalIndices().size(), 1.0);
    // Count how often each global cell is owned: gather owned indices and tally.
    std::vector<double> marks(ones.size());
    const auto idx = g.ownedGlobalIndices();
    for (std::size_t k = 0; k < idx.size(); ++k) marks[k] = static_cast<double>(idx[k]);
    const auto global = vigie::testing::gatherGlobal(g, marks);
    for (std::size_t k = 0; k < global.size(); ++k)
      ASSERT_EQ(global[k], static_cast<double>(k)) << "cell " << k;
    long owned = static_cast<long>(idx.size());
    long total = 0;
    MPI_Allreduce(&owned, &total, 1, MPI_LONG, MPI_SUM, MPI_COMM_WORLD);
    EXPECT_EQ(total, static_cast<long>(spec.nx) * spec.ny);
    int size = 1;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    EXPECT_EQ(g.processors()[0] * g.processors()[1], size);
  }
}

TEST(Field, GhostsMatchNeighboursZeroFlux) {
  const CityGrid g(MPI_COMM_WORLD, lattice(37, 23, Boundary::ZeroFlux));
  Field u(g, "u");
  const auto& b = g.ownedBox();
  std::vector<double> v;
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i) v.push_back(f(i, j));
  u.setOwned(v);
  u.updateGhosts();
  for (int j = b.j0 - 1; j <= b.j0 + b.nj; ++j) {
    for (int i = b.i0 - 1; i <= b.i0 + b.ni; ++i) {
      const int ci = std::clamp(i, 0, g.nx() - 1);
      const int cj = std::clamp(j, 0, g.ny() - 1);
      ASSERT_EQ(u.ghosted(i, j), f(ci, cj)) << i << "," << j;
    }
  }
}

TEST(Field, GhostsWrapPeriodic) {
  const CityGrid g(MPI_COMM_WORLD, lattice(16, 12, Boundary::Periodic));
  Field u(g, "u");
  const auto& b = g.ownedBox();
  std::vector<double> v;
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i) v.push_back(f(i, j));
  u.setOwned(v);
  u.updateGhosts();
  for (int j = b.j0 - 1; j <= b.j0 + b.nj; ++j)
    for (int i = b.i0 - 1; i <= b.i0 + b.ni; ++i)
      ASSERT_EQ(u.ghosted(i, j), f((i + 16) % 16, (j + 12) % 12)) << i << "," << j;
}

TEST(Field, SumIsBitIdenticalToSerialOrder) {
  const CityGrid g(MPI_COMM_WORLD, lattice(41, 29, Boundary::ZeroFlux));
  Field u(g, "u");
  const auto& b = g.ownedBox();
  std::vector<double> v;
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i) v.push_back(1.0 / (1.0 + f(i, j)) + 1e-7 * std::sin(i * j));
  u.setOwned(v);
  double serial = 0.0;
  for (int j = 0; j < 29; ++j)
    for (int i = 0; i < 41; ++i) serial += 1.0 / (1.0 + f(i, j)) + 1e-7 * std::sin(i * j);
  EXPECT_EQ(u.sum(), serial);
  EXPECT_DOUBLE_EQ(u.max(), 1.0 / 1.25 + 0.0);
}

TEST(CityGrid, MarseilleCoordinatesRoundTripWithinOneMillimetre) {
  const CityGrid g(MPI_COMM_WORLD, marseille());
  const auto& b = g.ownedBox();
  double worst = 0.0;
  for (int j = b.j0; j < b.j0 + b.nj; j += 7) {
    for (int i = b.i0; i < b.i0 + b.ni; i += 7) {
      const auto c = g.cellCentre(i, j);
      const auto ll = g.toLonLat(c[0], c[1]);
      ASSERT_GT(ll[0], 5.1);
      ASSERT_LT(ll[0], 5.6);
      ASSERT_GT(ll[1], 43.1);
      ASSERT_LT(ll[1], 43.45);
      const auto back = g.fromLonLat(ll[0], ll[1]);
      worst = std::max(worst, std::hypot(back[0] - c[0], back[1] - c[1]));
      const auto cell = g.cellOf(back[0], back[1]);
      ASSERT_TRUE(cell.has_value());
      EXPECT_EQ((*cell)[0], i);
      EXPECT_EQ((*cell)[1], j);
    }
  }
  EXPECT_LT(worst, 1e-3);
  // The Vieux-Port (43.295 N, 5.374 E) lies inside the grid and inside the commune.
  const auto vp = g.fromLonLat(5.374, 43.295);
  EXPECT_TRUE(g.cellOf(vp[0], vp[1]).has_value());
  EXPECT_FALSE(g.cellOf(g.spec().x0 - 1.0, g.spec().y0).has_value());
  EXPECT_FALSE(g.cellOf(g.spec().x0, g.spec().y0 + g.ny() * 100.0).has_value());
}

TEST(CityGrid, MarseilleMaskCoversAbout240SquareKilometres) {
  const CityGrid g(MPI_COMM_WORLD, marseille());
  // 238.1 km^2 for the dissolved quartiers, 240.6 km^2 official; 100 m cells: within a few km^2.
  EXPECT_GT(g.activeArea(), 235.0);
  EXPECT_LT(g.activeArea(), 243.0);
  // Rank invariance of the mask: the count is the same at every decomposition (see the expected file too).
  EXPECT_EQ(g.activeCells(), 23839);
  EXPECT_NE(g.summary().find("EPSG:2154"), std::string::npos);
}

TEST(CityGrid, BadSpecsAreUsageErrors) {
  GridSpec s = lattice(8, 8, Boundary::ZeroFlux);
  s.px = 3;
  s.py = 5;
  EXPECT_THROW(CityGrid(MPI_COMM_WORLD, s), vigie::core::Error);
  GridSpec geographic = lattice(8, 8, Boundary::ZeroFlux);
  geographic.epsg = 4326;  // degrees, not metres
  EXPECT_THROW(CityGrid(MPI_COMM_WORLD, geographic), vigie::core::Error);
  GridSpec only_px = lattice(8, 8, Boundary::ZeroFlux);
  only_px.px = 1;  // py follows from the rank count
  const CityGrid g(MPI_COMM_WORLD, only_px);
  EXPECT_EQ(g.processors()[0], 1);
  EXPECT_THROW(vigie::grid::parseCrs("WGS84"), vigie::core::Error);
  EXPECT_EQ(vigie::grid::parseCrs("EPSG:2154"), 2154);
  EXPECT_EQ(vigie::grid::parseCrs("none"), 0);
}

}  // namespace

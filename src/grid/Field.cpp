#include "grid/Field.hpp"

#include <algorithm>
#include <limits>

#include "core/Error.hpp"
#include "core/Reduce.hpp"

namespace vigie::grid {

Field::Field(const CityGrid& grid, std::string name, double initial)
    : m_grid(&grid), m_name(std::move(name)) {
  VIGIE_CHECK_PETSC(DMCreateGlobalVector(grid.dm(), &m_global));
  VIGIE_CHECK_PETSC(DMCreateLocalVector(grid.dm(), &m_local));
  VIGIE_CHECK_PETSC(PetscObjectSetName(reinterpret_cast<PetscObject>(m_global), m_name.c_str()));
  VIGIE_CHECK_PETSC(VecSet(m_global, initial));
  VIGIE_CHECK_PETSC(VecSet(m_local, initial));
  PetscInt gi0 = 0, gj0 = 0, gni = 0, gnj = 0;
  VIGIE_CHECK_PETSC(DMDAGetGhostCorners(grid.dm(), &gi0, &gj0, nullptr, &gni, &gnj, nullptr));
  m_gi0 = static_cast<int>(gi0);
  m_gj0 = static_cast<int>(gj0);
  m_gni = static_cast<int>(gni);
  m_gnj = static_cast<int>(gnj);
}

Field::~Field() {
  if (m_local != nullptr) VecDestroy(&m_local);
  if (m_global != nullptr) VecDestroy(&m_global);
}

void Field::updateGhosts() {
  VIGIE_CHECK_PETSC(DMGlobalToLocalBegin(m_grid->dm(), m_global, INSERT_VALUES, m_local));
  VIGIE_CHECK_PETSC(DMGlobalToLocalEnd(m_grid->dm(), m_global, INSERT_VALUES, m_local));
  const PetscScalar* a = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_local, &a));
  m_ghost_copy.assign(a, a + static_cast<std::size_t>(m_gni) * static_cast<std::size_t>(m_gnj));
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_local, &a));
  if (m_grid->spec().boundary != Boundary::ZeroFlux) return;
  // Ghost cells outside the grid take the value of the nearest edge cell: zero gradient across the edge.
  const int nx = m_grid->nx();
  const int ny = m_grid->ny();
  auto at = [&](int i, int j) -> double& {
    return m_ghost_copy[static_cast<std::size_t>(j - m_gj0) * static_cast<std::size_t>(m_gni) +
                        static_cast<std::size_t>(i - m_gi0)];
  };
  for (int j = m_gj0; j < m_gj0 + m_gnj; ++j) {
    for (int i = m_gi0; i < m_gi0 + m_gni; ++i) {
      if (i >= 0 && i < nx && j >= 0 && j < ny) continue;
      const int ci = std::clamp(i, 0, nx - 1);
      const int cj = std::clamp(j, 0, ny - 1);
      at(i, j) = at(ci, cj);
    }
  }
}

double Field::ghosted(int i, int j) const {
  const int li = i - m_gi0;
  const int lj = j - m_gj0;
  if (li < 0 || lj < 0 || li >= m_gni || lj >= m_gnj || m_ghost_copy.empty()) {
    throw core::Error(core::ExitCode::Internal, "Field " + m_name + ": cell (" + std::to_string(i) + ", " +
                                                    std::to_string(j) + ") is outside the ghosted box");
  }
  return m_ghost_copy[static_cast<std::size_t>(lj) * static_cast<std::size_t>(m_gni) +
                      static_cast<std::size_t>(li)];
}

void Field::getOwned(std::span<double> out) const {
  PetscInt n = 0;
  VIGIE_CHECK_PETSC(VecGetLocalSize(m_global, &n));
  if (static_cast<std::size_t>(n) != out.size())
    throw core::Error(core::ExitCode::Internal, "Field::getOwned: span size does not match the owned box");
  const PetscScalar* a = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_global, &a));
  std::copy(a, a + n, out.begin());
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_global, &a));
}

void Field::setOwned(std::span<const double> in) {
  PetscInt n = 0;
  VIGIE_CHECK_PETSC(VecGetLocalSize(m_global, &n));
  if (static_cast<std::size_t>(n) != in.size())
    throw core::Error(core::ExitCode::Internal, "Field::setOwned: span size does not match the owned box");
  PetscScalar* a = nullptr;
  VIGIE_CHECK_PETSC(VecGetArray(m_global, &a));
  std::copy(in.begin(), in.end(), a);
  VIGIE_CHECK_PETSC(VecRestoreArray(m_global, &a));
}

double Field::sum() const {
  std::vector<double> v(static_cast<std::size_t>(m_grid->ownedBox().ni) *
                        static_cast<std::size_t>(m_grid->ownedBox().nj));
  getOwned(v);
  const auto idx = m_grid->ownedGlobalIndices();
  return core::orderedSum(m_grid->comm(), idx, v);
}

double Field::max() const {
  PetscReal m = 0;
  VIGIE_CHECK_PETSC(VecMax(m_global, nullptr, &m));
  return static_cast<double>(m);
}

}  // namespace vigie::grid

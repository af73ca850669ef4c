#pragma once
/// A scalar field on the city grid: a PETSc global vector (owned cells) and a ghosted local vector.
#include <petscvec.h>

#include <span>
#include <string>

#include "grid/CityGrid.hpp"

namespace vigie::grid {

/// One double per cell. Kernels read the ghosted view and write the owned view.
class Field {
 public:
  /// Collective. All values set to `initial`.
  Field(const CityGrid& grid, std::string name, double initial = 0.0);
  ~Field();
  Field(const Field&) = delete;
  Field& operator=(const Field&) = delete;

  [[nodiscard]] const std::string& name() const noexcept { return m_name; }
  [[nodiscard]] const CityGrid& grid() const noexcept { return *m_grid; }
  [[nodiscard]] Vec global() const noexcept { return m_global; }
  [[nodiscard]] Vec local() const noexcept { return m_local; }

  /// Collective. Fills the ghost layer from the neighbouring ranks (and, with zero-flux boundaries, copies
  /// the edge cells outward so a 5-point stencil sees no gradient across the boundary). The one ghost
  /// exchange call.
  void updateGhosts();

  /// Not collective. Copies the owned values out, owned-box order.
  void getOwned(std::span<double> out) const;
  /// Not collective. Sets the owned values from owned-box order (ghosts are stale until updateGhosts()).
  void setOwned(std::span<const double> in);
  /// Not collective. Value of a ghosted cell (i, j) in global indices, i in [i0-1, i0+ni], j likewise; valid
  /// after updateGhosts().
  [[nodiscard]] double ghosted(int i, int j) const;
  /// As ghosted(), without the bounds check: for kernels that loop over the owned box (i0-1..i0+ni, ...).
  [[nodiscard]] double ghostedUnchecked(int i, int j) const noexcept {
    return m_ghost_copy[static_cast<std::size_t>(j - m_gj0) * static_cast<std::size_t>(m_gni) +
                        static_cast<std::size_t>(i - m_gi0)];
  }

  /// Collective. Sum over all cells in global index order (bit-identical at any rank count).
  [[nodiscard]] double sum() const;
  /// Collective. Maximum over all cells.
  [[nodiscard]] double max() const;

 private:
  const CityGrid* m_grid;
  std::string m_name;
  Vec m_global = nullptr;
  Vec m_local = nullptr;
  // Ghosted box, cached after updateGhosts().
  int m_gi0 = 0, m_gj0 = 0, m_gni = 0, m_gnj = 0;
  std::vector<double> m_ghost_copy;
};

}  // namespace vigie::grid

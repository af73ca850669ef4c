#include "assim/EnsembleFilter.hpp"

#include <mpi.h>
#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::assim {

using core::Error;
using core::ExitCode;

double anscombe(double count) noexcept {
  return 2.0 * std::sqrt(count + 0.375);
}

double gaspariCohn(double d, double radius) noexcept {
  // Gaspari and Cohn (1999), eq. 4.10, with half-width c = radius / 2 (support [0, 2c)).
  const double r = 2.0 * std::abs(d) / radius;
  if (r >= 2.0) return 0.0;
  if (r <= 1.0) return (((-0.25 * r + 0.5) * r + 0.625) * r - 5.0 / 3.0) * r * r + 1.0;
  return ((((r / 12.0 - 0.5) * r + 0.625) * r + 5.0 / 3.0) * r - 5.0) * r + 4.0 - 2.0 / (3.0 * r);
}

namespace {

/// Cyclic Jacobi eigen-decomposition of the symmetric n x n matrix `a` (row-major, destroyed): eigenvalues
/// in `lam`, eigenvectors in the columns of `q`. Deterministic (fixed sweep order).
void jacobiEigen(std::vector<double>& a, int n, std::vector<double>& lam, std::vector<double>& q) {
  const auto at = [n](int r, int c) {
    return static_cast<std::size_t>(r) * static_cast<std::size_t>(n) + static_cast<std::size_t>(c);
  };
  q.assign(static_cast<std::size_t>(n) * static_cast<std::size_t>(n), 0.0);
  for (int r = 0; r < n; ++r) q[at(r, r)] = 1.0;
  for (int sweep = 0; sweep < 100; ++sweep) {
    double off = 0.0, diag = 0.0;
    for (int r = 0; r < n; ++r) {
      diag += a[at(r, r)] * a[at(r, r)];
      for (int c = r + 1; c < n; ++c) off += a[at(r, c)] * a[at(r, c)];
    }
    if (off <= 1e-30 * diag) break;
    for (int p = 0; p < n - 1; ++p) {
      for (int s = p + 1; s < n; ++s) {
        const double apq = a[at(p, s)];
        if (apq == 0.0) continue;
        const double theta = (a[at(s, s)] - a[at(p, p)]) / (2.0 * apq);
        const double t = (theta >= 0.0 ? 1.0 : -1.0) / (std::abs(theta) + std::sqrt(theta * theta + 1.0));
        const double c = 1.0 / std::sqrt(t * t + 1.0);
        const double sn = t * c;
        for (int k = 0; k < n; ++k) {  // columns p and s
          const double akp = a[at(k, p)], aks = a[at(k, s)];
          a[at(k, p)] = c * akp - sn * aks;
          a[at(k, s)] = sn * akp + c * aks;
        }
        for (int k = 0; k < n; ++k) {  // rows p and s
          const double apk = a[at(p, k)], ask = a[at(s, k)];
          a[at(p, k)] = c * apk - sn * ask;
          a[at(s, k)] = sn * apk + c * ask;
        }
        for (int k = 0; k < n; ++k) {
          const double qkp = q[at(k, p)], qks = q[at(k, s)];
          q[at(k, p)] = c * qkp - sn * qks;
          q[at(k, s)] = sn * qkp + c * qks;
        }
      }
    }
  }
  lam.resize(static_cast<std::size_t>(n));
  for (int r = 0; r < n; ++r) lam[static_cast<std::size_t>(r)] = a[at(r, r)];
}

}  // namespace

AnalysisSummary analyse(const grid::CityGrid& grid, std::vector<std::vector<double>>& ensemble,
                        std::span<const double> counts, const FilterSettings& settings) {
  const int K = static_cast<int>(ensemble.size());
  const auto& box = grid.ownedBox();
  const std::size_t n_owned = static_cast<std::size_t>(box.ni) * static_cast<std::size_t>(box.nj);
  if (K < 2) throw Error(ExitCode::Internal, "assim::analyse: the ensemble needs at least 2 members");
  for (const auto& m : ensemble)
    if (m.size() != n_owned)
      throw Error(ExitCode::Internal, "assim::analyse: a member does not match the owned box");
  if (counts.size() != n_owned)
    throw Error(ExitCode::Internal, "assim::analyse: the counts do not match the owned box");
  if (!(settings.localisation_radius > 0.0) || !(settings.inflation >= 1.0) ||
      !(settings.cycle_length > 0.0) || !(settings.obs_error_variance > 0.0) ||
      !std::isfinite(settings.localisation_radius) || !std::isfinite(settings.inflation) ||
      !std::isfinite(settings.cycle_length) || !std::isfinite(settings.obs_error_variance))
    throw Error(
        ExitCode::Usage,
        "assimilation: localisation radius, cycle length and observation error variance must be finite "
        "and > 0, inflation finite and >= 1",
        true);

  const auto& mask = grid.ownedMask();
  const int dof = K + 1;  // h(x_k) for each member, then y (NaN where there is no observation)
  std::vector<double> packed(n_owned * static_cast<std::size_t>(dof), 0.0);
  int bad = 0;
  long long n_obs_local = 0;
  for (std::size_t c = 0; c < n_owned; ++c) {
    double* p = &packed[c * static_cast<std::size_t>(dof)];
    p[K] = std::nan("");
    if (mask[c] == 0) continue;
    if (!std::isfinite(counts[c]) || counts[c] < 0.0) bad = 1;
    for (int k = 0; k < K; ++k) {
      const double x = ensemble[static_cast<std::size_t>(k)][c];
      const double h = 2.0 * std::sqrt(std::exp(x) * settings.cycle_length + 0.375);
      if (!std::isfinite(h)) bad = 1;
      p[k] = h;
    }
    p[K] = anscombe(counts[c]);
    ++n_obs_local;
  }
  int bad_any = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&bad, &bad_any, 1, MPI_INT, MPI_MAX, grid.comm()));
  if (bad_any != 0)
    throw Error(
        ExitCode::Numerical,
        "assimilation: non-finite log-intensity or invalid (negative or non-finite) count in an active "
        "cell",
        true);
  AnalysisSummary summary;
  VIGIE_CHECK_MPI(MPI_Allreduce(&n_obs_local, &summary.observations, 1, MPI_LONG_LONG, MPI_SUM, grid.comm()));

  // Halo: the offsets within the radius. On a periodic grid the window is clipped so no cell appears twice.
  const bool periodic = grid.spec().boundary == grid::Boundary::Periodic;
  const double cell = grid.spec().cell;
  const int w = static_cast<int>(std::ceil(settings.localisation_radius / cell));
  const int wx = std::min(w, periodic ? (grid.nx() - 1) / 2 : grid.nx() - 1);
  const int wy = std::min(w, periodic ? (grid.ny() - 1) / 2 : grid.ny() - 1);
  const int s = std::max(std::max(wx, wy), 1);
  summary.halo_width = s;

  // A DMDA with the grid's decomposition and a stencil as wide as the radius, unless some rank's box is
  // narrower than the halo (PETSc needs each box at least as wide as the stencil): then gather the grid.
  PetscInt mpx = 1, mpy = 1;
  VIGIE_CHECK_PETSC(DMDAGetInfo(grid.dm(), nullptr, nullptr, nullptr, nullptr, &mpx, &mpy, nullptr, nullptr,
                                nullptr, nullptr, nullptr, nullptr, nullptr));
  const PetscInt* lx = nullptr;
  const PetscInt* ly = nullptr;
  VIGIE_CHECK_PETSC(DMDAGetOwnershipRanges(grid.dm(), &lx, &ly, nullptr));
  PetscInt narrowest = grid.nx() + grid.ny();
  for (PetscInt r = 0; r < mpx; ++r) narrowest = std::min(narrowest, lx[r]);
  for (PetscInt r = 0; r < mpy; ++r) narrowest = std::min(narrowest, ly[r]);
  summary.whole_grid_gather = narrowest < s;

  std::vector<double> whole;  // whole-grid path
  DM da = nullptr;
  Vec gvec = nullptr, lvec = nullptr;
  const PetscScalar* larr = nullptr;
  PetscInt gxs = 0, gys = 0, gxm = 0;
  if (summary.whole_grid_gather) {
    whole = models::gatherWholeGrid(grid, packed, dof);
  } else {
    const DMBoundaryType bt = periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_NONE;
    VIGIE_CHECK_PETSC(DMDACreate2d(grid.comm(), bt, bt, DMDA_STENCIL_BOX, grid.nx(), grid.ny(), mpx, mpy, dof,
                                   s, lx, ly, &da));
    VIGIE_CHECK_PETSC(DMSetUp(da));
    VIGIE_CHECK_PETSC(DMCreateGlobalVector(da, &gvec));
    VIGIE_CHECK_PETSC(DMCreateLocalVector(da, &lvec));
    PetscScalar* garr = nullptr;
    VIGIE_CHECK_PETSC(VecGetArray(gvec, &garr));
    std::copy(packed.begin(), packed.end(), garr);  // owned-box order, dof interleaved, as the DMDA stores it
    VIGIE_CHECK_PETSC(VecRestoreArray(gvec, &garr));
    VIGIE_CHECK_PETSC(DMGlobalToLocalBegin(da, gvec, INSERT_VALUES, lvec));
    VIGIE_CHECK_PETSC(DMGlobalToLocalEnd(da, gvec, INSERT_VALUES, lvec));
    VIGIE_CHECK_PETSC(DMDAGetGhostCorners(da, &gxs, &gys, nullptr, &gxm, nullptr, nullptr));
    VIGIE_CHECK_PETSC(VecGetArrayRead(lvec, &larr));
  }
  const auto cellData = [&](int i, int j) -> const double* {
    if (summary.whole_grid_gather) {
      const int wi = ((i % grid.nx()) + grid.nx()) % grid.nx();
      const int wj = ((j % grid.ny()) + grid.ny()) % grid.ny();
      return &whole[static_cast<std::size_t>(grid.globalIndex(wi, wj)) * static_cast<std::size_t>(dof)];
    }
    return &larr[(static_cast<std::size_t>(j - gys) * static_cast<std::size_t>(gxm) +
                  static_cast<std::size_t>(i - gxs)) *
                 static_cast<std::size_t>(dof)];
  };

  // Per-cell LETKF (Hunt et al. 2007, section 2.3), in ensemble space.
  const std::size_t Kz = static_cast<std::size_t>(K);
  std::vector<double> yp, dlt, rinv, A, lam, Q, xb(Kz), v(Kz), ctc(Kz);
  const double km1 = static_cast<double>(K - 1);
  std::size_t c = 0;
  for (int j = box.j0; j < box.j0 + box.nj; ++j) {
    for (int i = box.i0; i < box.i0 + box.ni; ++i, ++c) {
      if (mask[c] == 0) continue;
      yp.clear();
      dlt.clear();
      rinv.clear();
      for (int dj = -wy; dj <= wy; ++dj) {
        const int nj = j + dj;
        if (!periodic && (nj < 0 || nj >= grid.ny())) continue;
        for (int di = -wx; di <= wx; ++di) {
          const int ni = i + di;
          if (!periodic && (ni < 0 || ni >= grid.nx())) continue;
          const double rho = gaspariCohn(cell * std::hypot(static_cast<double>(di), static_cast<double>(dj)),
                                         settings.localisation_radius);
          if (rho <= 0.0) continue;
          const double* p = cellData(ni, nj);
          if (std::isnan(p[K])) continue;
          double ybar = 0.0;
          for (int k = 0; k < K; ++k) ybar += p[k];
          ybar /= static_cast<double>(K);
          for (int k = 0; k < K; ++k) yp.push_back(p[k] - ybar);
          dlt.push_back(p[K] - ybar);
          rinv.push_back(rho / settings.obs_error_variance);
        }
      }
      const std::size_t L = rinv.size();
      // A = (K-1)/inflation I + Yb'^T R^-1 Yb'; c = Yb'^T R^-1 (y - ybar).
      A.assign(Kz * Kz, 0.0);
      std::fill(ctc.begin(), ctc.end(), 0.0);
      for (std::size_t k = 0; k < Kz; ++k) A[k * Kz + k] = km1 / settings.inflation;
      for (std::size_t l = 0; l < L; ++l) {
        const double* y = &yp[l * Kz];
        for (std::size_t a = 0; a < Kz; ++a) {
          const double ya = rinv[l] * y[a];
          ctc[a] += ya * dlt[l];
          for (std::size_t b = a; b < Kz; ++b) A[a * Kz + b] += ya * y[b];
        }
      }
      for (std::size_t a = 0; a < Kz; ++a)
        for (std::size_t b = a + 1; b < Kz; ++b) A[b * Kz + a] = A[a * Kz + b];
      jacobiEigen(A, K, lam, Q);
      // Scalar state: x_a,k = xbar + Xb' (wa + Wa[:, k]) with wa = Q L^-1 Q^T c, Wa = Q ((K-1) L^-1)^1/2 Q^T.
      double xbar = 0.0;
      for (std::size_t k = 0; k < Kz; ++k) xbar += ensemble[k][c];
      xbar /= static_cast<double>(K);
      for (std::size_t k = 0; k < Kz; ++k) xb[k] = ensemble[k][c] - xbar;
      double mean_inc = 0.0;
      for (std::size_t e = 0; e < Kz; ++e) {
        double ve = 0.0, qc = 0.0;
        for (std::size_t k = 0; k < Kz; ++k) {
          ve += xb[k] * Q[k * Kz + e];
          qc += Q[k * Kz + e] * ctc[k];
        }
        v[e] = ve;
        mean_inc += ve * qc / lam[e];
      }
      for (std::size_t k = 0; k < Kz; ++k) {
        double pert = 0.0;
        for (std::size_t e = 0; e < Kz; ++e) pert += v[e] * std::sqrt(km1 / lam[e]) * Q[k * Kz + e];
        ensemble[k][c] = xbar + mean_inc + pert;
      }
    }
  }
  if (!summary.whole_grid_gather) {
    VIGIE_CHECK_PETSC(VecRestoreArrayRead(lvec, &larr));
    VIGIE_CHECK_PETSC(VecDestroy(&lvec));
    VIGIE_CHECK_PETSC(VecDestroy(&gvec));
    VIGIE_CHECK_PETSC(DMDestroy(&da));
  }
  return summary;
}

}  // namespace vigie::assim

#include "models/short2008/Short2008Kernel.hpp"

#include <algorithm>
#include <cstddef>

namespace vigie::models::short2008 {

namespace {

/// Smallest face sum of attractiveness the drift divides by: keeps the face velocity finite (and zero)
/// between two cells whose attractiveness is exactly zero, which a covariate layer with zeros allows.
constexpr double kTinyA = 1e-300;

/// Upwind chemotactic flux out of a cell across one face, in units of nu. The face velocity is
/// v = 2 (A_j - A_c) / A_face with A_face the arithmetic mean: the lattice form of 2 grad(A) / A. It is
/// bounded by |v| <= 4 whatever A is, and it is exactly antisymmetric (the neighbour computes -v from the
/// same two sums), so what leaves one cell enters the other to the last bit.
inline double faceFlux(double a_c, double n_c, double a_j, double n_j, double active_j) noexcept {
  const double v = active_j * (4.0 * (a_j - a_c) / std::max(a_j + a_c, kTinyA));
  return v * (v > 0.0 ? n_c : n_j);
}

}  // namespace

void explicitRhs(const Coefficients& c, const Layout& l, const double* u, const double* a0,
                 const std::uint8_t* active, double* f) noexcept {
  const auto gni = static_cast<std::ptrdiff_t>(l.gni);
#pragma omp parallel for schedule(static)
  for (int j = l.j0; j < l.j0 + l.nj; ++j) {
    const std::ptrdiff_t g = static_cast<std::ptrdiff_t>(j - l.gj0) * gni + (l.i0 - l.gi0);
    const double* uc = u + 2 * g;
    const double* us = uc - 2 * gni;
    const double* un = uc + 2 * gni;
    const double* ac = a0 + g;
    const double* as = ac - gni;
    const double* an = ac + gni;
    const std::uint8_t* mc = active + g;
    const std::uint8_t* ms = mc - gni;
    const std::uint8_t* mn = mc + gni;
    double* fo = f + 2 * static_cast<std::ptrdiff_t>(j - l.j0) * l.ni;
    for (std::ptrdiff_t k = 0; k < l.ni; ++k) {
      const double b = uc[2 * k];
      const double n = uc[2 * k + 1];
      const double a = ac[k] + b;
      // Fixed order east, west, south, north in every cell: the sum does not depend on the decomposition.
      const double flux = ((faceFlux(a, n, ac[k + 1] + uc[2 * k + 2], uc[2 * k + 3], mc[k + 1]) +
                            faceFlux(a, n, ac[k - 1] + uc[2 * k - 2], uc[2 * k - 1], mc[k - 1])) +
                           faceFlux(a, n, as[k] + us[2 * k], us[2 * k + 1], ms[k])) +
                          faceFlux(a, n, an[k] + un[2 * k], un[2 * k + 1], mn[k]);
      const double on = mc[k];
      fo[2 * k] = on * (c.theta * n * a - c.omega * b);
      fo[2 * k + 1] = on * ((c.gamma - n * a) - c.nu * flux);
    }
  }
}

void diffusion(const Coefficients& c, const Layout& l, const double* u, const std::uint8_t* active,
               double alpha, double beta, double add, double* f) noexcept {
  const auto gni = static_cast<std::ptrdiff_t>(l.gni);
  const double kb = beta * c.eta * c.nu;
  const double kn = beta * c.nu;
#pragma omp parallel for schedule(static)
  for (int j = l.j0; j < l.j0 + l.nj; ++j) {
    const std::ptrdiff_t g = static_cast<std::ptrdiff_t>(j - l.gj0) * gni + (l.i0 - l.gi0);
    const double* uc = u + 2 * g;
    const double* us = uc - 2 * gni;
    const double* un = uc + 2 * gni;
    const std::uint8_t* mc = active + g;
    const std::uint8_t* ms = mc - gni;
    const std::uint8_t* mn = mc + gni;
    double* fo = f + 2 * static_cast<std::ptrdiff_t>(j - l.j0) * l.ni;
    for (std::ptrdiff_t k = 0; k < l.ni; ++k) {
      const double b = uc[2 * k];
      const double n = uc[2 * k + 1];
      const double me = mc[k + 1];
      const double mw = mc[k - 1];
      const double mS = ms[k];
      const double mN = mn[k];
      const double on = mc[k];
      const double lap_b = ((me * (uc[2 * k + 2] - b) + mw * (uc[2 * k - 2] - b)) + mS * (us[2 * k] - b)) +
                           mN * (un[2 * k] - b);
      const double lap_n =
          ((me * (uc[2 * k + 3] - n) + mw * (uc[2 * k - 1] - n)) + mS * (us[2 * k + 1] - n)) +
          mN * (un[2 * k + 1] - n);
      fo[2 * k] = add * fo[2 * k] + alpha * b + on * (kb * lap_b);
      fo[2 * k + 1] = add * fo[2 * k + 1] + alpha * n + on * (kn * lap_n);
    }
  }
}

void diffusionDiagonal(const Coefficients& c, const Layout& l, const std::uint8_t* active, double alpha,
                       double beta, double* d) noexcept {
  const auto gni = static_cast<std::ptrdiff_t>(l.gni);
  for (int j = l.j0; j < l.j0 + l.nj; ++j) {
    const std::ptrdiff_t g = static_cast<std::ptrdiff_t>(j - l.gj0) * gni + (l.i0 - l.gi0);
    const std::uint8_t* mc = active + g;
    double* out = d + 2 * static_cast<std::ptrdiff_t>(j - l.j0) * l.ni;
    for (std::ptrdiff_t k = 0; k < l.ni; ++k) {
      const double faces =
          mc[k] != 0 ? static_cast<double>(mc[k + 1] + mc[k - 1] + mc[k - gni] + mc[k + gni]) : 0.0;
      out[2 * k] = alpha - beta * c.eta * c.nu * faces;
      out[2 * k + 1] = alpha - beta * c.nu * faces;
    }
  }
}

}  // namespace vigie::models::short2008

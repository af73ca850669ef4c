#pragma once
/// The discrete spatial trigger kernel of the SEPP model and the model's parameters.
///
/// An offspring of a parent placed uniformly in cell c' lands at the parent's position plus an isotropic
/// Gaussian displacement of standard deviation sigma. K(c - c') is the probability that it lands in cell c.
/// It is separable, K(di, dj) = k(di) k(dj), with (h the cell side, a = h / sigma)
///
///   k(d) = E_{u ~ U(-1/2, 1/2)} [ Phi((d + 1/2 - u) a) - Phi((d - 1/2 - u) a) ]
///        = [ Psi(a (d + 1)) - 2 Psi(a d) + Psi(a (d - 1)) ] / a,      Psi(x) = x Phi(x) + phi(x),
///
/// since Psi is the antiderivative of Phi. For d >= 1 the linear part of Psi cancels in the second
/// difference, so the tails are computed with Psi(-x) = phi(x) - x Phi(-x) to keep their relative accuracy.
/// The kernel is truncated at R = ceil(4 sigma / h) + 1 cells (mass lost per axis < 1e-4, not renormalised:
/// the lost mass is offspring the model does not see, like those falling outside the grid). sigma = 0 is the
/// per-cell model (Mohler et al. 2015): R = 0 and k(0) = 1 exactly.
#include <vector>

namespace vigie::models::sepp {

/// Parameters of the SEPP model (the background field mu lives beside them, one value per cell).
struct SeppParams {
  double theta = 0.3;        ///< branching ratio: expected offspring per event
  double omega = 0.5;        ///< trigger decay rate, per day (mean trigger delay 1/omega days)
  double sigma_m = 0.0;      ///< trigger displacement SD per axis, metres (0 = same cell)
  std::vector<double> beta;  ///< covariate coefficients: temporal ones first, then spatial ones
};

/// The truncated separable kernel for one sigma on cells of side h.
class SeppKernel {
 public:
  /// Not collective. Throws Error(Usage) for a negative or non-finite sigma or a non-positive cell side.
  SeppKernel(double sigma_m, double cell_m);

  /// Truncation radius R in cells.
  [[nodiscard]] int radius() const noexcept { return m_radius; }
  /// k(d) for |d| <= R (0 beyond).
  [[nodiscard]] double at(int d) const noexcept {
    const int a = d < 0 ? -d : d;
    return a > m_radius ? 0.0 : m_weights[static_cast<std::size_t>(a)];
  }
  /// The weights k(-R), ..., k(R).
  [[nodiscard]] std::vector<double> weights() const;
  [[nodiscard]] double sigmaMetres() const noexcept { return m_sigma; }

  /// Not collective. k(d) for sigma / h = s without truncation (0 <= s).
  [[nodiscard]] static double weight(int d, double s);
  /// Not collective. The truncation radius for sigma / h = s.
  [[nodiscard]] static int radiusFor(double s);

 private:
  double m_sigma;
  int m_radius;
  std::vector<double> m_weights;  ///< k(0), ..., k(R)
};

}  // namespace vigie::models::sepp

#include "models/sepp/SeppKernel.hpp"

#include <cmath>

#include "core/Error.hpp"

namespace vigie::models::sepp {

namespace {

/// Psi(-x) = phi(x) - x Phi(-x) for x >= 0: the part of Psi left after removing its asymptote.
double psiTail(double x) {
  constexpr double inv_sqrt_2pi = 0.39894228040143267794;
  return inv_sqrt_2pi * std::exp(-0.5 * x * x) - x * 0.5 * std::erfc(x / std::sqrt(2.0));
}

}  // namespace

int SeppKernel::radiusFor(double s) {
  if (!(s > 0.0)) return 0;
  return static_cast<int>(std::ceil(4.0 * s)) + 1;
}

double SeppKernel::weight(int d, double s) {
  const int a = d < 0 ? -d : d;
  if (!(s > 0.0)) return a == 0 ? 1.0 : 0.0;
  const double inv = 1.0 / s;  // h / sigma
  if (a == 0) {
    // [Psi(inv) - 2 Psi(0) + Psi(-inv)] / inv with Psi(inv) = inv + Psi(-inv).
    return (inv + 2.0 * psiTail(inv) - 2.0 * psiTail(0.0)) / inv;
  }
  // Every argument is >= 0, so the asymptote x of Psi(x) = x + Psi(-x) cancels in the second difference.
  const double v = psiTail(inv * (a + 1)) - 2.0 * psiTail(inv * a) + psiTail(inv * (a - 1));
  return v > 0.0 ? v / inv : 0.0;
}

SeppKernel::SeppKernel(double sigma_m, double cell_m) : m_sigma(sigma_m), m_radius(0) {
  if (!(sigma_m >= 0.0) || !std::isfinite(sigma_m))
    throw core::Error(core::ExitCode::Usage,
                      "sepp: sigma must be finite and >= 0 (got " + std::to_string(sigma_m) + ")");
  if (!(cell_m > 0.0) || !std::isfinite(cell_m))
    throw core::Error(core::ExitCode::Usage, "sepp: the cell side must be positive");
  const double s = sigma_m / cell_m;
  m_radius = radiusFor(s);
  for (int d = 0; d <= m_radius; ++d) m_weights.push_back(weight(d, s));
}

std::vector<double> SeppKernel::weights() const {
  std::vector<double> w;
  for (int d = -m_radius; d <= m_radius; ++d) w.push_back(at(d));
  return w;
}

}  // namespace vigie::models::sepp

// Binned SEPP on the city grid, fitted by EM with the branching structure.
//
// Bins [e_t, e_{t+1}), len_t = e_{t+1} - e_t, midpoints m_t; active cells c (the grid's mask); n(c, t)
// counts. Intensity (expected events per cell per bin):
//   lambda(c, t) = B(c, t) + theta (1 - exp(-omega len_t)) S(c, t),   B(c, t) = mu(c) exp(beta . z(c, t))
//   len_t S(c, t) = sum_{t' < t} exp(-omega (e_t - m_t')) (K * n_t')(c) S(c, t + 1) = exp(-omega len_t) S(c,
//   t) + exp(-omega len_t / 2) (K * n_t)(c)
// Events of bin t' are placed at m_t'; same-bin excitation is not modelled (it biases theta down by about
// omega len / 2 of the offspring). K is the kernel of SeppKernel.hpp; events outside the mask and in missing
// bins are dropped; offspring falling outside the grid or the mask are lost.
// Log-likelihood over active cells and non-missing bins: LL = sum [n log lambda - lambda - log n!].
//
// EM (an ECM: each conditional maximisation of the expected complete-data log-likelihood Q is exact, so LL
// never decreases when mu is per-cell). E-step: a pair (parent (c', t'), offspring (c, t)) has weight
//   w = n(c, t) theta (1 - e^{-omega len_t}) e^{-omega (e_t - m_t')} K(c - c') n(c', t') / lambda(c, t),
// and the background weight is w_bg = n B / lambda. Sums needed, all on the grid in O(cells x bins x R):
//   Wtr = sum n (1 - B / lambda);  P_t = the same per offspring bin;
//   Lag = sum_pairs w (e_t - m_t') = sum r L, r = n theta (1 - e^{-omega len}) / lambda, with the recursion
//     L(c, t + 1) = e^{-omega len_t} (L(c, t) + len_t S(c, t)) + e^{-omega len_t / 2} (len_t / 2) (K *
//     n_t)(c);
//   displacement histograms Wx(d), Wy(d) = sum_pairs w [offset along x (y) = d], from the adjoint
//     A(c, t') = sum_{t > t'} r(c, t) e^{-omega (e_t - m_t')}  (a backward recursion): a parent's pairs are
//     n(c', t') k(dx) k(dy) A(c' + (dx, dy), t').
// M-step: with a_t = sum_c' n(c', t) M(c') (M = K * mask: the kernel mass a parent keeps on active cells) and
// H_t(omega) = sum_{t'' > t, non-missing} e^{-omega (e_t'' - m_t)} (1 - e^{-omega len_t''}), the trigger
// compensator is theta Comp, Comp = sum_t a_t H_t(omega), and
//   Q_trig = Wtr log theta + sum_t P_t log(1 - e^{-omega len_t}) - omega Lag
//            + sum_d (Wx(d) + Wy(d)) log k_sigma(d) - theta Comp(omega, sigma).
//   (theta, omega): theta = Wtr / Comp(omega) profiled, omega by a golden-section search on log omega;
//   sigma: golden-section search of Q_trig over log sigma (this is exact for the cell discretisation; the
//     compensator term accounts for mass lost at the edges); then theta = Wtr / Comp again.
//   mu(c) = G * (sum_t w_bg) / G * (exp(beta_s . s) sum_t exp(beta_t . z_t) len_t) with G a Gaussian smoother
//     of SD mu_bandwidth_m (none when 0: the exact conditional maximiser);
//   beta: Newton steps with step halving on Q_bg = sum w_bg beta . z - sum B.
// Standard errors of beta: observed information of LL at the optimum,
//   I = sum n (B^2 / lambda^2 - B / lambda) z z^T + sum B z z^T  (mu held fixed).
// Goodness of fit: time rescaling of the city-total process Lambda_t = sum_c lambda(c, t); the events of bin
// t are placed uniformly (RandomStream(seed, t, 0)) in [Lambda(e_t), Lambda(e_t) + Lambda_t); the gaps should
// be Exp(1): KS statistic with the asymptotic Kolmogorov p-value.
//
// Rank invariance: every rank holds the whole (sparse) event list, computes the fields on its owned box grown
// by the kernel radius (so no per-bin communication), accumulates per cell in time order, and every global
// sum is an exact fixed-point sum (128-bit integers, 2^-64 resolution), so results do not depend on the
// decomposition or the thread count.
#include "models/sepp/SeppFit.hpp"

#include <mpi.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/Error.hpp"
#include "core/Rng.hpp"
#include "grid/CityGrid.hpp"
#include "models/baselines/BaselineSupport.hpp"

namespace vigie::models::sepp {

using core::Error;
using core::ExitCode;

namespace {

__extension__ typedef __int128 Int128;
__extension__ typedef unsigned __int128 UInt128;

/// A sum that does not depend on the order of its terms: each term is rounded to a multiple of 2^-64 and
/// added as a 128-bit integer.
class ExactSums {
 public:
  explicit ExactSums(std::size_t n = 0) : m_v(n, 0) {}
  void resize(std::size_t n) { m_v.assign(n, 0); }
  [[nodiscard]] std::size_t size() const { return m_v.size(); }
  void add(std::size_t k, double x) {
    if (!std::isfinite(x) || std::fabs(x) > 0x1p60)
      throw Error(ExitCode::Numerical, "sepp: non-finite or huge value in a sum (diverging fit?)");
    m_v[k] += static_cast<Int128>(std::nearbyint(std::ldexp(x, 64)));
  }
  /// Collective. Sums over the ranks of `comm` (exact, so any order gives the same bits).
  void allreduce(MPI_Comm comm) {
    int size = 1;
    VIGIE_CHECK_MPI(MPI_Comm_size(comm, &size));
    if (size == 1 || m_v.empty()) return;
    const auto n = m_v.size();
    std::vector<std::int64_t> mine(2 * n);
    for (std::size_t k = 0; k < n; ++k) {
      const auto u = static_cast<UInt128>(m_v[k]);
      mine[2 * k] = static_cast<std::int64_t>(static_cast<std::uint64_t>(u >> 64));
      mine[2 * k + 1] = static_cast<std::int64_t>(static_cast<std::uint64_t>(u));
    }
    std::vector<std::int64_t> all(2 * n * static_cast<std::size_t>(size));
    VIGIE_CHECK_MPI(MPI_Allgather(mine.data(), static_cast<int>(2 * n), MPI_INT64_T, all.data(),
                                  static_cast<int>(2 * n), MPI_INT64_T, comm));
    std::fill(m_v.begin(), m_v.end(), 0);
    for (std::size_t r = 0; r < static_cast<std::size_t>(size); ++r)
      for (std::size_t k = 0; k < n; ++k) {
        const auto hi = static_cast<UInt128>(static_cast<std::uint64_t>(all[(r * n + k) * 2]));
        const auto lo = static_cast<UInt128>(static_cast<std::uint64_t>(all[(r * n + k) * 2 + 1]));
        m_v[k] += static_cast<Int128>((hi << 64) | lo);
      }
  }
  [[nodiscard]] double value(std::size_t k) const { return std::ldexp(static_cast<double>(m_v[k]), -64); }

 private:
  std::vector<Int128> m_v;
};

/// A rectangle of cells [i0, i0 + ni) x [j0, j0 + nj).
struct Rect {
  int i0 = 0, j0 = 0, ni = 0, nj = 0;
  [[nodiscard]] bool contains(int i, int j) const { return i >= i0 && i < i0 + ni && j >= j0 && j < j0 + nj; }
  [[nodiscard]] std::size_t at(int i, int j) const {
    return static_cast<std::size_t>(j - j0) * static_cast<std::size_t>(ni) + static_cast<std::size_t>(i - i0);
  }
  [[nodiscard]] std::size_t cells() const {
    return static_cast<std::size_t>(ni) * static_cast<std::size_t>(nj);
  }
  [[nodiscard]] Rect grown(int r, int nx, int ny) const {
    Rect g;
    g.i0 = std::max(0, i0 - r);
    g.j0 = std::max(0, j0 - r);
    g.ni = std::min(nx, i0 + ni + r) - g.i0;
    g.nj = std::min(ny, j0 + nj + r) - g.j0;
    return g;
  }
};

/// M(c) = sum over active in-grid cells c2 of K(c2 - c), for the cells of `out` (whole mask given).
std::vector<double> inMaskMass(const SeppKernel& kernel, const std::vector<std::uint8_t>& mask, int nx,
                               int ny, const Rect& out) {
  const int r = kernel.radius();
  const Rect rows = out.grown(r, nx, ny);
  std::vector<double> tmp(static_cast<std::size_t>(out.ni) * static_cast<std::size_t>(rows.nj), 0.0);
  for (int j = rows.j0; j < rows.j0 + rows.nj; ++j)
    for (int i = out.i0; i < out.i0 + out.ni; ++i) {
      double v = 0.0;
      for (int d = std::max(-r, -i); d <= std::min(r, nx - 1 - i); ++d)
        if (mask[static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) +
                 static_cast<std::size_t>(i + d)])
          v += kernel.at(d);
      tmp[static_cast<std::size_t>(j - rows.j0) * static_cast<std::size_t>(out.ni) +
          static_cast<std::size_t>(i - out.i0)] = v;
    }
  std::vector<double> m(out.cells(), 0.0);
  for (int j = out.j0; j < out.j0 + out.nj; ++j)
    for (int i = out.i0; i < out.i0 + out.ni; ++i) {
      double v = 0.0;
      for (int d = std::max(-r, -j); d <= std::min(r, ny - 1 - j); ++d)
        v += kernel.at(d) * tmp[static_cast<std::size_t>(j + d - rows.j0) * static_cast<std::size_t>(out.ni) +
                                static_cast<std::size_t>(i - out.i0)];
      m[out.at(i, j)] = v;
    }
  return m;
}

/// Golden-section maximisation of f on [a, b]; returns the best point seen.
template <class F>
double goldenMax(F&& f, double a, double b, int iterations) {
  const double g = 0.5 * (std::sqrt(5.0) - 1.0);
  double c = b - g * (b - a);
  double d = a + g * (b - a);
  double fc = f(c);
  double fd = f(d);
  for (int k = 0; k < iterations; ++k) {
    if (fc >= fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = f(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = f(d);
    }
  }
  return fc >= fd ? c : d;
}

/// Inverse of a small symmetric matrix by Gauss-Jordan with partial pivoting; empty if singular.
std::vector<double> invert(std::vector<double> a, std::size_t n) {
  std::vector<double> inv(n * n, 0.0);
  for (std::size_t k = 0; k < n; ++k) inv[k * n + k] = 1.0;
  for (std::size_t c = 0; c < n; ++c) {
    std::size_t p = c;
    for (std::size_t r = c + 1; r < n; ++r)
      if (std::fabs(a[r * n + c]) > std::fabs(a[p * n + c])) p = r;
    if (!(std::fabs(a[p * n + c]) > 1e-300)) return {};
    for (std::size_t k = 0; k < n; ++k) {
      std::swap(a[c * n + k], a[p * n + k]);
      std::swap(inv[c * n + k], inv[p * n + k]);
    }
    const double piv = a[c * n + c];
    for (std::size_t k = 0; k < n; ++k) {
      a[c * n + k] /= piv;
      inv[c * n + k] /= piv;
    }
    for (std::size_t r = 0; r < n; ++r) {
      if (r == c) continue;
      const double f = a[r * n + c];
      if (f == 0.0) continue;
      for (std::size_t k = 0; k < n; ++k) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

}  // namespace

/// The E-step, M-step and diagnostics (a friend of SeppFit through the nested declaration).
struct SeppFit::Impl {
  /// What one E-step pass returns (global values are the same on every rank).
  struct Stats {
    double ll = 0.0;
    double wtr = 0.0;
    double lag = 0.0;
    std::vector<double> p;           ///< per bin
    std::vector<double> a;           ///< per bin
    std::vector<double> hist;        ///< Wx(d) + Wy(d), d = -R..R
    std::vector<double> wbg;         ///< owned cells
    std::vector<double> gz;          ///< owned cells x Kt
    std::vector<double> info;        ///< event part of the observed information (P x P)
    std::vector<double> last_state;  ///< owned
  };

  const SeppFit& f;
  const grid::CityGrid& g;
  int nx, ny;
  std::size_t nt, kt, ks, np;
  Rect owned;
  std::vector<double> len, decay_unused;

  explicit Impl(const SeppFit& fit) : f(fit), g(*fit.m_grid), nx(fit.m_grid->nx()), ny(fit.m_grid->ny()) {
    nt = f.m_data.edges.size() - 1;
    kt = f.m_data.temporal_names.size();
    ks = f.m_data.spatial_names.size();
    np = kt + ks;
    const auto& b = g.ownedBox();
    owned = Rect{b.i0, b.j0, b.ni, b.nj};
    for (std::size_t t = 0; t < nt; ++t) len.push_back(f.m_data.edges[t + 1] - f.m_data.edges[t]);
  }

  [[nodiscard]] bool missing(std::size_t t) const {
    return !f.m_data.missing.empty() && f.m_data.missing[t] != 0;
  }

  /// v(t) = exp(beta_t . z_t) len_t (0 for missing bins).
  [[nodiscard]] std::vector<double> timeFactor(const std::vector<double>& beta) const {
    std::vector<double> v(nt, 0.0);
    for (std::size_t t = 0; t < nt; ++t) {
      if (missing(t)) continue;
      double z = 0.0;
      for (std::size_t k = 0; k < kt; ++k) z += beta[k] * f.m_data.temporal[t * kt + k];
      v[t] = std::exp(z) * len[t];
    }
    return v;
  }

  /// u(c) = mu(c) exp(beta_s . s(c)) on the whole grid (0 outside the mask).
  [[nodiscard]] std::vector<double> cellFactor(const std::vector<double>& beta,
                                               const std::vector<double>& mu_global) const {
    std::vector<double> u(mu_global.size(), 0.0);
    for (std::size_t c = 0; c < u.size(); ++c) {
      if (f.m_mask[c] == 0) continue;
      double z = 0.0;
      for (std::size_t q = 0; q < ks; ++q) z += beta[kt + q] * f.m_spatial[c * ks + q];
      u[c] = mu_global[c] * std::exp(z);
    }
    return u;
  }

  [[nodiscard]] bool sparseBin(std::size_t t, int r, SeppFilterMode mode) const {
    if (mode == SeppFilterMode::Sparse) return true;
    if (mode == SeppFilterMode::Dense) return false;
    const auto events = f.m_event_offsets[t + 1] - f.m_event_offsets[t];
    return static_cast<double>(events) * (2 * r + 1) <= 2.0 * static_cast<double>(nx) * ny;
  }

  /// H_t(omega) per bin and G = sum over non-missing bins of (1 - e^{-omega len}) from each edge on.
  [[nodiscard]] std::vector<double> laterMass(double omega) const {
    std::vector<double> h(nt, 0.0);
    double gnext = 0.0;
    for (std::size_t t = nt; t-- > 0;) {
      h[t] = std::exp(-omega * len[t] / 2) * gnext;
      const double dec = std::exp(-omega * len[t]);
      gnext = (missing(t) ? 0.0 : 1.0 - dec) + dec * gnext;
    }
    return h;
  }

  /// One E-step pass at (params, mu). `hist`: run the backward pass; `info`: the observed information;
  /// `states`: if non-null, S at every edge on the owned cells.
  Stats pass(const SeppParams& p, const std::vector<double>& mu_global, SeppFilterMode mode, bool hist,
             bool info, std::vector<double>* states) const {
    const SeppKernel kernel(p.sigma_m, g.spec().cell);
    const int r = kernel.radius();
    const Rect halo = owned.grown(r, nx, ny);
    const Rect ext = halo.grown(r, nx, ny);
    const auto u = cellFactor(p.beta, mu_global);
    const auto v = timeFactor(p.beta);
    const auto mass = inMaskMass(kernel, f.m_mask, nx, ny, owned);
    const auto kw = kernel.weights();  // index d + r
    const auto nev = f.m_event_cell.size();
    std::vector<double> rr(nev, 0.0);
    std::vector<double> s(halo.cells(), 0.0), lag(halo.cells(), 0.0), fk(halo.cells(), 0.0);
    std::vector<double> nbuf, tmp;
    Stats st;
    st.wbg.assign(owned.cells(), 0.0);
    st.gz.assign(owned.cells() * kt, 0.0);
    ExactSums scal(3), pt(nt), at(nt), inf(info ? np * np : 0);
    if (states) states->assign((nt + 1) * owned.cells(), 0.0);
    const auto cellIJ = [this](std::int64_t gidx) {
      return std::array<int, 2>{static_cast<int>(gidx % nx), static_cast<int>(gidx / nx)};
    };
    for (std::size_t t = 0; t < nt; ++t) {
      const double dec = std::exp(-p.omega * len[t]);
      const double half = std::exp(-p.omega * len[t] / 2);
      const double trig = p.theta * (1.0 - dec);
      const auto e0 = static_cast<std::size_t>(f.m_event_offsets[t]);
      const auto e1 = static_cast<std::size_t>(f.m_event_offsets[t + 1]);
      bool any = false;
      for (std::size_t e = e0; e < e1; ++e) {
        const auto [i, j] = cellIJ(f.m_event_cell[e]);
        if (ext.contains(i, j)) any = true;
        if (!halo.contains(i, j)) continue;
        const auto gc = static_cast<std::size_t>(f.m_event_cell[e]);
        const double n = f.m_event_count[e];
        const double bg = u[gc] * v[t];
        const double lam = bg + trig * s[halo.at(i, j)];
        if (!(lam > 0.0))
          throw Error(ExitCode::Numerical,
                      "sepp: zero intensity at an event (background and trigger vanish)");
        rr[e] = n * trig / lam;
        if (!owned.contains(i, j)) continue;
        const auto k = owned.at(i, j);
        const double wbg = n * bg / lam;
        scal.add(0, n * std::log(lam) - std::lgamma(n + 1.0));
        scal.add(1, n - wbg);
        scal.add(2, rr[e] * lag[halo.at(i, j)]);
        pt.add(t, n - wbg);
        at.add(t, n * mass[k]);
        st.wbg[k] += wbg;
        for (std::size_t q = 0; q < kt; ++q) st.gz[k * kt + q] += wbg * f.m_data.temporal[t * kt + q];
        if (info) {
          std::vector<double> z(np);
          for (std::size_t q = 0; q < kt; ++q) z[q] = f.m_data.temporal[t * kt + q];
          for (std::size_t q = 0; q < ks; ++q) z[kt + q] = f.m_spatial[gc * ks + q];
          const double w = n * (bg * bg / (lam * lam) - bg / lam);
          for (std::size_t a = 0; a < np; ++a)
            for (std::size_t b = 0; b < np; ++b) inf.add(a * np + b, w * z[a] * z[b]);
        }
      }
      // F = K * n_t on the halo.
      if (any) {
        if (sparseBin(t, r, mode)) {
          std::fill(fk.begin(), fk.end(), 0.0);
          for (std::size_t e = e0; e < e1; ++e) {
            const auto [i, j] = cellIJ(f.m_event_cell[e]);
            if (!ext.contains(i, j)) continue;
            const double n = f.m_event_count[e];
            for (int dy = -r; dy <= r; ++dy) {
              const int jj = j + dy;
              if (jj < halo.j0 || jj >= halo.j0 + halo.nj) continue;
              const double wy = n * kw[static_cast<std::size_t>(dy + r)];
              for (int dx = -r; dx <= r; ++dx) {
                const int ii = i + dx;
                if (ii < halo.i0 || ii >= halo.i0 + halo.ni) continue;
                fk[halo.at(ii, jj)] += wy * kw[static_cast<std::size_t>(dx + r)];
              }
            }
          }
        } else {
          nbuf.assign(ext.cells(), 0.0);
          for (std::size_t e = e0; e < e1; ++e) {
            const auto [i, j] = cellIJ(f.m_event_cell[e]);
            if (ext.contains(i, j)) nbuf[ext.at(i, j)] = f.m_event_count[e];
          }
          // Along x for the halo's columns on the extended rows, then along y.
          tmp.assign(static_cast<std::size_t>(halo.ni) * static_cast<std::size_t>(ext.nj), 0.0);
#pragma omp parallel for schedule(static)
          for (int j = ext.j0; j < ext.j0 + ext.nj; ++j)
            for (int i = halo.i0; i < halo.i0 + halo.ni; ++i) {
              double acc = 0.0;
              for (int d = std::max(-r, ext.i0 - i); d <= std::min(r, ext.i0 + ext.ni - 1 - i); ++d)
                acc += kw[static_cast<std::size_t>(d + r)] * nbuf[ext.at(i + d, j)];
              tmp[static_cast<std::size_t>(j - ext.j0) * static_cast<std::size_t>(halo.ni) +
                  static_cast<std::size_t>(i - halo.i0)] = acc;
            }
#pragma omp parallel for schedule(static)
          for (int j = halo.j0; j < halo.j0 + halo.nj; ++j)
            for (int i = halo.i0; i < halo.i0 + halo.ni; ++i) {
              double acc = 0.0;
              for (int d = std::max(-r, ext.j0 - j); d <= std::min(r, ext.j0 + ext.nj - 1 - j); ++d)
                acc += kw[static_cast<std::size_t>(d + r)] *
                       tmp[static_cast<std::size_t>(j + d - ext.j0) * static_cast<std::size_t>(halo.ni) +
                           static_cast<std::size_t>(i - halo.i0)];
              fk[halo.at(i, j)] = acc;
            }
        }
      }
      const double hl = half * len[t] / 2;
      const double ln = len[t];
      const auto cells = static_cast<std::ptrdiff_t>(halo.cells());
      if (any) {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t c = 0; c < cells; ++c) {
          const auto k = static_cast<std::size_t>(c);
          lag[k] = dec * (lag[k] + ln * s[k]) + hl * fk[k];
          s[k] = dec * s[k] + half * fk[k];
        }
      } else {
#pragma omp parallel for schedule(static)
        for (std::ptrdiff_t c = 0; c < cells; ++c) {
          const auto k = static_cast<std::size_t>(c);
          lag[k] = dec * (lag[k] + ln * s[k]);
          s[k] = dec * s[k];
        }
      }
      if (states)
        for (int j = owned.j0; j < owned.j0 + owned.nj; ++j)
          for (int i = owned.i0; i < owned.i0 + owned.ni; ++i)
            (*states)[(t + 1) * owned.cells() + owned.at(i, j)] = s[halo.at(i, j)];
    }
    st.last_state.assign(owned.cells(), 0.0);
    for (int j = owned.j0; j < owned.j0 + owned.nj; ++j)
      for (int i = owned.i0; i < owned.i0 + owned.ni; ++i) st.last_state[owned.at(i, j)] = s[halo.at(i, j)];

    // Background compensator: sum_c u(c) sum_t v(t), the same sum on every rank over the whole grid.
    double usum = 0.0;
    for (const double x : u) usum += x;
    double vsum = 0.0;
    for (const double x : v) vsum += x;

    scal.allreduce(g.comm());
    pt.allreduce(g.comm());
    at.allreduce(g.comm());
    if (info) inf.allreduce(g.comm());
    st.p.resize(nt);
    st.a.resize(nt);
    for (std::size_t t = 0; t < nt; ++t) {
      st.p[t] = pt.value(t);
      st.a[t] = at.value(t);
    }
    const auto hm = laterMass(p.omega);
    double comp = 0.0;
    for (std::size_t t = 0; t < nt; ++t) comp += st.a[t] * hm[t];
    st.ll = scal.value(0) - usum * vsum - p.theta * comp;
    st.wtr = scal.value(1);
    st.lag = scal.value(2);
    if (info) {
      st.info.resize(np * np);
      for (std::size_t k = 0; k < np * np; ++k) st.info[k] = inf.value(k);
    }
    if (hist) st.hist = histograms(p, kernel, halo, rr, mode);
    return st;
  }

  /// The backward (adjoint) pass: Wx(d) + Wy(d) for d = -R..R.
  [[nodiscard]] std::vector<double> histograms(const SeppParams& p, const SeppKernel& kernel,
                                               const Rect& halo, const std::vector<double>& rr,
                                               SeppFilterMode mode) const {
    const int r = kernel.radius();
    const auto w = static_cast<std::size_t>(2 * r + 1);
    const auto kw = kernel.weights();
    std::vector<double> abar(halo.cells(), 0.0);
    std::vector<double> hx(owned.cells() * w, 0.0), hy(owned.cells() * w, 0.0);
    std::vector<double> ay, ax;
    const Rect xs = Rect{halo.i0, owned.j0, halo.ni, owned.nj};  // owned rows, halo columns
    const Rect ys = Rect{owned.i0, halo.j0, owned.ni, halo.nj};  // owned columns, halo rows
    for (std::size_t t = nt; t-- > 0;) {
      const double dec = std::exp(-p.omega * len[t]);
      const double half = std::exp(-p.omega * len[t] / 2);
      const auto e0 = static_cast<std::size_t>(f.m_event_offsets[t]);
      const auto e1 = static_cast<std::size_t>(f.m_event_offsets[t + 1]);
      bool any_owned = false;
      for (std::size_t e = e0; e < e1 && !any_owned; ++e)
        any_owned = owned.contains(static_cast<int>(f.m_event_cell[e] % nx),
                                   static_cast<int>(f.m_event_cell[e] / nx));
      if (any_owned && r >= 0) {
        const bool sparse = sparseBin(t, r, mode);
        if (!sparse) {
          // Ay on the owned rows (halo columns), Ax on the owned columns (halo rows).
          ay.assign(xs.cells(), 0.0);
          ax.assign(ys.cells(), 0.0);
#pragma omp parallel for schedule(static)
          for (int j = xs.j0; j < xs.j0 + xs.nj; ++j)
            for (int i = xs.i0; i < xs.i0 + xs.ni; ++i) {
              double acc = 0.0;
              for (int d = std::max(-r, halo.j0 - j); d <= std::min(r, halo.j0 + halo.nj - 1 - j); ++d)
                acc += kw[static_cast<std::size_t>(d + r)] * abar[halo.at(i, j + d)];
              ay[xs.at(i, j)] = acc;
            }
#pragma omp parallel for schedule(static)
          for (int j = ys.j0; j < ys.j0 + ys.nj; ++j)
            for (int i = ys.i0; i < ys.i0 + ys.ni; ++i) {
              double acc = 0.0;
              for (int d = std::max(-r, halo.i0 - i); d <= std::min(r, halo.i0 + halo.ni - 1 - i); ++d)
                acc += kw[static_cast<std::size_t>(d + r)] * abar[halo.at(i + d, j)];
              ax[ys.at(i, j)] = acc;
            }
        }
        for (std::size_t e = e0; e < e1; ++e) {
          const int i = static_cast<int>(f.m_event_cell[e] % nx);
          const int j = static_cast<int>(f.m_event_cell[e] / nx);
          if (!owned.contains(i, j)) continue;
          const double nh = f.m_event_count[e] * half;
          double* px = &hx[owned.at(i, j) * w];
          double* py = &hy[owned.at(i, j) * w];
          if (sparse) {
            for (int dy = std::max(-r, -j); dy <= std::min(r, ny - 1 - j); ++dy) {
              const double ky = nh * kw[static_cast<std::size_t>(dy + r)];
              for (int dx = std::max(-r, -i); dx <= std::min(r, nx - 1 - i); ++dx) {
                const double val = ky * kw[static_cast<std::size_t>(dx + r)] * abar[halo.at(i + dx, j + dy)];
                px[dx + r] += val;
                py[dy + r] += val;
              }
            }
          } else {
            for (int d = std::max(-r, -i); d <= std::min(r, nx - 1 - i); ++d)
              px[d + r] += nh * kw[static_cast<std::size_t>(d + r)] * ay[xs.at(i + d, j)];
            for (int d = std::max(-r, -j); d <= std::min(r, ny - 1 - j); ++d)
              py[d + r] += nh * kw[static_cast<std::size_t>(d + r)] * ax[ys.at(i, j + d)];
          }
        }
      }
      const auto cells = static_cast<std::ptrdiff_t>(halo.cells());
#pragma omp parallel for schedule(static)
      for (std::ptrdiff_t c = 0; c < cells; ++c) abar[static_cast<std::size_t>(c)] *= dec;
      for (std::size_t e = e0; e < e1; ++e) {
        const int i = static_cast<int>(f.m_event_cell[e] % nx);
        const int j = static_cast<int>(f.m_event_cell[e] / nx);
        if (halo.contains(i, j)) abar[halo.at(i, j)] += rr[e];
      }
    }
    ExactSums sums(w);
    for (std::size_t k = 0; k < owned.cells(); ++k)
      for (std::size_t d = 0; d < w; ++d) {
        if (hx[k * w + d] != 0.0) sums.add(d, hx[k * w + d]);
        if (hy[k * w + d] != 0.0) sums.add(d, hy[k * w + d]);
      }
    sums.allreduce(g.comm());
    std::vector<double> out(w);
    for (std::size_t d = 0; d < w; ++d) out[d] = sums.value(d);
    return out;
  }

  /// Whole-grid values from owned ones.
  [[nodiscard]] std::vector<double> whole(const std::vector<double>& owned_values) const {
    return gatherWholeGrid(g, owned_values, 1);
  }

  /// Separable Gaussian smoothing (SD in cells) of a whole-grid field; returns the whole grid.
  [[nodiscard]] std::vector<double> smooth(const std::vector<double>& x, double sd) const {
    const int r = static_cast<int>(std::ceil(4.0 * sd));
    std::vector<double> k(static_cast<std::size_t>(2 * r + 1));
    for (int d = -r; d <= r; ++d) k[static_cast<std::size_t>(d + r)] = std::exp(-0.5 * d * d / (sd * sd));
    std::vector<double> tmp(x.size(), 0.0), out(x.size(), 0.0);
    const auto at = [this](int i, int j) {
      return static_cast<std::size_t>(j) * static_cast<std::size_t>(nx) + static_cast<std::size_t>(i);
    };
#pragma omp parallel for schedule(static)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        double acc = 0.0;
        for (int d = std::max(-r, -i); d <= std::min(r, nx - 1 - i); ++d)
          acc += k[static_cast<std::size_t>(d + r)] * x[at(i + d, j)];
        tmp[at(i, j)] = acc;
      }
#pragma omp parallel for schedule(static)
    for (int j = 0; j < ny; ++j)
      for (int i = 0; i < nx; ++i) {
        double acc = 0.0;
        for (int d = std::max(-r, -j); d <= std::min(r, ny - 1 - j); ++d)
          acc += k[static_cast<std::size_t>(d + r)] * tmp[at(i, j + d)];
        out[at(i, j)] = acc;
      }
    return out;
  }

  /// The (theta, omega) conditional maximisation.
  void stepThetaOmega(SeppParams& p, const Stats& st, const SeppFitOptions& o) const {
    const auto q = [&](double omega, double theta_fixed) {
      const auto hm = laterMass(omega);
      double comp = 0.0, plog = 0.0;
      for (std::size_t t = 0; t < nt; ++t) {
        comp += st.a[t] * hm[t];
        if (st.p[t] != 0.0) plog += st.p[t] * std::log(-std::expm1(-omega * len[t]));
      }
      if (!(comp > 0.0)) return -std::numeric_limits<double>::infinity();
      const double th = theta_fixed > 0.0 ? theta_fixed : st.wtr / comp;
      return st.wtr * std::log(th) - th * comp + plog - omega * st.lag;
    };
    if (!(st.wtr > 0.0)) return;
    const double th_fix = o.fix_theta ? p.theta : -1.0;
    if (!o.fix_omega) {
      const double lo = std::log(p.omega) - 2.0, hi = std::log(p.omega) + 2.0;
      const double best = std::exp(goldenMax([&](double x) { return q(std::exp(x), th_fix); }, lo, hi, 60));
      if (q(best, th_fix) > q(p.omega, th_fix)) p.omega = best;
    }
    if (!o.fix_theta) {
      const auto hm = laterMass(p.omega);
      double comp = 0.0;
      for (std::size_t t = 0; t < nt; ++t) comp += st.a[t] * hm[t];
      if (comp > 0.0) p.theta = st.wtr / comp;
    }
  }

  /// The sigma conditional maximisation, then theta again (its compensator changed).
  void stepSigma(SeppParams& p, const Stats& st, const SeppFitOptions& o) const {
    const auto hm = laterMass(p.omega);
    std::vector<double> vcell(owned.cells(), 0.0);
    for (std::size_t t = 0; t < nt; ++t)
      for (auto e = f.m_event_offsets[t]; e < f.m_event_offsets[t + 1]; ++e) {
        const int i = static_cast<int>(f.m_event_cell[static_cast<std::size_t>(e)] % nx);
        const int j = static_cast<int>(f.m_event_cell[static_cast<std::size_t>(e)] / nx);
        if (owned.contains(i, j))
          vcell[owned.at(i, j)] += f.m_event_count[static_cast<std::size_t>(e)] * hm[t];
      }
    const int r_old = static_cast<int>(st.hist.size() / 2);
    const double h = g.spec().cell;
    const auto comp = [&](double sigma) {
      const SeppKernel k(sigma, h);
      const auto m = inMaskMass(k, f.m_mask, nx, ny, owned);
      ExactSums sum(1);
      for (std::size_t c = 0; c < vcell.size(); ++c)
        if (vcell[c] != 0.0) sum.add(0, m[c] * vcell[c]);
      sum.allreduce(g.comm());
      return sum.value(0);
    };
    const auto q = [&](double sigma) {
      double pair = 0.0;
      for (int d = -r_old; d <= r_old; ++d) {
        const double wd = st.hist[static_cast<std::size_t>(d + r_old)];
        if (wd == 0.0) continue;
        const double kd =
            SeppKernel::radiusFor(sigma / h) >= std::abs(d) ? SeppKernel::weight(d, sigma / h) : 0.0;
        if (!(kd > 0.0)) return -std::numeric_limits<double>::infinity();
        pair += wd * std::log(kd);
      }
      return pair - p.theta * comp(sigma);
    };
    if (!o.fix_sigma && p.sigma_m > 0.0 && st.wtr > 0.0) {
      const double lo = std::log(p.sigma_m) - 1.0, hi = std::log(p.sigma_m) + 1.0;
      const double best = std::exp(goldenMax([&](double x) { return q(std::exp(x)); }, lo, hi, 40));
      if (q(best) > q(p.sigma_m)) p.sigma_m = best;
    }
    if (!o.fix_theta && st.wtr > 0.0) {
      const double c = comp(p.sigma_m);
      if (c > 0.0) p.theta = st.wtr / c;
    }
  }

  /// Q_bg(beta) pieces: the separable sums over cells and bins.
  [[nodiscard]] double qBeta(const std::vector<double>& beta, const std::vector<double>& mu_global,
                             const std::vector<double>& grad_data) const {
    const auto u = cellFactor(beta, mu_global);
    const auto v = timeFactor(beta);
    double us = 0.0, vs = 0.0, lin = 0.0;
    for (const double x : u) us += x;
    for (const double x : v) vs += x;
    for (std::size_t k = 0; k < np; ++k) lin += beta[k] * grad_data[k];
    return lin - us * vs;
  }

  /// Newton steps with step halving on Q_bg (mu fixed).
  void stepBeta(SeppParams& p, const std::vector<double>& mu_global, const std::vector<double>& data_sums,
                int steps) const {
    for (int it = 0; it < steps; ++it) {
      const auto u = cellFactor(p.beta, mu_global);
      const auto v = timeFactor(p.beta);
      // Sums of u * {1, s, s s^T} over cells and v * {1, z, z z^T} over bins.
      double u0 = 0.0, v0 = 0.0;
      std::vector<double> u1(ks, 0.0), u2(ks * ks, 0.0), v1(kt, 0.0), v2(kt * kt, 0.0);
      for (std::size_t c = 0; c < u.size(); ++c) {
        if (u[c] == 0.0) continue;
        u0 += u[c];
        for (std::size_t a = 0; a < ks; ++a) {
          u1[a] += u[c] * f.m_spatial[c * ks + a];
          for (std::size_t b = 0; b < ks; ++b)
            u2[a * ks + b] += u[c] * f.m_spatial[c * ks + a] * f.m_spatial[c * ks + b];
        }
      }
      for (std::size_t t = 0; t < nt; ++t) {
        if (v[t] == 0.0) continue;
        v0 += v[t];
        for (std::size_t a = 0; a < kt; ++a) {
          v1[a] += v[t] * f.m_data.temporal[t * kt + a];
          for (std::size_t b = 0; b < kt; ++b)
            v2[a * kt + b] += v[t] * f.m_data.temporal[t * kt + a] * f.m_data.temporal[t * kt + b];
        }
      }
      std::vector<double> grad(np), hess(np * np);
      for (std::size_t a = 0; a < kt; ++a) grad[a] = data_sums[a] - v1[a] * u0;
      for (std::size_t a = 0; a < ks; ++a) grad[kt + a] = data_sums[kt + a] - v0 * u1[a];
      for (std::size_t a = 0; a < np; ++a)
        for (std::size_t b = 0; b < np; ++b) {
          double x = 0.0;
          if (a < kt && b < kt)
            x = v2[a * kt + b] * u0;
          else if (a < kt)
            x = v1[a] * u1[b - kt];
          else if (b < kt)
            x = v1[b] * u1[a - kt];
          else
            x = v0 * u2[(a - kt) * ks + (b - kt)];
          hess[a * np + b] = x;
        }
      const auto inv = invert(hess, np);
      if (inv.empty()) return;
      std::vector<double> step(np, 0.0);
      for (std::size_t a = 0; a < np; ++a)
        for (std::size_t b = 0; b < np; ++b) step[a] += inv[a * np + b] * grad[b];
      const double q0 = qBeta(p.beta, mu_global, data_sums);
      double scale = 1.0;
      bool moved = false;
      for (int h = 0; h < 30; ++h, scale *= 0.5) {
        auto trial = p.beta;
        for (std::size_t a = 0; a < np; ++a) trial[a] += scale * step[a];
        if (qBeta(trial, mu_global, data_sums) > q0) {
          p.beta = trial;
          moved = true;
          break;
        }
      }
      if (!moved) return;
    }
  }

  /// The background conditional maximisation (exact when the bandwidth is 0).
  [[nodiscard]] std::vector<double> stepMu(const SeppParams& p, const Stats& st, double bandwidth_m) const {
    auto num = whole(st.wbg);
    const auto v = timeFactor(p.beta);
    double vs = 0.0;
    for (const double x : v) vs += x;
    std::vector<double> den(num.size(), 0.0);
    const std::vector<double> ones(num.size(), 1.0);
    const auto e = cellFactor(p.beta, ones);
    for (std::size_t c = 0; c < den.size(); ++c) den[c] = e[c] * vs;
    if (bandwidth_m > 0.0) {
      num = smooth(num, bandwidth_m / g.spec().cell);
      den = smooth(den, bandwidth_m / g.spec().cell);
    }
    std::vector<double> mu(num.size(), 0.0);
    for (std::size_t c = 0; c < mu.size(); ++c)
      if (f.m_mask[c] != 0 && den[c] > 0.0) mu[c] = num[c] / den[c];
    return mu;
  }

  /// Time-rescaling KS test of the city-total process.
  void goodnessOfFit(const SeppParams& p, const std::vector<double>& mu_global, const Stats& st,
                     std::uint64_t seed, SeppFitResult& res) const {
    const auto u = cellFactor(p.beta, mu_global);
    const auto v = timeFactor(p.beta);
    double us = 0.0;
    for (const double x : u) us += x;
    std::vector<double> times;
    double base = 0.0, stot = 0.0;
    for (std::size_t t = 0; t < nt; ++t) {
      const double dec = std::exp(-p.omega * len[t]);
      const double half = std::exp(-p.omega * len[t] / 2);
      if (!missing(t)) {
        const double lam = us * v[t] + p.theta * (1.0 - dec) * stot;
        std::int64_t n = 0;
        for (auto e = f.m_event_offsets[t]; e < f.m_event_offsets[t + 1]; ++e)
          n += f.m_event_count[static_cast<std::size_t>(e)];
        core::RandomStream rng(seed, t, 0);
        std::vector<double> x(static_cast<std::size_t>(n));
        for (auto& y : x) y = base + rng.uniform() * lam;
        std::sort(x.begin(), x.end());
        times.insert(times.end(), x.begin(), x.end());
        base += lam;
      }
      stot = dec * stot + half * st.a[t];
    }
    if (times.size() < 3) return;
    std::vector<double> gaps;
    for (std::size_t k = 1; k < times.size(); ++k) gaps.push_back(times[k] - times[k - 1]);
    std::sort(gaps.begin(), gaps.end());
    const double n = static_cast<double>(gaps.size());
    double dmax = 0.0;
    for (std::size_t k = 0; k < gaps.size(); ++k) {
      const double cdf = -std::expm1(-gaps[k]);
      dmax = std::max({dmax, (static_cast<double>(k) + 1.0) / n - cdf, cdf - static_cast<double>(k) / n});
    }
    const double lam = (std::sqrt(n) + 0.12 + 0.11 / std::sqrt(n)) * dmax;
    double pv = 0.0;
    for (int k = 1; k <= 100; ++k)
      pv += 2.0 * ((k % 2) != 0 ? 1.0 : -1.0) * std::exp(-2.0 * k * k * lam * lam);
    res.ks_statistic = dmax;
    res.ks_p_value = std::clamp(pv, 0.0, 1.0);
  }
};

SeppFit::SeppFit(const grid::CityGrid& grid, SeppData data) : m_grid(&grid), m_data(std::move(data)) {
  const auto& d = m_data;
  if (d.edges.size() < 2) throw Error(ExitCode::Usage, "sepp: at least one time bin is needed", true);
  for (std::size_t t = 1; t < d.edges.size(); ++t)
    if (!(d.edges[t] > d.edges[t - 1]) || !std::isfinite(d.edges[t]))
      throw Error(ExitCode::Usage, "sepp: bin edges must be finite and increasing", true);
  const auto nt = d.edges.size() - 1;
  const auto owned = grid.ownedMask().size();
  if (!d.missing.empty() && d.missing.size() != nt)
    throw Error(ExitCode::Usage, "sepp: missing flags need one value per bin", true);
  if (d.counts.size() != nt * owned)
    throw Error(ExitCode::Usage, "sepp: counts need nt x owned values (" + std::to_string(nt * owned) +
                                     "), got " + std::to_string(d.counts.size()));
  const auto kt = d.temporal_names.size();
  const auto ks = d.spatial_names.size();
  if (d.temporal.size() != nt * kt)
    throw Error(ExitCode::Usage, "sepp: temporal covariates need nt x Kt values", true);
  if (d.spatial.size() != owned * ks)
    throw Error(ExitCode::Usage, "sepp: spatial covariates need owned x Ks values");
  for (const double x : d.temporal)
    if (!std::isfinite(x)) throw Error(ExitCode::InputData, "sepp: non-finite temporal covariate", true);
  for (const double x : d.spatial)
    if (!std::isfinite(x)) throw Error(ExitCode::InputData, "sepp: non-finite spatial covariate");
  m_mask = grid.globalMask();
  if (ks > 0) m_spatial = gatherWholeGrid(grid, d.spatial, static_cast<int>(ks));
  // Gather the events (t, global cell, count) of active cells and non-missing bins.
  const auto idx = grid.ownedGlobalIndices();
  const auto& mask = grid.ownedMask();
  std::vector<std::int64_t> mine;
  for (std::size_t t = 0; t < nt; ++t) {
    if (!d.missing.empty() && d.missing[t] != 0) continue;
    for (std::size_t k = 0; k < owned; ++k) {
      const auto n = d.counts[t * owned + k];
      if (n < 0) throw Error(ExitCode::InputData, "sepp: negative count");
      if (n == 0 || mask[k] == 0) continue;
      mine.insert(mine.end(), {static_cast<std::int64_t>(t), idx[k], n});
    }
  }
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_size(grid.comm(), &size));
  const int n = static_cast<int>(mine.size());
  std::vector<int> counts(static_cast<std::size_t>(size)), displs(static_cast<std::size_t>(size), 0);
  VIGIE_CHECK_MPI(MPI_Allgather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, grid.comm()));
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = total;
    total += counts[r];
  }
  std::vector<std::int64_t> all(static_cast<std::size_t>(total));
  VIGIE_CHECK_MPI(MPI_Allgatherv(mine.data(), n, MPI_INT64_T, all.data(), counts.data(), displs.data(),
                                 MPI_INT64_T, grid.comm()));
  const auto ne = all.size() / 3;
  std::vector<std::size_t> order(ne);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return all[3 * a] != all[3 * b] ? all[3 * a] < all[3 * b] : all[3 * a + 1] < all[3 * b + 1];
  });
  m_event_offsets.assign(nt + 1, 0);
  for (const auto k : order) {
    m_event_cell.push_back(all[3 * k + 1]);
    m_event_count.push_back(static_cast<std::int32_t>(all[3 * k + 2]));
    m_event_offsets[static_cast<std::size_t>(all[3 * k]) + 1] += 1;
    m_total_events += all[3 * k + 2];
  }
  for (std::size_t t = 0; t < nt; ++t) m_event_offsets[t + 1] += m_event_offsets[t];
}

double SeppFit::logLikelihood(const SeppParams& params, const std::vector<double>& mu_owned) const {
  const Impl im(*this);
  if (params.beta.size() != im.np) throw Error(ExitCode::Usage, "sepp: beta needs Kt + Ks values", true);
  return im.pass(params, im.whole(mu_owned), SeppFilterMode::Auto, false, false, nullptr).ll;
}

std::vector<double> SeppFit::excitationStates(const SeppParams& params) const {
  const Impl im(*this);
  auto p = params;
  if (p.beta.empty()) p.beta.assign(im.np, 0.0);
  // Any positive background keeps the intensity at events positive; it does not enter the states.
  std::vector<double> mu(m_mask.size(), 1.0);
  std::vector<double> states;
  static_cast<void>(im.pass(p, mu, SeppFilterMode::Auto, false, false, &states));
  return states;
}

SeppFitResult SeppFit::fit(const SeppFitOptions& o) const {
  const Impl im(*this);
  SeppParams p = o.initial;
  if (p.beta.empty()) p.beta.assign(im.np, 0.0);
  if (p.beta.size() != im.np) throw Error(ExitCode::Usage, "sepp: initial beta needs Kt + Ks values", true);
  // theta = 0 is allowed only held fixed: the trigger is then off (an inhomogeneous Poisson background).
  const bool theta_ok = (o.fix_theta ? p.theta >= 0.0 : p.theta > 0.0) && p.theta < 1.0;
  if (!theta_ok || !(p.omega > 0.0) || !(p.sigma_m >= 0.0))
    throw Error(ExitCode::Usage,
                "sepp: the initial parameters need 0 < theta < 1 (0 <= theta when it is fixed), omega > 0, "
                "sigma >= 0",
                true);
  if (!o.fix_sigma && p.sigma_m == 0.0) p.sigma_m = m_grid->spec().cell;
  if (!(o.mu_bandwidth_m >= 0.0)) throw Error(ExitCode::Usage, "sepp: mu bandwidth must be >= 0", true);
  if (m_total_events == 0) throw Error(ExitCode::InputData, "sepp: no events to fit", true);
  std::vector<double> mu;
  if (!o.initial_mu.empty()) {
    if (o.initial_mu.size() != m_grid->ownedMask().size())
      throw Error(ExitCode::Usage, "sepp: initial mu needs one value per owned cell");
    mu = im.whole(o.initial_mu);
  } else {
    // Half the cell's own rate, half the city mean, times the background share.
    std::vector<double> own(m_grid->ownedMask().size(), 0.0);
    const auto nt = im.nt;
    for (std::size_t t = 0; t < nt; ++t)
      if (!im.missing(t))
        for (std::size_t k = 0; k < own.size(); ++k) own[k] += m_data.counts[t * own.size() + k];
    const auto counts = im.whole(own);
    double days = 0.0;
    for (std::size_t t = 0; t < nt; ++t)
      if (!im.missing(t)) days += im.len[t];
    const double mean =
        static_cast<double>(m_total_events) / (static_cast<double>(m_grid->activeCells()) * days);
    mu.assign(counts.size(), 0.0);
    for (std::size_t c = 0; c < mu.size(); ++c)
      if (m_mask[c] != 0) mu[c] = (1.0 - p.theta) * (0.5 * counts[c] / days + 0.5 * mean);
  }
  SeppFitResult res;
  res.events = m_total_events;
  Impl::Stats st;
  for (int it = 0; it < o.max_iter; ++it) {
    st = im.pass(p, mu, o.filter, true, false, nullptr);
    res.log_likelihood.push_back(st.ll);
    res.iterations = it;
    if (!std::isfinite(st.ll))
      throw Error(ExitCode::Numerical, "sepp: the log-likelihood is not finite", true);
    const auto k = res.log_likelihood.size();
    if (k > 1 &&
        std::fabs(res.log_likelihood[k - 1] - res.log_likelihood[k - 2]) < o.tol * std::fabs(st.ll)) {
      res.converged = true;
      break;
    }
    if (it + 1 == o.max_iter) break;
    im.stepThetaOmega(p, st, o);
    im.stepSigma(p, st, o);
    mu = im.stepMu(p, st, o.mu_bandwidth_m);
    if (!o.fix_beta && im.np > 0) {
      std::vector<double> sums(im.np, 0.0);
      ExactSums ex(im.np);
      for (std::size_t c = 0; c < st.wbg.size(); ++c)
        for (std::size_t q = 0; q < im.kt; ++q)
          if (st.gz[c * im.kt + q] != 0.0) ex.add(q, st.gz[c * im.kt + q]);
      ex.allreduce(m_grid->comm());
      for (std::size_t q = 0; q < im.kt; ++q) sums[q] = ex.value(q);
      const auto wbg = im.whole(st.wbg);
      for (std::size_t c = 0; c < wbg.size(); ++c)
        for (std::size_t q = 0; q < im.ks; ++q) sums[im.kt + q] += wbg[c] * m_spatial[c * im.ks + q];
      im.stepBeta(p, mu, sums, o.newton_steps);
    }
  }
  res.params = p;
  if (o.standard_errors && im.np > 0) {
    const auto fin = im.pass(p, mu, o.filter, false, true, nullptr);
    auto info = fin.info;
    const auto u = im.cellFactor(p.beta, mu);
    const auto v = im.timeFactor(p.beta);
    for (std::size_t c = 0; c < u.size(); ++c) {
      if (u[c] == 0.0) continue;
      for (std::size_t t = 0; t < im.nt; ++t) {
        if (v[t] == 0.0) continue;
        const double b = u[c] * v[t];
        for (std::size_t a = 0; a < im.np; ++a) {
          const double za = a < im.kt ? m_data.temporal[t * im.kt + a] : m_spatial[c * im.ks + a - im.kt];
          for (std::size_t q = 0; q < im.np; ++q) {
            const double zq = q < im.kt ? m_data.temporal[t * im.kt + q] : m_spatial[c * im.ks + q - im.kt];
            info[a * im.np + q] += b * za * zq;
          }
        }
      }
    }
    const auto inv = invert(info, im.np);
    res.beta_se.assign(im.np, std::numeric_limits<double>::quiet_NaN());
    if (!inv.empty())
      for (std::size_t a = 0; a < im.np; ++a)
        if (inv[a * im.np + a] > 0.0) res.beta_se[a] = std::sqrt(inv[a * im.np + a]);
  }
  if (o.goodness_of_fit) im.goodnessOfFit(p, mu, st, o.seed, res);
  res.state = st.last_state;
  res.mu.assign(m_grid->ownedMask().size(), 0.0);
  const auto& b = m_grid->ownedBox();
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i)
      res.mu[static_cast<std::size_t>((j - b.j0) * b.ni + (i - b.i0))] =
          mu[static_cast<std::size_t>(m_grid->globalIndex(i, j))];
  return res;
}

std::vector<double> forecastSepp(const SeppParams& params, const std::vector<double>& mu,
                                 const std::vector<double>& spatial, const std::vector<double>& state,
                                 const std::vector<SeppHorizonPiece>& horizon) {
  const auto cells = mu.size();
  if (state.size() != cells) throw Error(ExitCode::Internal, "sepp forecast: state and mu sizes differ");
  std::size_t kt = horizon.empty() ? 0 : horizon.front().temporal.size();
  if (params.beta.size() < kt) throw Error(ExitCode::Internal, "sepp forecast: too many temporal covariates");
  const auto ks = params.beta.size() - kt;
  if (spatial.size() != cells * ks) throw Error(ExitCode::Internal, "sepp forecast: spatial covariates size");
  double tfac = 0.0, total = 0.0;
  for (const auto& piece : horizon) {
    if (piece.temporal.size() != kt) throw Error(ExitCode::Internal, "sepp forecast: covariate count varies");
    double z = 0.0;
    for (std::size_t k = 0; k < kt; ++k) z += params.beta[k] * piece.temporal[k];
    tfac += std::exp(z) * piece.days;
    total += piece.days;
  }
  const double trig = params.theta * -std::expm1(-params.omega * total);
  std::vector<double> out(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    double z = 0.0;
    for (std::size_t q = 0; q < ks; ++q) z += params.beta[kt + q] * spatial[c * ks + q];
    out[c] = mu[c] * std::exp(z) * tfac + trig * state[c];
  }
  return out;
}

void advanceSeppState(const grid::CityGrid& grid, const SeppParams& params, std::vector<double>& state,
                      double days, const std::vector<double>& counts) {
  const auto masked = maskedCounts(grid, counts);
  const auto global = gatherWholeGrid(grid, masked, 1);
  if (state.size() != masked.size())
    throw Error(ExitCode::Internal, "sepp: state size differs from the owned box");
  const SeppKernel kernel(params.sigma_m, grid.spec().cell);
  const int r = kernel.radius();
  const int nx = grid.nx();
  const int ny = grid.ny();
  const auto& b = grid.ownedBox();
  const double dec = std::exp(-params.omega * days);
  const double half = std::exp(-params.omega * days / 2);
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i) {
      double acc = 0.0;
      for (int dy = std::max(-r, -j); dy <= std::min(r, ny - 1 - j); ++dy) {
        double row = 0.0;
        for (int dx = std::max(-r, -i); dx <= std::min(r, nx - 1 - i); ++dx)
          row += kernel.at(dx) * global[static_cast<std::size_t>(grid.globalIndex(i + dx, j + dy))];
        acc += kernel.at(dy) * row;
      }
      auto& s = state[static_cast<std::size_t>((j - b.j0) * b.ni + (i - b.i0))];
      s = dec * s + half * acc;
    }
}

}  // namespace vigie::models::sepp

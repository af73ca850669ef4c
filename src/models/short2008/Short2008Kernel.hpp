#pragma once
/// The stencil kernels of the short2008 model, on plain arrays so that the model's PETSc callbacks and the
/// benchmark share them. See Short2008Model.hpp for the equations and the discretisation.
///
/// Layout: the state is two interleaved components per cell, (B, n). Inputs are read on the ghosted box
/// (the owned box plus one cell on each side, as a DMDA with stencil width 1 stores it), outputs are
/// written on the owned box. Ghost cells outside a non-periodic grid must hold active = 0 (they are then
/// never read for anything but a zero-weighted term, so their B, n and A0 only need to be finite).
#include <cstdint>

namespace vigie::models::short2008 {

/// Rate constants of the continuum model, per day.
struct Coefficients {
  double nu = 25.0;           ///< hop rate per face, D / (z l^2) = 1 / (z dt)
  double eta = 0.03;          ///< B diffuses with eta * nu per face
  double theta = 0.56;        ///< B gained per offence
  double gamma = 0.019;       ///< agents born per cell per day
  double omega = 1.0 / 15.0;  ///< decay rate of B
};

/// Where the owned box sits inside the ghosted box (global cell indices).
struct Layout {
  int gi0 = 0, gj0 = 0, gni = 0, gnj = 0;  ///< ghosted box
  int i0 = 0, j0 = 0, ni = 0, nj = 0;      ///< owned box
};

/// Not collective. The explicit part G(u) (reaction and upwind chemotactic flux) on the owned box:
///   G_B = -omega B + theta n A,   G_n = Gamma - n A - nu sum_faces v n_upwind.
/// u, a0, active: ghosted arrays; f: owned array (interleaved B, n). Inactive cells get 0.
void explicitRhs(const Coefficients& c, const Layout& l, const double* u, const double* a0,
                 const std::uint8_t* active, double* f) noexcept;

/// Not collective. f = add * f + alpha * u + beta * K u on the owned box, with K the masked diffusion
/// operator (eta nu per face on B, nu per face on n; no flux across a face that touches an inactive cell).
/// `add` is 0 or 1. Inactive cells get add * f + alpha * u.
void diffusion(const Coefficients& c, const Layout& l, const double* u, const std::uint8_t* active,
               double alpha, double beta, double add, double* f) noexcept;

/// Not collective. The diagonal of alpha I + beta K on the owned box (interleaved B, n).
void diffusionDiagonal(const Coefficients& c, const Layout& l, const std::uint8_t* active, double alpha,
                       double beta, double* d) noexcept;

}  // namespace vigie::models::short2008

#pragma once
/// Short, D'Orsogna et al. (2008) continuum model of crime hotspots on the city grid, solved with PETSc TS.
///
///   dB/dt = (eta D / z) Lap B - omega B + theta n A,                 A = A0 + B
///   dn/dt = (D / z) div( grad n - (2 n / A) grad A ) - n A + Gamma,   D = l^2 / dt,  z = 4
///
/// B: dynamic attractiveness (per day), n: agents per cell, A0: static attractiveness, Gamma: agents born
/// per cell per day, theta: B gained per offence, omega: decay of B. One time unit is one day; dt is the
/// agent model's step (short2008.dt), which sets the mobility D. The paper's homogeneous steady state is
/// Bbar = theta Gamma / omega, nbar = Gamma / (A0 + Bbar); the initial state is that state (per cell, with
/// the cell's A0) with B optionally perturbed by noise and a seeded cosine mode.
///
/// Discretisation (cells are the lattice sites, side l, so that D / (z l^2) = 1 / (z dt) = nu is the hop
/// rate per face and l drops out of the discrete equations):
///   K_B(c) = eta nu sum_f (B_f - B_c),   K_n(c) = nu sum_f (n_f - n_c)          (implicit, 5-point)
///   G_B(c) = -omega B_c + theta n_c A_c
///   G_n(c) = Gamma - n_c A_c - nu sum_f v_cf n_upwind,   v_cf = 4 (A_f - A_c) / (A_f + A_c)  (explicit)
/// sum_f runs over the active neighbours f of cell c: no flux crosses the grid's edge (zero-flux grids) or a
/// mask edge (e.g. the coast); periodic grids wrap. v_cf is 2 grad(A)/A at the face with the face value the
/// mean of the two cells; n_upwind is n_c when v_cf > 0 (agents leave c) and n_f otherwise. The drift is
/// bounded (|v| <= 4) and exactly antisymmetric, so transport conserves sum n to rounding and the discrete
/// budget is d/dt sum n = sum (Gamma - n A). At the homogeneous state the linearisation is the 5-point
/// Laplacian form of SCIENCE.md section 1, so the semi-discrete growth rates there are what this scheme has.
///
/// Time integration: PETSc TS with options prefix `short2008_`. The default is IMEX (TSARKIMEX, type 3):
/// K implicit (matrix-free operator, CG with Jacobi preconditioning, relative tolerance 1e-12), G explicit,
/// fixed step short2008.dt (override with -short2008_ts_dt; fixed steps keep results rank-invariant). An
/// explicit type (-short2008_ts_type euler|rk|ssp) integrates K + G explicitly; fully implicit types are
/// rejected. short2008.rtol / short2008.atol are the TS error-control tolerances, used when adaptive stepping
/// is switched on (-short2008_ts_adapt_type basic).
///
/// Events: observe() adds theta E to B in each cell (E: events observed there), as the agent model does.
/// Intensity: expected offences per cell per day, n A (each agent offends at rate A in the continuum limit).
///
/// A0 pulses (a scenario's crowds, vigie simulate --scenario): during [t_on, t_off) the A0 of the cells a
/// pulse covers is multiplied by its factor (overlapping pulses multiply). A0 is piecewise constant in time:
/// advance() splits its interval at the pulses' edges and runs the TS over each piece with that piece's A0,
/// so no step straddles an edge; A = A0 + B in the outputs uses the A0 in force at time().
#include <petscdmda.h>
#include <petscts.h>

#include <cstdint>
#include <vector>

#include "models/Model.hpp"
#include "models/short2008/Short2008Kernel.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

class Short2008Model final : public Model {
 public:
  /// A multiplicative pulse on A0 over [t_on, t_off) (model days) in the owned cells flagged in `inside`.
  struct A0Pulse {
    double t_on = 0.0;
    double t_off = 0.0;
    double factor = 1.0;
    std::vector<std::uint8_t> inside;  ///< owned-box order
  };

  /// Declares the short2008.* options.
  static void declareOptions(core::OptionSet& options);
  /// Collective. Reads short2008.*, builds the two-component DMDA on the grid's decomposition, the A0 field
  /// (uniform, or a store covariate layer when short2008.a0_layer is set) and the TS. Throws Error(Usage) for
  /// a bad option or a TS type it cannot use.
  explicit Short2008Model(const ModelContext& context);
  ~Short2008Model() override;

  /// {"attractiveness" (A = A0 + B), "B", "n"}.
  [[nodiscard]] std::vector<std::string> stateNames() const override;
  /// Not collective. Owned values of a state; setState("attractiveness") sets B = A - A0.
  void getState(const std::string& state, std::span<double> owned) const override;
  void setState(const std::string& state, std::span<const double> owned) override;
  /// Not collective. Adds n A (expected offences per cell per day) on the active cells.
  void contributeIntensity(std::span<double> owned) const override;
  /// Collective. {"mass_n": sum of n, "cv_A": standard deviation / mean of A over the active cells}, both
  /// summed in global index order (rank-invariant); cv_A comes last.
  [[nodiscard]] std::vector<std::pair<std::string, double>> diagnostics() const override;

  /// The rate constants (nu = 1 / (4 short2008.dt)).
  [[nodiscard]] const short2008::Coefficients& coefficients() const noexcept { return m_coef; }
  /// Homogeneous steady state for the configured short2008.a0: Bbar = theta Gamma / omega, nbar.
  [[nodiscard]] double homogeneousB() const noexcept;
  [[nodiscard]] double homogeneousN() const noexcept;
  /// The TS step the model advances with (short2008.dt unless -short2008_ts_dt overrides it).
  [[nodiscard]] double stepSize() const noexcept { return m_step; }
  /// The TS (options prefix short2008_), e.g. to read its type.
  [[nodiscard]] TS ts() const noexcept { return m_ts; }
  /// Not collective. Owned static attractiveness A0 in force at time() (pulses included).
  [[nodiscard]] std::vector<double> staticAttractiveness() const;
  /// Collective. Replaces the A0 pulses (the same times and factors on every rank) and applies those active
  /// at time(). Error(Internal) for an `inside` that does not match the owned box; Error(Usage) for a factor
  /// that is not positive and finite or t_off < t_on.
  void setA0Pulses(std::vector<A0Pulse> pulses);

  /// Collective. The whole right-hand side K u + G(u) at the current state, owned values (dB/dt, dn/dt).
  void evaluateRhs(std::span<double> dbdt, std::span<double> dndt) const;
  /// Collective. The explicit part G(u) at the current state into an internal vector (benchmarks).
  void evaluateExplicit() const;

 private:
  void doAdvance(double t0, double t1) override;
  void doObserve(double t0, double t1, std::span<const double> owned_counts) override;
  [[nodiscard]] const grid::CityGrid& grid() const override { return *m_grid; }

  void buildStaticFields(const ModelContext& context);
  /// Collective. The ghosted copy (the model's ghosted box) of an owned-box field of the grid.
  [[nodiscard]] std::vector<double> ghosted(const std::vector<double>& owned) const;
  /// Collective. Sets A0 to the base A0 times the factors of the pulses active at t (t_on <= t < t_off);
  /// does nothing when that set of pulses is already applied.
  void applyPulses(double t);
  /// Collective. Runs the TS from t0 to t1 with the current A0.
  void advanceTs(double t0, double t1);
  void buildSolver();
  void setInitialState(const ModelContext& context);

  static PetscErrorCode rhsFunction(TS ts, PetscReal t, Vec u, Vec f, void* ctx);
  static PetscErrorCode iFunction(TS ts, PetscReal t, Vec u, Vec udot, Vec f, void* ctx);
  static PetscErrorCode iJacobian(TS ts, PetscReal t, Vec u, Vec udot, PetscReal shift, Mat a, Mat p,
                                  void* ctx);
  static PetscErrorCode jacobianMult(Mat a, Vec x, Vec y);
  static PetscErrorCode jacobianDiagonal(Mat a, Vec d);

  const grid::CityGrid* m_grid;
  short2008::Coefficients m_coef;
  short2008::Layout m_layout;
  double m_a0 = 0.0;
  double m_dt = 0.01;
  double m_step = 0.01;
  double m_rtol = 1e-6;
  double m_atol = 1e-9;
  bool m_imex = true;
  double m_shift = 0.0;  ///< shift of the Jacobian shift I - K the shell matrix applies
  DM m_da = nullptr;
  Vec m_u = nullptr;              ///< state, interleaved (B, n), owned
  mutable Vec m_local = nullptr;  ///< ghosted copy; ghosts outside a non-periodic grid stay 0
  mutable Vec m_work = nullptr;   ///< owned work vector
  Mat m_jac = nullptr;
  TS m_ts = nullptr;
  std::vector<double> m_a0_ghost;  ///< A0 on the ghosted box (0 outside the grid and the mask)
  std::vector<double> m_a0_base;   ///< owned A0 without pulses
  std::vector<A0Pulse> m_pulses;
  std::vector<std::uint8_t> m_pulse_on;      ///< which pulses m_a0_ghost includes
  std::vector<std::uint8_t> m_active_ghost;  ///< 1 = active cell, on the ghosted box
  std::vector<std::int64_t> m_global_index;  ///< owned cells' global indices, owned-box order
};

}  // namespace vigie::models

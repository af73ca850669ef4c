#include "models/short2008/Short2008Model.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "core/Reduce.hpp"
#include "core/Rng.hpp"
#include "grid/CityGrid.hpp"
#include "store/FieldFile.hpp"

namespace vigie::models {

using core::Error;
using core::ExitCode;

namespace {

/// Relative tolerance of the implicit diffusion solves. The systems are well conditioned (condition number
/// about 1 + 8 a nu dt), so a tight tolerance costs a few iterations and makes the solves' rounding, which
/// depends on the decomposition through the dot products, negligible next to 1e-10.
constexpr double kKspRtol = 1e-12;

std::size_t ownedCount(const grid::CityGrid& g) {
  const auto& b = g.ownedBox();
  return static_cast<std::size_t>(b.ni) * static_cast<std::size_t>(b.nj);
}

}  // namespace

void Short2008Model::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("short2008.eta", OptionType::Double, "0.03",
           "Short 2008: diffusivity of B relative to the agents' (eta < eta_c gives hotspots)")
      .add("short2008.theta", OptionType::Double, "0.56", "Short 2008: attractiveness B added per offence")
      .add("short2008.gamma", OptionType::Double, "0.019", "Short 2008: agents born per cell per day (Gamma)")
      .add("short2008.omega", OptionType::Double, "0.0666666666666667", "Short 2008: decay rate of B, 1/days")
      .add("short2008.a0", OptionType::Double, "0.0333333333333333",
           "Short 2008: static attractiveness A0 (its mean over the active cells when short2008.a0_layer is "
           "set)")
      .add(
          "short2008.a0_layer", OptionType::String, "",
          "Short 2008: name of a /covariates/static/<name> layer of <output.dir>/obs.h5 whose shape gives A0 "
          "(rescaled to mean short2008.a0 over the active cells); empty = uniform A0")
      .add("short2008.dt", OptionType::Double, "0.01",
           "Short 2008: the agent model's time step, days: sets the mobility D = l^2 / dt (hop rate "
           "1/(4 dt) per face) and is the TS step (-short2008_ts_dt overrides the step only)")
      .add("short2008.l", OptionType::Double, "1",
           "Short 2008: lattice spacing (one grid cell); D = l^2 / dt, l cancels in the discrete equations")
      .add("short2008.initial_noise", OptionType::Double, "0",
           "Short 2008: relative amplitude a of the initial noise, B = Bbar (1 + a (2u - 1)), u uniform from "
           "the stream (seed, cell, 0)")
      .add("short2008.seed_mode_i", OptionType::Int, "0",
           "Short 2008: seeded mode m: adds s Bbar cos(2 pi (m i / nx + k j / ny)) to the initial B")
      .add("short2008.seed_mode_j", OptionType::Int, "0", "Short 2008: seeded mode k (see seed_mode_i)")
      .add("short2008.seed_amplitude", OptionType::Double, "0",
           "Short 2008: relative amplitude s of the seeded mode; 0 = none")
      .add("short2008.rtol", OptionType::Double, "1e-6",
           "Short 2008: relative tolerance of the TS error control (only with -short2008_ts_adapt_type "
           "basic; the default is the fixed step short2008.dt)")
      .add("short2008.atol", OptionType::Double, "1e-9",
           "Short 2008: absolute tolerance of the TS error control (see short2008.rtol)");
}

Short2008Model::Short2008Model(const ModelContext& context) : Model("short2008"), m_grid(&context.grid) {
  const auto& cfg = context.config;
  m_coef.eta = cfg.getDouble("short2008.eta");
  m_coef.theta = cfg.getDouble("short2008.theta");
  m_coef.gamma = cfg.getDouble("short2008.gamma");
  m_coef.omega = cfg.getDouble("short2008.omega");
  m_a0 = cfg.getDouble("short2008.a0");
  m_dt = cfg.getDouble("short2008.dt");
  const double l = cfg.getDouble("short2008.l");
  m_rtol = cfg.getDouble("short2008.rtol");
  m_atol = cfg.getDouble("short2008.atol");
  if (!(m_rtol > 0.0) || !(m_atol > 0.0))
    throw Error(ExitCode::Usage, "short2008.rtol and short2008.atol must be positive", true);
  const auto nonNegative = [](double v) { return v >= 0.0 && std::isfinite(v); };
  if (!nonNegative(m_coef.eta)) throw Error(ExitCode::Usage, "short2008.eta must be >= 0", true);
  if (!nonNegative(m_coef.theta)) throw Error(ExitCode::Usage, "short2008.theta must be >= 0", true);
  if (!nonNegative(m_coef.gamma)) throw Error(ExitCode::Usage, "short2008.gamma must be >= 0", true);
  if (!(m_coef.omega > 0.0) || !std::isfinite(m_coef.omega))
    throw Error(ExitCode::Usage, "short2008.omega must be positive", true);
  if (!nonNegative(m_a0)) throw Error(ExitCode::Usage, "short2008.a0 must be >= 0", true);
  if (!(m_dt > 0.0) || !std::isfinite(m_dt))
    throw Error(ExitCode::Usage, "short2008.dt must be positive", true);
  if (!(l > 0.0) || !std::isfinite(l)) throw Error(ExitCode::Usage, "short2008.l must be positive", true);
  // D = l^2 / dt and the 5-point operator divides by l^2: the hop rate per face is 1 / (z dt).
  const double mobility = l * l / m_dt;
  m_coef.nu = mobility / (4.0 * l * l);

  const auto& g = *m_grid;
  const DMBoundaryType bt =
      g.spec().boundary == grid::Boundary::Periodic ? DM_BOUNDARY_PERIODIC : DM_BOUNDARY_GHOSTED;
  const PetscInt* lx = nullptr;
  const PetscInt* ly = nullptr;
  VIGIE_CHECK_PETSC(DMDAGetOwnershipRanges(g.dm(), &lx, &ly, nullptr));
  const auto procs = g.processors();
  // Same ownership ranges as the grid's DMDA: the owned box of each rank is the grid's, so owned-box spans
  // map one to one onto this DMDA's vectors.
  VIGIE_CHECK_PETSC(DMDACreate2d(g.comm(), bt, bt, DMDA_STENCIL_STAR, g.nx(), g.ny(), procs[0], procs[1], 2,
                                 1, lx, ly, &m_da));
  VIGIE_CHECK_PETSC(DMSetUp(m_da));
  VIGIE_CHECK_PETSC(DMDASetFieldName(m_da, 0, "B"));
  VIGIE_CHECK_PETSC(DMDASetFieldName(m_da, 1, "n"));
  PetscInt i0 = 0, j0 = 0, ni = 0, nj = 0, gi0 = 0, gj0 = 0, gni = 0, gnj = 0;
  VIGIE_CHECK_PETSC(DMDAGetCorners(m_da, &i0, &j0, nullptr, &ni, &nj, nullptr));
  VIGIE_CHECK_PETSC(DMDAGetGhostCorners(m_da, &gi0, &gj0, nullptr, &gni, &gnj, nullptr));
  const auto& box = g.ownedBox();
  if (i0 != box.i0 || j0 != box.j0 || ni != box.ni || nj != box.nj)
    throw Error(ExitCode::Internal, "short2008: the two-component DMDA does not match the grid's owned box");
  m_layout = short2008::Layout{static_cast<int>(gi0),
                               static_cast<int>(gj0),
                               static_cast<int>(gni),
                               static_cast<int>(gnj),
                               box.i0,
                               box.j0,
                               box.ni,
                               box.nj};
  VIGIE_CHECK_PETSC(DMCreateGlobalVector(m_da, &m_u));
  VIGIE_CHECK_PETSC(VecDuplicate(m_u, &m_work));
  VIGIE_CHECK_PETSC(DMCreateLocalVector(m_da, &m_local));
  VIGIE_CHECK_PETSC(VecSet(m_local, 0.0));
  m_global_index = g.ownedGlobalIndices();

  buildStaticFields(context);
  setInitialState(context);
  buildSolver();
}

Short2008Model::~Short2008Model() {
  // Destructors must not throw: PETSc errors here are ignored (the objects are being dropped anyway).
  TSDestroy(&m_ts);
  MatDestroy(&m_jac);
  VecDestroy(&m_work);
  VecDestroy(&m_local);
  VecDestroy(&m_u);
  DMDestroy(&m_da);
}

void Short2008Model::buildStaticFields(const ModelContext& context) {
  const auto& g = *m_grid;
  const auto& box = g.ownedBox();
  const auto& mask = g.ownedMask();
  std::vector<double> a0(mask.size(), 0.0);
  const std::string layer = context.config.getString("short2008.a0_layer");
  if (layer.empty()) {
    for (std::size_t k = 0; k < a0.size(); ++k) a0[k] = mask[k] != 0 ? m_a0 : 0.0;
  } else {
    const auto obs = context.config.getPath("output.dir") / "obs.h5";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(obs, ec))
      throw Error(ExitCode::InputData,
                  "short2008.a0_layer: no observation store " + obs.string() + " (run vigie ingest first)",
                  true);
    const auto file = store::FieldFile::open(g.comm(), obs);
    const std::string path = "/covariates/static/" + layer;
    if (!file.hasField(path))
      throw Error(ExitCode::Usage, "short2008.a0_layer: " + obs.string() + " has no " + path, true);
    const store::Box whole{0, 0, g.nx(), g.ny()};
    const auto x = file.read2d<double>(path, whole);
    const auto global_mask = g.globalMask();
    // Mean over the active cells, summed in global index order on every rank (rank-invariant).
    double sum = 0.0;
    double count = 0.0;
    for (std::size_t k = 0; k < x.size(); ++k) {
      if (global_mask[k] == 0) continue;
      if (!(x[k] >= 0.0) || !std::isfinite(x[k]))
        throw Error(ExitCode::InputData,
                    "short2008.a0_layer: " + path + " has a negative or non-finite value on an active cell",
                    true);
      sum += x[k];
      count += 1.0;
    }
    if (!(sum > 0.0))
      throw Error(ExitCode::InputData, "short2008.a0_layer: " + path + " is zero over the active cells",
                  true);
    const double scale = m_a0 * count / sum;
    std::size_t k = 0;
    for (int j = box.j0; j < box.j0 + box.nj; ++j)
      for (int i = box.i0; i < box.i0 + box.ni; ++i, ++k)
        a0[k] = mask[k] != 0 ? scale * x[static_cast<std::size_t>(g.globalIndex(i, j))] : 0.0;
  }

  const auto expected = static_cast<std::size_t>(m_layout.gni) * static_cast<std::size_t>(m_layout.gnj);
  m_a0_ghost = ghosted(a0);
  std::vector<double> active(mask.begin(), mask.end());
  const auto active_ghost = ghosted(active);
  if (m_a0_ghost.size() != expected || active_ghost.size() != expected)
    throw Error(ExitCode::Internal, "short2008: the grid's ghosted box differs from the model's");
  m_active_ghost.resize(expected);
  for (std::size_t k = 0; k < expected; ++k) m_active_ghost[k] = active_ghost[k] != 0.0 ? 1 : 0;
  m_a0_base = a0;
}

std::vector<double> Short2008Model::ghosted(const std::vector<double>& owned) const {
  // Through the grid's own DMDA (same ghosted box); ghosts outside a non-periodic grid are never written by
  // the scatter and stay 0, i.e. inactive.
  const auto& g = *m_grid;
  Vec gv = nullptr;
  Vec lv = nullptr;
  VIGIE_CHECK_PETSC(DMCreateGlobalVector(g.dm(), &gv));
  VIGIE_CHECK_PETSC(DMCreateLocalVector(g.dm(), &lv));
  VIGIE_CHECK_PETSC(VecSet(lv, 0.0));
  PetscScalar* p = nullptr;
  VIGIE_CHECK_PETSC(VecGetArray(gv, &p));
  std::copy(owned.begin(), owned.end(), p);
  VIGIE_CHECK_PETSC(VecRestoreArray(gv, &p));
  VIGIE_CHECK_PETSC(DMGlobalToLocalBegin(g.dm(), gv, INSERT_VALUES, lv));
  VIGIE_CHECK_PETSC(DMGlobalToLocalEnd(g.dm(), gv, INSERT_VALUES, lv));
  PetscInt n = 0;
  VIGIE_CHECK_PETSC(VecGetLocalSize(lv, &n));
  const PetscScalar* q = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(lv, &q));
  std::vector<double> out(q, q + n);
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(lv, &q));
  VecDestroy(&lv);
  VecDestroy(&gv);
  return out;
}

void Short2008Model::setA0Pulses(std::vector<A0Pulse> pulses) {
  const auto cells = ownedCount(*m_grid);
  for (const auto& p : pulses) {
    if (p.inside.size() != cells)
      throw Error(ExitCode::Internal, "short2008: an A0 pulse's cells do not match the owned box");
    if (!(p.factor > 0.0) || !std::isfinite(p.factor))
      throw Error(ExitCode::Usage, "short2008: an A0 pulse's factor must be positive and finite", true);
    if (!(p.t_off >= p.t_on))
      throw Error(ExitCode::Usage, "short2008: an A0 pulse ends before it starts", true);
  }
  m_pulses = std::move(pulses);
  if (m_pulses.empty()) {
    m_pulse_on.clear();
    m_a0_ghost = ghosted(m_a0_base);
    return;
  }
  m_pulse_on.assign(m_pulses.size(), 2);  // matches no on-set: applyPulses rebuilds A0
  applyPulses(time());
}

void Short2008Model::applyPulses(double t) {
  std::vector<std::uint8_t> on(m_pulses.size(), 0);
  for (std::size_t p = 0; p < m_pulses.size(); ++p)
    on[p] = m_pulses[p].t_on <= t && t < m_pulses[p].t_off ? 1 : 0;
  if (on == m_pulse_on) return;
  m_pulse_on = on;
  auto a0 = m_a0_base;
  // Fixed pulse order: the product is the same on every rank.
  for (std::size_t p = 0; p < m_pulses.size(); ++p) {
    if (on[p] == 0) continue;
    for (std::size_t k = 0; k < a0.size(); ++k)
      if (m_pulses[p].inside[k] != 0) a0[k] *= m_pulses[p].factor;
  }
  m_a0_ghost = ghosted(a0);
}

std::vector<double> Short2008Model::staticAttractiveness() const {
  const auto& l = m_layout;
  std::vector<double> out;
  out.reserve(ownedCount(*m_grid));
  for (int j = l.j0; j < l.j0 + l.nj; ++j)
    for (int i = l.i0; i < l.i0 + l.ni; ++i)
      out.push_back(m_a0_ghost[static_cast<std::size_t>(j - l.gj0) * static_cast<std::size_t>(l.gni) +
                               static_cast<std::size_t>(i - l.gi0)]);
  return out;
}

double Short2008Model::homogeneousB() const noexcept {
  return m_coef.theta * m_coef.gamma / m_coef.omega;
}

double Short2008Model::homogeneousN() const noexcept {
  const double a = m_a0 + homogeneousB();
  return a > 0.0 ? m_coef.gamma / a : 0.0;
}

void Short2008Model::setInitialState(const ModelContext& context) {
  const auto& cfg = context.config;
  const double noise = cfg.getDouble("short2008.initial_noise");
  const double amplitude = cfg.getDouble("short2008.seed_amplitude");
  const auto mi = cfg.getInt("short2008.seed_mode_i");
  const auto mj = cfg.getInt("short2008.seed_mode_j");
  if (!(noise >= 0.0 && noise <= 1.0))
    throw Error(ExitCode::Usage, "short2008.initial_noise must be in [0, 1]", true);
  if (!(amplitude >= 0.0 && amplitude <= 1.0))
    throw Error(ExitCode::Usage, "short2008.seed_amplitude must be in [0, 1]", true);
  const auto& g = *m_grid;
  const auto& mask = g.ownedMask();
  const auto a0 = staticAttractiveness();
  const double bbar = homogeneousB();
  const double two_pi = 2.0 * std::numbers::pi;
  PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArray(m_u, &u));
  std::size_t k = 0;
  for (int j = m_layout.j0; j < m_layout.j0 + m_layout.nj; ++j) {
    for (int i = m_layout.i0; i < m_layout.i0 + m_layout.ni; ++i, ++k) {
      double b = 0.0;
      double n = 0.0;
      if (mask[k] != 0) {
        // Keyed by the cell's global index: the same initial field at any decomposition.
        core::RandomStream rng(context.seed, static_cast<std::uint64_t>(g.globalIndex(i, j)), 0);
        const double r = noise > 0.0 ? noise * (2.0 * rng.uniform() - 1.0) : 0.0;
        const double phase = two_pi * (static_cast<double>((mi * i) % g.nx()) / g.nx() +
                                       static_cast<double>((mj * j) % g.ny()) / g.ny());
        const double mode = amplitude > 0.0 ? amplitude * std::cos(phase) : 0.0;
        b = bbar * (1.0 + r + mode);
        const double a = a0[k] + bbar;
        n = a > 0.0 ? m_coef.gamma / a : 0.0;
      }
      u[2 * k] = b;
      u[2 * k + 1] = n;
    }
  }
  VIGIE_CHECK_PETSC(VecRestoreArray(m_u, &u));
}

void Short2008Model::buildSolver() {
  const MPI_Comm comm = m_grid->comm();
  VIGIE_CHECK_PETSC(TSCreate(comm, &m_ts));
  VIGIE_CHECK_PETSC(TSSetOptionsPrefix(m_ts, "short2008_"));
  VIGIE_CHECK_PETSC(TSSetDM(m_ts, m_da));
  VIGIE_CHECK_PETSC(TSSetType(m_ts, TSARKIMEX));
  VIGIE_CHECK_PETSC(TSARKIMEXSetType(m_ts, TSARKIMEX3));
  VIGIE_CHECK_PETSC(TSSetTimeStep(m_ts, m_dt));
  VIGIE_CHECK_PETSC(TSSetExactFinalTime(m_ts, TS_EXACTFINALTIME_MATCHSTEP));
  // The tolerances only matter with adaptive stepping; set here so that the options can switch it on.
  VIGIE_CHECK_PETSC(TSSetTolerances(m_ts, m_atol, nullptr, m_rtol, nullptr));
  // Fixed steps by default: an error-controlled step size depends on norms whose rounding depends on the
  // decomposition, which would make the trajectory rank-dependent.
  TSAdapt adapt = nullptr;
  VIGIE_CHECK_PETSC(TSGetAdapt(m_ts, &adapt));
  VIGIE_CHECK_PETSC(TSAdaptSetType(adapt, TSADAPTNONE));
  SNES snes = nullptr;
  VIGIE_CHECK_PETSC(TSGetSNES(m_ts, &snes));
  // The implicit part is linear: one Krylov solve per stage, no Newton loop.
  VIGIE_CHECK_PETSC(SNESSetType(snes, SNESKSPONLY));
  KSP ksp = nullptr;
  VIGIE_CHECK_PETSC(SNESGetKSP(snes, &ksp));
  VIGIE_CHECK_PETSC(KSPSetType(ksp, KSPCG));
  VIGIE_CHECK_PETSC(KSPSetTolerances(ksp, kKspRtol, PETSC_DEFAULT, PETSC_DEFAULT, 10000));
  PC pc = nullptr;
  VIGIE_CHECK_PETSC(KSPGetPC(ksp, &pc));
  VIGIE_CHECK_PETSC(PCSetType(pc, PCJACOBI));
  VIGIE_CHECK_PETSC(TSSetFromOptions(m_ts));

  TSType type = nullptr;
  VIGIE_CHECK_PETSC(TSGetType(m_ts, &type));
  const std::string t = type != nullptr ? type : "";
  if (t == TSARKIMEX || t == TSROSW) {
    m_imex = true;
  } else if (t == TSEULER || t == TSRK || t == TSSSP) {
    m_imex = false;
  } else {
    throw Error(
        ExitCode::Usage,
        "-short2008_ts_type " + t +
            ": not supported (use an IMEX type, arkimex or rosw, or an explicit one, euler, rk or ssp)",
        true);
  }
  VIGIE_CHECK_PETSC(TSGetTimeStep(m_ts, &m_step));
  if (!(m_step > 0.0)) throw Error(ExitCode::Usage, "-short2008_ts_dt must be positive", true);

  PetscInt local = 0;
  PetscInt global = 0;
  VIGIE_CHECK_PETSC(VecGetLocalSize(m_u, &local));
  VIGIE_CHECK_PETSC(VecGetSize(m_u, &global));
  VIGIE_CHECK_PETSC(MatCreateShell(comm, local, local, global, global, this, &m_jac));
  VIGIE_CHECK_PETSC(MatShellSetOperation(m_jac, MATOP_MULT, reinterpret_cast<void (*)(void)>(&jacobianMult)));
  VIGIE_CHECK_PETSC(
      MatShellSetOperation(m_jac, MATOP_GET_DIAGONAL, reinterpret_cast<void (*)(void)>(&jacobianDiagonal)));
  VIGIE_CHECK_PETSC(MatSetOption(m_jac, MAT_SYMMETRIC, PETSC_TRUE));
  VIGIE_CHECK_PETSC(TSSetRHSFunction(m_ts, nullptr, &rhsFunction, this));
  if (m_imex) {
    VIGIE_CHECK_PETSC(TSSetIFunction(m_ts, nullptr, &iFunction, this));
    VIGIE_CHECK_PETSC(TSSetIJacobian(m_ts, m_jac, m_jac, &iJacobian, this));
  }
}

PetscErrorCode Short2008Model::rhsFunction(TS /*ts*/, PetscReal /*t*/, Vec u, Vec f, void* ctx) {
  PetscFunctionBeginUser;
  auto* self = static_cast<Short2008Model*>(ctx);
  PetscCall(DMGlobalToLocalBegin(self->m_da, u, INSERT_VALUES, self->m_local));
  PetscCall(DMGlobalToLocalEnd(self->m_da, u, INSERT_VALUES, self->m_local));
  const PetscScalar* ul = nullptr;
  PetscScalar* fa = nullptr;
  PetscCall(VecGetArrayRead(self->m_local, &ul));
  PetscCall(VecGetArray(f, &fa));
  short2008::explicitRhs(self->m_coef, self->m_layout, ul, self->m_a0_ghost.data(),
                         self->m_active_ghost.data(), fa);
  // Explicit integrators take the diffusion here too; IMEX ones get it from iFunction.
  if (!self->m_imex)
    short2008::diffusion(self->m_coef, self->m_layout, ul, self->m_active_ghost.data(), 0.0, 1.0, 1.0, fa);
  PetscCall(VecRestoreArray(f, &fa));
  PetscCall(VecRestoreArrayRead(self->m_local, &ul));
  PetscFunctionReturn(0);
}

PetscErrorCode Short2008Model::iFunction(TS /*ts*/, PetscReal /*t*/, Vec u, Vec udot, Vec f, void* ctx) {
  PetscFunctionBeginUser;
  auto* self = static_cast<Short2008Model*>(ctx);
  PetscCall(DMGlobalToLocalBegin(self->m_da, u, INSERT_VALUES, self->m_local));
  PetscCall(DMGlobalToLocalEnd(self->m_da, u, INSERT_VALUES, self->m_local));
  const PetscScalar* ul = nullptr;
  PetscScalar* fa = nullptr;
  PetscCall(VecGetArrayRead(self->m_local, &ul));
  PetscCall(VecGetArray(f, &fa));
  short2008::diffusion(self->m_coef, self->m_layout, ul, self->m_active_ghost.data(), 0.0, -1.0, 0.0, fa);
  PetscCall(VecRestoreArray(f, &fa));
  PetscCall(VecRestoreArrayRead(self->m_local, &ul));
  PetscCall(VecAXPY(f, 1.0, udot));
  PetscFunctionReturn(0);
}

PetscErrorCode Short2008Model::iJacobian(TS /*ts*/, PetscReal /*t*/, Vec /*u*/, Vec /*udot*/, PetscReal shift,
                                         Mat a, Mat /*p*/, void* ctx) {
  PetscFunctionBeginUser;
  auto* self = static_cast<Short2008Model*>(ctx);
  // The operator is shift I - K with K constant: only a new shift (a new step size or stage coefficient)
  // changes it, and only then does the preconditioner need rebuilding.
  if (shift != self->m_shift) {
    self->m_shift = shift;
    PetscCall(MatAssemblyBegin(a, MAT_FINAL_ASSEMBLY));
    PetscCall(MatAssemblyEnd(a, MAT_FINAL_ASSEMBLY));
  }
  PetscFunctionReturn(0);
}

PetscErrorCode Short2008Model::jacobianMult(Mat a, Vec x, Vec y) {
  PetscFunctionBeginUser;
  void* ctx = nullptr;
  PetscCall(MatShellGetContext(a, &ctx));
  auto* self = static_cast<Short2008Model*>(ctx);
  PetscCall(DMGlobalToLocalBegin(self->m_da, x, INSERT_VALUES, self->m_local));
  PetscCall(DMGlobalToLocalEnd(self->m_da, x, INSERT_VALUES, self->m_local));
  const PetscScalar* xl = nullptr;
  PetscScalar* ya = nullptr;
  PetscCall(VecGetArrayRead(self->m_local, &xl));
  PetscCall(VecGetArray(y, &ya));
  short2008::diffusion(self->m_coef, self->m_layout, xl, self->m_active_ghost.data(), self->m_shift, -1.0,
                       0.0, ya);
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(VecRestoreArrayRead(self->m_local, &xl));
  PetscFunctionReturn(0);
}

PetscErrorCode Short2008Model::jacobianDiagonal(Mat a, Vec d) {
  PetscFunctionBeginUser;
  void* ctx = nullptr;
  PetscCall(MatShellGetContext(a, &ctx));
  auto* self = static_cast<Short2008Model*>(ctx);
  PetscScalar* da = nullptr;
  PetscCall(VecGetArray(d, &da));
  short2008::diffusionDiagonal(self->m_coef, self->m_layout, self->m_active_ghost.data(), self->m_shift, -1.0,
                               da);
  PetscCall(VecRestoreArray(d, &da));
  PetscFunctionReturn(0);
}

void Short2008Model::doAdvance(double t0, double t1) {
  if (m_pulses.empty()) {
    advanceTs(t0, t1);
    return;
  }
  // Pieces between the pulses' edges: A0 is constant over each, and no TS step straddles an edge. An edge
  // within 1e-9 days of t0 or t1 does not make a piece of its own.
  std::vector<double> cuts{t0};
  for (const auto& p : m_pulses)
    for (const double e : {p.t_on, p.t_off})
      if (e > t0 + 1e-9 && e < t1 - 1e-9) cuts.push_back(e);
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  cuts.push_back(t1);
  for (std::size_t k = 0; k + 1 < cuts.size(); ++k) {
    applyPulses(cuts[k]);
    advanceTs(cuts[k], cuts[k + 1]);
  }
  applyPulses(t1);
}

void Short2008Model::advanceTs(double t0, double t1) {
  const double span = t1 - t0;
  if (!(span > 0.0)) return;
  const auto steps = std::max(1.0, std::ceil(span / m_step - 1e-9));
  VIGIE_CHECK_PETSC(TSSetTime(m_ts, t0));
  VIGIE_CHECK_PETSC(TSSetTimeStep(m_ts, span / steps));
  VIGIE_CHECK_PETSC(TSSetStepNumber(m_ts, 0));
  VIGIE_CHECK_PETSC(TSSetMaxSteps(m_ts, PETSC_MAX_INT));
  VIGIE_CHECK_PETSC(TSSetMaxTime(m_ts, t1));
  // observe() and setState() change the state between calls: methods that reuse the last stage must not.
  VIGIE_CHECK_PETSC(TSRestartStep(m_ts));
  VIGIE_CHECK_PETSC(TSSolve(m_ts, m_u));
  TSConvergedReason reason = TS_CONVERGED_ITERATING;
  VIGIE_CHECK_PETSC(TSGetConvergedReason(m_ts, &reason));
  PetscReal reached = 0.0;
  VIGIE_CHECK_PETSC(TSGetTime(m_ts, &reached));
  if (reason < 0 || std::abs(reached - t1) > 1e-9 * std::max(1.0, std::abs(t1)))
    throw Error(ExitCode::Numerical,
                "short2008: the TS stopped at day " + std::to_string(reached) + " of [" + std::to_string(t0) +
                    ", " + std::to_string(t1) + "] (reason " + std::to_string(static_cast<int>(reason)) +
                    "; try a smaller -short2008_ts_dt)",
                true);
  PetscReal norm = 0.0;
  VIGIE_CHECK_PETSC(VecNorm(m_u, NORM_INFINITY, &norm));
  if (!std::isfinite(norm))
    throw Error(
        ExitCode::Numerical,
        "short2008: non-finite state at day " + std::to_string(t1) + " (try a smaller -short2008_ts_dt)",
        true);
}

void Short2008Model::doObserve(double /*t0*/, double /*t1*/, std::span<const double> owned_counts) {
  const auto& mask = m_grid->ownedMask();
  if (owned_counts.size() != mask.size())
    throw Error(ExitCode::Internal, "short2008: observed counts do not match the owned box");
  PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArray(m_u, &u));
  // Each event adds theta to its cell's B, as an offence does in the agent model.
  for (std::size_t k = 0; k < mask.size(); ++k)
    if (mask[k] != 0) u[2 * k] += m_coef.theta * owned_counts[k];
  VIGIE_CHECK_PETSC(VecRestoreArray(m_u, &u));
}

std::vector<std::string> Short2008Model::stateNames() const {
  return {"attractiveness", "B", "n"};
}

void Short2008Model::getState(const std::string& state, std::span<double> owned) const {
  const auto cells = ownedCount(*m_grid);
  if (owned.size() != cells)
    throw Error(ExitCode::Internal, "short2008: state span does not match the owned box");
  const bool attractiveness = state == "attractiveness";
  const int component = state == "n" ? 1 : 0;
  if (!attractiveness && state != "B" && state != "n")
    throw Error(ExitCode::Internal, "short2008 has no state '" + state + "'");
  const auto a0 = attractiveness ? staticAttractiveness() : std::vector<double>();
  const PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_u, &u));
  for (std::size_t k = 0; k < cells; ++k)
    owned[k] = u[2 * k + static_cast<std::size_t>(component)] + (attractiveness ? a0[k] : 0.0);
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_u, &u));
}

void Short2008Model::setState(const std::string& state, std::span<const double> owned) {
  const auto cells = ownedCount(*m_grid);
  if (owned.size() != cells)
    throw Error(ExitCode::Internal, "short2008: state span does not match the owned box");
  const bool attractiveness = state == "attractiveness";
  const int component = state == "n" ? 1 : 0;
  if (!attractiveness && state != "B" && state != "n")
    throw Error(ExitCode::Internal, "short2008 has no state '" + state + "'");
  for (const double v : owned)
    if (!std::isfinite(v)) throw Error(ExitCode::InputData, "short2008: state '" + state + "' is not finite");
  const auto a0 = attractiveness ? staticAttractiveness() : std::vector<double>();
  const auto& mask = m_grid->ownedMask();
  PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArray(m_u, &u));
  // Cells outside the mask carry no agents and no attractiveness: the operators never read them.
  for (std::size_t k = 0; k < cells; ++k)
    u[2 * k + static_cast<std::size_t>(component)] =
        mask[k] != 0 ? owned[k] - (attractiveness ? a0[k] : 0.0) : 0.0;
  VIGIE_CHECK_PETSC(VecRestoreArray(m_u, &u));
}

void Short2008Model::contributeIntensity(std::span<double> owned) const {
  const auto cells = ownedCount(*m_grid);
  if (owned.size() != cells)
    throw Error(ExitCode::Internal, "short2008: intensity span does not match the owned box");
  const auto a0 = staticAttractiveness();
  const auto& mask = m_grid->ownedMask();
  const PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_u, &u));
  for (std::size_t k = 0; k < cells; ++k)
    if (mask[k] != 0) owned[k] += std::max(0.0, u[2 * k + 1]) * std::max(0.0, a0[k] + u[2 * k]);
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_u, &u));
}

std::vector<std::pair<std::string, double>> Short2008Model::diagnostics() const {
  const auto cells = ownedCount(*m_grid);
  const auto a0 = staticAttractiveness();
  const auto& mask = m_grid->ownedMask();
  std::vector<std::int64_t> index;
  std::vector<double> a;
  std::vector<double> n;
  const PetscScalar* u = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_u, &u));
  for (std::size_t k = 0; k < cells; ++k) {
    if (mask[k] == 0) continue;
    index.push_back(m_global_index[k]);
    a.push_back(a0[k] + u[2 * k]);
    n.push_back(u[2 * k + 1]);
  }
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_u, &u));
  const MPI_Comm comm = m_grid->comm();
  const double mass = core::orderedSum(comm, index, n);
  const auto active = static_cast<double>(m_grid->activeCells());
  const double mean = active > 0.0 ? core::orderedSum(comm, index, a) / active : 0.0;
  for (double& v : a) v = (v - mean) * (v - mean);
  const double var = active > 0.0 ? core::orderedSum(comm, index, a) / active : 0.0;
  const double cv = mean > 0.0 ? std::sqrt(var) / mean : 0.0;
  return {{"mass_n", mass}, {"cv_A", cv}};
}

void Short2008Model::evaluateRhs(std::span<double> dbdt, std::span<double> dndt) const {
  const auto cells = ownedCount(*m_grid);
  if (dbdt.size() != cells || dndt.size() != cells)
    throw Error(ExitCode::Internal, "short2008: right-hand-side spans do not match the owned box");
  VIGIE_CHECK_PETSC(DMGlobalToLocalBegin(m_da, m_u, INSERT_VALUES, m_local));
  VIGIE_CHECK_PETSC(DMGlobalToLocalEnd(m_da, m_u, INSERT_VALUES, m_local));
  const PetscScalar* ul = nullptr;
  PetscScalar* fa = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_local, &ul));
  VIGIE_CHECK_PETSC(VecGetArray(m_work, &fa));
  short2008::explicitRhs(m_coef, m_layout, ul, m_a0_ghost.data(), m_active_ghost.data(), fa);
  short2008::diffusion(m_coef, m_layout, ul, m_active_ghost.data(), 0.0, 1.0, 1.0, fa);
  for (std::size_t k = 0; k < cells; ++k) {
    dbdt[k] = fa[2 * k];
    dndt[k] = fa[2 * k + 1];
  }
  VIGIE_CHECK_PETSC(VecRestoreArray(m_work, &fa));
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_local, &ul));
}

void Short2008Model::evaluateExplicit() const {
  VIGIE_CHECK_PETSC(DMGlobalToLocalBegin(m_da, m_u, INSERT_VALUES, m_local));
  VIGIE_CHECK_PETSC(DMGlobalToLocalEnd(m_da, m_u, INSERT_VALUES, m_local));
  const PetscScalar* ul = nullptr;
  PetscScalar* fa = nullptr;
  VIGIE_CHECK_PETSC(VecGetArrayRead(m_local, &ul));
  VIGIE_CHECK_PETSC(VecGetArray(m_work, &fa));
  short2008::explicitRhs(m_coef, m_layout, ul, m_a0_ghost.data(), m_active_ghost.data(), fa);
  VIGIE_CHECK_PETSC(VecRestoreArray(m_work, &fa));
  VIGIE_CHECK_PETSC(VecRestoreArrayRead(m_local, &ul));
}

}  // namespace vigie::models

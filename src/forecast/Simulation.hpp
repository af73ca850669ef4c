#pragma once
/// `vigie simulate --model NAME` for the models that evolve fields (short2008, agents, excitation, ...):
/// runs one model, or an ensemble of members with perturbed parameters, from time 0 to simulate.t_end and
/// writes every state field and the intensity as time series to <output.dir>/simulate_<model>.h5 (+ .xmf,
/// which ParaView opens), then the model's diagnostics. The sepp model's event simulation is elsewhere
/// (models/sepp/SeppSimulateCase.hpp).
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "core/Provenance.hpp"

namespace vigie::core {
class Config;
class OptionSet;
}  // namespace vigie::core
namespace vigie::grid {
class CityGrid;
}

namespace vigie::forecast {

/// What a simulation did.
struct SimulationSummary {
  std::filesystem::path output_file;
  int members = 1;
  int snapshots = 0;
  /// Diagnostics of each member at the end (Model::diagnostics), member-major.
  std::vector<std::vector<std::pair<std::string, double>>> diagnostics;
};

/// The [simulate] options and the ensemble run.
class Simulation {
 public:
  /// Declares simulate.model, simulate.t_end, simulate.output_every, simulate.members, simulate.perturb,
  /// simulate.checkpoint_every and the sepp simulation's options (simulate.start, simulate.bin,
  /// simulate.background_per_day, simulate.theta, simulate.omega_per_day, simulate.sigma_m,
  /// simulate.sigma_y_m, simulate.params).
  static void declareOptions(core::OptionSet& options);

  /// Not collective. Member m's configuration: `config` with each simulate.perturb entry "key:s" replaced by
  /// value * exp(s z), z standard normal from RandomStream(seed, m, key index); member 0 is `config` itself.
  /// Throws Error(Usage) naming simulate.perturb for a malformed entry or a key that is not a number option.
  static core::Config memberConfig(const core::Config& config, int member, std::uint64_t seed);

  /// Collective. Runs the ensemble of simulate.model on `grid` and writes <out>/simulate_<model>.h5:
  /// /fields/<state> [nt][ny][nx] for member 0 (m<k>.<state> for member k > 0), /fields/intensity and, with
  /// several members, /fields/ensemble_mean_intensity; attribute times_days.
  ///
  /// Checkpoints: every simulate.checkpoint_every snapshots (counted over all members), and when any rank
  /// receives SIGTERM or SIGINT (polled after each snapshot), it writes <out>/checkpoint_<model>.h5 (atomic
  /// create + rename): the current member's model state (Model::saveCheckpoint), the member and snapshot
  /// reached, the finished members' diagnostics, the partial ensemble mean and a copy of the output so far.
  /// After a signal it then throws Error(Interrupted), logging "stopped at snapshot k of member m". With
  /// `restart` (or when SLURM_RESTART_COUNT > 0 and the checkpoint exists) it resumes from the checkpoint,
  /// logging "resuming member m at snapshot k" (0-based; k is the next snapshot to compute), and the output's
  /// datasets are bit-identical to those of an uninterrupted run, at any rank count. A finished run removes
  /// the checkpoint. Error(InputData) for `restart` without a checkpoint; Error(Usage) for a checkpoint of
  /// another model, grid, seed, t_end, output_every or member count.
  ///
  /// With scenario.file (vigie simulate --scenario FILE.ini; short2008 and agents only) the scenario's
  /// [event.*] sections act on every member: model day 0 is local midnight of simulate.start in
  /// ingest.timezone; short2008 multiplies A0 inside the area by 1 + effect (crowd / 10000)^
  /// scenario.a0_elasticity from start - pre_hours to end + post_hours; agents adds round(crowd
  /// scenario.agents_per_person) agents in the area at the start and removes them at end + post_hours
  /// (docs/scenarios.md, "Crowds in the simulators"). Events outside [0, t_end) do not act (a warning).
  static SimulationSummary run(const grid::CityGrid& grid, const core::Config& config,
                               const core::Provenance& provenance, const std::filesystem::path& out,
                               bool restart = false);
};

}  // namespace vigie::forecast

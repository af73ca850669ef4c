#pragma once
/// The `vigie` command line: subcommand dispatch, option parsing, error handling and exit codes.
#include <string>
#include <utility>
#include <vector>

#include "core/Config.hpp"

namespace vigie::cli {

/// The command line split into its parts before MPI starts.
struct CommandLine {
  std::vector<std::string> positional;                         ///< subcommand and its arguments
  std::string config_file;                                     ///< --config
  std::vector<std::pair<std::string, std::string>> overrides;  ///< --section.key=value
  std::vector<std::string> petsc_args;                         ///< single-dash options, passed to PETSc
  bool help = false;
  bool help_config = false;
  bool version = false;
  bool append = false;    ///< `vigie ingest --append`
  bool restart = false;   ///< `vigie simulate --restart`: resume from <output.dir>/checkpoint_<model>.h5
  bool quiet = false;     ///< --quiet: log warnings and errors only (every subcommand)
  bool json_log = false;  ///< --json-log: log lines as one JSON object each (every subcommand)
  std::string original;   ///< the command line as typed, for provenance
};

/// Splits argv. Throws core::Error(Usage) for a malformed option (e.g. `--x.y` without a value).
CommandLine splitCommandLine(int argc, const char* const* argv);

/// Every option Vigie knows: core, grid, driver and each registered model's.
core::OptionSet buildOptionSet();

/// The whole program; returns the process exit code.
int main(int argc, char** argv);

}  // namespace vigie::cli

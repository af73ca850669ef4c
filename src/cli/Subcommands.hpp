#pragma once
/// The subcommands of `vigie`, each run on every rank.
#include "cli/Cli.hpp"

namespace vigie::core {
class Environment;
}

namespace vigie::cli {

/// Collective. Runs the subcommand named in cl.positional and returns the exit code.
int runSubcommand(const core::Environment& env, const CommandLine& cl);

}  // namespace vigie::cli

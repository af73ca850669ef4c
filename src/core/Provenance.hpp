#pragma once
/// Run provenance: what produced an output (code version, configuration, layout, seed, who and where).
#include <mpi.h>

#include <cstdint>
#include <string>

namespace vigie::core {

class Config;

/// Everything stored with every output so a result can be traced and reproduced.
struct Provenance {
  std::string version;
  std::string git_hash;
  std::string config_text;  ///< the effective configuration (Config::effectiveText)
  std::string config_file;
  std::string command_line;
  std::string started_utc;
  std::string host;
  int ranks = 1;
  int threads = 1;
  std::uint64_t seed = 0;

  /// Collective (reads sizes; identical on every rank).
  static Provenance collect(MPI_Comm comm, const Config& config, const std::string& command_line);
};

}  // namespace vigie::core

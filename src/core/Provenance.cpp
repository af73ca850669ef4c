#include "core/Provenance.hpp"

#include <omp.h>
#include <unistd.h>

#include "core/Config.hpp"
#include "core/Log.hpp"
#include "vigie/GitHash.hpp"

namespace vigie::core {

Provenance Provenance::collect(MPI_Comm comm, const Config& config, const std::string& command_line) {
  Provenance p;
  p.version = kVersion;
  p.git_hash = kGitHash;
  p.config_text = config.effectiveText();
  p.config_file = config.file().string();
  p.command_line = command_line;
  p.started_utc = utcNowIso();
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  p.host = host;
  MPI_Comm_size(comm, &p.ranks);
  p.threads = omp_get_max_threads();
  p.seed = config.getUInt("run.seed");
  return p;
}

}  // namespace vigie::core

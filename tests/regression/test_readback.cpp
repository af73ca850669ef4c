// Reads the field written by the 4-rank regression run at this rank count and checks it bit for bit against
// the same configuration run in this process: the file does not remember the writer's decomposition.
#include <gtest/gtest.h>
#include <mpi.h>

#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/OutputDir.hpp"
#include "core/Provenance.hpp"
#include "forecast/ForecastDriver.hpp"
#include "grid/CityGrid.hpp"
#include "store/FieldFile.hpp"

namespace {

TEST(Readback, FourRankFieldReadsBackIdentically) {
  const auto options = vigie::cli::buildOptionSet();
  const auto config = vigie::core::Config::parse(
      options, std::filesystem::path(VIGIE_SOURCE_DIR) / "tests/regression/lattice_excitation.ini", {});
  const vigie::grid::CityGrid grid(MPI_COMM_WORLD, vigie::grid::CityGrid::specFromConfig(config));
  const auto np4 = std::filesystem::path(VIGIE_BINARY_DIR) / "regression/lattice_excitation_np4/vigie_run.h5";
  const auto file = vigie::store::FieldFile::open(MPI_COMM_WORLD, np4);
  EXPECT_EQ(file.intAttribute("ranks"), 4);
  int nt = 0;
  const auto from_np4 = file.read3d<double>("intensity", grid.ownedBox(), &nt);
  EXPECT_EQ(nt, 4);

  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const auto dir =
      std::filesystem::path(VIGIE_BINARY_DIR) / ("regression/readback_np" + std::to_string(size));
  const vigie::core::OutputDir out(MPI_COMM_WORLD, dir);
  vigie::forecast::ForecastDriver driver(
      grid, config, vigie::core::Provenance::collect(MPI_COMM_WORLD, config, "readback"));
  driver.run(dir);
  const auto here = vigie::store::FieldFile::open(MPI_COMM_WORLD, dir / "vigie_run.h5");
  int nt_here = 0;
  const auto computed = here.read3d<double>("intensity", grid.ownedBox(), &nt_here);
  ASSERT_EQ(nt_here, nt);
  ASSERT_EQ(computed.size(), from_np4.size());
  for (std::size_t k = 0; k < computed.size(); ++k) ASSERT_EQ(computed[k], from_np4[k]) << "value " << k;
  EXPECT_EQ(file.read2d<std::uint8_t>("mask", grid.ownedBox()), grid.ownedMask());
}

}  // namespace

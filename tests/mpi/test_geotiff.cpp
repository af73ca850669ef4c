// GeoTIFF maps of the city grid, checked from outside with GDAL's command-line tools (the CRS, the north-up
// geotransform, the no-data value, and the value at a known point) and read back with libtiff to show that
// writers of 1, 2 and 4 ranks produce the same pixels.
#include <gtest/gtest.h>
#include <mpi.h>
#include <tiffio.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../support/MpiTest.hpp"
#include "core/Error.hpp"
#include "grid/CityGrid.hpp"
#include "store/GeoTiff.hpp"

namespace fs = std::filesystem;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::grid::CityGrid;
using vigie::grid::GridSpec;
using vigie::testing::commRank;
using vigie::testing::commSize;

namespace {

constexpr double kNodata = -9999.0;
constexpr const char* kDescription = "test map: j*nx + i + 0.5";

// A small Lambert-93 grid with odd sides, so 2 and 4 ranks split it unevenly.
GridSpec lambert93() {
  GridSpec s;
  s.epsg = 2154;
  s.x0 = 881100;
  s.y0 = 6232800;
  s.cell = 100;
  s.nx = 13;
  s.ny = 9;
  return s;
}

double cellValue(const GridSpec& s, int i, int j) {
  return j * s.nx + i + 0.5;
}

// Masked cells: a diagonal band plus the south-east corner, so every rank of a split holds some.
bool masked(const GridSpec& s, int i, int j) {
  return (i + 2 * j) % 7 == 3 || (i == s.nx - 1 && j == 0);
}

fs::path outputDir() {
  static const fs::path dir = [] {
    fs::path d = fs::path(VIGIE_BINARY_DIR) / "test-output" / ("geotiff-np" + std::to_string(commSize()));
    if (commRank() == 0) {
      fs::remove_all(d);
      fs::create_directories(d);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return d;
  }();
  return dir;
}

// Writes the test map with the first `writers` ranks of MPI_COMM_WORLD (the others wait), so one run compares
// decompositions of 1, 2 and 4 ranks.
fs::path writeWith(int writers) {
  fs::path file = outputDir() / ("map-w" + std::to_string(writers) + ".tif");
  MPI_Comm sub = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, commRank() < writers ? 0 : MPI_UNDEFINED, commRank(), &sub);
  if (sub != MPI_COMM_NULL) {
    {
      const GridSpec spec = lambert93();
      CityGrid grid(sub, spec);
      std::vector<std::uint8_t> mask(static_cast<std::size_t>(spec.nx) * spec.ny);
      for (int j = 0; j < spec.ny; ++j)
        for (int i = 0; i < spec.nx; ++i)
          mask[static_cast<std::size_t>(grid.globalIndex(i, j))] = masked(spec, i, j) ? 0 : 1;
      grid.setMask(mask);
      const auto& box = grid.ownedBox();
      std::vector<double> owned;
      for (int j = box.j0; j < box.j0 + box.nj; ++j)
        for (int i = box.i0; i < box.i0 + box.ni; ++i) owned.push_back(cellValue(spec, i, j));
      vigie::store::writeGeoTiff(grid, file, owned, kDescription, kNodata);
    }
    MPI_Comm_free(&sub);
  }
  MPI_Barrier(MPI_COMM_WORLD);
  return file;
}

// Runs a shell command and returns its standard output; the exit status goes to *status.
std::string run(const std::string& command, int* status) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) {
    *status = -1;
    return out;
  }
  char buffer[4096];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  *status = ::pclose(pipe);
  return out;
}

// Rank 0 looks for GDAL's tools; every rank learns the answer so all skip together.
bool haveGdal() {
  int found = 0;
  if (commRank() == 0) {
    int status = 0;
    run("command -v gdalinfo >/dev/null 2>&1 && command -v gdallocationinfo >/dev/null 2>&1", &status);
    found = status == 0 ? 1 : 0;
  }
  MPI_Bcast(&found, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return found != 0;
}

// The value GDAL reads at grid coordinates (x, y): the "known point" check.
double valueAt(const fs::path& file, double x, double y) {
  int status = 0;
  char coords[128];
  std::snprintf(coords, sizeof coords, " %.3f %.3f", x, y);
  const std::string out =
      run("gdallocationinfo -valonly -geoloc '" + file.string() + "'" + coords + " 2>&1", &status);
  EXPECT_EQ(status, 0) << out;
  return std::stod(out);
}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};

// The pixels as libtiff reads them, row 0 first; empty with a test failure if the file is not a float32 image
// of the expected size.
std::vector<float> readPixels(const fs::path& file, const GridSpec& s) {
  std::unique_ptr<TIFF, TiffCloser> tif(TIFFOpen(file.c_str(), "r"));
  EXPECT_TRUE(tif) << file;
  if (!tif) return {};
  std::uint32_t width = 0;
  std::uint32_t height = 0;
  std::uint16_t bits = 0;
  std::uint16_t format = 0;
  TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width);
  TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height);
  TIFFGetField(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetField(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  EXPECT_EQ(width, static_cast<std::uint32_t>(s.nx));
  EXPECT_EQ(height, static_cast<std::uint32_t>(s.ny));
  EXPECT_EQ(bits, 32);
  EXPECT_EQ(format, SAMPLEFORMAT_IEEEFP);
  if (width != static_cast<std::uint32_t>(s.nx) || height != static_cast<std::uint32_t>(s.ny)) return {};
  std::vector<float> pixels(static_cast<std::size_t>(width) * height);
  for (std::uint32_t r = 0; r < height; ++r)
    EXPECT_EQ(TIFFReadScanline(tif.get(), pixels.data() + static_cast<std::size_t>(r) * width, r, 0), 1);
  return pixels;
}

}  // namespace

TEST(GeoTiff, GdalSeesCrsGeotransformAndNodata) {
  const fs::path file = writeWith(1);
  if (!haveGdal()) GTEST_SKIP() << "gdalinfo is not installed (scripts/install_deps.sh installs gdal-bin)";
  if (commRank() != 0) return;
  const GridSpec s = lambert93();
  int status = 0;
  const std::string out = run("gdalinfo -json '" + file.string() + "' 2>/dev/null", &status);
  ASSERT_EQ(status, 0) << out;
  const auto info = nlohmann::json::parse(out);

  EXPECT_EQ(info.at("driverShortName"), "GTiff");
  EXPECT_EQ(info.at("size"), nlohmann::json::array({s.nx, s.ny}));
  // The CRS's own identifier is the last ID[...] of its WKT2 text (the earlier ones name its parts).
  const std::string wkt = info.at("coordinateSystem").at("wkt");
  const auto last_id = wkt.rfind("ID[");
  ASSERT_NE(last_id, std::string::npos) << wkt;
  EXPECT_EQ(wkt.substr(last_id), "ID[\"EPSG\",2154]]") << wkt;
  EXPECT_EQ(wkt.rfind("PROJCRS[", 0), 0U) << wkt;

  const auto& gt = info.at("geoTransform");
  ASSERT_EQ(gt.size(), 6U);
  EXPECT_DOUBLE_EQ(gt[0].get<double>(), s.x0);
  EXPECT_DOUBLE_EQ(gt[1].get<double>(), s.cell);
  EXPECT_DOUBLE_EQ(gt[2].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(gt[3].get<double>(), s.y0 + s.ny * s.cell);
  EXPECT_DOUBLE_EQ(gt[4].get<double>(), 0.0);
  EXPECT_DOUBLE_EQ(gt[5].get<double>(), -s.cell);

  const auto& band = info.at("bands").at(0);
  EXPECT_EQ(band.at("type"), "Float32");
  ASSERT_TRUE(band.contains("noDataValue")) << out;
  EXPECT_DOUBLE_EQ(band.at("noDataValue").get<double>(), kNodata);
  const auto& metadata = info.at("metadata").at("");
  EXPECT_EQ(metadata.at("AREA_OR_POINT"), "Area");
  EXPECT_EQ(metadata.at("TIFFTAG_IMAGEDESCRIPTION"), kDescription);
}

TEST(GeoTiff, GdalReadsTheKnownPointAtEveryWriterCount) {
  const GridSpec s = lambert93();
  // Every rank writes every file before rank 0 checks any, so a failed check cannot leave ranks waiting.
  std::vector<fs::path> files;
  for (const int writers : {1, 2, 4})
    if (writers <= commSize()) files.push_back(writeWith(writers));
  if (!haveGdal())
    GTEST_SKIP() << "gdallocationinfo is not installed (scripts/install_deps.sh installs gdal-bin)";
  if (commRank() != 0) return;
  for (const auto& file : files) {
    // Cells near each corner and one near the north edge: a flipped or shifted raster moves some of them.
    for (const auto& [i, j] : {std::pair{4, 7}, std::pair{0, 0}, std::pair{s.nx - 1, s.ny - 1},
                               std::pair{0, s.ny - 1}, std::pair{s.nx - 2, 1}}) {
      ASSERT_FALSE(masked(s, i, j)) << i << "," << j;
      const double x = s.x0 + (i + 0.5) * s.cell;
      const double y = s.y0 + (j + 0.5) * s.cell;
      EXPECT_EQ(valueAt(file, x, y), cellValue(s, i, j)) << file << " cell " << i << "," << j;
    }
    // Masked cells read back as the no-data value.
    for (const auto& [i, j] : {std::pair{s.nx - 1, 0}, std::pair{3, 0}, std::pair{1, 1}}) {
      ASSERT_TRUE(masked(s, i, j)) << i << "," << j;
      const double x = s.x0 + (i + 0.5) * s.cell;
      const double y = s.y0 + (j + 0.5) * s.cell;
      EXPECT_EQ(valueAt(file, x, y), kNodata) << file << " cell " << i << "," << j;
    }
  }
}

TEST(GeoTiff, PixelsDoNotDependOnTheDecomposition) {
  const GridSpec s = lambert93();
  std::vector<fs::path> files;
  for (const int writers : {1, 2, 4})
    if (writers <= commSize()) files.push_back(writeWith(writers));
  if (commRank() != 0) return;
  const std::vector<float> reference = readPixels(files.front(), s);
  ASSERT_EQ(reference.size(), static_cast<std::size_t>(s.nx) * s.ny);
  // Row r of the raster is the grid's row j = ny - 1 - r.
  for (int j = 0; j < s.ny; ++j)
    for (int i = 0; i < s.nx; ++i) {
      const float expected =
          masked(s, i, j) ? static_cast<float>(kNodata) : static_cast<float>(cellValue(s, i, j));
      ASSERT_EQ(reference[static_cast<std::size_t>(s.ny - 1 - j) * s.nx + i], expected) << i << "," << j;
    }
  for (std::size_t f = 1; f < files.size(); ++f) {
    const std::vector<float> pixels = readPixels(files[f], s);
    ASSERT_EQ(pixels.size(), reference.size()) << files[f];
    for (std::size_t k = 0; k < pixels.size(); ++k)
      ASSERT_EQ(pixels[k], reference[k]) << files[f] << " pixel " << k;
  }
  // The temporary files were renamed, none left behind.
  for (const auto& entry : fs::directory_iterator(outputDir()))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

TEST(GeoTiff, RefusesALatticeGridOnEveryRank) {
  GridSpec s = lambert93();
  s.epsg = 0;
  const CityGrid grid(MPI_COMM_WORLD, s);
  const std::vector<double> owned(static_cast<std::size_t>(grid.ownedBox().cells()), 1.0);
  try {
    vigie::store::writeGeoTiff(grid, outputDir() / "lattice.tif", owned, "lattice", kNodata);
    ADD_FAILURE() << "a lattice grid was written as a GeoTIFF";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage) << e.what();
    EXPECT_TRUE(e.collective());
  }
  MPI_Barrier(MPI_COMM_WORLD);
  if (commRank() == 0) {
    EXPECT_FALSE(fs::exists(outputDir() / "lattice.tif"));
  }
}

TEST(GeoTiff, ReportsAnUnwritableFolderOnEveryRank) {
  const CityGrid grid(MPI_COMM_WORLD, lambert93());
  const std::vector<double> owned(static_cast<std::size_t>(grid.ownedBox().cells()), 1.0);
  try {
    vigie::store::writeGeoTiff(grid, outputDir() / "no-such-folder" / "map.tif", owned, "x", kNodata);
    ADD_FAILURE() << "writing into a missing folder succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Io) << e.what();
    EXPECT_TRUE(e.collective());
  }
}

TEST(GeoTiff, RejectsValuesThatDoNotMatchTheOwnedBox) {
  const CityGrid grid(MPI_COMM_WORLD, lambert93());
  // Only rank 0 passes a wrong size: the others must still throw instead of waiting in the gather.
  const auto cells = static_cast<std::size_t>(grid.ownedBox().cells());
  const std::vector<double> owned(commRank() == 0 ? cells + 1 : cells, 1.0);
  EXPECT_THROW(vigie::store::writeGeoTiff(grid, outputDir() / "bad.tif", owned, "x", kNodata), Error);
}

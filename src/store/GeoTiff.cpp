#include "store/GeoTiff.hpp"

#include <mpi.h>
#include <tiffio.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "core/Error.hpp"
#include "grid/CityGrid.hpp"

namespace vigie::store {

namespace fs = std::filesystem;
using core::Error;
using core::ExitCode;

namespace {

// GeoTIFF 1.0 tags (OGC 19-008r4, section 7) and GDAL's private no-data tag: libtiff does not know them, and
// without a definition it refuses to write them.
constexpr ttag_t kModelPixelScaleTag = 33550;
constexpr ttag_t kModelTiepointTag = 33922;
constexpr ttag_t kGeoKeyDirectoryTag = 34735;
constexpr ttag_t kGeoDoubleParamsTag = 34736;
constexpr ttag_t kGeoAsciiParamsTag = 34737;
constexpr ttag_t kGdalNodataTag = 42113;

// GeoKey identifiers and the code values used (OGC 19-008r4, annex B).
constexpr std::uint16_t kGTModelTypeGeoKey = 1024;
constexpr std::uint16_t kGTRasterTypeGeoKey = 1025;
constexpr std::uint16_t kProjectedCSTypeGeoKey = 3072;
constexpr std::uint16_t kModelTypeProjected = 1;
constexpr std::uint16_t kRasterPixelIsArea = 1;

// TIFFFieldInfo takes a non-const name pointer; these arrays live for the whole program.
char g_name_pixel_scale[] = "ModelPixelScaleTag";
char g_name_tiepoint[] = "ModelTiepointTag";
char g_name_key_directory[] = "GeoKeyDirectoryTag";
char g_name_double_params[] = "GeoDoubleParamsTag";
char g_name_ascii_params[] = "GeoAsciiParamsTag";
char g_name_nodata[] = "GDAL_NODATA";

// Variable-length arrays pass their count to TIFFSetField (passcount true); ASCII tags pass only the string.
const std::array<TIFFFieldInfo, 6> kGeoFields{{
    {kModelPixelScaleTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_DOUBLE, FIELD_CUSTOM, 1, 1, g_name_pixel_scale},
    {kModelTiepointTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_DOUBLE, FIELD_CUSTOM, 1, 1, g_name_tiepoint},
    {kGeoKeyDirectoryTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_SHORT, FIELD_CUSTOM, 1, 1, g_name_key_directory},
    {kGeoDoubleParamsTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_DOUBLE, FIELD_CUSTOM, 1, 1,
     g_name_double_params},
    {kGeoAsciiParamsTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_ASCII, FIELD_CUSTOM, 1, 0, g_name_ascii_params},
    {kGdalNodataTag, TIFF_VARIABLE, TIFF_VARIABLE, TIFF_ASCII, FIELD_CUSTOM, 1, 0, g_name_nodata},
}};

TIFFExtendProc g_previous_extender = nullptr;

// libtiff calls the extender for every TIFF it opens, so the definitions are merged into each handle; the
// previous extender (another library's) still runs.
void extendWithGeoTags(TIFF* tif) {
  TIFFMergeFieldInfo(tif, kGeoFields.data(), static_cast<std::uint32_t>(kGeoFields.size()));
  if (g_previous_extender != nullptr) g_previous_extender(tif);
}

void registerGeoTags() {
  static std::once_flag once;
  std::call_once(once, [] { g_previous_extender = TIFFSetTagExtender(extendWithGeoTags); });
}

// The shortest text that reads back as the float stored in the pixels; "nan" and "inf" are what GDAL parses.
std::string nodataText(float nodata) {
  std::array<char, 64> text{};
  const auto [end, ec] = std::to_chars(text.data(), text.data() + text.size(), nodata);
  return ec == std::errc() ? std::string(text.data(), end) : std::string("nan");
}

// Gathers (global index, value) pairs on rank 0 and places the values; other ranks get an empty raster.
// Masked cells are replaced by `nodata` before sending, so only one value travels per cell.
std::vector<float> gatherNorthUp(const grid::CityGrid& grid, std::span<const double> owned, float nodata,
                                 int rank, int size) {
  const auto idx = grid.ownedGlobalIndices();
  const auto& mask = grid.ownedMask();
  std::vector<float> values(owned.size());
  for (std::size_t k = 0; k < owned.size(); ++k)
    values[k] = mask[k] != 0 ? static_cast<float>(owned[k]) : nodata;

  const int n = static_cast<int>(idx.size());
  std::vector<int> counts(rank == 0 ? static_cast<std::size_t>(size) : 0);
  VIGIE_CHECK_MPI(MPI_Gather(&n, 1, MPI_INT, counts.data(), 1, MPI_INT, 0, grid.comm()));
  std::vector<int> displs(counts.size(), 0);
  int total = 0;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    displs[r] = total;
    total += counts[r];
  }
  std::vector<std::int64_t> all_idx(static_cast<std::size_t>(total));
  std::vector<float> all_val(static_cast<std::size_t>(total));
  VIGIE_CHECK_MPI(MPI_Gatherv(idx.data(), n, MPI_INT64_T, all_idx.data(), counts.data(), displs.data(),
                              MPI_INT64_T, 0, grid.comm()));
  VIGIE_CHECK_MPI(MPI_Gatherv(values.data(), n, MPI_FLOAT, all_val.data(), counts.data(), displs.data(),
                              MPI_FLOAT, 0, grid.comm()));
  if (rank != 0) return {};

  // The grid's j grows northwards from y0 while a raster's rows grow southwards from the top edge.
  const auto nx = static_cast<std::int64_t>(grid.nx());
  const auto ny = static_cast<std::int64_t>(grid.ny());
  std::vector<float> raster(static_cast<std::size_t>(nx * ny), nodata);
  for (std::size_t k = 0; k < all_idx.size(); ++k) {
    const std::int64_t j = all_idx[k] / nx;
    const std::int64_t i = all_idx[k] % nx;
    raster[static_cast<std::size_t>((ny - 1 - j) * nx + i)] = all_val[k];
  }
  return raster;
}

struct TiffCloser {
  void operator()(TIFF* tif) const { TIFFClose(tif); }
};

// Rank 0 only. Writes the raster to `file`; returns an empty string or the reason it failed.
std::string writeTiff(const grid::CityGrid& grid, const fs::path& file, const std::vector<float>& raster,
                      const std::string& description, float nodata) {
  const auto& spec = grid.spec();
  registerGeoTags();
  // Classic TIFF addresses 4 GiB; a larger map needs BigTIFF ("w8"), which GDAL and QGIS read as well.
  const double bytes = static_cast<double>(raster.size()) * sizeof(float);
  const char* mode = bytes > 3.5e9 ? "w8" : "w";
  std::unique_ptr<TIFF, TiffCloser> tif(TIFFOpen(file.c_str(), mode));
  if (!tif) return file.string() + ": cannot create the GeoTIFF file (does the folder exist?)";
  TIFF* t = tif.get();

  const auto width = static_cast<std::uint32_t>(spec.nx);
  const auto height = static_cast<std::uint32_t>(spec.ny);
  const std::uint16_t compression =
      TIFFIsCODECConfigured(COMPRESSION_ADOBE_DEFLATE) != 0 ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE;
  const std::array<double, 3> pixel_scale{spec.cell, spec.cell, 0.0};
  const std::array<double, 6> tiepoint{0.0, 0.0, 0.0, spec.x0, spec.y0 + spec.ny * spec.cell, 0.0};
  // Header (directory version 1, key revision 1.0, number of keys), then the keys sorted by id: id, location
  // (0: the value is in the entry itself), count, value.
  using GeoKeyEntry = std::array<std::uint16_t, 4>;
  const std::array<GeoKeyEntry, 4> geokeys{{
      {1, 1, 0, 3},
      {kGTModelTypeGeoKey, 0, 1, kModelTypeProjected},
      {kGTRasterTypeGeoKey, 0, 1, kRasterPixelIsArea},
      {kProjectedCSTypeGeoKey, 0, 1, static_cast<std::uint16_t>(spec.epsg)},
  }};
  static_assert(sizeof(geokeys) == 16 * sizeof(std::uint16_t), "the directory is passed as one flat array");
  const std::string nodata_text = nodataText(nodata);

  bool ok =
      TIFFSetField(t, TIFFTAG_IMAGEWIDTH, width) != 0 && TIFFSetField(t, TIFFTAG_IMAGELENGTH, height) != 0 &&
      TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1) != 0 && TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32) != 0 &&
      TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP) != 0 &&
      TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK) != 0 &&
      TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) != 0 &&
      TIFFSetField(t, TIFFTAG_COMPRESSION, compression) != 0 &&
      TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(t, 0)) != 0 &&
      TIFFSetField(t, TIFFTAG_IMAGEDESCRIPTION, description.c_str()) != 0 &&
      TIFFSetField(t, TIFFTAG_SOFTWARE, "vigie") != 0 &&
      TIFFSetField(t, kModelPixelScaleTag, 3, pixel_scale.data()) != 0 &&
      TIFFSetField(t, kModelTiepointTag, 6, tiepoint.data()) != 0 &&
      TIFFSetField(t, kGeoKeyDirectoryTag, 16, geokeys.front().data()) != 0 &&
      TIFFSetField(t, kGdalNodataTag, nodata_text.c_str()) != 0;
  if (!ok) return file.string() + ": libtiff refused a GeoTIFF tag";

  // libtiff takes a non-const row buffer because some codecs encode in place; write from a copy of each row.
  std::vector<float> row(width);
  for (std::uint32_t r = 0; r < height && ok; ++r) {
    const auto* src = raster.data() + static_cast<std::size_t>(r) * width;
    row.assign(src, src + width);
    ok = TIFFWriteScanline(t, row.data(), r, 0) == 1;
  }
  if (!ok) return file.string() + ": writing the GeoTIFF pixels failed (disk full?)";
  if (TIFFWriteDirectory(t) == 0) return file.string() + ": writing the GeoTIFF directory failed";
  tif.reset();
  return {};
}

std::string broadcastProblem(MPI_Comm comm, std::string problem) {
  int length = static_cast<int>(problem.size());
  VIGIE_CHECK_MPI(MPI_Bcast(&length, 1, MPI_INT, 0, comm));
  problem.resize(static_cast<std::size_t>(length));
  VIGIE_CHECK_MPI(MPI_Bcast(problem.data(), length, MPI_CHAR, 0, comm));
  return problem;
}

}  // namespace

void writeGeoTiff(const grid::CityGrid& grid, const fs::path& path, std::span<const double> owned,
                  const std::string& description, double nodata) {
  const auto& spec = grid.spec();
  // Every rank holds the same spec, so every rank throws here together.
  if (spec.epsg <= 0 || spec.epsg > std::numeric_limits<std::uint16_t>::max()) {
    throw Error(ExitCode::Usage,
                path.string() + ": a GeoTIFF needs a grid with an EPSG code (grid.crs), got EPSG " +
                    std::to_string(spec.epsg),
                true);
  }
  // A size mismatch on one rank would leave the others waiting in the gather, so all ranks agree first.
  int local_ok = owned.size() == static_cast<std::size_t>(grid.ownedBox().cells()) ? 1 : 0;
  int all_ok = 0;
  VIGIE_CHECK_MPI(MPI_Allreduce(&local_ok, &all_ok, 1, MPI_INT, MPI_MIN, grid.comm()));
  if (all_ok == 0) {
    throw Error(ExitCode::Internal,
                path.string() + ": writeGeoTiff got values that do not match the owned box", true);
  }

  int rank = 0;
  int size = 1;
  VIGIE_CHECK_MPI(MPI_Comm_rank(grid.comm(), &rank));
  VIGIE_CHECK_MPI(MPI_Comm_size(grid.comm(), &size));
  const auto nodata_f = static_cast<float>(nodata);
  const std::vector<float> raster = gatherNorthUp(grid, owned, nodata_f, rank, size);

  std::string problem;
  if (rank == 0) {
    // Only rank 0 writes, so its process id and clock make the temporary name unique.
    fs::path temp = path;
    temp += ".tmp-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    problem = writeTiff(grid, temp, raster, description, nodata_f);
    std::error_code ec;
    if (problem.empty()) {
      fs::rename(temp, path, ec);
      if (ec) problem = temp.string() + ": cannot rename to " + path.string() + " (" + ec.message() + ")";
    }
    if (!problem.empty()) fs::remove(temp, ec);
  }
  problem = broadcastProblem(grid.comm(), problem);
  if (!problem.empty()) throw Error(ExitCode::Io, problem, true);
}

}  // namespace vigie::store

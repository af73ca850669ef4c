// Round trips through the parallel field store: written with one box decomposition, read back with another,
// at 1, 2 and 4 ranks; plus the file's life cycle (temporary name, commit, XDMF sidecar).
#include <gtest/gtest.h>
#include <hdf5.h>
#include <mpi.h>
#include "../support/MpiTest.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/Error.hpp"
#include "store/FieldFile.hpp"
#include "store/Xdmf.hpp"

namespace fs = std::filesystem;
using vigie::store::Box;
using vigie::store::FieldFile;
using vigie::store::FieldMeta;
using vigie::store::GridGeometry;

namespace {

using vigie::testing::commRank;
using vigie::testing::commSize;

// A folder per rank count, so the np1/np2/np4 runs may execute side by side; emptied by rank 0 on first use.
fs::path outputDir() {
  static const fs::path dir = [] {
    const fs::path d = fs::path(VIGIE_BINARY_DIR) / "test-output" / ("store-np" + std::to_string(commSize()));
    if (commRank() == 0) {
      fs::remove_all(d);
      fs::create_directories(d);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    return d;
  }();
  return dir;
}

bool existsOnRank0(const fs::path& p) {
  int exists = commRank() == 0 && fs::exists(p) ? 1 : 0;
  MPI_Bcast(&exists, 1, MPI_INT, 0, MPI_COMM_WORLD);
  return exists != 0;
}

// Rank `rank` of a px x py split of an nx x ny grid; px * py may be smaller than the rank count, in which
// case the extra ranks own an empty box.
Box splitBox(int nx, int ny, int px, int py, int rank) {
  if (rank >= px * py) return Box{};
  const int ci = rank % px;
  const int cj = rank / px;
  const int i0 = ci * nx / px;
  const int j0 = cj * ny / py;
  return Box{i0, j0, (ci + 1) * nx / px - i0, (cj + 1) * ny / py - j0};
}

// The writers' split: 1x1, 2x1, 2x2 (or size x 1 for other counts). Readers use the transpose.
void writerSplit(int* px, int* py) {
  const int size = commSize();
  *px = size == 4 ? 2 : size;
  *py = size == 4 ? 2 : 1;
}

double doubleValue(int i, int j) {
  return std::sin(0.37 * i + 1.3 * j) * 1.0e6 + i * 1.0e-3 + 1.0 / (j + 3);
}
std::int64_t intValue(int i, int j) {
  return (static_cast<std::int64_t>(j) << 40) + i * 7919LL - 12345;
}
double timeValue(int t, int i, int j) {
  return t * 1.0e4 + doubleValue(i, j) / 7.0;
}

template <class T, class F>
std::vector<T> fill2d(const Box& b, F f) {
  std::vector<T> v;
  for (int j = b.j0; j < b.j0 + b.nj; ++j)
    for (int i = b.i0; i < b.i0 + b.ni; ++i) v.push_back(static_cast<T>(f(i, j)));
  return v;
}

std::vector<double> fill3d(const Box& b, int nt) {
  std::vector<double> v;
  for (int t = 0; t < nt; ++t)
    for (int j = b.j0; j < b.j0 + b.nj; ++j)
      for (int i = b.i0; i < b.i0 + b.ni; ++i) v.push_back(timeValue(t, i, j));
  return v;
}

// Compares every value exactly: the store must not round or reorder anything.
template <class T>
void expectBitIdentical(const std::vector<T>& got, const std::vector<T>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  std::size_t mismatches = 0;
  for (std::size_t k = 0; k < got.size(); ++k) mismatches += std::memcmp(&got[k], &want[k], sizeof(T)) != 0;
  EXPECT_EQ(mismatches, 0U) << what << ": " << mismatches << " values differ";
}

GridGeometry smallGrid() {
  GridGeometry g;
  g.epsg = 2154;
  g.x0 = 651234.5;
  g.y0 = 6862100.25;
  g.cell_m = 150;
  g.nx = 37;
  g.ny = 23;
  g.boundary = "neumann";
  return g;
}

std::string readText(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A small well-formedness check: every element opened is closed in order and the document has one root.
bool tagsBalanced(const std::string& xml) {
  std::vector<std::string> stack;
  int roots = 0;
  for (std::size_t pos = xml.find('<'); pos != std::string::npos; pos = xml.find('<', pos + 1)) {
    const std::size_t end = xml.find('>', pos);
    if (end == std::string::npos) return false;
    const std::string tag = xml.substr(pos + 1, end - pos - 1);
    if (tag.empty() || tag[0] == '?' || tag[0] == '!') continue;
    if (tag[0] == '/') {
      if (stack.empty() || stack.back() != tag.substr(1)) return false;
      stack.pop_back();
      continue;
    }
    const std::string name = tag.substr(0, tag.find_first_of(" \t\n/"));
    if (stack.empty()) ++roots;
    if (tag.back() != '/') stack.push_back(name);
  }
  return stack.empty() && roots == 1;
}

}  // namespace

TEST(FieldFile, RoundTripAcrossDecompositions) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "roundtrip.h5";
  int px = 1;
  int py = 1;
  writerSplit(&px, &py);
  const Box wbox = splitBox(g.nx, g.ny, px, py, commRank());
  const int nt = 3;

  fs::path temp;
  {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    temp = f.tempPath();
    EXPECT_TRUE(existsOnRank0(temp));
    EXPECT_FALSE(existsOnRank0(path));
    const auto d = fill2d<double>(wbox, doubleValue);
    const auto n = fill2d<std::int64_t>(wbox, intValue);
    const auto s = fill2d<float>(wbox, doubleValue);
    const auto k = fill2d<std::int32_t>(wbox, [](int i, int j) { return i * 1000 - j; });
    const auto m = fill2d<std::uint8_t>(wbox, [](int i, int j) { return (i + j) % 3 == 0 ? 1 : 0; });
    const auto x = fill3d(wbox, nt);
    f.write2d<double>("risk", wbox, d, FieldMeta{"1/day", "incident intensity", -1.0});
    f.write2d<std::int64_t>("counts", wbox, n, FieldMeta{"1", "event counts", 0});
    f.write2d<float>("risk_f32", wbox, s, FieldMeta{"1/day", "single precision copy", 0});
    f.write2d<std::int32_t>("ids", wbox, k, FieldMeta{"1", "cell ids", -1});
    f.write2d<std::uint8_t>("mask", wbox, m, FieldMeta{"1", "land mask", 0});
    f.write3d<double>("series", nt, wbox, x, FieldMeta{"1/day", "intensity per step", 0});
    f.setAttribute("git_hash", std::string("0123abcd"));
    f.setAttribute("config", std::string(100000, 'c'));  // larger than a compact attribute's 64 KiB
    f.setAttribute("empty", std::string());
    f.setAttribute("seed", static_cast<std::int64_t>(-42));
    f.setAttribute("threads", 2.5);
    f.setAttribute("git_hash", std::string("fedcba98"));  // overwriting is allowed
    EXPECT_TRUE(f.hasField("series"));
    EXPECT_FALSE(f.hasField("absent"));
    f.commit();
    EXPECT_THROW(f.write2d<double>("late", wbox, d, FieldMeta{}), vigie::core::Error);
  }
  EXPECT_FALSE(existsOnRank0(temp));
  EXPECT_TRUE(existsOnRank0(path));
  EXPECT_TRUE(existsOnRank0(fs::path(path.string() + ".xmf")));

  const auto f = FieldFile::open(MPI_COMM_WORLD, path);
  const GridGeometry r = f.geometry();
  EXPECT_EQ(r.epsg, g.epsg);
  EXPECT_EQ(r.x0, g.x0);
  EXPECT_EQ(r.y0, g.y0);
  EXPECT_EQ(r.cell_m, g.cell_m);
  EXPECT_EQ(r.nx, g.nx);
  EXPECT_EQ(r.ny, g.ny);
  EXPECT_EQ(r.boundary, g.boundary);
  EXPECT_EQ(f.stringAttribute("schema"), "vigie.fields/1");
  EXPECT_EQ(f.stringAttribute("git_hash"), "fedcba98");
  EXPECT_EQ(f.stringAttribute("config"), std::string(100000, 'c'));
  EXPECT_EQ(f.stringAttribute("empty"), "");
  EXPECT_EQ(f.intAttribute("seed"), -42);
  EXPECT_EQ(f.doubleAttribute("threads"), 2.5);
  EXPECT_THROW((void)f.stringAttribute("no_such_attribute"), vigie::core::Error);
  EXPECT_THROW((void)f.intAttribute("threads"), vigie::core::Error);
  EXPECT_EQ(f.fieldNames(),
            (std::vector<std::string>{"counts", "ids", "mask", "risk", "risk_f32", "series"}));

  // Transposed split, the whole grid on every rank, and the whole grid on rank 0 only (others empty).
  const Box transposed = splitBox(g.nx, g.ny, py, px, commRank());
  const Box whole{0, 0, g.nx, g.ny};
  const Box rank0_only = commRank() == 0 ? whole : Box{};
  for (const Box& b : {transposed, whole, rank0_only}) {
    expectBitIdentical(f.read2d<double>("risk", b), fill2d<double>(b, doubleValue), "risk");
    expectBitIdentical(f.read2d<std::int64_t>("counts", b), fill2d<std::int64_t>(b, intValue), "counts");
    expectBitIdentical(f.read2d<float>("risk_f32", b), fill2d<float>(b, doubleValue), "risk_f32");
    expectBitIdentical(f.read2d<std::int32_t>("ids", b),
                       fill2d<std::int32_t>(b, [](int i, int j) { return i * 1000 - j; }), "ids");
    expectBitIdentical(f.read2d<std::uint8_t>("mask", b),
                       fill2d<std::uint8_t>(b, [](int i, int j) { return (i + j) % 3 == 0 ? 1 : 0; }),
                       "mask");
    int nt_read = -1;
    expectBitIdentical(f.read3d<double>("series", b, &nt_read), fill3d(b, nt), "series");
    EXPECT_EQ(nt_read, nt);
  }
  EXPECT_THROW((void)f.read2d<double>("absent", whole), vigie::core::Error);
  EXPECT_THROW((void)f.read2d<double>("series", whole), vigie::core::Error);      // 3-D read as 2-D
  EXPECT_THROW((void)f.read2d<std::int64_t>("risk", whole), vigie::core::Error);  // float read as integer
}

TEST(FieldFile, XdmfSidecarNamesEveryDataset) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "sidecar.h5";
  int px = 1;
  int py = 1;
  writerSplit(&px, &py);
  const Box box = splitBox(g.nx, g.ny, px, py, commRank());
  {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    f.write2d<double>("risk", box, fill2d<double>(box, doubleValue), FieldMeta{});
    f.write3d<double>("series", 3, box, fill3d(box, 3), FieldMeta{});
    f.commit();
  }
  const std::string xml = readText(fs::path(path.string() + ".xmf"));
  EXPECT_TRUE(tagsBalanced(xml)) << xml;
  EXPECT_NE(xml.find("sidecar.h5:/fields/risk<"), std::string::npos);
  EXPECT_NE(xml.find("sidecar.h5:/fields/series<"), std::string::npos);
  EXPECT_EQ(xml.find(".tmp-"), std::string::npos);  // references the final name, not the temporary one
  EXPECT_NE(xml.find("TopologyType=\"2DCoRectMesh\" Dimensions=\"24 38\""), std::string::npos);
  EXPECT_NE(xml.find("Dimensions=\"23 37\""), std::string::npos);
  EXPECT_NE(xml.find("Dimensions=\"3 23 37\""), std::string::npos);
  EXPECT_NE(xml.find(">6862100.25 651234.5<"), std::string::npos);
  EXPECT_NE(xml.find("CollectionType=\"Temporal\""), std::string::npos);
  EXPECT_NE(xml.find(">2 0 0 1 1 1 1 23 37<"), std::string::npos);
  EXPECT_NE(xml.find("Center=\"Cell\""), std::string::npos);
}

TEST(FieldFile, UncommittedFileLeavesNothing) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "abandoned.h5";
  fs::path temp;
  {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    temp = f.tempPath();
    const Box whole{0, 0, g.nx, g.ny};
    const Box box = commRank() == 0 ? whole : Box{};
    f.write2d<double>("risk", box, fill2d<double>(box, doubleValue), FieldMeta{});
    EXPECT_TRUE(existsOnRank0(temp));
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(existsOnRank0(temp));
  EXPECT_FALSE(existsOnRank0(path));
  EXPECT_FALSE(existsOnRank0(fs::path(path.string() + ".xmf")));
  EXPECT_THROW((void)FieldFile::open(MPI_COMM_WORLD, path), vigie::core::Error);
}

// An exception thrown on every rank unwinds through the FieldFile: it must not wait for a collective close,
// and the temporary file must still go.
TEST(FieldFile, UnwindingRemovesTheTemporaryFile) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "unwound.h5";
  fs::path temp;
  try {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    temp = f.tempPath();
    throw std::runtime_error("simulated failure on every rank");
  } catch (const std::runtime_error&) {
  }
  MPI_Barrier(MPI_COMM_WORLD);
  EXPECT_FALSE(temp.empty());
  EXPECT_FALSE(existsOnRank0(temp));
  EXPECT_FALSE(existsOnRank0(path));
}

// Bad arguments on one rank must make every rank throw instead of leaving the others in a collective call.
TEST(FieldFile, InvalidArgumentsThrowOnEveryRank) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "invalid.h5";
  auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
  int px = 1;
  int py = 1;
  writerSplit(&px, &py);
  const Box box = splitBox(g.nx, g.ny, px, py, commRank());
  const auto data = fill2d<double>(box, doubleValue);
  Box outside = box;
  if (commRank() == 0) outside.i0 = g.nx;  // leaves the grid on rank 0 only
  EXPECT_THROW(f.write2d<double>("a", outside, data, FieldMeta{}), vigie::core::Error);
  const std::vector<double> short_data(data.begin(), data.end() - (commRank() == commSize() - 1 ? 1 : 0));
  EXPECT_THROW(f.write2d<double>("b", box, short_data, FieldMeta{}), vigie::core::Error);
  const Box gap = commRank() == 0 ? Box{} : box;  // rank 0's cells left out (with 1 rank: nothing written)
  EXPECT_THROW(f.write2d<double>("c", gap, fill2d<double>(gap, doubleValue), FieldMeta{}),
               vigie::core::Error);
  EXPECT_THROW(f.write2d<double>("bad name", box, data, FieldMeta{}), vigie::core::Error);
  EXPECT_THROW(f.write2d<double>("bad//name", box, data, FieldMeta{}), vigie::core::Error);
  f.write2d<double>("d", box, data, FieldMeta{});
  EXPECT_THROW(f.write2d<double>("d", box, data, FieldMeta{}), vigie::core::Error);  // already written
  f.commit();
}

// Fields over 64 x 64 cells are chunked and deflated; parallel HDF5 must accept that at every rank count,
// including a rank with an empty box.
TEST(FieldFile, CompressedFieldsRoundTrip) {
  GridGeometry g;
  g.nx = 150;
  g.ny = 97;
  g.boundary = "periodic";
  const fs::path path = outputDir() / "compressed.h5";
  // Rows split over all ranks but the last, which owns nothing (with one rank, the whole grid).
  const int writers = std::max(commSize() - 1, 1);
  const Box wbox = splitBox(g.nx, g.ny, 1, writers, commRank());
  {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    f.write2d<double>("big", wbox, fill2d<double>(wbox, doubleValue), FieldMeta{"m", "large field", 0});
    f.write2d<std::uint8_t>("big_mask", wbox, fill2d<std::uint8_t>(wbox, [](int i, int) { return i % 2; }),
                            FieldMeta{});
    f.write3d<double>("big_series", 2, wbox, fill3d(wbox, 2), FieldMeta{});
    f.commit();
  }
  {
    const auto f = FieldFile::open(MPI_COMM_WORLD, path);
    EXPECT_EQ(f.geometry().epsg, 0);
    const Box rbox = splitBox(g.nx, g.ny, commSize(), 1, commRank());
    expectBitIdentical(f.read2d<double>("big", rbox), fill2d<double>(rbox, doubleValue), "big");
    expectBitIdentical(f.read2d<std::uint8_t>("big_mask", rbox),
                       fill2d<std::uint8_t>(rbox, [](int i, int) { return i % 2; }), "big_mask");
    int nt = 0;
    expectBitIdentical(f.read3d<double>("big_series", rbox, &nt), fill3d(rbox, 2), "big_series");
    EXPECT_EQ(nt, 2);
  }

  // Inspect the layout serially on rank 0, once the parallel handle is closed: the datasets must be deflated.
  if (commRank() == 0) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    ASSERT_GE(file, 0);
    for (const char* name : {"/fields/big", "/fields/big_series"}) {
      const hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
      const hid_t dcpl = H5Dget_create_plist(dset);
      EXPECT_EQ(H5Pget_layout(dcpl), H5D_CHUNKED) << name;
      // Byte shuffle then deflate.
      ASSERT_EQ(H5Pget_nfilters(dcpl), 2) << name;
      unsigned flags = 0;
      std::size_t nelmts = 0;
      EXPECT_EQ(H5Pget_filter2(dcpl, 0, &flags, &nelmts, nullptr, 0, nullptr, nullptr), H5Z_FILTER_SHUFFLE)
          << name;
      nelmts = 1;
      unsigned level = 0;
      EXPECT_EQ(H5Pget_filter2(dcpl, 1, &flags, &nelmts, &level, 0, nullptr, nullptr), H5Z_FILTER_DEFLATE)
          << name;
      H5Pclose(dcpl);
      H5Dclose(dset);
    }
    H5Fclose(file);
  }
}

// Paths from the root, replicated 1-D data, strings, an extendible time axis grown in place and the sidecar
// listing datasets outside /fields.
TEST(FieldFile, PathsVectorsAndExtendibleInPlace) {
  const GridGeometry g = smallGrid();
  const fs::path path = outputDir() / "paths.h5";
  int px = 1;
  int py = 1;
  writerSplit(&px, &py);
  const Box box = splitBox(g.nx, g.ny, px, py, commRank());
  const Box whole{0, 0, g.nx, g.ny};
  const Box rbox = splitBox(g.nx, g.ny, commSize(), 1, commRank());
  const auto counts3 = fill3d(box, 3);
  std::vector<std::int32_t> ints(counts3.size());
  std::transform(counts3.begin(), counts3.end(), ints.begin(),
                 [](double v) { return static_cast<std::int32_t>(v); });
  {
    auto f = FieldFile::create(MPI_COMM_WORLD, path, g);
    f.create3dExtendible<std::int32_t>("counts/theft", 3, box, ints, FieldMeta{"events", "", 0});
    f.write2d<std::uint8_t>("/mask", box, fill2d<std::uint8_t>(box, [](int i, int) { return i % 2; }),
                            FieldMeta{});
    const std::vector<std::int64_t> starts{10, 20, 30};
    f.write1d<std::int64_t>("time/bin_start", starts, FieldMeta{"s", "", 0});
    f.writeStrings1d("time/iso", {"2018-01-01", "", "2018-01-03T00:00+01:00"});
    f.setObjectAttribute("time/bin_start", "bin", std::string("day"));
    const std::int32_t small = 7;
    f.setObjectAttribute("counts/theft", "n", static_cast<std::int64_t>(small));
    EXPECT_THROW(f.create3dExtendible<std::int32_t>("counts/theft", 3, box, ints, FieldMeta{}),
                 vigie::core::Error);
    EXPECT_THROW(f.write1d<std::int64_t>("time//x", starts, FieldMeta{}), vigie::core::Error);
    f.setAttribute("schema", std::string("vigie.obs/1"));
    f.commit();
  }
  std::string xml = readText(fs::path(path.string() + ".xmf"));
  EXPECT_TRUE(tagsBalanced(xml)) << xml;
  EXPECT_NE(xml.find("paths.h5:/counts/theft<"), std::string::npos) << xml;
  EXPECT_NE(xml.find("paths.h5:/mask<"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("bin_start"), std::string::npos);  // 1-D datasets are not grid fields
  {
    auto f = FieldFile::openReadWrite(MPI_COMM_WORLD, path);
    EXPECT_TRUE(f.hasField("counts/theft"));
    EXPECT_FALSE(f.hasField("counts/absent/deeper"));
    EXPECT_EQ(f.childNames("time"), (std::vector<std::string>{"bin_start", "iso"}));
    EXPECT_EQ(f.objectStringAttribute("/time/bin_start", "bin"), "day");
    EXPECT_EQ(f.objectIntAttribute("counts/theft", "n"), 7);
    EXPECT_EQ(f.read1d<std::int64_t>("time/bin_start"), (std::vector<std::int64_t>{10, 20, 30}));
    EXPECT_EQ(f.readStrings1d("time/iso"),
              (std::vector<std::string>{"2018-01-01", "", "2018-01-03T00:00+01:00"}));
    // Grow the axis to 5 planes and add one to plane 3 of every owned cell (read-modify-write, reader split).
    f.extend3d("counts/theft", 5);
    EXPECT_EQ(f.shape("counts/theft"), (std::vector<std::int64_t>{5, g.ny, g.nx}));
    EXPECT_THROW(f.extend3d("counts/theft", 4), vigie::core::Error);
    auto slab = f.readSlab3d<std::int32_t>("counts/theft", 3, 2, rbox);
    EXPECT_TRUE(std::all_of(slab.begin(), slab.end(), [](std::int32_t v) { return v == 0; }));
    for (std::size_t k = 0; k < static_cast<std::size_t>(rbox.cells()); ++k) slab[k] += 1;
    f.writeSlab3d<std::int32_t>("counts/theft", 3, 2, rbox, slab);
    EXPECT_THROW((void)f.readSlab3d<std::int32_t>("counts/theft", 4, 2, rbox), vigie::core::Error);
    f.write1d<std::int64_t>("time/bin_start", std::vector<std::int64_t>{10, 20, 30, 40, 50},
                            FieldMeta{"s", "", 0});
    f.writeStrings1d("time/iso", {"a", "bb", "ccc", "dddd", "a much longer string than before"});
    f.setAttribute("dirty", std::int64_t{0});
    f.flush();
    f.commit();
  }
  xml = readText(fs::path(path.string() + ".xmf"));
  EXPECT_NE(xml.find("Dimensions=\"5 23 37\""), std::string::npos) << xml;
  {
    const auto f = FieldFile::open(MPI_COMM_WORLD, path);
    EXPECT_EQ(f.stringAttribute("schema"), "vigie.obs/1");
    EXPECT_EQ(f.intAttribute("dirty"), 0);
    int nt = 0;
    const auto all = f.read3d<std::int32_t>("counts/theft", whole, &nt);
    ASSERT_EQ(nt, 5);
    const auto plane = static_cast<std::size_t>(whole.cells());
    const auto want = fill3d(whole, 3);
    std::size_t bad = 0;
    for (std::size_t k = 0; k < 3 * plane; ++k) bad += all[k] != static_cast<std::int32_t>(want[k]);
    for (std::size_t k = 3 * plane; k < 4 * plane; ++k) bad += all[k] != 1;
    for (std::size_t k = 4 * plane; k < 5 * plane; ++k) bad += all[k] != 0;
    EXPECT_EQ(bad, 0U);
    EXPECT_EQ(f.read1d<std::int64_t>("/time/bin_start"), (std::vector<std::int64_t>{10, 20, 30, 40, 50}));
    EXPECT_EQ(f.readStrings1d("time/iso").back(), "a much longer string than before");
    EXPECT_THROW((void)f.read1d<double>("time/bin_start"), vigie::core::Error);  // integer read as float
  }
}

// Configuration parsing: types, unknown keys, malformed values, overrides and path resolution.
#include <gtest/gtest.h>

#include <unistd.h>
#include <fstream>

#include "cli/Cli.hpp"
#include "core/Config.hpp"
#include "core/Error.hpp"

namespace {

using vigie::core::Config;
using vigie::core::Error;
using vigie::core::ExitCode;
using vigie::core::OptionSet;
using vigie::core::OptionType;

OptionSet testOptions() {
  OptionSet o;
  o.add("grid.nx", OptionType::Int, "10", "columns")
      .add("grid.cell_m", OptionType::Double, "100", "cell")
      .add("grid.mask", OptionType::Path, "", "mask")
      .add("run.seed", OptionType::UInt, "1", "seed")
      .add("run.verbose", OptionType::Bool, "false", "verbose")
      .add("ingest.events", OptionType::List, "", "files")
      .add("grid.crs", OptionType::String, "none", "crs");
  return o;
}

std::filesystem::path writeIni(const std::string& name, const std::string& text) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("vigie_config_test_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = dir / name;
  std::ofstream(path) << text;
  return path;
}

TEST(Config, DefaultsFileAndOverrides) {
  const auto opts = testOptions();
  const auto file = writeIni(
      "a.ini", "# comment\n[grid]\nnx = 42\nmask = outline.geojson\n[ingest]\nevents = a.csv, b.csv.gz\n");
  const auto cfg = Config::parse(opts, file, {{"grid.cell_m", "50"}});
  EXPECT_EQ(cfg.getInt("grid.nx"), 42);
  EXPECT_DOUBLE_EQ(cfg.getDouble("grid.cell_m"), 50.0);
  EXPECT_EQ(cfg.getUInt("run.seed"), 1u);
  EXPECT_FALSE(cfg.getBool("run.verbose"));
  EXPECT_TRUE(cfg.isSet("grid.nx"));
  EXPECT_FALSE(cfg.isSet("run.seed"));
  // A path from the file resolves against the file's folder.
  EXPECT_EQ(cfg.getPath("grid.mask"), file.parent_path() / "outline.geojson");
  const auto files = cfg.getPathList("ingest.events");
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[1], file.parent_path() / "b.csv.gz");
}

TEST(Config, CommandLineReplacesTheFileValue) {
  const auto opts = testOptions();
  const auto file = writeIni("b.ini", "[ingest]\nevents = a.csv,b.csv\n[grid]\nnx = 3\n");
  const auto cfg = Config::parse(opts, file, {{"ingest.events", "c.csv"}, {"grid.nx", "7"}});
  const auto list = cfg.getList("ingest.events");
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0], "c.csv");
  EXPECT_EQ(cfg.getInt("grid.nx"), 7);
  // From the command line a relative path resolves against the working directory.
  EXPECT_EQ(cfg.getPathList("ingest.events")[0], std::filesystem::absolute("c.csv").lexically_normal());
}

TEST(Config, UnknownKeyNamesFileAndLine) {
  const auto opts = testOptions();
  const auto file = writeIni("c.ini", "[grid]\nnx = 3\n\n[grid]\ncell_size = 5\n");
  try {
    (void)Config::parse(opts, file, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    const std::string what = e.what();
    EXPECT_NE(what.find("c.ini:5"), std::string::npos) << what;
    EXPECT_NE(what.find("grid.cell_size"), std::string::npos) << what;
  }
}

TEST(Config, MalformedValuesAreErrors) {
  const auto opts = testOptions();
  const std::vector<std::pair<std::string, std::string>> bad = {{"grid.nx", "12x"},
                                                                {"grid.cell_m", "nan"},
                                                                {"run.seed", "-1"},
                                                                {"run.verbose", "maybe"},
                                                                {"grid.nx", ""}};
  for (const auto& [key, value] : bad) {
    const auto section = key.substr(0, key.find('.'));
    const auto name = key.substr(key.find('.') + 1);
    const auto file = writeIni("d.ini", "[" + section + "]\n" + name + " = " + value + "\n");
    try {
      (void)Config::parse(opts, file, {});
      FAIL() << key << " = " << value << " was accepted";
    } catch (const Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("d.ini:2"), std::string::npos) << what;
      EXPECT_NE(what.find(key), std::string::npos) << what;
    }
    EXPECT_THROW((void)Config::parse(opts, {}, {{key, value}}), Error) << key << "=" << value;
  }
}

TEST(Config, DuplicateKeyAndMissingFile) {
  const auto opts = testOptions();
  EXPECT_THROW((void)Config::parse(opts, writeIni("e.ini", "[grid]\nnx = 1\nnx = 2\n"), {}), Error);
  try {
    (void)Config::parse(opts, "/nonexistent/vigie.ini", {});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::InputData);
    EXPECT_NE(std::string(e.what()).find("/nonexistent/vigie.ini"), std::string::npos);
  }
  EXPECT_THROW((void)Config::parse(opts, {}, {{"grid.unknown", "1"}}), Error);
}

TEST(Config, EffectiveTextListsEveryOption) {
  const auto opts = testOptions();
  const auto cfg = Config::parse(opts, {}, {{"grid.nx", "5"}});
  const auto text = cfg.effectiveText();
  EXPECT_NE(text.find("[grid]\n"), std::string::npos);
  EXPECT_NE(text.find("nx = 5\n"), std::string::npos);
  EXPECT_NE(text.find("seed = 1\n"), std::string::npos);
}

TEST(Config, EveryOptionOfVigieHasHelpAndAValidDefault) {
  const auto opts = vigie::cli::buildOptionSet();
  EXPECT_GT(opts.specs().size(), 10u);
  for (const auto& [key, spec] : opts.specs()) {
    EXPECT_FALSE(spec.help.empty()) << key;
    EXPECT_TRUE(vigie::core::validateOptionValue(spec.type, spec.default_text).empty()) << key;
  }
  const auto md = opts.markdown();
  EXPECT_NE(md.find("`grid.crs`"), std::string::npos);
  EXPECT_NE(md.find("`models.enabled`"), std::string::npos);
}

TEST(CommandLine, SplitsOverridesPetscAndPositional) {
  const char* argv[] = {"vigie", "run",      "--config", "case.ini",  "--grid.nx=12", "--grid.ny",
                        "7",     "-ts_type", "arkimex",  "-log_view", "--run.seed",   "3"};
  const auto cl = vigie::cli::splitCommandLine(12, argv);
  ASSERT_EQ(cl.positional.size(), 1u);
  EXPECT_EQ(cl.positional[0], "run");
  EXPECT_EQ(cl.config_file, "case.ini");
  ASSERT_EQ(cl.overrides.size(), 3u);
  EXPECT_EQ(cl.overrides[0], (std::pair<std::string, std::string>{"grid.nx", "12"}));
  EXPECT_EQ(cl.overrides[1], (std::pair<std::string, std::string>{"grid.ny", "7"}));
  EXPECT_EQ(cl.overrides[2], (std::pair<std::string, std::string>{"run.seed", "3"}));
  ASSERT_EQ(cl.petsc_args.size(), 3u);
  EXPECT_EQ(cl.petsc_args[0], "-ts_type");
  EXPECT_EQ(cl.petsc_args[1], "arkimex");
  EXPECT_EQ(cl.petsc_args[2], "-log_view");
}

TEST(CommandLine, RejectsUnknownRepeatedAndValuelessOptions) {
  const char* unknown[] = {"vigie", "run", "--grid.bogus=1"};
  EXPECT_THROW(vigie::cli::splitCommandLine(3, unknown), Error);
  const char* twice[] = {"vigie", "run", "--grid.nx=1", "--grid.nx=2"};
  EXPECT_THROW(vigie::cli::splitCommandLine(4, twice), Error);
  const char* novalue[] = {"vigie", "run", "--grid.nx"};
  EXPECT_THROW(vigie::cli::splitCommandLine(3, novalue), Error);
  const char* flags[] = {"vigie", "--help-config"};
  EXPECT_TRUE(vigie::cli::splitCommandLine(2, flags).help_config);
}

}  // namespace

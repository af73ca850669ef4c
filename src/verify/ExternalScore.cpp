#include "verify/ExternalScore.hpp"

#include <hdf5.h>

#include <array>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/Config.hpp"
#include "core/Error.hpp"
#include "verify/Pooling.hpp"

namespace vigie::verify {

using core::Error;
using core::ExitCode;

namespace {

bool isIsoDate(const std::string& s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t k = 0; k < s.size(); ++k) {
    if (k == 4 || k == 7) continue;
    if (s[k] < '0' || s[k] > '9') return false;
  }
  return true;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return {};
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

/// The HDF5 format signature; a file without it at offset 0 is read as CSV.
bool hasHdf5Signature(const std::filesystem::path& file) {
  static constexpr std::array<char, 8> kSignature{'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
  std::ifstream is(file, std::ios::binary);
  std::array<char, 8> head{};
  is.read(head.data(), head.size());
  return is.gcount() == static_cast<std::streamsize>(head.size()) && head == kSignature;
}

/// Closes an HDF5 handle on scope exit.
class H5Handle {
 public:
  H5Handle(hid_t id, herr_t (*close)(hid_t)) : m_id(id), m_close(close) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    if (m_id >= 0) m_close(m_id);
  }
  [[nodiscard]] hid_t get() const { return m_id; }

 private:
  hid_t m_id;
  herr_t (*m_close)(hid_t);
};

std::vector<double> readHdf5(const std::filesystem::path& file, const std::string& dataset, int nx, int ny) {
  const auto fail = [&](const std::string& why) {
    return Error(ExitCode::InputData, file.string() + ": " + why, true);
  };
  hid_t fid = -1;
  hid_t did = -1;
  // A missing dataset is a user error reported below; HDF5's own error stack would only add noise.
  H5E_BEGIN_TRY {
    fid = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  H5E_END_TRY;
  const H5Handle f(fid, H5Fclose);
  if (fid < 0) throw fail("cannot be opened as an HDF5 file");
  H5E_BEGIN_TRY {
    did = H5Dopen2(fid, dataset.c_str(), H5P_DEFAULT);
  }
  H5E_END_TRY;
  const H5Handle d(did, H5Dclose);
  if (did < 0) throw fail("no dataset " + dataset + " (set score.dataset)");
  const H5Handle space(H5Dget_space(did), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::array<hsize_t, 2> dims{0, 0};
  if (rank == 2) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  if (rank != 2 || dims[0] != static_cast<hsize_t>(ny) || dims[1] != static_cast<hsize_t>(nx)) {
    std::ostringstream shape;
    shape << "dataset " << dataset << " must be [ny][nx] = [" << ny << "][" << nx << "] doubles, found rank "
          << rank;
    if (rank == 2) shape << " [" << dims[0] << "][" << dims[1] << "]";
    throw fail(shape.str());
  }
  std::vector<double> values(static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny));
  herr_t rc = -1;
  H5E_BEGIN_TRY {
    rc = H5Dread(did, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data());
  }
  H5E_END_TRY;
  if (rc < 0) throw fail("dataset " + dataset + " cannot be read as numbers");
  return values;
}

std::vector<double> readCsv(const std::filesystem::path& file, int nx, int ny,
                            std::span<const std::uint8_t> mask) {
  std::ifstream is(file);
  if (!is) throw Error(ExitCode::InputData, file.string() + ": cannot open", true);
  const auto plane = static_cast<std::int64_t>(nx) * ny;
  std::vector<double> values(static_cast<std::size_t>(plane), 0.0);
  std::vector<std::uint8_t> seen(values.size(), 0);
  std::string line;
  std::int64_t line_no = 0;
  const auto fail = [&](const std::string& why) {
    return Error(ExitCode::InputData, file.string() + ":" + std::to_string(line_no) + ": " + why, true);
  };
  if (!std::getline(is, line)) {
    line_no = 1;
    throw fail("empty file (expected the header 'cell,intensity')");
  }
  line_no = 1;
  if (trim(line) != "cell,intensity")
    throw fail("expected the header 'cell,intensity', found '" + trim(line) + "'");
  while (std::getline(is, line)) {
    ++line_no;
    const auto text = trim(line);
    if (text.empty()) continue;
    const auto comma = text.find(',');
    if (comma == std::string::npos || text.find(',', comma + 1) != std::string::npos)
      throw fail("expected two fields 'cell,intensity', found '" + text + "'");
    const auto cell_text = trim(text.substr(0, comma));
    const auto value_text = trim(text.substr(comma + 1));
    std::int64_t cell = -1;
    double value = 0.0;
    std::size_t used_cell = 0;
    std::size_t used_value = 0;
    try {
      cell = std::stoll(cell_text, &used_cell);
      value = std::stod(value_text, &used_value);
    } catch (const std::exception&) {
      used_cell = 0;
    }
    if (cell_text.empty() || used_cell != cell_text.size() || value_text.empty() ||
        used_value != value_text.size())
      throw fail("cannot parse '" + text + "' as an integer cell and a number");
    if (cell < 0 || cell >= plane)
      throw fail("cell " + cell_text + " is outside the grid (0.." + std::to_string(plane - 1) + ")");
    const auto c = static_cast<std::size_t>(cell);
    if (seen[c] != 0) throw fail("cell " + cell_text + " is listed twice");
    seen[c] = 1;
    if (mask[c] == 0) continue;
    if (!std::isfinite(value) || value < 0.0)
      throw fail("intensity " + value_text + " of cell " + cell_text + " must be finite and >= 0");
    values[c] = value;
  }
  return values;
}

}  // namespace

ScoreWindow ScoreWindow::parse(const std::string& text) {
  const auto slash = text.find('/');
  ScoreWindow w;
  if (slash != std::string::npos) {
    w.start = trim(text.substr(0, slash));
    w.end = trim(text.substr(slash + 1));
  }
  if (slash == std::string::npos || !isIsoDate(w.start) || !isIsoDate(w.end))
    throw Error(ExitCode::Usage,
                "score.window must be START/END with ISO dates YYYY-MM-DD, found '" + text + "'", true);
  if (!(w.start < w.end))
    throw Error(ExitCode::Usage, "score.window: END " + w.end + " must be after START " + w.start, true);
  return w;
}

void ExternalScore::declareOptions(core::OptionSet& options) {
  using core::OptionType;
  options
      .add("score.forecast", OptionType::Path, "",
           "vigie score: forecast file, expected events per cell over the window: HDF5 (dataset "
           "score.dataset, [ny][nx]) or CSV 'cell,intensity' with cell = j*nx+i (also --forecast FILE)")
      .add("score.window", OptionType::String, "",
           "vigie score: START/END ISO dates; the bins whose local start date is in [START, END) (also "
           "--window START/END)")
      .add("score.dataset", OptionType::String, "/fields/forecast",
           "vigie score: dataset of an HDF5 forecast file");
}

std::vector<double> ExternalScore::readForecast(const std::filesystem::path& file, const std::string& dataset,
                                                int nx, int ny, std::span<const std::uint8_t> mask) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file, ec))
    throw Error(ExitCode::InputData, file.string() + ": no such forecast file", true);
  if (mask.size() != static_cast<std::size_t>(nx) * static_cast<std::size_t>(ny))
    throw Error(ExitCode::Internal, "ExternalScore::readForecast: mask size differs from nx * ny");
  if (!hasHdf5Signature(file)) return readCsv(file, nx, ny, mask);
  auto values = readHdf5(file, dataset, nx, ny);
  for (std::size_t c = 0; c < values.size(); ++c) {
    if (mask[c] == 0) {
      values[c] = 0.0;
    } else if (!std::isfinite(values[c]) || values[c] < 0.0) {
      throw Error(ExitCode::InputData,
                  file.string() + ": " + dataset + " cell " + std::to_string(c) +
                      " (j = " + std::to_string(c / static_cast<std::size_t>(nx)) +
                      ", i = " + std::to_string(c % static_cast<std::size_t>(nx)) + ") is " +
                      std::to_string(values[c]) + " (must be finite and >= 0)",
                  true);
    }
  }
  return values;
}

std::vector<std::int64_t> ExternalScore::observedInWindow(const ObservedSeries& series,
                                                          const ScoreWindow& window, std::int64_t& first,
                                                          std::int64_t& count) {
  const auto plane = static_cast<std::size_t>(series.nx) * static_cast<std::size_t>(series.ny);
  std::vector<std::int64_t> observed(plane, 0);
  first = -1;
  count = 0;
  for (std::int64_t b = 0; b < series.bins(); ++b) {
    // The local date of a bin's start is the first 10 characters of its ISO start, as in the backtest.
    const auto date = series.bin_start_iso[static_cast<std::size_t>(b)].substr(0, 10);
    if (date < window.start || date >= window.end) continue;
    if (series.missing[static_cast<std::size_t>(b)] != 0)
      throw Error(ExitCode::InputData,
                  "score.window " + window.text() + ": bin " +
                      series.bin_start_iso[static_cast<std::size_t>(b)] +
                      " is not covered by the sources, so there are no counts to score against",
                  true);
    if (first < 0) first = b;
    ++count;
    const auto* c = series.counts.data() + static_cast<std::size_t>(b) * plane;
    for (std::size_t k = 0; k < plane; ++k) observed[k] += c[k];
  }
  if (count == 0)
    throw Error(ExitCode::Usage, "score.window " + window.text() + " selects no bin of the observation store",
                true);
  return observed;
}

nlohmann::json ExternalScore::score(const ObservedSeries& series, std::span<const double> forecast,
                                    const ScoreWindow& window, const BacktestSettings& settings,
                                    const std::filesystem::path& forecast_file) {
  std::int64_t first = 0;
  std::int64_t count = 0;
  const auto observed = observedInWindow(series, window, first, count);
  std::vector<double> coverages;
  for (const double p : settings.coverages_percent) coverages.push_back(p / 100.0);
  const auto pooled = pool(
      {scoreWindow(forecast, observed, series.mask, coverages, settings.epsilon, settings.reliability_bins)});
  nlohmann::json doc;
  doc["schema_version"] = 1;
  doc["case"] = settings.case_name;
  doc["forecast"] = forecast_file.string();
  doc["window"] = window.text();
  doc["first_bin"] = series.bin_start_iso[static_cast<std::size_t>(first)];
  doc["bins"] = count;
  doc["bin"] = series.bin;
  doc["categories"] = series.categories;
  doc["coverages_percent"] = settings.coverages_percent;
  doc["epsilon"] = settings.epsilon;
  doc["active_cells"] = pooled.active_cells;
  doc.update(pooledScoresJson(pooled, settings.coverages_percent));
  return doc;
}

std::string ExternalScore::summary(const nlohmann::json& doc) {
  std::ostringstream os;
  os << std::setprecision(4);
  os << "score of " << doc["forecast"].get<std::string>() << " over " << doc["window"].get<std::string>()
     << " (" << doc["bins"].get<std::int64_t>() << " " << doc["bin"].get<std::string>() << " bins, "
     << doc["events"].get<std::int64_t>() << " events, " << doc["active_cells"].get<std::int64_t>()
     << " active cells)\n";
  for (const auto& p : doc["coverages_percent"]) {
    const auto key = percentKey(p.get<double>());
    os << "  at " << key << "% of the area: hit rate " << doc["hit_rate"][key].get<double>() << ", PAI "
       << doc["pai"][key].get<double>() << ", PEI* " << doc["pei_star"][key].get<double>() << "\n";
  }
  os << "  log-likelihood per event " << doc["log_likelihood_per_event"].get<double>() << ", Brier "
     << doc["brier"].get<double>() << "\n";
  return os.str();
}

}  // namespace vigie::verify

#include "watch/WatchAlerts.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "core/Error.hpp"

namespace vigie::watch {

using core::Error;
using core::ExitCode;

namespace {

bool sharesCell(const std::vector<std::int64_t>& sorted, const std::vector<std::int64_t>& cells) {
  return std::any_of(cells.begin(), cells.end(),
                     [&](std::int64_t c) { return std::binary_search(sorted.begin(), sorted.end(), c); });
}

void writeAll(int fd, const std::string& text, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < text.size()) {
    const auto n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(ExitCode::Io, path.string() + ": write failed (" + std::strerror(errno) + ")");
    done += static_cast<std::size_t>(n);
  }
}

/// Writes `text` to `path` through a temporary file, fsync and rename.
void replaceFile(const std::filesystem::path& path, const std::string& text) {
  const auto tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ExitCode::Io, tmp + ": cannot write (" + std::strerror(errno) + ")");
  writeAll(fd, text, tmp);
  ::fsync(fd);
  ::close(fd);
  std::filesystem::rename(tmp, path);
}

std::string readText(const std::filesystem::path& path) {
  std::ifstream is(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>());
}

std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

}  // namespace

ActiveAlert* AlertBook::continued(const std::vector<std::int64_t>& cells, std::int64_t cycle,
                                  int dedup_cycles) {
  for (auto& a : m_alerts) {
    if (cycle - a.last_cycle <= dedup_cycles && cycle > a.last_cycle && sharesCell(a.cells, cells)) return &a;
  }
  return nullptr;
}

void AlertBook::open(ActiveAlert alert) {
  std::sort(alert.cells.begin(), alert.cells.end());
  m_alerts.push_back(std::move(alert));
}

void AlertBook::expire(std::int64_t cycle, int dedup_cycles) {
  std::erase_if(m_alerts, [&](const ActiveAlert& a) { return cycle - a.last_cycle > dedup_cycles; });
}

nlohmann::json AlertBook::toJson() const {
  auto out = nlohmann::json::array();
  for (const auto& a : m_alerts)
    out.push_back({{"id", a.id},
                   {"cells", a.cells},
                   {"first_cycle", a.first_cycle},
                   {"last_cycle", a.last_cycle},
                   {"cycles_seen", a.cycles_seen}});
  return out;
}

AlertBook AlertBook::fromJson(const nlohmann::json& doc) {
  AlertBook book;
  if (!doc.is_array()) throw Error(ExitCode::InputData, "watch state: active alerts are not a JSON array");
  try {
    for (const auto& a : doc) {
      ActiveAlert x;
      x.id = a.at("id").get<std::string>();
      x.cells = a.at("cells").get<std::vector<std::int64_t>>();
      x.first_cycle = a.at("first_cycle").get<std::int64_t>();
      x.last_cycle = a.at("last_cycle").get<std::int64_t>();
      x.cycles_seen = a.at("cycles_seen").get<std::int64_t>();
      book.m_alerts.push_back(std::move(x));
    }
  } catch (const nlohmann::json::exception& e) {
    throw Error(ExitCode::InputData, std::string("watch state: malformed active alert: ") + e.what());
  }
  return book;
}

std::string alertLine(const nlohmann::json& a) {
  std::ostringstream os;
  const auto& c = a.at("centre");
  const double years = a.at("recurrence_days").get<double>() / 365.25;
  os << "ALERT " << a.at("id").get<std::string>() << ": " << a.at("observed").get<std::int64_t>()
     << " events observed, " << fixed(a.at("expected").get<double>(), 1) << " expected, within "
     << fixed(a.at("radius_m").get<double>(), 0) << " m of ";
  if (!c.at("lat").is_null())
    os << fixed(c.at("lat").get<double>(), 5) << ", " << fixed(c.at("lon").get<double>(), 5);
  else
    os << "cell (" << c.at("i").get<int>() << ", " << c.at("j").get<int>() << ")";
  os << " over " << a.at("window_cycles").get<int>() << " cycle(s) from "
     << a.at("window_start").get<std::string>() << " to " << a.at("window_end").get<std::string>()
     << "; p = " << std::setprecision(2) << a.at("p_value").get<double>() << ", expected about once in "
     << (years >= 1e6   ? std::string("more than a million years")
         : years >= 1.0 ? fixed(years, years < 10 ? 1 : 0) + " years"
                        : fixed(a.at("recurrence_days").get<double>(), 0) + " days");
  return os.str();
}

void appendJsonLines(const std::filesystem::path& path, const std::vector<nlohmann::json>& records) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ExitCode::Io, path.string() + ": cannot append (" + std::strerror(errno) + ")");
  std::string text;
  for (const auto& r : records) text += r.dump() + "\n";
  writeAll(fd, text, path);
  ::fsync(fd);
  ::close(fd);
}

void touch(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(ExitCode::Io, path.string() + ": cannot create (" + std::strerror(errno) + ")");
  ::close(fd);
}

std::vector<nlohmann::json> readJsonLines(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return out;
  std::istringstream is(readText(path));
  std::string line;
  std::int64_t n = 0;
  while (std::getline(is, line)) {
    ++n;
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded())
      throw Error(ExitCode::InputData, path.string() + ":" + std::to_string(n) + ": not a JSON object");
    out.push_back(std::move(j));
  }
  return out;
}

std::int64_t keepCyclesBelow(const std::filesystem::path& path, std::int64_t cycles_done) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return 0;
  const auto text = readText(path);
  std::string kept;
  std::int64_t dropped = 0;
  std::size_t begin = 0;
  while (begin < text.size()) {
    const auto nl = text.find('\n', begin);
    if (nl == std::string::npos) {  // a torn last line
      ++dropped;
      break;
    }
    const auto line = text.substr(begin, nl - begin);
    begin = nl + 1;
    if (line.empty()) continue;
    const auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded() && j.contains("cycle") && j["cycle"].is_number_integer() &&
        j["cycle"].get<std::int64_t>() < cycles_done) {
      kept += line + "\n";
    } else {
      ++dropped;
    }
  }
  if (dropped > 0) replaceFile(path, kept);
  return dropped;
}

void writeAlertsGeoJson(const std::filesystem::path& path, const std::vector<nlohmann::json>& alerts) {
  nlohmann::json doc{{"type", "FeatureCollection"}, {"features", nlohmann::json::array()}};
  for (const auto& a : alerts) {
    nlohmann::json f{{"type", "Feature"}, {"properties", a}};
    const auto& c = a.at("centre");
    if (!c.at("lon").is_null())
      f["geometry"] = {{"type", "Point"}, {"coordinates", {c.at("lon"), c.at("lat")}}};
    else
      f["geometry"] = nullptr;
    doc["features"].push_back(std::move(f));
  }
  replaceFile(path, doc.dump(1) + "\n");
}

}  // namespace vigie::watch

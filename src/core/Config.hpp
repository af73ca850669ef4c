#pragma once
/// Typed configuration: INI files and command-line overrides parsed by Boost.Program_options,
/// validated against the option catalogue that every component fills with its own options.
#include <boost/program_options.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace vigie::core {

/// The type of an option's value, checked when the configuration is parsed.
enum class OptionType { String, Int, UInt, Double, Bool, Path, List };

/// One option of the catalogue: `section.key`, its type, default (as text) and help.
struct OptionSpec {
  std::string key;
  OptionType type;
  std::string default_text;
  std::string help;
};

/// The catalogue of every option Vigie knows. Components declare their options next to their code
/// (`CityGrid::declareOptions(OptionSet&)`), and the CLI gathers them before parsing.
class OptionSet {
 public:
  /// Adds an option; a key declared twice with a different type or default is a programming error.
  OptionSet& add(const std::string& key, OptionType type, const std::string& default_text,
                 const std::string& help);
  [[nodiscard]] const std::map<std::string, OptionSpec>& specs() const { return m_specs; }
  [[nodiscard]] const OptionSpec* find(const std::string& key) const;
  /// The Boost description: every option as a string value (types are checked by Config).
  [[nodiscard]] boost::program_options::options_description description() const;
  /// Markdown reference of every option, grouped by section (the source of docs/config.md).
  [[nodiscard]] std::string markdown() const;

 private:
  std::map<std::string, OptionSpec> m_specs;
};

/// Parsed, validated configuration. Immutable once built; every rank parses the same inputs identically.
class Config {
 public:
  /// Not collective. Parses `file` (may be empty: defaults and overrides only) and the command-line overrides
  /// (each "key=value"; a command-line value replaces the file's). Throws Error(Usage) naming the key, the
  /// file and the line for an unknown key, a malformed value or a duplicated key; Error(InputData) if the
  /// file cannot be read.
  static Config parse(const OptionSet& options, const std::filesystem::path& file,
                      const std::vector<std::pair<std::string, std::string>>& overrides);

  /// Not collective. A copy with some values replaced, as if given on the command line (an engine-made
  /// variant: a tuning candidate, a shifted grid). Throws Error(Internal) for an undeclared key and
  /// Error(Usage) for a malformed value.
  [[nodiscard]] Config withOverrides(const std::vector<std::pair<std::string, std::string>>& overrides) const;

  [[nodiscard]] std::string getString(const std::string& key) const;
  [[nodiscard]] std::int64_t getInt(const std::string& key) const;
  [[nodiscard]] std::uint64_t getUInt(const std::string& key) const;
  [[nodiscard]] double getDouble(const std::string& key) const;
  [[nodiscard]] bool getBool(const std::string& key) const;
  /// A path option: a value from the config file resolves against the file's folder, a value from the command
  /// line or a default against the working directory. Empty value gives an empty path.
  [[nodiscard]] std::filesystem::path getPath(const std::string& key) const;
  /// A comma-separated list option, trimmed, empty items dropped. Paths in it resolve like getPath.
  [[nodiscard]] std::vector<std::string> getList(const std::string& key) const;
  [[nodiscard]] std::vector<std::filesystem::path> getPathList(const std::string& key) const;
  /// True if the option was given in the file or on the command line (not a default).
  [[nodiscard]] bool isSet(const std::string& key) const;

  /// The effective configuration as INI text, every option with its final value, sorted: stored with outputs
  /// and hashed into the audit record.
  [[nodiscard]] std::string effectiveText() const;
  [[nodiscard]] const std::filesystem::path& file() const { return m_file; }

 private:
  struct Value {
    std::string text;
    enum class Origin { Default, File, CommandLine } origin = Origin::Default;
  };
  [[nodiscard]] const Value& value(const std::string& key, OptionType expected) const;
  [[nodiscard]] std::filesystem::path resolve(const std::string& text, Value::Origin origin) const;

  const OptionSet* m_options = nullptr;
  std::filesystem::path m_file;
  std::map<std::string, Value> m_values;
};

/// Not collective. The items of a comma-separated list (a list option's value, a stored "a,b,c" attribute),
/// trimmed, empty items dropped.
std::vector<std::string> splitList(const std::string& text);

/// Checks that `text` is a valid value of `type`; returns an empty string or the reason it is not.
std::string validateOptionValue(OptionType type, const std::string& text);

/// Not collective. The case's name in reports: the config file's stem, or its folder's name for a generic
/// "config.ini".
std::string caseName(const Config& config);

}  // namespace vigie::core

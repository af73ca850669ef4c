#pragma once
/// The one registry of models, selected by name with `models.enabled = name1,name2`.
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/Model.hpp"

namespace vigie::core {
class OptionSet;
}

namespace vigie::models {

/// One tuned hyper-parameter: a config key and the values a tuning may try.
struct TuneAxis {
  std::string key;
  std::vector<std::string> values;
};
/// A model's tuning search space: the grid of every combination of its axes (empty: nothing to tune).
using TuneSpace = std::vector<TuneAxis>;

/// Maps a model's name to its option declarations, its factory and its tuning search space.
class ModelRegistry {
 public:
  using Factory = std::function<std::unique_ptr<Model>(const ModelContext&)>;
  using Declare = std::function<void(core::OptionSet&)>;

  /// The registry with every built-in model (registered in ModelRegistry.cpp, the only place models are
  /// listed).
  static const ModelRegistry& instance();

  void add(const std::string& name, const std::string& summary, Declare declare, Factory factory,
           TuneSpace space = {});
  /// Collective (model constructors create distributed fields). Throws Error(Usage) for an unknown name,
  /// listing the known ones.
  [[nodiscard]] std::unique_ptr<Model> create(const std::string& name, const ModelContext& context) const;
  [[nodiscard]] std::vector<std::string> names() const;
  [[nodiscard]] const std::string& summary(const std::string& name) const;
  /// The hyper-parameters a backtest tunes for `name` on the training years (see verify::Backtest::tune).
  [[nodiscard]] const TuneSpace& tuneSpace(const std::string& name) const;
  /// Declares `models.enabled` and every model's own options.
  void declareOptions(core::OptionSet& options) const;

 private:
  struct Entry {
    std::string summary;
    Declare declare;
    Factory factory;
    TuneSpace space;
  };
  std::map<std::string, Entry> m_entries;
};

}  // namespace vigie::models

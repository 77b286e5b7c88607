#pragma once
// A writer for the Prometheus text exposition format (version 0.0.4): each metric family gets
// its `# HELP` and `# TYPE` lines, then its samples `name{label="value",...} number`. Counter
// families are named with their `_total` suffix, as the format's convention has it.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace junction {

class PrometheusText {
 public:
  enum class Type { kCounter, kGauge, kHistogram };
  using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

  // Starts a family; the samples that follow belong to it. `name` must match
  // [a-zA-Z_:][a-zA-Z0-9_:]* (checked: a bad name throws std::invalid_argument).
  void family(std::string_view name, Type type, std::string_view help);
  // One sample of the current family. Label values are escaped as the format requires.
  void sample(double value, Labels labels = {});
  void sample(uint64_t value, Labels labels = {});
  // A sample named family + suffix: a histogram's `_bucket` (with an `le` label), `_sum`, `_count`.
  void suffixed(std::string_view suffix, double value, Labels labels = {});
  void suffixed(std::string_view suffix, uint64_t value, Labels labels = {});

  const std::string& text() const { return out_; }

  static bool valid_name(std::string_view name);
  // A short decimal form for label values such as a bucket's `le` (6 significant digits).
  static std::string number(double value);

 private:
  void begin_sample(Labels labels, std::string_view suffix = {});
  void write_number(double value);

  std::string out_;
  std::string current_;
};

}  // namespace junction

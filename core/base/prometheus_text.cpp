#include "core/base/prometheus_text.h"

#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace junction {
namespace {

void append_escaped(std::string& out, std::string_view text, bool quote_too) {
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else if (c == '"' && quote_too) out += "\\\"";
    else out += c;
  }
}

}  // namespace

bool PrometheusText::valid_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void PrometheusText::family(std::string_view name, Type type, std::string_view help) {
  if (!valid_name(name)) throw std::invalid_argument("bad metric name: " + std::string(name));
  current_ = std::string(name);
  out_ += "# HELP " + current_ + " ";
  append_escaped(out_, help, /*quote_too=*/false);
  const char* kind = type == Type::kCounter ? " counter\n" : type == Type::kGauge ? " gauge\n" : " histogram\n";
  out_ += "\n# TYPE " + current_ + kind;
}

void PrometheusText::begin_sample(Labels labels, std::string_view suffix) {
  out_ += current_;
  out_ += suffix;
  if (labels.size() != 0) {
    out_ += '{';
    bool first = true;
    for (auto& [key, value] : labels) {
      if (!valid_name(key) || key.find(':') != std::string_view::npos)
        throw std::invalid_argument("bad label name: " + std::string(key));
      if (!first) out_ += ',';
      first = false;
      out_ += key;
      out_ += "=\"";
      append_escaped(out_, value, /*quote_too=*/true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

std::string PrometheusText::number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

void PrometheusText::write_number(double value) {
  if (std::isnan(value)) {
    out_ += "NaN";
  } else if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
  } else {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.17g", value);
    out_ += buffer;
  }
  out_ += '\n';
}

void PrometheusText::sample(double value, Labels labels) {
  begin_sample(labels);
  write_number(value);
}

void PrometheusText::sample(uint64_t value, Labels labels) {
  suffixed({}, value, labels);
}

void PrometheusText::suffixed(std::string_view suffix, double value, Labels labels) {
  begin_sample(labels, suffix);
  write_number(value);
}

void PrometheusText::suffixed(std::string_view suffix, uint64_t value, Labels labels) {
  begin_sample(labels, suffix);
  out_ += std::to_string(value);
  out_ += '\n';
}

}  // namespace junction

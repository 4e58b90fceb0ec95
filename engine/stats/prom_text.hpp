// Prometheus text exposition format (version 0.0.4), as /metrics serves it: every writer of a
// metrics family (engine, storage, alerting, HTTP, Kafka) appends through these.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace vigil::prom {

// The # HELP and # TYPE lines of a family (type: counter or gauge).
inline void head(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// One sample of a family; with labels, name{label="value",...}. Label values are written as
// they are: the callers' values (topic names, reasons, numbers) need no escaping.
inline void sample(std::string& out, std::string_view name, std::uint64_t v) {
  out += name;
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}
using Label = std::pair<std::string_view, std::string_view>;
inline void sample(std::string& out, std::string_view name, std::initializer_list<Label> labels, std::uint64_t v) {
  std::string labelled(name);
  char sep = '{';
  for (const auto& [label, value] : labels) {
    labelled += sep;
    labelled += label;
    labelled += "=\"";
    labelled += value;
    labelled += '"';
    sep = ',';
  }
  labelled += '}';
  sample(out, labelled, v);
}
inline void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value,
                   std::uint64_t v) {
  sample(out, name, {Label{label, value}}, v);
}

// A family of one unlabelled sample.
inline void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::uint64_t v) {
  head(out, name, type, help);
  sample(out, name, v);
}

}  // namespace vigil::prom

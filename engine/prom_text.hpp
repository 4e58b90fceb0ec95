// Prometheus text exposition format (version 0.0.4), as /metrics serves it: every writer of a
// metrics family (engine, storage, alerting, HTTP, Kafka) appends through these.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

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

// One sample of a family; with a label, name{label="value"}.
inline void sample(std::string& out, std::string_view name, std::uint64_t v) {
  out += name;
  out += ' ';
  out += std::to_string(v);
  out += '\n';
}
inline void sample(std::string& out, std::string_view name, std::string_view label, std::string_view value,
                   std::uint64_t v) {
  std::string labelled(name);
  labelled += '{';
  labelled += label;
  labelled += "=\"";
  labelled += value;
  labelled += "\"}";
  sample(out, labelled, v);
}

// A family of one unlabelled sample.
inline void metric(std::string& out, std::string_view name, std::string_view type, std::string_view help,
                   std::uint64_t v) {
  head(out, name, type, help);
  sample(out, name, v);
}

}  // namespace vigil::prom

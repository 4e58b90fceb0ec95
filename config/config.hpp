// Vigil's settings: defaults, then the TOML file, then VIGIL_* environment, then flags.
#pragma once

#include <string>

namespace vigil::config {

struct Config {
  std::string data_dir = "./data";
};

}  // namespace vigil::config

// The TOML configuration file, with every check of `vigil serve --config`.
#include <string>

#include "config/config.hpp"
#include "fuzz/fuzz.hpp"

using namespace vigil;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  config::Config c;
  auto err = config::load_toml(c, fuzz::text(data, size), "fuzz.toml");
  if (err) VIGIL_FUZZ_CHECK(!err->message.empty(), "a refused file says why");
  return 0;
}

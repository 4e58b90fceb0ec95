#include "engine/encoding/bytes.hpp"

namespace vigil::enc {

void put_varint(std::string& out, std::uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out.append(b, static_cast<std::size_t>(n));
}

}  // namespace vigil::enc

#include "engine/model/egress.hpp"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace vigil {

namespace {

std::string judge_v4(std::uint32_t a, bool allow_private) {
  auto in = [a](std::uint32_t net, int bits) { return bits == 0 || (a >> (32 - bits)) == (net >> (32 - bits)); };
  if (in(0xA9FEA9FE, 32)) return "169.254.169.254 is the cloud metadata service";
  if (in(0x646464C8, 32)) return "100.100.100.200 is a cloud metadata service";
  if (in(0xA9FE0000, 16)) return "a link-local address (169.254.0.0/16)";
  if (in(0x00000000, 8)) return "an unspecified address (0.0.0.0/8)";
  if (in(0xE0000000, 4)) return "a multicast address (224.0.0.0/4)";
  if (a == 0xFFFFFFFF) return "the broadcast address";
  if (in(0xF0000000, 4)) return "a reserved address (240.0.0.0/4)";
  if (!allow_private) {
    if (in(0x7F000000, 8)) return "a loopback address (127.0.0.0/8; alerts.allow_private_targets is false)";
    if (in(0x0A000000, 8) || in(0xAC100000, 12) || in(0xC0A80000, 16) || in(0x64400000, 10))
      return "a private address (alerts.allow_private_targets is false)";
  }
  return {};
}

}  // namespace

std::string egress_refusal(std::string_view address, bool allow_private) {
  std::string text(address);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return judge_v4(ntohl(v4.s_addr), allow_private);
  in6_addr v6{};
  if (inet_pton(AF_INET6, text.c_str(), &v6) != 1) return {};
  const unsigned char* b = v6.s6_addr;
  static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(b, mapped, 12) == 0) {
    std::uint32_t a = static_cast<std::uint32_t>(b[12]) << 24 | static_cast<std::uint32_t>(b[13]) << 16 |
                      static_cast<std::uint32_t>(b[14]) << 8 | b[15];
    return judge_v4(a, allow_private);
  }
  static const unsigned char aws[16] = {0xfd, 0x00, 0x0e, 0xc2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x54};
  if (std::memcmp(b, aws, 16) == 0) return "fd00:ec2::254 is the cloud metadata service";
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return "a link-local address (fe80::/10)";
  if (b[0] == 0xff) return "a multicast address (ff00::/8)";
  bool zero = true;
  for (int i = 0; i < 15; ++i) zero = zero && b[i] == 0;
  if (zero && b[15] == 0) return "the unspecified address (::)";
  if (!allow_private) {
    if (zero && b[15] == 1) return "the loopback address (::1; alerts.allow_private_targets is false)";
    if ((b[0] & 0xfe) == 0xfc) return "a private address (fc00::/7; alerts.allow_private_targets is false)";
  }
  return {};
}

std::string url_host(std::string_view url) {
  auto scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {
    auto close = rest.find(']');
    return close == std::string_view::npos ? std::string() : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

}  // namespace vigil

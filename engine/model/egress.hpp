// Where notifications may be sent: the egress policy for the addresses of notification targets
// (webhook, Slack, PagerDuty, OpsGenie, VictorOps URLs). Never: link-local addresses (169.254/16,
// fe80::/10, which hold the cloud metadata services at 169.254.169.254 and fd00:ec2::254), the
// other metadata addresses (100.100.100.200), unspecified, multicast and broadcast addresses.
// Loopback (127/8, ::1) and private ranges (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)
// only when the policy allows them (alerts.allow_private_targets). IPv4-mapped IPv6 addresses are
// judged as the IPv4 address they carry.
#pragma once

#include <string>
#include <string_view>

namespace vigil {

// Why `address` (an IPv4 or IPv6 literal, without brackets) may not be a target, or empty when
// it may; `allow_private` admits loopback and private ranges. Text that is not an IP literal
// (a host name) is not judged here: empty.
std::string egress_refusal(std::string_view address, bool allow_private);

// The host of an http(s) URL (brackets of an IPv6 literal removed), or empty.
std::string url_host(std::string_view url);

}  // namespace vigil

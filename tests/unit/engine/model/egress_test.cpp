#include "engine/model/egress.hpp"

#include <gtest/gtest.h>

namespace vigil {

TEST(Egress, metadata_and_link_local_are_always_refused) {
  for (const char* a : {"169.254.169.254", "169.254.1.2", "fe80::1", "FE80::abcd", "fd00:ec2::254", "100.100.100.200",
                        "::ffff:169.254.169.254", "0.0.0.0", "::", "224.0.0.1", "ff02::1", "255.255.255.255"}) {
    EXPECT_FALSE(egress_refusal(a, true).empty()) << a;
    EXPECT_FALSE(egress_refusal(a, false).empty()) << a;
  }
  EXPECT_NE(egress_refusal("169.254.169.254", true).find("metadata"), std::string::npos);
}

TEST(Egress, loopback_and_private_ranges_follow_the_setting) {
  for (const char* a : {"127.0.0.1", "127.9.9.9", "::1", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1",
                        "100.64.0.1", "fd12:3456::1", "::ffff:10.0.0.1"}) {
    EXPECT_TRUE(egress_refusal(a, true).empty()) << a;
    EXPECT_FALSE(egress_refusal(a, false).empty()) << a;
  }
}

TEST(Egress, public_addresses_and_names_pass) {
  for (const char* a : {"8.8.8.8", "172.32.0.1", "192.169.0.1", "100.128.0.1", "2001:db8::1", "hooks.slack.com", ""}) {
    EXPECT_TRUE(egress_refusal(a, false).empty()) << a;
  }
}

TEST(Egress, url_host) {
  EXPECT_EQ(url_host("http://169.254.169.254/latest/meta-data/"), "169.254.169.254");
  EXPECT_EQ(url_host("https://[fe80::1]:8443/x"), "fe80::1");
  EXPECT_EQ(url_host("http://user:pw@10.0.0.1:80/h"), "10.0.0.1");
  EXPECT_EQ(url_host("https://hooks.slack.com/services/T"), "hooks.slack.com");
  EXPECT_EQ(url_host("nope"), "");
}

}  // namespace vigil

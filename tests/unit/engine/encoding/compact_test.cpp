#include <gtest/gtest.h>

#include <string>

#include "engine/encoding/compact.hpp"
#include "test_values.hpp"

namespace vigil {

using namespace encoding_test;

TEST(Encoding, doubles_round_trip_bit_for_bit_and_decimals_are_short) {
  for (double d : awkward_doubles()) {
    std::string s;
    enc::put_double(s, d);
    // A hint of the places only saves work: the fewest places are still found.
    for (int hint = 0; hint < 10; ++hint) {
      std::string h;
      enc::put_double(h, d, hint);
      ASSERT_EQ(h, s) << d << " hint " << hint;
    }
    const char* p = s.data();
    double back = 0;
    ASSERT_TRUE(enc::get_double(p, s.data() + s.size(), back)) << d;
    EXPECT_EQ(p, s.data() + s.size());
    ASSERT_EQ(bits(back), bits(d)) << d;
  }
  std::string s;
  enc::put_double(s, 88.331);
  EXPECT_EQ(s.size(), 4u) << "tag + 3 varint bytes";
  s.clear();
  enc::put_double(s, 0.1 + 0.2);
  EXPECT_EQ(s.size(), 2u) << "0.3 moved by one unit in the last place";
  s.clear();
  enc::put_double(s, -0.0);
  EXPECT_EQ(s.size(), 9u) << "-0.0 keeps its sign in the raw form";
}

}  // namespace vigil

#include "api/render/bitmap_font.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <string>

#include "api/render/chart_render.hpp"

namespace vigil {

namespace {

// The bounding box of the pixels that are not `bg`: {left, top, right, bottom}, or all -1.
std::array<int, 4> ink_box(const Raster& img, Rgb bg) {
  std::array<int, 4> box{-1, -1, -1, -1};
  for (int y = 0; y < img.height(); ++y)
    for (int x = 0; x < img.width(); ++x) {
      if (img.get(x, y) == bg) continue;
      if (box[0] < 0 || x < box[0]) box[0] = x;
      if (box[1] < 0) box[1] = y;
      if (x > box[2]) box[2] = x;
      box[3] = y;
    }
  return box;
}

const Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0};

}  // namespace

TEST(BitmapFont, glyph_rows_of_a_digit) {
  unsigned char rows[font::kGlyphHeight];
  font::glyph_rows('4', rows);
  // ...#. / ..##. / .#.#. / #..#. / ##### / ...#. / ...#.
  const unsigned char want[] = {0b00010, 0b00110, 0b01010, 0b10010, 0b11111, 0b00010, 0b00010};
  for (int y = 0; y < font::kGlyphHeight; ++y) EXPECT_EQ(rows[y], want[y]) << "row " << y;
  unsigned char q[font::kGlyphHeight], unknown[font::kGlyphHeight];
  font::glyph_rows('?', q);
  font::glyph_rows('\x01', unknown);
  EXPECT_TRUE(std::equal(q, q + font::kGlyphHeight, unknown))
      << "characters outside ASCII 32..126 draw as '?'";
}

TEST(BitmapFont, text_is_drawn_at_scale_in_cells_of_six_columns) {
  EXPECT_EQ(font::text_width("", 3), 0);
  EXPECT_EQ(font::text_width("42", 1), 11);
  EXPECT_EQ(font::text_width("42", 4), 44);
  Raster img(100, 60, kWhite);
  font::draw_text(img, 10, 5, "42", 4, kBlack);
  // '4' has ink in its first column and '2' in its last; both span the 7 rows.
  EXPECT_EQ(ink_box(img, kWhite), (std::array<int, 4>{10, 5, 10 + 44 - 1, 5 + 28 - 1}));
  // The font pixel at column 3, row 4 of '4' is set: a 4x4 square.
  for (int dy = 0; dy < 4; ++dy)
    for (int dx = 0; dx < 4; ++dx) EXPECT_EQ(img.get(10 + 12 + dx, 5 + 16 + dy), kBlack);
  EXPECT_EQ(img.get(10, 5), kWhite) << "column 0, row 0 of '4' is blank";
}

TEST(BitmapFont, drawing_is_clipped_to_the_raster) {
  Raster img(8, 8, kWhite);
  font::draw_text(img, -3, -3, "WW", 5, kBlack);  // must not write outside
  EXPECT_EQ(img.get(0, 0), kBlack);
}

TEST(BitmapFont, fit_shortens_with_two_dots) {
  EXPECT_EQ(font::fit("short", 1, 100), "short");
  std::string f = font::fit("a rather long chart name", 1, 60);
  EXPECT_LE(font::text_width(f, 1), 60);
  EXPECT_EQ(f.substr(f.size() - 2), "..");
  EXPECT_EQ(f, "a rather..");
}

TEST(ChartLabels, short_numbers) {
  using api::librato::chart::short_number;
  EXPECT_EQ(short_number(42), "42");
  EXPECT_EQ(short_number(98.5), "98.5");
  EXPECT_EQ(short_number(3.14159), "3.14");
  EXPECT_EQ(short_number(-0.5), "-0.5");
  EXPECT_EQ(short_number(-0.001), "-0.001");
  EXPECT_EQ(short_number(0), "0");
  EXPECT_EQ(short_number(-0.0001), "-0.0001");
  EXPECT_EQ(short_number(123456), "123456");
  EXPECT_EQ(short_number(1234567), "1.23M");
  EXPECT_EQ(short_number(2e9), "2G");
  EXPECT_EQ(short_number(5.5e12), "5.5T");
  EXPECT_EQ(short_number(1.0 / 0.0), "-");
}

}  // namespace vigil

// Text for rendered images: a built-in 5x7 bitmap font (printable ASCII) drawn into a Raster at
// any integer scale. Snapshots use it for chart titles, legends, axis labels and big numbers, so
// rendering needs no font library and gives the same pixels on every machine.
#pragma once

#include <string>
#include <string_view>

#include "api/render/png.hpp"

namespace vigil::font {

inline constexpr int kGlyphWidth = 5;   // columns of ink per character
inline constexpr int kGlyphHeight = 7;  // rows of ink per character
inline constexpr int kAdvance = 6;      // columns from one character to the next (1 blank)

// The 7 rows of a character's glyph, bit 4 the leftmost column; characters outside 32..126 are
// drawn as '?'.
void glyph_rows(char c, unsigned char rows[kGlyphHeight]);

// Width in pixels of `text` at `scale`, from the first column of its first cell to the last
// column of its last cell (no trailing blank column); 0 for empty text.
int text_width(std::string_view text, int scale);

// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale square.
// Pixels outside the raster are clipped.
void draw_text(Raster& img, int x, int y, std::string_view text, int scale, Rgb color);

// `text` shortened with a trailing ".." so that it is at most `max_width` pixels wide at `scale`.
std::string fit(std::string_view text, int scale, int max_width);

}  // namespace vigil::font

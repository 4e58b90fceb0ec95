// A small RGB raster with line drawing, and its PNG encoding (8-bit RGB, zlib stored blocks, no
// compression library needed): what snapshots of charts are rendered into.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vigil {

struct Rgb {
  std::uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb&) const = default;
};

class Raster {
 public:
  Raster(int width, int height, Rgb background);
  int width() const { return w_; }
  int height() const { return h_; }
  void set(int x, int y, Rgb c);
  Rgb get(int x, int y) const;
  void fill_rect(int x0, int y0, int x1, int y1, Rgb c);  // inclusive corners, clipped
  void line(int x0, int y0, int x1, int y1, Rgb c);       // Bresenham, clipped per pixel
  // The PNG file bytes.
  std::string png() const;

 private:
  int w_, h_;
  std::vector<Rgb> px_;
};

// "#52D74C" -> color; false if malformed.
bool parse_color(const std::string& hex, Rgb& out);

}  // namespace vigil

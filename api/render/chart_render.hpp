// Server-side rendering of a chart (a space's chart document) into a 600 x 300 image: what a
// snapshot's PNG shows. Line and stacked charts draw one line per series with the chart name as
// title, the y range and the time range as labels, and a legend of the lines; bignumber charts
// draw the latest value of their first stream in large digits. The geometry is fixed (see
// docs/API.md, "Snapshots") so that clients and tests can read pixels back.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "api/render/png.hpp"
#include "engine/storage/status.hpp"

namespace vigil::actors {
class Engine;
}

namespace vigil::api::librato::chart {

inline constexpr int kWidth = 600, kHeight = 300;
// The plot area (inclusive): the axes are its left column and its bottom row.
inline constexpr int kPlotLeft = 56, kPlotRight = 589, kPlotTop = 30, kPlotBottom = 259;
// The title (chart name) is drawn at 2x in rows kTitleTop..kTitleTop+13 from column kTitleLeft.
inline constexpr int kTitleLeft = 8, kTitleTop = 8;
// The legend: one row of color swatches and labels at 1x.
inline constexpr int kLegendTop = 282;

// Renders `chart` over [start, end]. `source` is the snapshot's source: "*" (or empty) keeps
// every series; another pattern keeps only the series whose `source` tag matches it, in every
// stream (a stream's "%" source stands for it). `type` is line, stacked or bignumber. The store
// is not synced here. A storage error met while reading the streams is kept in `status` (the first
// one): the image then misses lines, and the caller must not present it as the chart.
Raster render(actors::Engine& engine, const nlohmann::json& chart, const std::string& source,
              const std::string& type, std::int64_t start, std::int64_t end, Status& status);

// A number as the chart labels show it: at most two decimals, trailing zeros dropped, with M / G /
// T for magnitudes from 10^6 on ("42", "3.14", "-0.5", "1.23M"); "-" if not finite.
std::string short_number(double v);

}  // namespace vigil::api::librato::chart

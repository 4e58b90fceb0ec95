#include "api/render/chart_render.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <limits>
#include <map>

#include "actors/engine.hpp"
#include "api/librato/resources.hpp"
#include "api/render/bitmap_font.hpp"
#include "api/librato/composite.hpp"
#include "engine/storage/series_index.hpp"
#include "engine/query/tag_filter.hpp"
#include "engine/model/time_text.hpp"

namespace vigil::api::librato::chart {

namespace {

using nlohmann::json;

const Rgb kWhite{255, 255, 255}, kAxis{160, 160, 160}, kTitle{51, 51, 51}, kLabel{96, 96, 96};
const Rgb kPalette[] = {{0x1f, 0x77, 0xb4}, {0xff, 0x7f, 0x0e}, {0x2c, 0xa0, 0x2c},
                        {0xd6, 0x27, 0x28}, {0x94, 0x67, 0xbd}, {0x8c, 0x56, 0x4b}};
constexpr int kBigNumberMaxScale = 24;

struct Line {
  Rgb color;
  std::string label;
  std::size_t stream;  // index of the chart stream it comes from
  composite::Series series;
};

struct Selection {
  std::string subject;  // the snapshot's source pattern; "*" = every series
  TagFilter narrow;     // source=subject, when subject is not "*"
  const TagFilter* narrow_ptr() const { return subject == "*" ? nullptr : &narrow; }
};

std::string text_of(const json& obj, const char* key) {
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_string()) return {};
  return it->get<std::string>();
}

// One series from several: the group function (average, sum, min, max) per timestamp.
composite::Set combine(composite::Set set, std::string group, const composite::Interval& interval) {
  if (set.size() <= 1) return set;
  if (group == "average" || group == "breakout" || group.empty()) group = "mean";
  if (group != "mean" && group != "sum" && group != "min" && group != "max") group = "mean";
  std::string err;
  auto expr = composite::parse(group + "(s(\"x\", \"*\"))", err);
  return composite::evaluate(
      *expr, [&](const std::string&, const std::string&, const std::string&) { return set; },
      interval);
}

// The filter of a metric stream: its source ("%" = the snapshot's) and its tags, each
// {"name": n, "values": [patterns]} (values ORed, names ANDed; no values = any value).
TagFilter stream_filter(const json& st, const Selection& sel) {
  TagFilter f;
  std::string src = text_of(st, "source");
  if (src == "%") src = sel.subject;
  if (!src.empty() && src != "*") f.add("source", src);
  auto tags = st.find("tags");
  if (tags != st.end() && tags->is_array()) {
    for (const auto& t : *tags) {
      std::string name = t.is_object() ? text_of(t, "name") : std::string();
      if (name.empty()) continue;
      std::vector<std::string> values;
      if (auto v = t.find("values"); v != t.end()) {
        if (v->is_string())
          values.push_back(v->get<std::string>());
        else if (v->is_array())
          for (const auto& x : *v)
            if (x.is_string()) values.push_back(x.get<std::string>());
      }
      if (values.empty()) f.require(name);
      for (const auto& v : values) f.add(name, v == "%" ? sel.subject : v);
    }
  }
  return f;
}

// The lines of a chart's streams over the interval: metric streams (one line per series with
// group_function breakout, else the stream's series combined by the group function, average by
// default) and composite streams (one line per resulting series).
std::vector<Line> chart_lines(actors::Engine& engine, const json& chart, const Selection& sel,
                              const composite::Interval& iv, Status& status) {
  std::vector<Line> lines;
  const json streams = chart.value("streams", json::array());
  for (std::size_t n = 0; n < streams.size(); ++n) {
    const json& st = streams[n];
    if (!st.is_object()) continue;
    Rgb color = kPalette[n % std::size(kPalette)];
    bool own_color = false;
    if (auto c = text_of(st, "color"); !c.empty()) own_color = parse_color(c, color);
    std::string label = text_of(st, "name");
    composite::Set set;
    bool breakout = false;
    if (auto def = text_of(st, "composite"); !def.empty()) {
      if (label.empty()) label = def;
      std::string err;
      auto expr = composite::parse(def, err);
      if (!expr) continue;
      auto fetch = [&](const std::string& m, const std::string& s, const std::string& fn) {
        std::string src = s == "%" ? sel.subject : s;
        TagFilter f;
        if (src != "*") f.add("source", src);
        return fetch_series(engine, m, f, sel.narrow_ptr(), fn, iv.start, iv.end, iv.resolution, status);
      };
      auto sources = [&](const std::string& pattern) {
        std::vector<std::string> out;
        for (auto& src : engine.series().tag_values("source"))
          if (glob_match(pattern, src) && glob_match(sel.subject, src)) out.push_back(src);
        return out;
      };
      try {
        set = composite::evaluate(*expr, fetch, iv, sources);
      } catch (const std::exception&) {
        continue;
      }
      breakout = set.size() > 1;
    } else {
      std::string metric = text_of(st, "metric");
      if (metric.empty()) continue;
      if (label.empty()) label = metric;
      std::string fn = text_of(st, "summary_function");
      if (fn.empty() || fn == "average") fn = "mean";
      set = fetch_series(engine, metric, stream_filter(st, sel), sel.narrow_ptr(), fn, iv.start,
                         iv.end, iv.resolution, status);
      std::string group = text_of(st, "group_function");
      breakout = group == "breakout";
      if (!breakout) set = combine(std::move(set), group, iv);
    }
    // Several lines of one stream: the stream's color when it has one, else one palette color each.
    for (std::size_t i = 0; i < set.size(); ++i) {
      std::string l = breakout ? label + " " + set[i].source : label;
      Rgb c = own_color || i == 0 ? color : kPalette[(n + i) % std::size(kPalette)];
      lines.push_back(Line{c, std::move(l), n, std::move(set[i])});
    }
  }
  return lines;
}

std::string clock_text(std::int64_t t, bool with_date) { return utc_format(t, with_date ? "%m-%d %H:%M" : "%H:%M"); }

void draw_title(Raster& img, const json& chart) {
  std::string name = text_of(chart, "name");
  font::draw_text(img, kTitleLeft, kTitleTop, font::fit(name, 2, kWidth - 2 * kTitleLeft), 2,
                  kTitle);
}

// Color swatches and labels in one row under the plot; what does not fit is counted as "+N".
void draw_legend(Raster& img, const std::vector<std::pair<Rgb, std::string>>& items) {
  int x = kPlotLeft;
  const int max_x = kWidth - 8;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string rest = "+" + std::to_string(items.size() - i);
    int reserve = i + 1 < items.size() ? font::text_width(rest, 1) + 8 : 0;
    std::string label = font::fit(items[i].second, 1, 160);
    int w = 8 + 4 + font::text_width(label, 1);
    if (x + w > max_x - reserve) {
      font::draw_text(img, x, kLegendTop, rest, 1, kLabel);
      return;
    }
    img.fill_rect(x, kLegendTop - 1, x + 7, kLegendTop + 6, items[i].first);
    font::draw_text(img, x + 12, kLegendTop, label, 1, kLabel);
    x += w + 12;
  }
}

Raster render_lines(const json& chart, std::vector<Line> lines, bool stacked, std::int64_t start,
                    std::int64_t end) {
  if (stacked) {  // each line adds to the ones drawn before it
    std::map<std::int64_t, double> acc;
    for (auto& l : lines)
      for (auto& [t, v] : l.series.points) v = acc[t] += v;
  }
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto& l : lines)
    for (const auto& [t, v] : l.series.points) lo = std::min(lo, v), hi = std::max(hi, v);
  if (chart.contains("min") && chart["min"].is_number()) lo = chart["min"].get<double>();
  if (chart.contains("max") && chart["max"].is_number()) hi = chart["max"].get<double>();
  if (!(lo < hi)) {  // no data, or flat
    lo = std::isfinite(lo) ? lo - 1 : 0;
    hi = lo + 2;
  }
  Raster img(kWidth, kHeight, kWhite);
  const int x0 = kPlotLeft, x1 = kPlotRight, y0 = kPlotTop, y1 = kPlotBottom;
  draw_title(img, chart);
  img.line(x0, y0, x0, y1, kAxis);
  img.line(x0, y1, x1, y1, kAxis);
  std::string top = short_number(hi), bottom = short_number(lo);
  font::draw_text(img, x0 - 4 - font::text_width(top, 1), y0, top, 1, kLabel);
  font::draw_text(img, x0 - 4 - font::text_width(bottom, 1), y1 - 6, bottom, 1, kLabel);
  bool with_date = end - start > 86400;
  std::string from = clock_text(start, with_date), to = clock_text(end, with_date);
  font::draw_text(img, x0, y1 + 4, from, 1, kLabel);
  font::draw_text(img, x1 - font::text_width(to, 1), y1 + 4, to, 1, kLabel);
  auto px = [&](std::int64_t t) {
    return x0 + static_cast<int>(std::lround(static_cast<double>(t - start) * (x1 - x0) /
                                             static_cast<double>(end - start)));
  };
  auto py = [&](double v) {
    return y1 - static_cast<int>(std::lround((v - lo) * (y1 - y0) / (hi - lo)));
  };
  std::vector<std::pair<Rgb, std::string>> legend;
  for (const auto& l : lines) {
    const auto& pts = l.series.points;
    for (std::size_t i = 0; i < pts.size(); ++i) {
      int x = std::clamp(px(pts[i].first), x0, x1), y = std::clamp(py(pts[i].second), y0, y1);
      if (i == 0)
        img.fill_rect(x - 1, y - 1, x + 1, y + 1, l.color);
      else
        img.line(std::clamp(px(pts[i - 1].first), x0, x1),
                 std::clamp(py(pts[i - 1].second), y0, y1), x, y, l.color);
    }
    legend.emplace_back(l.color, l.label);
  }
  draw_legend(img, legend);
  return img;
}

// The latest value of the chart's first stream (its series combined into one), in digits as
// large as fit, centred in the plot area; "no data" when the stream has no point.
Raster render_bignumber(const json& chart, const std::vector<Line>& lines,
                        const composite::Interval& iv) {
  Raster img(kWidth, kHeight, kWhite);
  draw_title(img, chart);
  std::string text = "no data";
  Rgb color = kLabel;
  const json streams = chart.value("streams", json::array());
  if (!streams.empty() && streams[0].is_object()) {
    const json& st = streams[0];
    Rgb stream_color = kPalette[0];
    if (auto c = text_of(st, "color"); !c.empty()) parse_color(c, stream_color);
    composite::Set first;  // the first stream's lines (several with breakout)
    for (const auto& l : lines)
      if (l.stream == 0) first.push_back(l.series);
    auto one = combine(std::move(first), text_of(st, "group_function"), iv);
    if (!one.empty() && !one.front().points.empty()) {
      text = short_number(one.front().points.back().second);
      color = stream_color;
    }
    std::string label = text_of(st, "name");
    if (label.empty()) label = text_of(st, "metric");
    if (label.empty()) label = text_of(st, "composite");
    draw_legend(img, {{stream_color, label}});
  }
  const int area_h = kPlotBottom - kPlotTop + 1;
  int scale = std::min({kBigNumberMaxScale, (kWidth - 40) / std::max(1, font::text_width(text, 1)),
                        (area_h - 20) / font::kGlyphHeight});
  scale = std::max(scale, 1);
  int w = font::text_width(text, scale), h = font::kGlyphHeight * scale;
  font::draw_text(img, (kWidth - w) / 2, kPlotTop + (area_h - h) / 2, text, scale, color);
  return img;
}

}  // namespace

std::string short_number(double v) {
  if (!std::isfinite(v)) return "-";
  double a = std::fabs(v);
  const char* suffix = "";
  if (a >= 1e12)
    v /= 1e12, suffix = "T";
  else if (a >= 1e9)
    v /= 1e9, suffix = "G";
  else if (a >= 1e6)
    v /= 1e6, suffix = "M";
  char buf[64];
  if (a > 0 && a < 0.01) {
    std::snprintf(buf, sizeof buf, "%.2g", v);
    return buf;
  }
  std::snprintf(buf, sizeof buf, "%.2f", v);
  std::string s = buf;
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  if (s == "-0") s = "0";
  return s + suffix;
}

Raster render(actors::Engine& engine, const json& chart, const std::string& source,
              const std::string& type, std::int64_t start, std::int64_t end, Status& status) {
  std::int64_t res = std::max<std::int64_t>(60, (end - start) / (kPlotRight - kPlotLeft) / 60 * 60);
  composite::Interval iv{start, end, res};
  Selection sel;
  sel.subject = source.empty() ? "*" : source;
  if (sel.subject != "*") sel.narrow.add("source", sel.subject);
  auto lines = chart_lines(engine, chart, sel, iv, status);
  if (type == "bignumber") return render_bignumber(chart, lines, iv);
  return render_lines(chart, std::move(lines), type == "stacked", start, end);
}

}  // namespace vigil::api::librato::chart

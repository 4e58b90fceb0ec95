#include "api/librato/lang/line_protocol.hpp"

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <string>

#include "api/librato/lang/normalize.hpp"

namespace vigil {

namespace {

// Splits off the next token of `line` ending at an unescaped character of `stops` (outside
// double quotes when `quotes`), unescaping backslashes. Returns the position of the stop or
// line.size().
std::size_t read_token(std::string_view line, std::size_t pos, std::string_view stops, std::string& out) {
  out.clear();
  while (pos < line.size()) {
    char c = line[pos];
    if (c == '\\' && pos + 1 < line.size()) {
      char n = line[pos + 1];
      if (n == ',' || n == ' ' || n == '=' || n == '\\' || n == '"') {
        out += n;
        pos += 2;
        continue;
      }
    }
    if (stops.find(c) != std::string_view::npos) return pos;
    out += c;
    ++pos;
  }
  return pos;
}

bool parse_number(std::string_view text, double& out, std::string& why) {
  if (text.empty()) {
    why = "empty field value";
    return false;
  }
  if (text.front() == '"') {
    why = "string field values are not numbers";
    return false;
  }
  char last = text.back();
  if (last == 'i' || last == 'u') {
    std::int64_t i = 0;
    std::string_view digits = text.substr(0, text.size() - 1);
    auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), i);
    if (ec != std::errc() || p != digits.data() + digits.size() || digits.empty() ||
        (last == 'u' && digits.front() == '-')) {
      why = "invalid integer '" + std::string(text) + "'";
      return false;
    }
    out = static_cast<double>(i);
    return true;
  }
  std::string t(text);
  const std::string lower = ascii_lower(t);
  if (lower == "t" || lower == "true" || lower == "f" || lower == "false") {
    why = "boolean field values are not numbers";
    return false;
  }
  char* end = nullptr;
  out = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size() || lower.find_first_of("xnp") != std::string::npos) {
    why = "invalid number '" + t + "'";
    return false;
  }
  return true;
}

std::int64_t divisor(TimePrecision p) {
  switch (p) {
    case TimePrecision::ns: return 1'000'000'000;
    case TimePrecision::us: return 1'000'000;
    case TimePrecision::ms: return 1'000;
    case TimePrecision::s: return 1;
  }
  return 1;
}

// Parses one non-empty line; appends its measurements or returns an error message.
std::string parse_line(std::string_view line, std::int64_t now, TimePrecision precision, const NamePolicy* policy,
                       std::vector<Measurement>& out) {
  std::string token, key, norm;
  std::size_t pos = read_token(line, 0, ", ", token);
  if (token.empty()) return "missing measurement name";
  const std::string measurement = token;

  Tags tags;
  while (pos < line.size() && line[pos] == ',') {
    pos = read_token(line, pos + 1, "=, ", key);
    if (pos >= line.size() || line[pos] != '=') return "tag '" + key + "' has no value";
    pos = read_token(line, pos + 1, ", ", token);
    std::string name, value;
    if (auto e = normalize_tag_name(key, name); !e.empty()) return "tags." + key + ": " + e;
    if (auto e = normalize_tag_value(token, value); !e.empty()) return "tags." + key + ": " + e;
    for (const auto& t : tags)
      if (t.first == name) return "tags." + key + ": duplicate tag";
    tags.emplace_back(std::move(name), std::move(value));
  }
  if (auto e = check_tag_count(tags.size()); !e.empty()) return "tags: " + e;
  if (tags.empty()) tags.emplace_back(kDefaultTagName, kDefaultTagValue);
  std::sort(tags.begin(), tags.end());

  if (pos >= line.size() || line[pos] != ' ') return "missing fields";
  while (pos < line.size() && line[pos] == ' ') ++pos;

  std::vector<std::pair<std::string, double>> fields;
  while (true) {
    pos = read_token(line, pos, "= ,", key);
    if (key.empty()) return "missing field name";
    if (pos >= line.size() || line[pos] != '=') return "field '" + key + "' has no value";
    ++pos;
    // Field value: up to an unescaped ',' or ' ' outside quotes.
    std::size_t start = pos;
    bool quoted = false;
    while (pos < line.size()) {
      char c = line[pos];
      if (c == '\\' && pos + 1 < line.size()) {
        pos += 2;
        continue;
      }
      if (c == '"') quoted = !quoted;
      if (!quoted && (c == ',' || c == ' ')) break;
      ++pos;
    }
    double v = 0;
    std::string why;
    if (!parse_number(line.substr(start, pos - start), v, why)) return "field '" + key + "': " + why;
    if (FloatCheck fc = check_float(v); fc != FloatCheck::ok)
      return "field '" + key + "': " + float_error_message(fc);
    fields.emplace_back(key, v);
    if (pos < line.size() && line[pos] == ',') {
      ++pos;
      continue;
    }
    break;
  }
  while (pos < line.size() && line[pos] == ' ') ++pos;

  std::int64_t time = now;
  if (pos < line.size()) {
    std::string_view ts = line.substr(pos);
    while (!ts.empty() && (ts.back() == ' ' || ts.back() == '\r')) ts.remove_suffix(1);
    std::int64_t raw = 0;
    auto [p, ec] = std::from_chars(ts.data(), ts.data() + ts.size(), raw);
    if (ec != std::errc() || p != ts.data() + ts.size()) return "invalid timestamp '" + std::string(ts) + "'";
    if (raw < 0) return "timestamp must not be negative";
    time = raw / divisor(precision);
    if (!in_sample_window(time))
      return "timestamp '" + std::string(ts) + "' is after 9999-12-31T23:59:59Z (sample times run from 1970 to 9999)";
  }

  for (auto& [field, v] : fields) {
    Measurement m;
    m.name = field == "value" ? measurement : measurement + "." + field;
    if (!valid_metric_name(m.name))
      return "invalid metric name '" + m.name + "': 1..255 characters of A-Za-z0-9.:-_";
    if (const char* why = policy ? policy->refuses(m.name) : nullptr) return "metric '" + m.name + "' " + why;
    m.tags = tags;
    m.time = time;
    m.agg = Agg::of_value(v, time);
    out.push_back(std::move(m));
  }
  return {};
}

}  // namespace

bool parse_time_precision(std::string_view text, TimePrecision& out) {
  if (text == "ns") out = TimePrecision::ns;
  else if (text == "us") out = TimePrecision::us;
  else if (text == "ms") out = TimePrecision::ms;
  else if (text == "s") out = TimePrecision::s;
  else return false;
  return true;
}

ParseOutcome parse_line_protocol(std::string_view body, std::int64_t now, TimePrecision precision,
                                 const NamePolicy* policy) {
  ParseOutcome out;
  std::size_t pos = 0, lines = 0;
  std::int64_t number = 0;
  std::vector<Measurement> ms;
  while (pos < body.size()) {
    auto nl = body.find('\n', pos);
    if (nl == std::string_view::npos) nl = body.size();
    std::string_view line = body.substr(pos, nl - pos);
    pos = nl + 1;
    ++number;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty() || line.front() == '#') continue;
    ++lines;
    ms.clear();
    std::string err = parse_line(line, now, precision, policy, ms);
    if (!err.empty()) {
      out.errors.push_back({"line " + std::to_string(number), std::move(err)});
      continue;
    }
    for (auto& m : ms) out.measurements.push_back(std::move(m));
  }
  if (lines == 0) out.request_error = "no line protocol lines in the body";
  return out;
}

}  // namespace vigil

#include "config/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string_view>
#include <thread>
#include <tuple>
#include <toml++/toml.h>
#include <variant>

extern char** environ;

namespace vigil::config {
namespace {

// ---------------------------------------------------------------------------------------
// Values. A setting has one of three kinds; file values and text values (env, flags) are
// first converted to that kind, then the setting validates and stores the value.

enum class Kind { integer, boolean, string };
using Value = std::variant<std::int64_t, bool, std::string>;
using Error = std::optional<std::string>;  // nullopt = ok, else what is wrong

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::integer: return "an integer";
    case Kind::boolean: return "a boolean (true or false)";
    case Kind::string: return "a string";
  }
  return "?";
}

const char* toml_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "?";
}

// Appends instead of operator+: GCC 12 reports a false -Wrestrict for "'" + std::string at -O3.
std::string quoted(std::string_view s) {
  std::string r;
  r.reserve(s.size() + 2);
  r += '\'';
  r += s;
  r += '\'';
  return r;
}

std::optional<std::int64_t> parse_int(std::string_view s) {
  std::int64_t v = 0;
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, v);
  if (s.empty() || ec != std::errc() || p != end) return std::nullopt;
  return v;
}

std::optional<bool> parse_bool(std::string_view s) {
  std::string l(s);
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (l == "true" || l == "1" || l == "yes" || l == "on") return true;
  if (l == "false" || l == "0" || l == "no" || l == "off") return false;
  return std::nullopt;
}

// Text (environment variable or flag) -> value of the given kind.
std::variant<Value, std::string> from_text(Kind kind, const std::string& text) {
  switch (kind) {
    case Kind::integer:
      if (auto v = parse_int(text)) return Value{*v};
      break;
    case Kind::boolean:
      if (auto v = parse_bool(text)) return Value{*v};
      break;
    case Kind::string: return Value{text};
  }
  return std::string("expected ") + kind_name(kind) + ", got " + quoted(text);
}

// TOML node -> value of the given kind. Types must match exactly (no "8" for 8).
std::variant<Value, std::string> from_toml(Kind kind, const toml::node& node) {
  switch (kind) {
    case Kind::integer:
      if (auto v = node.value_exact<std::int64_t>()) return Value{*v};
      break;
    case Kind::boolean:
      if (auto v = node.value_exact<bool>()) return Value{*v};
      break;
    case Kind::string:
      if (auto v = node.value_exact<std::string>()) return Value{*v};
      break;
  }
  return std::string("expected ") + kind_name(kind) + ", got " + toml_type_name(node);
}

// ---------------------------------------------------------------------------------------
// listen = HOST:PORT

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
};

std::variant<HostPort, std::string> parse_listen(std::string_view s) {
  const std::string expected = "expected HOST:PORT (e.g. 127.0.0.1:8080 or [::1]:8080), got " + quoted(s);
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return "missing ']' in IPv6 address: " + quoted(s);
    hp.host = std::string(s.substr(1, close - 1));
    if (hp.host.empty() || hp.host.find(':') == std::string::npos ||
        !std::all_of(hp.host.begin(), hp.host.end(),
                     [](unsigned char c) { return std::isxdigit(c) || c == ':' || c == '.'; }))
      return "invalid IPv6 address in " + quoted(s);
    if (close + 1 >= s.size() || s[close + 1] != ':') return expected;
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) return expected;
    hp.host = std::string(s.substr(0, colon));
    if (hp.host.find(':') != std::string::npos)
      return "IPv6 addresses need brackets, e.g. [::1]:8080; got " + quoted(s);
    if (hp.host.empty()) return "missing host in " + quoted(s) + " (use 0.0.0.0 to listen on all interfaces)";
    if (!std::all_of(hp.host.begin(), hp.host.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '.' || c == '-'; }))
      return "invalid host in " + quoted(s);
    port = s.substr(colon + 1);
  }
  if (port.empty() || !std::all_of(port.begin(), port.end(), [](unsigned char c) { return std::isdigit(c); }))
    return "invalid port in " + quoted(s) + ": expected a number 0..65535";
  auto p = port.size() <= 5 ? parse_int(port) : std::nullopt;
  if (!p || *p < 0 || *p > 65535) return "port out of range in " + quoted(s) + ": expected 0..65535";
  hp.port = static_cast<std::uint16_t>(*p);
  return hp;
}

// ---------------------------------------------------------------------------------------
// The settings table. To add a setting: add the field to Config, a row here, and an entry
// with its default and a comment to config/vigil.toml.

struct Setting {
  std::string key;    // "section.name"
  std::string alias;  // short environment name, or empty
  Kind kind;
  std::function<Error(Config&, const Value&)> assign;  // validates and stores
};

using Check = std::function<Error(const std::string&)>;

template <class T>
Setting integer(std::string key, std::string alias, T Config::*field, std::int64_t lo, std::int64_t hi) {
  return {std::move(key), std::move(alias), Kind::integer, [field, lo, hi](Config& c, const Value& v) -> Error {
            auto n = std::get<std::int64_t>(v);
            if (n < lo || n > hi)
              return "out of range: " + std::to_string(n) + " (allowed " + std::to_string(lo) + ".." +
                     std::to_string(hi) + ")";
            c.*field = static_cast<T>(n);
            return std::nullopt;
          }};
}

Setting boolean(std::string key, std::string alias, bool Config::*field) {
  return {std::move(key), std::move(alias), Kind::boolean, [field](Config& c, const Value& v) -> Error {
            c.*field = std::get<bool>(v);
            return std::nullopt;
          }};
}

Setting text(std::string key, std::string alias, std::string Config::*field, Check check) {
  return {std::move(key), std::move(alias), Kind::string,
          [field, check = std::move(check)](Config& c, const Value& v) -> Error {
            const auto& s = std::get<std::string>(v);
            if (auto err = check(s)) return err;
            c.*field = s;
            return std::nullopt;
          }};
}

Check non_empty() {
  return [](const std::string& s) -> Error {
    if (s.empty()) return "must not be empty";
    return std::nullopt;
  };
}

// kafka.group_instance_id: empty (derived), "off", or a Kafka id: 1..249 of [A-Za-z0-9._-].
Check instance_id() {
  return [](const std::string& s) -> Error {
    if (s.size() > 249) return "must be at most 249 characters";
    for (unsigned char c : s)
      if (!std::isalnum(c) && c != '.' && c != '_' && c != '-')
        return "invalid value " + quoted(s) + ": letters, digits, '.', '_' and '-' only";
    return std::nullopt;
  };
}

Check any_text() {
  return [](const std::string&) -> Error { return std::nullopt; };
}

Check one_of(std::initializer_list<const char*> allowed) {
  return [choices = std::vector<std::string>(allowed.begin(), allowed.end())](const std::string& s) -> Error {
    if (std::find(choices.begin(), choices.end(), s) != choices.end()) return std::nullopt;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : "|") + c;
    return "invalid value " + quoted(s) + ": expected one of " + list;
  };
}

std::vector<std::string> split_topics(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    auto comma = s.find(',', pos);
    if (comma == std::string::npos) comma = s.size();
    auto b = s.find_first_not_of(" \t", pos);
    std::string item;
    if (b != std::string::npos && b < comma) {
      auto e = s.find_last_not_of(" \t", comma - 1);
      item = s.substr(b, e - b + 1);
    }
    if (!item.empty()) out.push_back(item);
    pos = comma + 1;
  }
  return out;
}

Check topic_list() {
  return [](const std::string& s) -> Error {
    if (split_topics(s).empty()) return "expected a comma-separated list of topics, got " + quoted(s);
    return std::nullopt;
  };
}

constexpr std::string_view kRdkafkaPrefix = "kafka.rdkafka.";

// Sets (or replaces) one pass-through librdkafka property.
void set_rdkafka(Config& c, const std::string& name, const std::string& value) {
  for (auto& [k, v] : c.kafka_rdkafka)
    if (k == name) {
      v = value;
      return;
    }
  c.kafka_rdkafka.emplace_back(name, value);
}

// [kafka.rdkafka] entries: strings, integers, booleans and floats as text; nested tables (from
// unquoted dotted keys such as session.timeout.ms = 6000) are flattened with dots.
Error load_rdkafka(Config& c, const toml::table& tbl, const std::string& prefix) {
  for (const auto& [name, node] : tbl) {
    std::string key = prefix.empty() ? std::string(name.str()) : prefix + "." + std::string(name.str());
    if (const auto* sub = node.as_table()) {
      if (auto err = load_rdkafka(c, *sub, key)) return err;
    } else if (auto s = node.value_exact<std::string>()) {
      set_rdkafka(c, key, *s);
    } else if (auto i = node.value_exact<std::int64_t>()) {
      set_rdkafka(c, key, std::to_string(*i));
    } else if (auto b = node.value_exact<bool>()) {
      set_rdkafka(c, key, *b ? "true" : "false");
    } else if (auto d = node.value_exact<double>()) {
      std::ostringstream o;
      o << *d;
      set_rdkafka(c, key, o.str());
    } else {
      return "kafka.rdkafka." + key + ": expected a string, integer, float or boolean, got " +
             toml_type_name(node);
    }
  }
  return std::nullopt;
}

Check smtp_url() {
  return [](const std::string& s) -> Error {
    if (s.empty()) return std::nullopt;
    for (const char* scheme : {"smtp://", "smtps://"})
      if (s.rfind(scheme, 0) == 0 && s.size() > std::string_view(scheme).size()) return std::nullopt;
    return "invalid value " + quoted(s) + ": expected smtp://HOST[:PORT] or smtps://HOST[:PORT] (or empty)";
  };
}

Check mail_address() {
  return [](const std::string& s) -> Error {
    auto at = s.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == s.size() || s.find_first_of(" \r\n<>,;") != std::string::npos)
      return "invalid value " + quoted(s) + ": expected an e-mail address";
    return std::nullopt;
  };
}

// ---------------------------------------------------------------------------------------
// [scale]: metric_types = [[scale.metric_types]] tables, each with [[scale.metric_types.columns]].
// Every key is checked: unknown keys, wrong types, missing required keys, unknown aggregates
// and groups, and duplicate names are errors naming the key, e.g.
// "scale.metric_types[0].columns[1].aggregate".

struct ScaleError {
  std::string key;
  std::string message;
};
using ScaleResult = std::optional<ScaleError>;

bool plain_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.';
  });
}

bool tag_name_text(std::string_view s) {
  return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':';
  });
}

// Reads the string members of `tbl` named in `fields` (key, target, required); any other member
// is an unknown setting, except those in `nested`, which the caller reads.
ScaleResult scale_strings(const toml::table& tbl, const std::string& prefix,
                          std::initializer_list<std::tuple<const char*, std::string*, bool>> fields,
                          std::initializer_list<const char*> nested) {
  for (const auto& [name, node] : tbl) {
    std::string_view n = name.str();
    bool known = std::any_of(nested.begin(), nested.end(), [&](const char* k) { return n == k; });
    for (const auto& f : fields)
      if (n == std::get<0>(f)) {
        known = true;
        auto v = node.value_exact<std::string>();
        if (!v)
          return ScaleError{prefix + "." + std::string(n),
                            "expected a string, got " + std::string(toml_type_name(node))};
        *std::get<1>(f) = *v;
      }
    if (!known) return ScaleError{prefix + "." + std::string(n), "unknown setting"};
  }
  for (const auto& f : fields)
    if (std::get<2>(f) && std::get<1>(f)->empty() && !tbl.contains(std::get<0>(f)))
      return ScaleError{prefix + "." + std::get<0>(f), "is required"};
  return std::nullopt;
}

// The tables of array member `key` of `tbl` (absent: none).
ScaleResult scale_tables(const toml::table& tbl, const std::string& prefix, const char* key,
                         std::vector<const toml::table*>& out) {
  out.clear();
  const toml::node* node = tbl.get(key);
  if (!node) return std::nullopt;
  const auto* arr = node->as_array();
  if (!arr)
    return ScaleError{prefix + "." + key,
                      "expected an array of tables, got " + std::string(toml_type_name(*node))};
  for (std::size_t i = 0; i < arr->size(); ++i) {
    const auto* t = (*arr)[i].as_table();
    if (!t)
      return ScaleError{prefix + "." + key + "[" + std::to_string(i) + "]",
                        "expected a table, got " + std::string(toml_type_name((*arr)[i]))};
    out.push_back(t);
  }
  return std::nullopt;
}

ScaleResult load_scale_type(const toml::table& tbl, const std::string& p, ScaleMetricType& t) {
  if (auto e = scale_strings(tbl, p,
                             {{"name", &t.name, true},
                              {"title", &t.title, false},
                              {"description", &t.description, false},
                              {"choice_tag", &t.choice_tag, true}},
                             {"filters", "groups", "columns"}))
    return e;
  if (!plain_name(t.name))
    return ScaleError{p + ".name", "expected 1 or more of [A-Za-z0-9._-], got " + quoted(t.name)};
  if (!tag_name_text(t.choice_tag))
    return ScaleError{p + ".choice_tag", "expected a tag name (1..64 of [A-Za-z0-9._:-]), got " +
                                             quoted(t.choice_tag)};
  if (t.title.empty()) t.title = t.name;

  std::vector<const toml::table*> items;
  if (auto e = scale_tables(tbl, p, "filters", items)) return e;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string fp = p + ".filters[" + std::to_string(i) + "]";
    ScaleFilter f;
    if (auto e =
            scale_strings(*items[i], fp, {{"param", &f.param, true}, {"type", &f.type, false}}, {}))
      return e;
    if (f.param.empty()) return ScaleError{fp + ".param", "must not be empty"};
    if (auto err = one_of({"bool", "date", "datetime", "float", "int", "string", "time"})(f.type))
      return ScaleError{fp + ".type", *err};
    for (const auto& other : t.filters)
      if (other.param == f.param)
        return ScaleError{fp + ".param", "duplicate filter " + quoted(f.param)};
    t.filters.push_back(std::move(f));
  }

  if (auto e = scale_tables(tbl, p, "groups", items)) return e;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string gp = p + ".groups[" + std::to_string(i) + "]";
    ScaleGroup g;
    if (auto e = scale_strings(*items[i], gp,
                               {{"name", &g.name, true},
                                {"title", &g.title, false},
                                {"description", &g.description, false}},
                               {}))
      return e;
    if (g.name.empty()) return ScaleError{gp + ".name", "must not be empty"};
    for (const auto& other : t.groups)
      if (other.name == g.name)
        return ScaleError{gp + ".name", "duplicate group " + quoted(g.name)};
    if (g.title.empty()) g.title = g.name;
    t.groups.push_back(std::move(g));
  }

  if (auto e = scale_tables(tbl, p, "columns", items)) return e;
  if (items.empty())
    return ScaleError{p + ".columns", "at least one [[scale.metric_types.columns]] is required"};
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string cp = p + ".columns[" + std::to_string(i) + "]";
    ScaleColumn c;
    if (auto e = scale_strings(*items[i], cp,
                               {{"name", &c.name, true},
                                {"title", &c.title, false},
                                {"description", &c.description, false},
                                {"units", &c.units, false},
                                {"group", &c.group, false},
                                {"aggregate", &c.aggregate, true},
                                {"metric", &c.metric, true}},
                               {}))
      return e;
    if (c.name.empty()) return ScaleError{cp + ".name", "must not be empty"};
    for (const auto& other : t.columns)
      if (other.name == c.name)
        return ScaleError{cp + ".name", "duplicate column " + quoted(c.name)};
    if (auto err = one_of({"sum", "avg", "min", "max"})(c.aggregate))
      return ScaleError{cp + ".aggregate", *err};
    if (c.metric.empty()) return ScaleError{cp + ".metric", "must not be empty"};
    if (!c.group.empty() && std::none_of(t.groups.begin(), t.groups.end(),
                                         [&](const ScaleGroup& g) { return g.name == c.group; }))
      return ScaleError{cp + ".group",
                        "unknown group " + quoted(c.group) + " (not in " + p + ".groups)"};
    if (c.title.empty()) c.title = c.name;
    t.columns.push_back(std::move(c));
  }
  return std::nullopt;
}

ScaleResult load_scale(Config& c, const toml::table& section) {
  std::vector<ScaleMetricType> types;
  for (const auto& [name, node] : section)
    if (name.str() != "metric_types")
      return ScaleError{"scale." + std::string(name.str()), "unknown setting"};
  std::vector<const toml::table*> items;
  if (auto e = scale_tables(section, "scale", "metric_types", items)) return e;
  for (std::size_t i = 0; i < items.size(); ++i) {
    std::string p = "scale.metric_types[" + std::to_string(i) + "]";
    ScaleMetricType t;
    if (auto e = load_scale_type(*items[i], p, t)) return e;
    for (std::size_t j = 0; j < types.size(); ++j)
      if (types[j].name == t.name)
        return ScaleError{p + ".name", "duplicate metrics type " + quoted(t.name) +
                                           " (also scale.metric_types[" + std::to_string(j) + "])"};
    types.push_back(std::move(t));
  }
  c.scale_metric_types = std::move(types);
  return std::nullopt;
}

// storage.fault_injection: "op:prefix:count[,...]" (op write|get, count 1..999999999); the
// storage layer parses it the same way (engine/storage/storage.hpp).
Check fault_spec() {
  return [](const std::string& spec) -> Error {
    std::size_t start = 0;
    while (start <= spec.size()) {
      std::size_t comma = spec.find(',', start);
      std::string item = spec.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      start = comma == std::string::npos ? spec.size() + 1 : comma + 1;
      if (item.empty()) continue;
      auto c1 = item.find(':'), c2 = item.rfind(':');
      if (c1 == std::string::npos || c1 == c2) return "fault " + quoted(item) + " is not op:prefix:count";
      std::string op = item.substr(0, c1), count = item.substr(c2 + 1);
      if (op != "write" && op != "get") return "fault " + quoted(item) + ": the op must be write or get";
      if (c2 == c1 + 1) return "fault " + quoted(item) + " needs a key prefix";
      if (count.empty() || count.size() > 9 || count.find_first_not_of("0123456789") != std::string::npos ||
          std::stoll(count) < 1)
        return "fault " + quoted(item) + " needs a count of 1..999999999";
    }
    return std::nullopt;
  };
}

Check listen_address() {
  return [](const std::string& s) -> Error {
    auto r = parse_listen(s);
    if (auto* err = std::get_if<std::string>(&r)) return *err;
    return std::nullopt;
  };
}

const std::vector<Setting>& table() {
  static const std::vector<Setting> t = {
      text("server.data_dir", "VIGIL_DATA_DIR", &Config::data_dir, non_empty()),
      text("server.listen", "VIGIL_LISTEN", &Config::listen, listen_address()),
      integer("server.http_threads", "VIGIL_HTTP_THREADS", &Config::http_threads, 1, 256),
      integer("server.max_inflated_mb", "", &Config::max_inflated_mb, 1, 4096),
      integer("server.max_body_mb", "", &Config::max_body_mb, 1, 4096),
      integer("server.max_connections", "", &Config::max_connections, 1, 1'000'000),
      integer("server.header_timeout_ms", "", &Config::header_timeout_ms, 100, 3'600'000),
      integer("server.body_timeout_ms", "", &Config::body_timeout_ms, 100, 3'600'000),
      integer("server.idle_timeout_ms", "", &Config::idle_timeout_ms, 100, 3'600'000),
      integer("server.max_requests_per_connection", "", &Config::max_requests_per_connection, 0, 1'000'000'000),
      integer("server.max_in_flight", "", &Config::max_in_flight, 1, 1'000'000),
      text("tls.cert_file", "", &Config::tls_cert_file, any_text()),
      text("tls.key_file", "", &Config::tls_key_file, any_text()),
      text("tls.client_ca_file", "", &Config::tls_client_ca_file, any_text()),
      text("tls.min_version", "", &Config::tls_min_version, one_of({"1.2", "1.3"})),
      text("console.web_root", "", &Config::console_web_root, any_text()),
      integer("engine.shards", "VIGIL_SHARDS", &Config::shards, 0, 1024),
      integer("engine.flush_interval_ms", "", &Config::flush_interval_ms, 1, 3'600'000),
      integer("engine.flush_pending_samples", "", &Config::flush_pending_samples, 1, 100'000'000),
      integer("engine.idle_flush_ms", "", &Config::idle_flush_ms, 0, 3'600'000),
      integer("engine.max_batch_samples", "", &Config::max_batch_samples, 1, 100'000'000),
      integer("engine.max_unapplied_samples", "", &Config::max_unapplied_samples, 1, 1'000'000'000),
      integer("engine.ingest_wait_ms", "", &Config::ingest_wait_ms, 0, 600'000),
      integer("engine.apply_delay_us", "", &Config::apply_delay_us, 0, 10'000'000),
      integer("engine.fail_write_every", "", &Config::fail_write_every, 0, 1'000'000'000),
      boolean("storage.sync_writes", "", &Config::sync_writes),
      text("storage.fault_injection", "", &Config::fault_injection, fault_spec()),
      integer("storage.min_free_mb", "", &Config::min_free_mb, 0, 1'048'576),
      integer("storage.block_cache_mb", "", &Config::block_cache_mb, 1, 1'048'576),
      integer("storage.memtable_mb", "", &Config::memtable_mb, 16, 1'048'576),
      integer("query.max_points", "", &Config::max_points, 1, 100'000'000),
      integer("query.max_series", "", &Config::query_max_series, 0, 1'000'000'000),
      integer("query.max_read_points", "", &Config::query_max_read_points, 0, 1'000'000'000'000'000),
      integer("query.timeout_ms", "", &Config::query_timeout_ms, 0, 3'600'000),
      integer("query.max_concurrent", "", &Config::query_max_concurrent, 0, 100'000),
      integer("limits.max_series", "", &Config::limits_max_series, 0, 1'000'000'000'000),
      integer("limits.max_series_per_metric", "", &Config::limits_max_series_per_metric, 0, 1'000'000'000'000),
      integer("alerts.delivery_timeout_ms", "", &Config::alerts_delivery_timeout_ms, 1, 600'000),
      integer("alerts.max_attempts", "", &Config::alerts_max_attempts, 1, 1000),
      integer("alerts.backoff_initial_ms", "", &Config::alerts_backoff_initial_ms, 1, 3'600'000),
      integer("alerts.backoff_max_ms", "", &Config::alerts_backoff_max_ms, 1, 86'400'000),
      text("alerts.smtp_url", "VIGIL_SMTP_URL", &Config::alerts_smtp_url, smtp_url()),
      text("alerts.smtp_from", "", &Config::alerts_smtp_from, mail_address()),
      text("alerts.smtp_username", "", &Config::alerts_smtp_username, any_text()),
      text("alerts.smtp_password", "", &Config::alerts_smtp_password, any_text()),
      boolean("alerts.smtp_starttls", "", &Config::alerts_smtp_starttls),
      boolean("alerts.allow_private_targets", "", &Config::alerts_allow_private_targets),
      integer("alerts.failed_retention_s", "", &Config::alerts_failed_retention_s, 1, 10LL * 365 * 86400),
      integer("alerts.outbox_max", "", &Config::alerts_outbox_max, 1, 100'000'000),
      integer("alerts.idle_stream_s", "", &Config::alerts_idle_stream_s, 1, 365LL * 86400),
      text("kafka.bootstrap_servers", "VIGIL_KAFKA_BOOTSTRAP", &Config::kafka_bootstrap_servers, any_text()),
      text("kafka.topics", "", &Config::kafka_topics, topic_list()),
      text("kafka.group_id", "", &Config::kafka_group_id, non_empty()),
      text("kafka.group_instance_id", "", &Config::kafka_group_instance_id, instance_id()),
      text("kafka.dead_letter_topic", "", &Config::kafka_dead_letter_topic, any_text()),
      text("kafka.timestamp_precision", "", &Config::kafka_timestamp_precision, one_of({"ns", "us", "ms", "s"})),
      integer("kafka.batch_size", "", &Config::kafka_batch_size, 1, 1'000'000),
      integer("kafka.pause_high_water", "", &Config::kafka_pause_high_water, 1, 100'000'000),
      integer("kafka.resume_low_water", "", &Config::kafka_resume_low_water, 0, 100'000'000),
      integer("kafka.prefetch_mb", "", &Config::kafka_prefetch_mb, 1, 65'536),
      integer("kafka.prefetch_stalled_mb", "", &Config::kafka_prefetch_stalled_mb, 1, 65'536),
      integer("kafka.broker_thread_nice", "", &Config::kafka_broker_thread_nice, 0, 19),
      integer("kafka.max_sample_age_s", "", &Config::kafka_max_sample_age_s, 0, 100LL * 365 * 86400),
      boolean("kafka.embedded", "", &Config::kafka_embedded),
      integer("kafka.embedded_partitions", "", &Config::kafka_embedded_partitions, 1, 1024),
      boolean("auth.enabled", "", &Config::auth_enabled),
      text("auth.admin_user", "VIGIL_ADMIN_USER", &Config::admin_user, any_text()),
      text("auth.admin_token", "VIGIL_ADMIN_TOKEN", &Config::admin_token, any_text()),
      integer("auth.rate_limit", "", &Config::rate_limit, 1, 1'000'000'000'000),
      integer("api.job_threshold", "", &Config::job_threshold, 0, 1'000'000'000),
      text("log.level", "", &Config::log_level, one_of({"trace", "debug", "info", "warn", "error"})),
      text("log.format", "", &Config::log_format, one_of({"text", "json"})),
  };
  return t;
}

const Setting* find_setting(std::string_view key) {
  for (const auto& s : table())
    if (s.key == key) return &s;
  return nullptr;
}

bool is_section(std::string_view name) {
  for (const auto& s : table())
    if (std::string_view(s.key).substr(0, s.key.find('.')) == name) return true;
  return false;
}

std::string env_name(const std::string& key) {
  std::string e = "VIGIL_";
  for (char c : key) e += c == '.' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return e;
}

std::optional<ConfigError> apply_text(Config& c, const Setting& s, const std::string& value, const std::string& origin) {
  auto parsed = from_text(s.kind, value);
  Error err;
  if (auto* msg = std::get_if<std::string>(&parsed))
    err = *msg;
  else
    err = s.assign(c, std::get<Value>(parsed));
  if (err) return ConfigError{s.key, *err + " (from " + origin + ")"};
  return std::nullopt;
}

std::string where(const std::string& file, const toml::node& n) {
  const auto& src = n.source();
  return " (" + file + ":" + std::to_string(src.begin.line) + ")";
}

std::optional<ConfigError> load_text(Config& c, std::string_view content, const std::string& file) {
  toml::table doc;
  try {
    doc = toml::parse(content, file);
  } catch (const toml::parse_error& e) {
    const auto& b = e.source().begin;
    return ConfigError{file, "line " + std::to_string(b.line) + ", column " + std::to_string(b.column) + ": " +
                                 std::string(e.description())};
  }

  for (const auto& [section_key, section_node] : doc) {
    std::string section(section_key.str());
    const auto* tbl = section_node.as_table();
    if (section == "scale") {
      if (!tbl) return ConfigError{section, "expected a table ([scale])" + where(file, section_node)};
      if (auto err = load_scale(c, *tbl)) {
        // The line of the key, or of the nearest table holding it (a required key is missing).
        std::string path = err->key;
        const toml::node* at = doc.at_path(path).node();
        while (!at && path.find_last_of(".[") != std::string::npos) {
          path.erase(path.find_last_of(".["));
          at = doc.at_path(path).node();
        }
        return ConfigError{err->key, err->message + where(file, at ? *at : section_node)};
      }
      continue;
    }
    if (!is_section(section))
      return ConfigError{section, (tbl ? "unknown section" : "unknown setting") + where(file, section_node)};
    if (!tbl) return ConfigError{section, "expected a table ([" + section + "])" + where(file, section_node)};
    for (const auto& [name, node] : *tbl) {
      std::string key = section + "." + std::string(name.str());
      if (key == "kafka.rdkafka") {
        const auto* props = node.as_table();
        if (!props) return ConfigError{key, "expected a table ([kafka.rdkafka])" + where(file, node)};
        if (auto err = load_rdkafka(c, *props, "")) return ConfigError{key, *err + where(file, node)};
        continue;
      }
      const Setting* s = find_setting(key);
      if (!s) return ConfigError{key, "unknown setting" + where(file, node)};
      auto parsed = from_toml(s->kind, node);
      Error err;
      if (auto* msg = std::get_if<std::string>(&parsed))
        err = *msg;
      else
        err = s->assign(c, std::get<Value>(parsed));
      if (err) return ConfigError{key, *err + where(file, node)};
    }
  }
  return std::nullopt;
}

std::optional<ConfigError> load_file(Config& c, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return ConfigError{file, "cannot open config file"};
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) return ConfigError{file, "cannot read config file"};
  return load_text(c, content.str(), file);
}

const std::string* last_value(const KeyValues& env, const std::string& name) {
  const std::string* found = nullptr;
  for (const auto& [k, v] : env)
    if (k == name) found = &v;
  return found;
}

// [tls]: a certificate and its key together, every file named readable. Whether the files hold
// a usable certificate and key is checked when the server loads them (api/http/server.hpp).
std::optional<ConfigError> check_tls(const Config& c) {
  if (c.tls_cert_file.empty() && c.tls_key_file.empty() && c.tls_client_ca_file.empty()) return std::nullopt;
  if (c.tls_cert_file.empty())
    return ConfigError{c.tls_key_file.empty() ? "tls.client_ca_file" : "tls.key_file",
                       "needs tls.cert_file (TLS is on only with a certificate and its key)"};
  if (c.tls_key_file.empty()) return ConfigError{"tls.key_file", "is required with tls.cert_file"};
  for (const auto& [key, file] : {std::pair<const char*, const std::string*>{"tls.cert_file", &c.tls_cert_file},
                                  {"tls.key_file", &c.tls_key_file},
                                  {"tls.client_ca_file", &c.tls_client_ca_file}}) {
    if (file->empty()) continue;
    std::ifstream in(*file, std::ios::binary);
    if (!in) return ConfigError{key, "cannot read " + quoted(*file) + ": " + std::strerror(errno)};
  }
  return std::nullopt;
}

// The checks of settings that depend on each other, once every source is applied.
std::optional<ConfigError> check_together(const Config& c) {
  if (c.kafka_resume_low_water >= c.kafka_pause_high_water)
    return ConfigError{"kafka.resume_low_water", "must be below kafka.pause_high_water (" +
                                                     std::to_string(c.kafka_pause_high_water) + ")"};
  return check_tls(c);
}

}  // namespace

std::string Config::listen_host() const {
  auto r = parse_listen(listen);
  if (auto* hp = std::get_if<HostPort>(&r)) return hp->host;
  return {};
}

std::uint16_t Config::listen_port() const {
  auto r = parse_listen(listen);
  if (auto* hp = std::get_if<HostPort>(&r)) return hp->port;
  return 0;
}

int Config::effective_shards() const {
  if (shards > 0) return shards;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

std::vector<std::string> Config::kafka_topic_list() const { return split_topics(kafka_topics); }

std::optional<ConfigError> load(Config& out, const std::string& file, const KeyValues& env,
                                const KeyValues& overrides) {
  Config c;
  if (!file.empty())
    if (auto err = load_file(c, file)) return err;

  for (const auto& s : table()) {
    std::string name = env_name(s.key);
    const std::string* value = last_value(env, name);
    if (!value && !s.alias.empty()) {
      value = last_value(env, s.alias);
      name = s.alias;
    }
    if (value)
      if (auto err = apply_text(c, s, *value, "environment " + name)) return err;
  }

  for (const auto& [key, value] : overrides) {
    if (key.size() > kRdkafkaPrefix.size() && key.compare(0, kRdkafkaPrefix.size(), kRdkafkaPrefix) == 0) {
      set_rdkafka(c, key.substr(kRdkafkaPrefix.size()), value);
      continue;
    }
    const Setting* s = find_setting(key);
    if (!s) return ConfigError{key, "unknown setting"};
    if (auto err = apply_text(c, *s, value, "command line")) return err;
  }

  if (auto err = check_together(c)) return err;
  out = std::move(c);
  return std::nullopt;
}

std::optional<ConfigError> load_toml(Config& out, std::string_view text, const std::string& name) {
  Config c;
  if (auto err = load_text(c, text, name)) return err;
  if (auto err = check_together(c)) return err;
  out = std::move(c);
  return std::nullopt;
}

KeyValues environment() {
  KeyValues env;
  for (char** e = environ; e && *e; ++e) {
    std::string_view entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    env.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  return env;
}

const std::vector<SettingInfo>& settings() {
  static const std::vector<SettingInfo> infos = [] {
    std::vector<SettingInfo> v;
    for (const auto& s : table()) v.push_back({s.key, env_name(s.key), s.alias});
    return v;
  }();
  return infos;
}

}  // namespace vigil::config

#include "actors/alerting/alert_keys.hpp"

#include "engine/encoding/bytes.hpp"

namespace vigil::actors::alert_keys {

namespace {

std::string with_id(std::string_view prefix, std::uint64_t id) {
  std::string k(prefix);
  enc::put_u64(k, id);
  return k;
}

bool has_prefix(std::string_view key, std::string_view prefix) { return key.substr(0, prefix.size()) == prefix; }

// The u64 at `offset` bytes after `prefix`, if the key is long enough to hold it.
std::optional<std::uint64_t> id_at(std::string_view key, std::string_view prefix, std::size_t offset) {
  if (!has_prefix(key, prefix) || key.size() < prefix.size() + offset + kIdSize) return std::nullopt;
  return enc::get_u64(key.data() + prefix.size() + offset);
}

}  // namespace

std::string alert(std::uint64_t id) { return with_id(kAlertPrefix, id); }
std::string service(std::uint64_t id) { return with_id(kServicePrefix, id); }
std::string state_prefix(std::uint64_t alert_id) { return with_id(kStatePrefix, alert_id); }

std::string state(std::uint64_t alert_id, std::string_view stream) {
  std::string k = state_prefix(alert_id);
  k.append(stream);
  return k;
}

std::string outbox(std::uint64_t seq) { return with_id(kOutboxPrefix, seq); }
std::string history_prefix(std::uint64_t alert_id) { return with_id(kHistoryPrefix, alert_id); }

std::string history(std::uint64_t alert_id, std::uint64_t seq) {
  std::string k = history_prefix(alert_id);
  enc::put_u64(k, seq);
  return k;
}

std::optional<std::uint64_t> parse_alert(std::string_view key) {
  if (key.size() != kAlertPrefix.size() + kIdSize) return std::nullopt;
  return id_at(key, kAlertPrefix, 0);
}

std::optional<StateKey> parse_state(std::string_view key) {
  auto id = id_at(key, kStatePrefix, 0);
  if (!id) return std::nullopt;
  return StateKey{*id, key.substr(kStatePrefix.size() + kIdSize)};
}

std::optional<std::uint64_t> parse_outbox(std::string_view key) { return id_at(key, kOutboxPrefix, 0); }

std::optional<std::uint64_t> parse_history_seq(std::string_view key) { return id_at(key, kHistoryPrefix, kIdSize); }

}  // namespace vigil::actors::alert_keys

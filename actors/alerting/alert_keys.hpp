// Key layouts of alerting in the meta column family, in one place. Ids and sequence numbers are
// big-endian u64 (enc::put_u64), so keys of one alert sort together and in sequence order, and the
// prefix of alert id+1 bounds the keys of alert id:
//   alert/<id u64>                         alert JSON
//   service/<id u64>                       service JSON
//   alertstate/<alert id u64><stream>      per-stream state
//   outbox/<seq u64>                       an outbox record (actors/alerting/outbox.hpp)
//   history/<alert id u64><seq u64>        timeline event
// The parse functions accept exactly the keys the builders make and return nullopt for anything
// else (a shorter key, a key of another family), so callers never index into a key by hand.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vigil::actors::alert_keys {

inline constexpr std::string_view kAlertPrefix = "alert/";
inline constexpr std::string_view kServicePrefix = "service/";
inline constexpr std::string_view kStatePrefix = "alertstate/";
inline constexpr std::string_view kOutboxPrefix = "outbox/";
inline constexpr std::string_view kHistoryPrefix = "history/";
inline constexpr std::size_t kIdSize = 8;  // one big-endian u64

std::string alert(std::uint64_t id);
std::string service(std::uint64_t id);
std::string state(std::uint64_t alert_id, std::string_view stream);
std::string state_prefix(std::uint64_t alert_id);  // every stream of one alert
std::string outbox(std::uint64_t seq);
std::string history(std::uint64_t alert_id, std::uint64_t seq);
std::string history_prefix(std::uint64_t alert_id);  // every event of one alert

// alert/<id>: the id; nullopt unless the key is exactly prefix + id.
std::optional<std::uint64_t> parse_alert(std::string_view key);

struct StateKey {
  std::uint64_t alert_id = 0;
  std::string_view stream;  // points into the parsed key
};
// alertstate/<id><stream>: nullopt if the key is shorter than prefix + id.
std::optional<StateKey> parse_state(std::string_view key);

// outbox/<seq>: the sequence number; nullopt if the key is shorter than prefix + seq.
std::optional<std::uint64_t> parse_outbox(std::string_view key);

// history/<alert id><seq>: the sequence number; nullopt if the key is shorter than that.
std::optional<std::uint64_t> parse_history_seq(std::string_view key);

}  // namespace vigil::actors::alert_keys

#include "engine/meta/jobs.hpp"

#include <nlohmann/json.hpp>

#include "engine/storage/storage.hpp"

namespace vigil {

namespace {

const std::string kPrefix = "job/";
const std::string kInterrupted = "interrupted by a restart";
const std::string kFailed = "failed";

std::string job_key(std::uint64_t id) {
  std::string k = kPrefix;
  for (int i = 7; i >= 0; --i) k += static_cast<char>((id >> (i * 8)) & 0xff);
  return k;
}

std::string encode(const JobInfo& j) {
  nlohmann::json o = {{"id", j.id},
                      {"state", static_cast<int>(j.state)},
                      {"progress", j.progress},
                      {"errors", j.errors},
                      {"created", j.created}};
  return o.dump();
}

bool decode(std::string_view s, JobInfo& j) {
  auto o = nlohmann::json::parse(s, nullptr, false);
  if (o.is_discarded() || !o.is_object()) return false;
  try {
    j.id = o.at("id").get<std::uint64_t>();
    j.state = static_cast<JobState>(o.at("state").get<int>());
    j.progress = o.value("progress", 0.0);
    j.errors = o.value("errors", std::map<std::string, std::vector<std::string>>{});
    j.created = o.value("created", std::int64_t{0});
  } catch (const std::exception&) {
    return false;
  }
  return j.id != 0;
}

}  // namespace

const char* job_state_name(JobState s) {
  switch (s) {
    case JobState::queued: return "queued";
    case JobState::working: return "working";
    case JobState::complete: return "complete";
    case JobState::failed: return "failed";
  }
  return "failed";
}

void JobTable::Context::progress(double percent) { table_.set_progress(id_, percent); }
void JobTable::Context::error(const std::string& name, const std::string& message) {
  table_.add_error(id_, name, message);
}

JobTable::JobTable(Storage& storage, std::size_t keep) : storage_(storage), keep_(keep) {}

JobTable::~JobTable() { stop(); }

Status JobTable::start() {
  std::lock_guard lock(mu_);
  Status st = storage_.scan_prefix(Cf::meta, kPrefix, [&](std::string_view, std::string_view v) {
    JobInfo j;
    if (decode(v, j)) {
      if (j.id >= next_id_) next_id_ = j.id + 1;
      jobs_[j.id] = std::move(j);
    }
    return true;
  });
  if (!st.ok()) return st;
  for (auto& [id, j] : jobs_)
    if (j.state == JobState::queued || j.state == JobState::working) {
      j.state = JobState::failed;
      j.errors["job"].push_back(kInterrupted);
      persist(j);
    }
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
  return Status();
}

void JobTable::stop() {
  {
    std::lock_guard lock(mu_);
    if (!worker_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
}

void JobTable::persist(const JobInfo& job) {
  Storage::Batch batch;
  batch.put(Cf::meta, job_key(job.id), encode(job));
  std::string err;
  storage_.write(batch, err);  // best effort: the in-memory state stays authoritative
}

std::uint64_t JobTable::submit(Work work, std::int64_t now, std::string& err) {
  std::lock_guard lock(mu_);
  JobInfo j;
  j.id = next_id_;
  j.created = now;
  Storage::Batch batch;
  batch.put(Cf::meta, job_key(j.id), encode(j));
  // Keep the newest `keep_` jobs.
  while (jobs_.size() >= keep_ && !jobs_.empty()) {
    auto oldest = jobs_.begin();
    if (oldest->second.state == JobState::queued || oldest->second.state == JobState::working) break;
    batch.del(Cf::meta, job_key(oldest->first));
    jobs_.erase(oldest);
  }
  if (!storage_.write(batch, err)) return 0;
  ++next_id_;
  jobs_[j.id] = j;
  queue_.emplace_back(j.id, std::move(work));
  cv_.notify_all();
  return j.id;
}

std::optional<JobInfo> JobTable::get(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  return it->second;
}

void JobTable::set_progress(std::uint64_t id, double p) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) it->second.progress = std::min(100.0, std::max(0.0, p));
}

void JobTable::add_error(std::uint64_t id, const std::string& name, const std::string& message) {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it != jobs_.end()) it->second.errors[name].push_back(message);
}

void JobTable::run() {
  for (;;) {
    std::pair<std::uint64_t, Work> item;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      auto& j = jobs_[item.first];
      j.state = JobState::working;
      persist(j);
    }
    Context ctx(*this, item.first);
    bool ok = false;
    try {
      ok = item.second(ctx);
    } catch (const std::exception& e) {
      ctx.error("job", e.what());
    }
    std::lock_guard lock(mu_);
    auto& j = jobs_[item.first];
    if (ok && j.errors.empty()) {
      j.state = JobState::complete;
      j.progress = 100;
    } else {
      j.state = JobState::failed;
      if (j.errors.empty()) j.errors["job"].push_back(kFailed);
    }
    persist(j);
  }
}

}  // namespace vigil

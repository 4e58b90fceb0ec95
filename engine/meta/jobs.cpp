#include "engine/meta/jobs.hpp"

#include <nlohmann/json.hpp>

#include "engine/storage/storage.hpp"

namespace vigil {

namespace {

const std::string kPrefix = "job/";
const std::string kInterrupted = "interrupted by a restart";
const std::string kFailed = "failed";

}  // namespace

std::string JobTable::Codec::encode(const JobInfo& j) {
  nlohmann::json o = {{"id", j.id},
                      {"state", static_cast<int>(j.state)},
                      {"progress", j.progress},
                      {"errors", j.errors},
                      {"created", j.created}};
  return o.dump();
}

bool JobTable::Codec::decode(std::string_view s, JobInfo& j) {
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

JobTable::JobTable(Storage& storage, std::size_t keep) : keep_(keep), jobs_(storage, kPrefix) {}

JobTable::~JobTable() { stop(); }

Status JobTable::start() {
  std::lock_guard lock(mu_);
  Status st = jobs_.load();
  if (!st.ok()) return st;
  std::vector<JobInfo> interrupted;
  for (const auto& [id, j] : jobs_.items()) {
    if (id >= next_id_) next_id_ = id + 1;
    if (j.state == JobState::queued || j.state == JobState::working) interrupted.push_back(j);
  }
  for (auto& j : interrupted) {
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
  std::string err;
  // Best effort: on a store failure the job keeps its state in memory.
  if (!jobs_.put(job.id, job, err))
    if (JobInfo* j = jobs_.edit_in_memory(job.id)) *j = job;
}

std::uint64_t JobTable::submit(Work work, std::int64_t now, std::string& err) {
  std::lock_guard lock(mu_);
  JobInfo j;
  j.id = next_id_;
  j.created = now;
  auto change = jobs_.change();
  change.put(j.id, j);
  // Keep the newest `keep_` jobs.
  std::size_t n = jobs_.size();
  for (auto it = jobs_.items().begin(); n >= keep_ && it != jobs_.items().end(); ++it, --n) {
    if (it->second.state == JobState::queued || it->second.state == JobState::working) break;
    change.erase(it->first);
  }
  if (!change.commit(err)) return 0;
  ++next_id_;
  queue_.emplace_back(j.id, std::move(work));
  cv_.notify_all();
  return j.id;
}

std::optional<JobInfo> JobTable::get(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  const JobInfo* j = jobs_.find(id);
  if (j == nullptr) return std::nullopt;
  return *j;
}

void JobTable::set_progress(std::uint64_t id, double p) {
  std::lock_guard lock(mu_);
  if (JobInfo* j = jobs_.edit_in_memory(id)) j->progress = std::min(100.0, std::max(0.0, p));
}

void JobTable::add_error(std::uint64_t id, const std::string& name, const std::string& message) {
  std::lock_guard lock(mu_);
  if (JobInfo* j = jobs_.edit_in_memory(id)) j->errors[name].push_back(message);
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
      if (const JobInfo* stored = jobs_.find(item.first)) {
        JobInfo j = *stored;
        j.state = JobState::working;
        persist(j);
      }
    }
    Context ctx(*this, item.first);
    bool ok = false;
    try {
      ok = item.second(ctx);
    } catch (const std::exception& e) {
      ctx.error("job", e.what());
    }
    std::lock_guard lock(mu_);
    const JobInfo* stored = jobs_.find(item.first);
    if (stored == nullptr) continue;
    JobInfo j = *stored;
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

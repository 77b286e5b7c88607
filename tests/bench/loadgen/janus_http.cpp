#include "tests/bench/loadgen/janus_http.h"

#include <curl/curl.h>

#include <stdexcept>

namespace junction::loadgen {
namespace {

constexpr size_t kMaxQueuedEvents = 256;  // per handle: events nobody waits for are dropped oldest first
constexpr auto kKeepalive = std::chrono::seconds(15);

size_t append(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

struct Curl {
  CURL* handle = curl_easy_init();
  curl_slist* headers = nullptr;
  ~Curl() {
    curl_slist_free_all(headers);
    curl_easy_cleanup(handle);
  }
};

// One HTTP exchange; returns the body or throws. `abort` (optional) is polled while waiting.
std::string http(const std::string& url, const std::string* body, std::chrono::milliseconds timeout,
                 const std::atomic<bool>* abort = nullptr) {
  Curl c;
  if (c.handle == nullptr) throw std::runtime_error("curl_easy_init failed");
  std::string reply;
  curl_easy_setopt(c.handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c.handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c.handle, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(c.handle, CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(c.handle, CURLOPT_WRITEDATA, &reply);
  if (body != nullptr) {
    c.headers = curl_slist_append(c.headers, "Content-Type: application/json");
    curl_easy_setopt(c.handle, CURLOPT_HTTPHEADER, c.headers);
    curl_easy_setopt(c.handle, CURLOPT_POSTFIELDS, body->c_str());
    curl_easy_setopt(c.handle, CURLOPT_POSTFIELDSIZE, static_cast<long>(body->size()));
  }
  if (abort != nullptr) {
    curl_easy_setopt(c.handle, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c.handle, CURLOPT_XFERINFODATA, abort);
    curl_easy_setopt(c.handle, CURLOPT_XFERINFOFUNCTION,
                     +[](void* flag, curl_off_t, curl_off_t, curl_off_t, curl_off_t) -> int {
                       return static_cast<const std::atomic<bool>*>(flag)->load() ? 1 : 0;
                     });
  }
  CURLcode rc = curl_easy_perform(c.handle);
  if (rc != CURLE_OK) throw std::runtime_error(url + ": " + curl_easy_strerror(rc));
  long status = 0;
  curl_easy_getinfo(c.handle, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) throw std::runtime_error(url + ": HTTP " + std::to_string(status));
  return reply;
}

}  // namespace

std::string http_get(const std::string& url, std::chrono::milliseconds timeout) { return http(url, nullptr, timeout); }

JanusHttp::JanusHttp(std::string base, std::chrono::milliseconds request_timeout)
    : base_(std::move(base)), request_timeout_(request_timeout) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

JanusHttp::~JanusHttp() { stop(); }

JanusHttp::json JanusHttp::post(const std::string& path, json body) {
  body["transaction"] = "lg-" + std::to_string(next_tx_++);
  std::string text = body.dump();
  json reply = json::parse(http(base_ + path, &text, request_timeout_));
  if (reply.value("janus", "") == "error")
    throw std::runtime_error("Janus error " + reply["error"].value("code", json(0)).dump() + ": " +
                             reply["error"].value("reason", ""));
  return reply;
}

void JanusHttp::create_session() {
  json reply = post("", {{"janus", "create"}});
  session_ = reply.at("data").at("id").get<uint64_t>();
  poller_ = std::thread([this] { poll_loop(); });
}

uint64_t JanusHttp::attach(const std::string& plugin) {
  json reply = post("/" + std::to_string(session_), {{"janus", "attach"}, {"plugin", plugin}});
  return reply.at("data").at("id").get<uint64_t>();
}

JanusHttp::json JanusHttp::message(uint64_t handle, const json& body, const json& jsep) {
  json request = {{"janus", "message"}, {"body", body}};
  if (!jsep.is_null()) request["jsep"] = jsep;
  return post("/" + std::to_string(session_) + "/" + std::to_string(handle), request);
}

void JanusHttp::detach(uint64_t handle) {
  post("/" + std::to_string(session_) + "/" + std::to_string(handle), {{"janus", "detach"}});
}

std::optional<JanusHttp::json> JanusHttp::wait_event(uint64_t handle, const std::function<bool(const json&)>& match,
                                                     std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock lock(mutex_);
  while (true) {
    auto& queue = events_[handle];
    for (auto it = queue.begin(); it != queue.end(); ++it)
      if (match(*it)) {
        json event = std::move(*it);
        queue.erase(it);
        return event;
      }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) return std::nullopt;
  }
}

void JanusHttp::on_trickle(uint64_t handle, std::function<void(const json&)> callback) {
  std::deque<json> early;
  {
    std::lock_guard lock(mutex_);
    trickle_[handle] = callback;
    auto& queue = events_[handle];
    for (auto it = queue.begin(); it != queue.end();)
      if (it->value("janus", "") == "trickle") {
        early.push_back(std::move(*it));
        it = queue.erase(it);
      } else {
        ++it;
      }
  }
  for (const json& e : early) callback(e.value("candidate", json::object()));
}

void JanusHttp::dispatch(const json& event) {
  if (!event.is_object() || !event.contains("sender")) return;  // keepalives, session events
  uint64_t handle = event["sender"].get<uint64_t>();
  std::function<void(const json&)> trickle;
  {
    std::lock_guard lock(mutex_);
    if (event.value("janus", "") == "trickle") {
      auto it = trickle_.find(handle);
      if (it != trickle_.end()) trickle = it->second;
    }
    if (!trickle) {
      auto& queue = events_[handle];
      queue.push_back(event);
      if (queue.size() > kMaxQueuedEvents) queue.pop_front();
    }
  }
  if (trickle) trickle(event.value("candidate", json::object()));
  changed_.notify_all();
}

void JanusHttp::poll_loop() {
  auto last_keepalive = std::chrono::steady_clock::now();
  std::string url = base_ + "/" + std::to_string(session_) + "?maxev=50";
  while (!stopping_) {
    try {
      json reply = json::parse(http(url, nullptr, std::chrono::seconds(70), &stopping_));
      if (reply.is_array())
        for (const json& e : reply) dispatch(e);
      else
        dispatch(reply);
    } catch (const std::exception&) {
      if (stopping_) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server went away: retry, bounded by stop()
    }
    if (std::chrono::steady_clock::now() - last_keepalive > kKeepalive && !stopping_) {
      last_keepalive = std::chrono::steady_clock::now();
      try {
        post("/" + std::to_string(session_), {{"janus", "keepalive"}});
      } catch (const std::exception&) {
      }
    }
  }
}

void JanusHttp::destroy_session() {
  destroy_session_async();
  stop();
}

void JanusHttp::destroy_session_async() {
  if (session_ == 0 || stopping_) return;
  try {
    post("/" + std::to_string(session_), {{"janus", "destroy"}});
  } catch (const std::exception&) {
  }
  stopping_ = true;
}

void JanusHttp::stop() {
  stopping_ = true;
  if (poller_.joinable()) poller_.join();
}

}  // namespace junction::loadgen

#pragma once
// RAII owners for libuv handles. libuv finishes closing a handle on a later loop iteration, so
// the C++ owner may die first: the handle memory is freed in the close callback, never before.
#include <uv.h>

#include <functional>
#include <utility>

namespace junction {

template <typename Handle>
class UvHandle {
 public:
  UvHandle() : handle_(new Handle{}) { handle_->data = this; }
  ~UvHandle() { close(); }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  Handle* get() { return handle_; }
  // Safe to call twice; the handle must have been initialised with uv_*_init before.
  void close() {
    if (handle_ == nullptr) return;
    auto* h = reinterpret_cast<uv_handle_t*>(handle_);
    h->data = nullptr;
    if (initialised_ && !uv_is_closing(h))
      uv_close(h, [](uv_handle_t* closing) { delete reinterpret_cast<Handle*>(closing); });
    else if (!initialised_)
      delete handle_;
    handle_ = nullptr;
  }

 protected:
  void mark_initialised() { initialised_ = true; }
  Handle* handle_;
  bool initialised_ = false;
};

// A timer on the control loop: start(after, repeat, callback).
class UvTimer : public UvHandle<uv_timer_t> {
 public:
  explicit UvTimer(uv_loop_t* loop) {
    uv_timer_init(loop, handle_);
    mark_initialised();
  }
  void start(uint64_t after_ms, uint64_t repeat_ms, std::function<void()> callback) {
    callback_ = std::move(callback);
    uv_timer_start(handle_, [](uv_timer_t* t) {
      // A copy: the callback may destroy this timer (a one-shot forgetting itself).
      if (auto* self = static_cast<UvTimer*>(t->data)) std::function<void()>(self->callback_)();
    }, after_ms, repeat_ms);
  }
  void stop() {
    if (handle_ != nullptr) uv_timer_stop(handle_);
  }

 private:
  std::function<void()> callback_;
};

// A wake-up from any thread into the control loop (uv_async_send coalesces calls).
class UvAsync : public UvHandle<uv_async_t> {
 public:
  UvAsync(uv_loop_t* loop, std::function<void()> callback) : callback_(std::move(callback)) {
    uv_async_init(loop, handle_, [](uv_async_t* a) {
      if (auto* self = static_cast<UvAsync*>(a->data)) self->callback_();
    });
    mark_initialised();
  }
  void send() { uv_async_send(handle_); }  // thread-safe

 private:
  std::function<void()> callback_;
};

}  // namespace junction

#include "mixers/video/compositor.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

extern "C" {
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

namespace junction::mixers {

Scalers::~Scalers() {
  for (Entry& e : entries_) sws_freeContext(e.ctx);
}

SwsContext* Scalers::get(int src_w, int src_h, int src_format, int dst_w, int dst_h) {
  for (Entry& e : entries_)
    if (e.dst_w == dst_w && e.dst_h == dst_h) {
      if (e.src_w != src_w || e.src_h != src_h || e.src_format != src_format) {
        // The sender changed its resolution: rebuild this size's context.
        sws_freeContext(e.ctx);
        e = {nullptr, src_w, src_h, src_format, dst_w, dst_h};
        e.ctx = sws_getContext(src_w, src_h, static_cast<AVPixelFormat>(src_format), dst_w, dst_h, AV_PIX_FMT_YUV420P,
                               SWS_FAST_BILINEAR, nullptr, nullptr, nullptr);
      }
      return e.ctx;
    }
  if (entries_.size() >= 4) {  // bounded: drop the oldest size
    sws_freeContext(entries_.front().ctx);
    entries_.erase(entries_.begin());
  }
  SwsContext* ctx = sws_getContext(src_w, src_h, static_cast<AVPixelFormat>(src_format), dst_w, dst_h,
                                   AV_PIX_FMT_YUV420P, SWS_FAST_BILINEAR, nullptr, nullptr, nullptr);
  if (ctx != nullptr) entries_.push_back({ctx, src_w, src_h, src_format, dst_w, dst_h});
  return ctx;
}

Yuv Yuv::from_rgb(int r, int g, int b) {
  auto clamp = [](int v) { return static_cast<uint8_t>(std::clamp(v, 0, 255)); };
  return {clamp(((66 * r + 129 * g + 25 * b + 128) >> 8) + 16), clamp(((-38 * r - 74 * g + 112 * b + 128) >> 8) + 128),
          clamp(((112 * r - 94 * g - 18 * b + 128) >> 8) + 128)};
}

Canvas::Canvas(int width, int height) : width_(width & ~1), height_(height & ~1), frame_(make_frame()) {
  frame_->width = width_;
  frame_->height = height_;
  frame_->format = AV_PIX_FMT_YUV420P;
  if (av_frame_get_buffer(frame_.get(), 32) < 0) throw std::bad_alloc();
  fill_all(Yuv{16, 128, 128});
}

void Canvas::fill(const Tile& a, Yuv c) {
  const int x0 = std::clamp(a.x, 0, width_), x1 = std::clamp(a.x + a.width, 0, width_);
  const int y0 = std::clamp(a.y, 0, height_), y1 = std::clamp(a.y + a.height, 0, height_);
  if (x1 <= x0 || y1 <= y0) return;
  for (int y = y0; y < y1; ++y) std::memset(frame_->data[0] + y * frame_->linesize[0] + x0, c.y, static_cast<size_t>(x1 - x0));
  for (int y = y0 / 2; y < y1 / 2; ++y) {
    std::memset(frame_->data[1] + y * frame_->linesize[1] + x0 / 2, c.u, static_cast<size_t>((x1 - x0) / 2));
    std::memset(frame_->data[2] + y * frame_->linesize[2] + x0 / 2, c.v, static_cast<size_t>((x1 - x0) / 2));
  }
}

void Canvas::draw(const Tile& tile, const AVFrame* picture, Scalers& scalers) {
  Tile place = fit_inside(tile, picture->width, picture->height);
  if (place.x < 0 || place.y < 0 || place.x + place.width > width_ || place.y + place.height > height_) return;
  if (place.width != tile.width || place.height != tile.height) fill(tile, Yuv{16, 128, 128});
  SwsContext* ctx = scalers.get(picture->width, picture->height, picture->format, place.width, place.height);
  if (ctx == nullptr) return;
  uint8_t* dst[4] = {frame_->data[0] + place.y * frame_->linesize[0] + place.x,
                     frame_->data[1] + (place.y / 2) * frame_->linesize[1] + place.x / 2,
                     frame_->data[2] + (place.y / 2) * frame_->linesize[2] + place.x / 2, nullptr};
  int dst_stride[4] = {frame_->linesize[0], frame_->linesize[1], frame_->linesize[2], 0};
  sws_scale(ctx, picture->data, picture->linesize, 0, picture->height, dst, dst_stride);
}

}  // namespace junction::mixers

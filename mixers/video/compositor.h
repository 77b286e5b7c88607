#pragma once
// The canvas a group's receivers see: a YUV 4:2:0 picture that tiles are painted onto, each
// participant's latest picture scaled (libswscale) straight into its place, or a flat placeholder.
#include <cstdint>
#include <vector>

#include "mixers/video/layout.h"
#include "mixers/video/video_codec.h"

struct SwsContext;

namespace junction::mixers {

// Scaling contexts of one input picture stream, one per destination size (a participant can be
// a grid cell for some receivers and a thumbnail for others). Mixer thread only.
class Scalers {
 public:
  Scalers() = default;
  ~Scalers();
  Scalers(const Scalers&) = delete;
  Scalers& operator=(const Scalers&) = delete;
  SwsContext* get(int src_w, int src_h, int src_format, int dst_w, int dst_h);

 private:
  struct Entry {
    SwsContext* ctx;
    int src_w, src_h, src_format, dst_w, dst_h;
  };
  std::vector<Entry> entries_;
};

struct Yuv {
  uint8_t y, u, v;
  static Yuv from_rgb(int r, int g, int b);  // BT.601, limited range
};

class Canvas {
 public:
  Canvas(int width, int height);  // throws std::bad_alloc
  int width() const { return width_; }
  int height() const { return height_; }
  AVFrame* frame() { return frame_.get(); }

  void fill(const Tile& area, Yuv colour);
  void fill_all(Yuv colour) { fill({0, 0, 0, width_, height_}, colour); }
  // Paints `picture` (any size, YUV 4:2:0) into `tile`, aspect kept, the rest of the tile black.
  void draw(const Tile& tile, const AVFrame* picture, Scalers& scalers);

 private:
  int width_, height_;
  FramePtr frame_;
};

}  // namespace junction::mixers

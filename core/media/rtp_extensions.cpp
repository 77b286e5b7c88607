#include "core/media/rtp_extensions.h"

#include "core/media/rtp_packet.h"

namespace junction::media {

std::optional<AudioLevel> read_audio_level(std::span<const uint8_t> data) {
  if (data.empty()) return std::nullopt;
  return AudioLevel{(data[0] & 0x80) != 0, static_cast<uint8_t>(data[0] & 0x7F)};
}

std::optional<uint16_t> read_transport_seq(std::span<const uint8_t> data) {
  if (data.size() < 2) return std::nullopt;
  return load_be16(data.data());
}

std::optional<uint32_t> read_abs_send_time(std::span<const uint8_t> data) {
  if (data.size() != 3) return std::nullopt;
  return load_be24(data.data());
}

std::string_view read_sdes_string(std::span<const uint8_t> data) {
  size_t size = data.size();
  while (size > 0 && data[size - 1] == 0) --size;
  // A char and an unsigned char may alias each other; this is not a struct overlay.
  return std::string_view(reinterpret_cast<const char*>(data.data()), size);
}

// --- VP8 -------------------------------------------------------------------------------------

std::optional<Vp8Descriptor> parse_vp8_descriptor(std::span<const uint8_t> payload) {
  //  |X|R|N|S|R| PID |   then, when X:  |I|L|T|K| RSV |   then the optional fields in order.
  if (payload.empty()) return std::nullopt;
  Vp8Descriptor d;
  uint8_t b0 = payload[0];
  d.non_reference = (b0 & 0x20) != 0;
  d.start_of_partition = (b0 & 0x10) != 0;
  d.partition_id = b0 & 0x07;
  size_t i = 1;
  if (b0 & 0x80) {
    if (i >= payload.size()) return std::nullopt;
    uint8_t x = payload[i++];
    bool has_i = x & 0x80, has_l = x & 0x40, has_t = x & 0x20, has_k = x & 0x10;
    if (has_i) {
      if (i >= payload.size()) return std::nullopt;
      d.picture_id_offset = static_cast<uint8_t>(i);
      if (payload[i] & 0x80) {
        if (i + 2 > payload.size()) return std::nullopt;
        d.picture_id = load_be16(&payload[i]) & 0x7FFF;
        d.picture_id_15bit = true;
        i += 2;
      } else {
        d.picture_id = payload[i] & 0x7F;
        i += 1;
      }
    }
    if (has_l) {
      if (i >= payload.size()) return std::nullopt;
      d.tl0_pic_idx_offset = static_cast<uint8_t>(i);
      d.tl0_pic_idx = payload[i++];
    }
    if (has_t || has_k) {
      if (i >= payload.size()) return std::nullopt;
      uint8_t b = payload[i++];
      if (has_t) {
        d.temporal_id = static_cast<uint8_t>(b >> 6);
        d.layer_sync = (b & 0x20) != 0;
      }
      if (has_k) d.key_idx = b & 0x1F;
    }
  }
  d.size = i;
  return d;
}

bool vp8_is_keyframe(std::span<const uint8_t> payload) {
  auto d = parse_vp8_descriptor(payload);
  if (!d || !d->start_of_partition || d->partition_id != 0 || d->size >= payload.size())
    return false;
  // VP8 payload header (RFC 7741 §4.3): |Size0|H| VER |P|, P = 0 for a key frame.
  return (payload[d->size] & 0x01) == 0;
}

void vp8_set_picture_id(std::span<uint8_t> payload, const Vp8Descriptor& desc,
                        uint16_t picture_id) {
  size_t at = desc.picture_id_offset;
  if (at == 0) return;
  if (desc.picture_id_15bit) {
    if (at + 2 > payload.size()) return;
    store_be16(&payload[at], static_cast<uint16_t>(0x8000 | (picture_id & 0x7FFF)));
  } else {
    if (at >= payload.size()) return;
    payload[at] = static_cast<uint8_t>(picture_id & 0x7F);
  }
}

void vp8_set_tl0_pic_idx(std::span<uint8_t> payload, const Vp8Descriptor& desc, uint8_t tl0) {
  size_t at = desc.tl0_pic_idx_offset;
  if (at != 0 && at < payload.size()) payload[at] = tl0;
}

// --- H.264 -----------------------------------------------------------------------------------

namespace {

constexpr uint8_t kNalIdr = 5;
constexpr uint8_t kNalSps = 7;
constexpr uint8_t kNalStapA = 24;
constexpr uint8_t kNalFuA = 28;

bool starts_keyframe(uint8_t nal_type) {
  return nal_type == kNalIdr || nal_type == kNalSps;
}

}  // namespace

bool h264_is_keyframe(std::span<const uint8_t> payload) {
  if (payload.empty()) return false;
  uint8_t type = payload[0] & 0x1F;
  if (type == kNalStapA) {
    // RFC 6184 §5.7.1: after the STAP-A NAL header, units of 16-bit size + NAL unit.
    size_t i = 1;
    while (i + 2 <= payload.size()) {
      size_t size = load_be16(&payload[i]);
      i += 2;
      if (size == 0 || i + size > payload.size()) return false;
      if (starts_keyframe(payload[i] & 0x1F)) return true;
      i += size;
    }
    return false;
  }
  if (type == kNalFuA) {
    // RFC 6184 §5.8: FU indicator, then FU header |S|E|R| Type |.
    if (payload.size() < 2) return false;
    uint8_t fu = payload[1];
    return (fu & 0x80) != 0 && starts_keyframe(fu & 0x1F);
  }
  return starts_keyframe(type);
}

// --- VP9 -------------------------------------------------------------------------------------

std::optional<Vp9Descriptor> parse_vp9_descriptor(std::span<const uint8_t> payload) {
  //  |I|P|L|F|B|E|V|Z|  then picture id, layer indices, P_DIFFs, scalability structure.
  if (payload.empty()) return std::nullopt;
  Vp9Descriptor d;
  uint8_t b0 = payload[0];
  bool has_i = b0 & 0x80;
  d.inter_picture = (b0 & 0x40) != 0;
  d.has_layer_indices = (b0 & 0x20) != 0;
  d.flexible = (b0 & 0x10) != 0;
  d.begin_of_frame = (b0 & 0x08) != 0;
  d.end_of_frame = (b0 & 0x04) != 0;
  d.has_scalability_structure = (b0 & 0x02) != 0;
  d.not_reference = (b0 & 0x01) != 0;
  size_t i = 1;
  auto need = [&](size_t n) { return i + n <= payload.size(); };

  if (has_i) {
    if (!need(1)) return std::nullopt;
    if (payload[i] & 0x80) {
      if (!need(2)) return std::nullopt;
      d.picture_id = load_be16(&payload[i]) & 0x7FFF;
      d.picture_id_15bit = true;
      i += 2;
    } else {
      d.picture_id = payload[i++] & 0x7F;
    }
  }
  if (d.has_layer_indices) {
    if (!need(1)) return std::nullopt;
    uint8_t b = payload[i++];  // |TID|U|SID|D|
    d.temporal_id = static_cast<uint8_t>(b >> 5);
    d.switching_up = (b & 0x10) != 0;
    d.spatial_id = static_cast<uint8_t>((b >> 1) & 0x07);
    d.inter_layer_dependency = (b & 0x01) != 0;
    if (!d.flexible) {
      if (!need(1)) return std::nullopt;
      d.tl0_pic_idx = payload[i++];
    }
  }
  if (d.flexible && d.inter_picture) {
    // Up to 3 reference indices |P_DIFF|N|; N says another follows.
    for (int refs = 0;; ++refs) {
      if (refs == 3 || !need(1)) return std::nullopt;
      if ((payload[i++] & 0x01) == 0) break;
    }
  }
  if (d.has_scalability_structure) {
    if (!need(1)) return std::nullopt;
    uint8_t ss = payload[i++];  // |N_S|Y|G|-|-|-|
    size_t spatial_layers = static_cast<size_t>(ss >> 5) + 1;
    if (ss & 0x10) {
      if (!need(4 * spatial_layers)) return std::nullopt;
      i += 4 * spatial_layers;  // WIDTH, HEIGHT per layer
    }
    if (ss & 0x08) {
      if (!need(1)) return std::nullopt;
      size_t groups = payload[i++];
      for (size_t g = 0; g < groups; ++g) {
        if (!need(1)) return std::nullopt;
        size_t refs = (payload[i++] >> 2) & 0x03;  // |TID|U|R|-|-|
        if (!need(refs)) return std::nullopt;
        i += refs;
      }
    }
  }
  d.size = i;
  return d;
}

bool vp9_is_keyframe(std::span<const uint8_t> payload) {
  auto d = parse_vp9_descriptor(payload);
  return d && !d->inter_picture && d->begin_of_frame && d->spatial_id == 0;
}

}  // namespace junction::media

#include "mixers/audio/mix_recorder.h"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
}

#include <cstring>
#include <stdexcept>

namespace junction::mixers {

MixRecorder::MixRecorder(const std::string& path, int sample_rate) : path_(path) {
  if (avformat_alloc_output_context2(&format_, nullptr, "wav", path.c_str()) < 0 || format_ == nullptr)
    throw std::runtime_error("recorder: libavformat has no WAV muxer");
  AVStream* stream = avformat_new_stream(format_, nullptr);
  packet_ = av_packet_alloc();
  if (stream == nullptr || packet_ == nullptr) {
    release();
    throw std::runtime_error("recorder: out of memory");
  }
  AVCodecParameters* par = stream->codecpar;
  par->codec_type = AVMEDIA_TYPE_AUDIO;
  par->codec_id = AV_CODEC_ID_PCM_S16LE;
  par->sample_rate = sample_rate;
  av_channel_layout_default(&par->ch_layout, 1);
  par->bits_per_coded_sample = 16;
  par->block_align = 2;
  par->bit_rate = int64_t{sample_rate} * 16;
  stream->time_base = AVRational{1, sample_rate};
  if (avio_open(&format_->pb, path.c_str(), AVIO_FLAG_WRITE) < 0) {
    release();
    throw std::runtime_error("recorder: cannot open " + path + " for writing");
  }
  if (avformat_write_header(format_, nullptr) < 0) {
    release();
    throw std::runtime_error("recorder: cannot write the header of " + path);
  }
  header_written_ = true;
}

MixRecorder::~MixRecorder() { release(); }

void MixRecorder::release() {
  if (format_ != nullptr) {
    if (header_written_) av_write_trailer(format_);
    if (format_->pb != nullptr) avio_closep(&format_->pb);
    avformat_free_context(format_);
    format_ = nullptr;
  }
  av_packet_free(&packet_);
}

void MixRecorder::write(std::span<const int16_t> pcm) {
  if (failed_ || format_ == nullptr || pcm.empty()) return;
  const int bytes = static_cast<int>(pcm.size() * sizeof(int16_t));
  if (av_new_packet(packet_, bytes) < 0) return;
  std::memcpy(packet_->data, pcm.data(), static_cast<size_t>(bytes));
  packet_->stream_index = 0;
  packet_->pts = packet_->dts = samples_;
  packet_->duration = static_cast<int64_t>(pcm.size());
  samples_ += static_cast<int64_t>(pcm.size());
  if (av_write_frame(format_, packet_) < 0) failed_ = true;  // disk full, ...: stop, keep the mix going
  av_packet_unref(packet_);
}

}  // namespace junction::mixers

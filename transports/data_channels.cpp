#include "transports/data_channels.h"

#include "core/base/log.h"

namespace junction::transports {
namespace {

auto& logger() {
  static auto l = log::get("datachannel");
  return l;
}

constexpr std::string_view kDefaultLabel = "JanusDataChannel";  // what janus.js names its channel
constexpr uint8_t kEmptyMessage[1] = {0};

}  // namespace

DataChannels::DataChannels(bool dtls_client, Callbacks callbacks)
    : callbacks_(std::move(callbacks)), next_stream_(dtls_client ? 0 : 1) {}

const DataChannels::Channel* DataChannels::find(uint16_t stream) const {
  auto it = channels_.find(stream);
  return it == channels_.end() ? nullptr : &it->second;
}

const DataChannels::Channel* DataChannels::find_label(std::string_view label) const {
  for (const auto& [stream, channel] : channels_)
    if (label.empty() || channel.label == label) return &channel;
  return nullptr;
}

void DataChannels::refuse(uint16_t stream) {
  ++counters_.invalid_dcep;
  logger()->debug("stream {}: invalid DCEP message, stream reset", stream);
  if (callbacks_.reset_stream) callbacks_.reset_stream(stream);
}

void DataChannels::on_sctp_message(uint16_t stream, uint32_t ppid, std::span<const uint8_t> data) {
  if (ppid == dcep::kPpidDcep) {
    on_dcep(stream, data);
    return;
  }
  auto it = channels_.find(stream);
  if (it == channels_.end()) {
    ++counters_.no_channel;
    return;
  }
  Channel& channel = it->second;
  // Anything after the OPEN on a peer's stream implies our ACK arrived; on ours, the peer
  // sending data means it saw our OPEN (RFC 8832 §6).
  channel.acked = true;
  bool binary;
  switch (ppid) {
    case dcep::kPpidString:
    case dcep::kPpidStringPartial: binary = false; break;
    case dcep::kPpidBinary:
    case dcep::kPpidBinaryPartial: binary = true; break;
    case dcep::kPpidStringEmpty: binary = false; data = {}; break;
    case dcep::kPpidBinaryEmpty: binary = true; data = {}; break;
    default:
      ++counters_.no_channel;
      return;
  }
  ++counters_.messages_in;
  counters_.bytes_in += data.size();
  if (callbacks_.on_message) callbacks_.on_message(channel, binary, data);
}

void DataChannels::on_dcep(uint16_t stream, std::span<const uint8_t> data) {
  auto it = channels_.find(stream);
  if (dcep::is_ack(data)) {
    if (it != channels_.end() && it->second.local) it->second.acked = true;
    else refuse(stream);
    return;
  }
  auto open = dcep::parse_open(data);
  // An OPEN on a stream that already carries a channel, or one that makes no sense, closes it.
  if (!open || it != channels_.end() || stream >= kMaxStreams) {
    ++counters_.invalid_dcep;
    logger()->debug("stream {}: invalid DCEP message, stream reset", stream);
    if (it != channels_.end()) close(stream);
    else if (callbacks_.reset_stream) callbacks_.reset_stream(stream);
    return;
  }
  Channel channel;
  channel.stream = stream;
  channel.label = std::move(open->label);
  channel.protocol = std::move(open->protocol);
  channel.options = {open->unordered, open->reliability, open->reliability_parameter};
  channel.acked = true;
  const uint8_t ack[1] = {dcep::kDataChannelAck};
  // The ACK goes ordered and reliable whatever the channel's type (RFC 8832 §6).
  if (!callbacks_.send || !callbacks_.send(stream, dcep::kPpidDcep, ack, SctpSendOptions{})) {
    ++counters_.send_failures;
    return;
  }
  auto [placed, inserted] = channels_.emplace(stream, std::move(channel));
  logger()->debug("stream {}: channel '{}' opened by the peer", stream, placed->second.label);
  if (callbacks_.on_open) callbacks_.on_open(placed->second);
}

void DataChannels::on_stream_reset(uint16_t stream) {
  // Our side goes too, so the stream can be used again (RFC 8831 §6.7).
  if (const Channel* channel = find(stream)) logger()->debug("stream {}: channel '{}' closed by the peer", stream, channel->label);
  close(stream);
}

std::optional<uint16_t> DataChannels::open(std::string_view label, std::string_view protocol,
                                           const SctpSendOptions& options) {
  uint16_t stream = next_stream_;
  while (stream < kMaxStreams && channels_.count(stream)) stream = static_cast<uint16_t>(stream + 2);
  if (stream >= kMaxStreams) return std::nullopt;
  dcep::Open message;
  message.unordered = options.unordered;
  message.reliability = options.reliability;
  message.reliability_parameter = options.parameter;
  message.label = std::string(label);
  message.protocol = std::string(protocol);
  if (!callbacks_.send || !callbacks_.send(stream, dcep::kPpidDcep, dcep::build_open(message), SctpSendOptions{})) {
    ++counters_.send_failures;
    return std::nullopt;
  }
  next_stream_ = static_cast<uint16_t>(stream + 2);
  Channel channel;
  channel.stream = stream;
  channel.label = std::move(message.label);
  channel.protocol = std::move(message.protocol);
  channel.options = options;
  channel.local = true;
  auto [placed, inserted] = channels_.emplace(stream, std::move(channel));
  if (callbacks_.on_open) callbacks_.on_open(placed->second);
  return stream;
}

bool DataChannels::send(std::string_view label, std::string_view protocol, bool binary, std::span<const uint8_t> data) {
  const Channel* channel = find_label(label);
  if (channel == nullptr) {
    auto stream = open(label.empty() ? kDefaultLabel : label, protocol);
    if (!stream) return false;
    return send_on(*stream, binary, data);
  }
  return send_on(channel->stream, binary, data);
}

bool DataChannels::send_on(uint16_t stream, bool binary, std::span<const uint8_t> data) {
  auto it = channels_.find(stream);
  if (it == channels_.end()) return false;
  SctpSendOptions options = it->second.options;
  // Until the peer acknowledged our OPEN, messages go ordered so none overtakes it.
  if (!it->second.acked) options.unordered = false;
  uint32_t ppid = binary ? dcep::kPpidBinary : dcep::kPpidString;
  if (data.empty()) {
    ppid = binary ? dcep::kPpidBinaryEmpty : dcep::kPpidStringEmpty;
    data = kEmptyMessage;
  }
  if (!callbacks_.send || !callbacks_.send(stream, ppid, data, options)) {
    ++counters_.send_failures;
    return false;
  }
  ++counters_.messages_out;
  counters_.bytes_out += data.size();
  return true;
}

void DataChannels::close(uint16_t stream) {
  auto it = channels_.find(stream);
  if (it == channels_.end()) return;
  Channel gone = std::move(it->second);
  channels_.erase(it);
  if (callbacks_.reset_stream) callbacks_.reset_stream(stream);
  if (callbacks_.on_close) callbacks_.on_close(gone);
}

}  // namespace junction::transports

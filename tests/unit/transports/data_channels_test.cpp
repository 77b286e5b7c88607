// DCEP messages and the DataChannels state machine, with the SCTP layer replaced by a recorder.
#include "transports/data_channels.h"

#include <gtest/gtest.h>

#include <tuple>
#include <vector>

namespace junction::transports {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes text(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Dcep, OpenRoundTripAndBounds) {
  dcep::Open open;
  open.unordered = true;
  open.reliability = dcep::Reliability::kMaxRetransmits;
  open.reliability_parameter = 3;
  open.label = "chat";
  open.protocol = "json";
  Bytes wire = dcep::build_open(open);
  // RFC 8832 §5.1: type 0x03, channel type 0x81, priority, parameter, lengths, strings.
  Bytes expected = {0x03, 0x81, 0x01, 0x00, 0, 0, 0, 3, 0, 4, 0, 4, 'c', 'h', 'a', 't', 'j', 's', 'o', 'n'};
  EXPECT_EQ(wire, expected);
  auto parsed = dcep::parse_open(wire);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->unordered);
  EXPECT_EQ(parsed->reliability, dcep::Reliability::kMaxRetransmits);
  EXPECT_EQ(parsed->reliability_parameter, 3u);
  EXPECT_EQ(parsed->label, "chat");
  EXPECT_EQ(parsed->protocol, "json");
  // Every truncation is refused, as are a trailing byte, a bad type and a bad policy.
  for (size_t n = 0; n < wire.size(); ++n) EXPECT_FALSE(dcep::parse_open(std::span(wire.data(), n))) << n;
  Bytes longer = wire;
  longer.push_back(0);
  EXPECT_FALSE(dcep::parse_open(longer));
  Bytes bad_policy = wire;
  bad_policy[1] = 0x03;
  EXPECT_FALSE(dcep::parse_open(bad_policy));
  Bytes label_too_long = wire;
  label_too_long[9] = 200;
  EXPECT_FALSE(dcep::parse_open(label_too_long));
  EXPECT_TRUE(dcep::is_ack(Bytes{0x02}));
  EXPECT_FALSE(dcep::is_ack(Bytes{0x02, 0x00}));
}

struct Recorder {
  std::vector<std::tuple<uint16_t, uint32_t, Bytes, SctpSendOptions>> sent;
  std::vector<uint16_t> resets, closed;
  std::vector<std::string> opened;
  std::vector<std::tuple<std::string, bool, Bytes>> received;
  DataChannels::Callbacks callbacks() {
    DataChannels::Callbacks c;
    c.send = [this](uint16_t s, uint32_t ppid, std::span<const uint8_t> d, const SctpSendOptions& o) {
      sent.emplace_back(s, ppid, Bytes(d.begin(), d.end()), o);
      return true;
    };
    c.reset_stream = [this](uint16_t s) { resets.push_back(s); };
    c.on_open = [this](const DataChannels::Channel& ch) { opened.push_back(ch.label); };
    c.on_message = [this](const DataChannels::Channel& ch, bool binary, std::span<const uint8_t> d) {
      received.emplace_back(ch.label, binary, Bytes(d.begin(), d.end()));
    };
    c.on_close = [this](const DataChannels::Channel& ch) { closed.push_back(ch.stream); };
    return c;
  }
};

TEST(DataChannels, PeerOpensWeAckAndMessagesFlow) {
  Recorder r;
  DataChannels channels(/*dtls_client=*/false, r.callbacks());
  dcep::Open open;
  open.label = "JanusDataChannel";
  channels.on_sctp_message(2, dcep::kPpidDcep, dcep::build_open(open));
  ASSERT_EQ(r.sent.size(), 1u);
  EXPECT_EQ(std::get<0>(r.sent[0]), 2);
  EXPECT_EQ(std::get<1>(r.sent[0]), dcep::kPpidDcep);
  EXPECT_EQ(std::get<2>(r.sent[0]), Bytes{0x02});
  EXPECT_EQ(r.opened, std::vector<std::string>{"JanusDataChannel"});

  channels.on_sctp_message(2, dcep::kPpidString, text("hello"));
  channels.on_sctp_message(2, dcep::kPpidBinary, Bytes{1, 2, 3});
  channels.on_sctp_message(2, dcep::kPpidStringEmpty, Bytes{0});
  ASSERT_EQ(r.received.size(), 3u);
  EXPECT_EQ(r.received[0], std::make_tuple(std::string("JanusDataChannel"), false, text("hello")));
  EXPECT_EQ(r.received[1], std::make_tuple(std::string("JanusDataChannel"), true, Bytes{1, 2, 3}));
  EXPECT_EQ(r.received[2], std::make_tuple(std::string("JanusDataChannel"), false, Bytes{}));

  // Replies go on the same stream with the right PPIDs; an empty message is one zero byte.
  EXPECT_TRUE(channels.send("", "", false, text("back")));
  EXPECT_TRUE(channels.send("JanusDataChannel", "", true, {}));
  ASSERT_EQ(r.sent.size(), 3u);
  EXPECT_EQ(std::get<1>(r.sent[1]), dcep::kPpidString);
  EXPECT_EQ(std::get<1>(r.sent[2]), dcep::kPpidBinaryEmpty);
  EXPECT_EQ(std::get<2>(r.sent[2]), Bytes{0});

  // The peer resets the stream: the channel closes and our side is reset too.
  channels.on_stream_reset(2);
  EXPECT_EQ(r.closed, std::vector<uint16_t>{2});
  EXPECT_EQ(r.resets, std::vector<uint16_t>{2});
  EXPECT_EQ(channels.find(2), nullptr);
}

TEST(DataChannels, LocalOpenUsesOurParityAndStaysOrderedUntilAcked) {
  Recorder client, server;
  DataChannels a(/*dtls_client=*/true, client.callbacks());
  DataChannels b(/*dtls_client=*/false, server.callbacks());
  SctpSendOptions unordered{true, dcep::Reliability::kMaxLifetime, 500};
  auto s1 = a.open("x", "", unordered);
  auto s2 = a.open("y", "");
  auto s3 = b.open("z", "");
  ASSERT_TRUE(s1 && s2 && s3);
  EXPECT_EQ(*s1, 0);
  EXPECT_EQ(*s2, 2);
  EXPECT_EQ(*s3, 1);
  auto open_message = std::get<2>(client.sent[0]);
  auto parsed = dcep::parse_open(open_message);
  ASSERT_TRUE(parsed);
  EXPECT_TRUE(parsed->unordered);
  EXPECT_EQ(parsed->reliability, dcep::Reliability::kMaxLifetime);
  EXPECT_EQ(parsed->reliability_parameter, 500u);
  EXPECT_TRUE(a.send_on(*s1, false, text("early")));
  EXPECT_FALSE(std::get<3>(client.sent.back()).unordered);  // before the ACK
  a.on_sctp_message(*s1, dcep::kPpidDcep, Bytes{0x02});
  EXPECT_TRUE(a.send_on(*s1, false, text("late")));
  EXPECT_TRUE(std::get<3>(client.sent.back()).unordered);
  EXPECT_EQ(std::get<3>(client.sent.back()).parameter, 500u);
  // Sending on a label that does not exist opens it.
  EXPECT_TRUE(a.send("new", "proto", false, text("m")));
  ASSERT_NE(a.find_label("new"), nullptr);
  EXPECT_EQ(a.find_label("new")->stream, 4);
  EXPECT_EQ(a.find_label("new")->protocol, "proto");
}

TEST(DataChannels, InvalidDcepResetsTheStreamOnly) {
  Recorder r;
  DataChannels channels(false, r.callbacks());
  dcep::Open open;
  open.label = "good";
  channels.on_sctp_message(0, dcep::kPpidDcep, dcep::build_open(open));
  channels.on_sctp_message(4, dcep::kPpidDcep, Bytes{0x03, 0x00});        // truncated OPEN
  channels.on_sctp_message(6, dcep::kPpidDcep, Bytes{0x07});              // unknown type
  channels.on_sctp_message(8, dcep::kPpidDcep, Bytes{0x02});              // ACK for nothing
  channels.on_sctp_message(10, dcep::kPpidString, text("no channel"));    // data without OPEN
  EXPECT_EQ(r.resets, (std::vector<uint16_t>{4, 6, 8}));
  EXPECT_EQ(channels.counters().invalid_dcep, 3u);
  EXPECT_EQ(channels.counters().no_channel, 1u);
  channels.on_sctp_message(0, dcep::kPpidString, text("still here"));
  ASSERT_EQ(r.received.size(), 1u);
  EXPECT_EQ(std::get<2>(r.received[0]), text("still here"));
  // A second OPEN on a stream in use closes that channel.
  channels.on_sctp_message(0, dcep::kPpidDcep, dcep::build_open(open));
  EXPECT_EQ(r.closed, std::vector<uint16_t>{0});
  EXPECT_EQ(channels.find(0), nullptr);
}

}  // namespace
}  // namespace junction::transports

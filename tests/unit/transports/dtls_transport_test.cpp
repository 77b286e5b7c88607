#include "transports/dtls_transport.h"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <iostream>
#include <set>
#include <thread>

#include "transports/dtls_certificate.h"
#include "transports/srtp_session.h"

namespace junction::transports {
namespace {

using State = DtlsTransport::State;
using Role = DtlsTransport::Role;
using Clock = std::chrono::steady_clock;

// One side of an in-memory link: what its transport sent (not yet delivered), what it saw.
struct Endpoint {
  std::deque<std::vector<uint8_t>> outbox;
  std::vector<std::pair<State, std::string>> states;
  std::vector<std::vector<uint8_t>> received;
  size_t largest_datagram = 0;
  std::unique_ptr<DtlsTransport> transport;

  DtlsTransport* operator->() { return transport.get(); }
  std::string last_reason() const { return states.empty() ? "" : states.back().second; }
};

class DtlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    client_cert_ = DtlsCertificate::generate();
    server_cert_ = DtlsCertificate::generate();
  }
  static void TearDownTestSuite() {
    client_cert_.reset();
    server_cert_.reset();
  }

  static void make(Endpoint& e, const std::shared_ptr<DtlsCertificate>& cert, Role role,
                   const std::string& remote_fingerprint, DtlsOptions options = {}) {
    DtlsTransport::Callbacks cb;
    cb.send = [&e](std::span<const uint8_t> d) {
      e.largest_datagram = std::max(e.largest_datagram, d.size());
      e.outbox.emplace_back(d.begin(), d.end());
    };
    cb.on_state = [&e](State s, const std::string& reason) { e.states.emplace_back(s, reason); };
    cb.on_data = [&e](std::span<const uint8_t> d) { e.received.emplace_back(d.begin(), d.end()); };
    e.transport = std::make_unique<DtlsTransport>(cert, role, remote_fingerprint, std::move(cb),
                                                  std::move(options));
  }

  void make_pair(DtlsOptions client_options = {}, DtlsOptions server_options = {}) {
    make(client_, client_cert_, Role::kClient, server_cert_->fingerprint_sha256(),
         std::move(client_options));
    make(server_, server_cert_, Role::kServer, client_cert_->fingerprint_sha256(),
         std::move(server_options));
  }

  // Delivers queued datagrams both ways until both outboxes are empty.
  static void pump(Endpoint& a, Endpoint& b) {
    for (int rounds = 0; rounds < 100 && (!a.outbox.empty() || !b.outbox.empty()); ++rounds) {
      while (!a.outbox.empty()) {
        auto d = std::move(a.outbox.front());
        a.outbox.pop_front();
        b->incoming(d);
      }
      while (!b.outbox.empty()) {
        auto d = std::move(b.outbox.front());
        b.outbox.pop_front();
        a->incoming(d);
      }
    }
  }

  void handshake() {
    server_->start();
    client_->start();
    pump(client_, server_);
  }

  static std::shared_ptr<DtlsCertificate> client_cert_, server_cert_;
  Endpoint client_, server_;
};

std::shared_ptr<DtlsCertificate> DtlsTest::client_cert_;
std::shared_ptr<DtlsCertificate> DtlsTest::server_cert_;

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---------------------------------------------------------------------------------------------
// DtlsCertificate

TEST(DtlsCertificate, GeneratedFingerprintIs32ColonSeparatedBytes) {
  auto a = DtlsCertificate::generate();
  auto b = DtlsCertificate::generate();
  const std::string& fp = a->fingerprint_sha256();
  ASSERT_EQ(fp.size(), 32u * 3 - 1);
  for (size_t i = 0; i < fp.size(); ++i) {
    if (i % 3 == 2) {
      EXPECT_EQ(fp[i], ':') << fp;
    } else {
      EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(fp[i])) || (fp[i] >= 'A' && fp[i] <= 'F'))
          << fp;
    }
  }
  EXPECT_NE(a->fingerprint_sha256(), b->fingerprint_sha256());
  EXPECT_EQ(fingerprint_sha256(a->certificate()), a->fingerprint_sha256());
  EXPECT_NE(a->private_key(), nullptr);

  // CN, validity and a random serial.
  X509* x = a->certificate();
  char cn[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof(cn));
  EXPECT_STREQ(cn, "junction");
  EXPECT_LT(X509_cmp_current_time(X509_get0_notBefore(x)), 0);
  EXPECT_GT(X509_cmp_current_time(X509_get0_notAfter(x)), 0);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(x), X509_get0_serialNumber(b->certificate())),
            0);
  EXPECT_EQ(EVP_PKEY_get_base_id(a->private_key()), EVP_PKEY_EC);
}

TEST(DtlsCertificate, LoadBadPathThrowsWithReason) {
  try {
    DtlsCertificate::load("/nonexistent/cert.pem", "/nonexistent/key.pem");
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/cert.pem"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("No such file"), std::string::npos) << e.what();
  }
}

class DtlsCertificateFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("junction_dtls_cert_test_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write_cert(const DtlsCertificate& c, const char* name) {
    auto path = (dir_ / name).string();
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, c.certificate());
    std::fclose(f);
    return path;
  }
  std::string write_key(const DtlsCertificate& c, const char* name) {
    auto path = (dir_ / name).string();
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_PrivateKey(f, c.private_key(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(DtlsCertificateFiles, LoadRoundTripsAGeneratedCertificate) {
  auto original = DtlsCertificate::generate();
  auto loaded =
      DtlsCertificate::load(write_cert(*original, "cert.pem"), write_key(*original, "key.pem"));
  EXPECT_EQ(loaded->fingerprint_sha256(), original->fingerprint_sha256());
}

TEST_F(DtlsCertificateFiles, LoadRejectsMismatchedKeyAndNonPem) {
  auto a = DtlsCertificate::generate();
  auto b = DtlsCertificate::generate();
  const std::string cert = write_cert(*a, "a.pem");
  const std::string other_key = write_key(*b, "b.key");
  EXPECT_THROW(DtlsCertificate::load(cert, other_key), std::runtime_error);
  try {
    DtlsCertificate::load(cert, other_key);
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match"), std::string::npos) << e.what();
  }
  auto junk = (dir_ / "junk.pem").string();
  FILE* f = std::fopen(junk.c_str(), "w");
  std::fputs("not a certificate\n", f);
  std::fclose(f);
  EXPECT_THROW(DtlsCertificate::load(junk, other_key), std::runtime_error);
}

// ---------------------------------------------------------------------------------------------
// DtlsTransport

TEST_F(DtlsTest, HandshakeNegotiatesGcmAndMirrorsKeys) {
  make_pair();
  EXPECT_EQ(client_->state(), State::kNew);
  const auto t0 = Clock::now();
  handshake();
  const auto elapsed = std::chrono::duration<double, std::milli>(Clock::now() - t0);
  std::cout << "[ timing  ] in-memory DTLS handshake (P-256, both directions): " << elapsed.count()
            << " ms\n";
  RecordProperty("handshake_ms", std::to_string(elapsed.count()));

  ASSERT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  ASSERT_EQ(server_->state(), State::kConnected) << server_.last_reason();
  ASSERT_EQ(client_.states.size(), 2u);  // connecting, connected
  EXPECT_EQ(client_.states[0].first, State::kConnecting);
  EXPECT_EQ(client_.states[1].first, State::kConnected);

  const auto& ck = client_->srtp_keys();
  const auto& sk = server_->srtp_keys();
  ASSERT_TRUE(ck && sk);
  EXPECT_EQ(ck->profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(sk->profile, SrtpProfile::kAeadAes128Gcm);
  EXPECT_EQ(ck->local_key_salt.size(), 28u);
  EXPECT_EQ(ck->remote_key_salt.size(), 28u);
  EXPECT_EQ(ck->local_key_salt, sk->remote_key_salt);
  EXPECT_EQ(ck->remote_key_salt, sk->local_key_salt);
  EXPECT_NE(ck->local_key_salt, ck->remote_key_salt);

  // Every datagram fits the 1200-byte MTU; the handshake is done, so no timer is pending.
  EXPECT_LE(client_.largest_datagram, 1200u);
  EXPECT_LE(server_.largest_datagram, 1200u);
  EXPECT_FALSE(client_->next_timeout().has_value());
  EXPECT_EQ(client_->stats().ignored_in, 0u);
}

TEST_F(DtlsTest, ClientOfferingOnlyAesCmGetsAesCm) {
  DtlsOptions client_options;
  client_options.srtp_profiles = {SrtpProfile::kAes128CmSha1_80};
  make_pair(std::move(client_options));
  handshake();
  ASSERT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  ASSERT_EQ(server_->state(), State::kConnected) << server_.last_reason();
  EXPECT_EQ(client_->srtp_keys()->profile, SrtpProfile::kAes128CmSha1_80);
  EXPECT_EQ(server_->srtp_keys()->profile, SrtpProfile::kAes128CmSha1_80);
  EXPECT_EQ(client_->srtp_keys()->local_key_salt.size(), 30u);
  EXPECT_EQ(client_->srtp_keys()->local_key_salt, server_->srtp_keys()->remote_key_salt);
  EXPECT_EQ(client_->srtp_keys()->remote_key_salt, server_->srtp_keys()->local_key_salt);
}

TEST_F(DtlsTest, NoCommonSrtpProfileFails) {
  DtlsOptions client_options, server_options;
  client_options.srtp_profiles = {SrtpProfile::kAeadAes128Gcm};
  server_options.srtp_profiles = {SrtpProfile::kAes128CmSha1_80};
  make_pair(std::move(client_options), std::move(server_options));
  handshake();
  EXPECT_EQ(server_->state(), State::kFailed);
  EXPECT_EQ(client_->state(), State::kFailed);
  EXPECT_EQ(server_.last_reason(), "no SRTP profile negotiated");
  EXPECT_FALSE(client_->srtp_keys().has_value());
}

TEST_F(DtlsTest, FingerprintIsComparedCaseInsensitively) {
  make(client_, client_cert_, Role::kClient, lower(server_cert_->fingerprint_sha256()));
  make(server_, server_cert_, Role::kServer, client_cert_->fingerprint_sha256());
  handshake();
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
}

TEST_F(DtlsTest, WrongFingerprintOnServerSideFails) {
  auto stranger = DtlsCertificate::generate();
  make(client_, client_cert_, Role::kClient, server_cert_->fingerprint_sha256());
  make(server_, server_cert_, Role::kServer, stranger->fingerprint_sha256());
  handshake();
  ASSERT_EQ(server_->state(), State::kFailed);
  EXPECT_EQ(server_.last_reason(), "fingerprint mismatch");
  EXPECT_FALSE(server_->srtp_keys().has_value());
  // The client learns through the alert and never reaches kConnected.
  EXPECT_EQ(client_->state(), State::kFailed);
  EXPECT_EQ(client_.last_reason().rfind("DTLS alert: ", 0), 0u) << client_.last_reason();
  EXPECT_FALSE(client_->srtp_keys().has_value());
}

TEST_F(DtlsTest, WrongFingerprintOnClientSideFails) {
  auto stranger = DtlsCertificate::generate();
  make(client_, client_cert_, Role::kClient, stranger->fingerprint_sha256());
  make(server_, server_cert_, Role::kServer, client_cert_->fingerprint_sha256());
  handshake();
  ASSERT_EQ(client_->state(), State::kFailed);
  EXPECT_EQ(client_.last_reason(), "fingerprint mismatch");
  EXPECT_EQ(server_->state(), State::kFailed);
  EXPECT_EQ(server_.last_reason().rfind("DTLS alert: ", 0), 0u) << server_.last_reason();
  // Final: nothing moves it afterwards.
  client_->on_timeout();
  client_->close();
  EXPECT_EQ(client_->state(), State::kFailed);
}

TEST_F(DtlsTest, LostFirstFlightIsRetransmittedQuickly) {
  make_pair();
  server_->start();
  const auto started = Clock::now();
  client_->start();
  ASSERT_FALSE(client_.outbox.empty());
  client_.outbox.clear();  // the ClientHello is lost

  auto wait = client_->next_timeout();
  ASSERT_TRUE(wait.has_value());
  EXPECT_GT(*wait, std::chrono::milliseconds(0));
  EXPECT_LE(*wait, std::chrono::milliseconds(100));  // 100 ms, not OpenSSL's default 1 s

  client_->on_timeout();  // early: nothing to retransmit yet
  if (Clock::now() - started < std::chrono::milliseconds(90)) {
    EXPECT_TRUE(client_.outbox.empty());
  }

  const auto t0 = Clock::now();
  std::this_thread::sleep_for(*wait);
  client_->on_timeout();
  ASSERT_FALSE(client_.outbox.empty()) << "no retransmission";

  // The retransmission is lost too: the next timeout doubles.
  client_.outbox.clear();
  auto second = client_->next_timeout();
  ASSERT_TRUE(second.has_value());
  EXPECT_GT(*second, std::chrono::milliseconds(100));  // doubled: 200 ms
  EXPECT_LE(*second, std::chrono::milliseconds(200));

  // The third ClientHello gets through.
  std::this_thread::sleep_for(*second);
  client_->on_timeout();
  pump(client_, server_);
  const auto recovered = std::chrono::duration<double, std::milli>(Clock::now() - t0);
  std::cout << "[ timing  ] handshake recovered after two lost ClientHellos in "
            << recovered.count() << " ms\n";
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
}

TEST_F(DtlsTest, LostServerFlightIsRecoveredByServerTimer) {
  make_pair();
  server_->start();
  client_->start();
  // ClientHello arrives; the server's flight is lost.
  server_->incoming(client_.outbox.front());
  client_.outbox.clear();
  ASSERT_FALSE(server_.outbox.empty());
  server_.outbox.clear();
  auto wait = server_->next_timeout();
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(*wait, std::chrono::milliseconds(150));
  std::this_thread::sleep_for(*wait);
  server_->on_timeout();
  ASSERT_FALSE(server_.outbox.empty());
  pump(client_, server_);
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
}

TEST_F(DtlsTest, LostFinalFlightIsResentWhenTheClientRetransmits) {
  make_pair();
  server_->start();
  client_->start();
  auto deliver_all = [](Endpoint& from, Endpoint& to) {
    while (!from.outbox.empty()) {
      auto d = std::move(from.outbox.front());
      from.outbox.pop_front();
      to->incoming(d);
    }
  };
  deliver_all(client_, server_);  // ClientHello
  deliver_all(server_, client_);  // ServerHello .. ServerHelloDone
  deliver_all(client_, server_);  // Certificate .. Finished
  ASSERT_EQ(server_->state(), State::kConnected) << server_.last_reason();
  ASSERT_FALSE(server_.outbox.empty());
  server_.outbox.clear();  // the server's ChangeCipherSpec + Finished are lost
  EXPECT_EQ(client_->state(), State::kConnecting);

  auto wait = client_->next_timeout();
  ASSERT_TRUE(wait.has_value());
  EXPECT_LE(*wait, std::chrono::milliseconds(100));
  std::this_thread::sleep_for(*wait);
  client_->on_timeout();  // the client's last flight again
  ASSERT_FALSE(client_.outbox.empty());
  pump(client_, server_);  // the connected server answers with its final flight again
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
  EXPECT_EQ(client_->srtp_keys()->local_key_salt, server_->srtp_keys()->remote_key_salt);
  const std::vector<uint8_t> msg = {9, 8, 7};
  EXPECT_TRUE(server_->send_data(msg));
  pump(client_, server_);
  ASSERT_EQ(client_.received.size(), 1u);
  EXPECT_EQ(client_.received[0], msg);
}

TEST_F(DtlsTest, GivesUpAfterTheHandshakeBudget) {
  // A fake clock for the deadline: no need to wait 12 s.
  auto fake_now = std::make_shared<Clock::time_point>(Clock::now());
  DtlsOptions options;
  options.clock = [fake_now] { return *fake_now; };
  make(client_, client_cert_, Role::kClient, server_cert_->fingerprint_sha256(), options);
  client_->start();
  ASSERT_TRUE(client_->next_timeout().has_value());
  *fake_now += std::chrono::seconds(11);
  client_->on_timeout();
  EXPECT_EQ(client_->state(), State::kConnecting);
  EXPECT_LE(*client_->next_timeout(), std::chrono::milliseconds(1000));
  *fake_now += std::chrono::seconds(2);
  EXPECT_EQ(*client_->next_timeout(), std::chrono::milliseconds(0));
  client_->on_timeout();
  EXPECT_EQ(client_->state(), State::kFailed);
  EXPECT_EQ(client_.last_reason(), "handshake timeout");
  EXPECT_FALSE(client_->next_timeout().has_value());
}

TEST_F(DtlsTest, GivesUpOnRealRetransmissionsToo) {
  DtlsOptions options;
  options.initial_retransmit = std::chrono::milliseconds(10);
  options.max_retransmit = std::chrono::milliseconds(40);
  options.handshake_timeout = std::chrono::milliseconds(250);
  make(client_, client_cert_, Role::kClient, server_cert_->fingerprint_sha256(), options);
  const auto t0 = Clock::now();
  client_->start();
  size_t sent = client_.outbox.size();
  while (client_->state() == State::kConnecting) {
    auto wait = client_->next_timeout();
    ASSERT_TRUE(wait.has_value());
    std::this_thread::sleep_for(*wait);
    client_->on_timeout();
    ASSERT_LT(Clock::now() - t0, std::chrono::seconds(5));
  }
  EXPECT_EQ(client_->state(), State::kFailed);
  EXPECT_EQ(client_.last_reason(), "handshake timeout");
  EXPECT_GE(client_.outbox.size(), sent + 4);  // 10, 20, 40, 40, ... ms
  EXPECT_GE(Clock::now() - t0, std::chrono::milliseconds(250));
}

TEST_F(DtlsTest, GarbageDoesNotCrashOrChangeState) {
  make_pair();
  auto feed_garbage = [](Endpoint& e) {
    std::vector<std::vector<uint8_t>> junk = {
        {},
        {22},
        {0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13},
        {0x80, 0x60, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},   // RTP, not DTLS
        {22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF},  // length past the end
    };
    std::vector<uint8_t> random(300);
    uint32_t x = 12345;
    for (auto& b : random) b = static_cast<uint8_t>((x = x * 1103515245 + 12345) >> 16);
    for (uint8_t first : {20, 21, 22, 23, 24, 63}) {
      random[0] = first;
      junk.push_back(random);
    }
    // A well-formed application-data header with a bogus epoch-1 payload.
    std::vector<uint8_t> app(60, 0xAB);
    app[0] = 23, app[1] = 0xFE, app[2] = 0xFD, app[3] = 0, app[4] = 1;
    app[11] = 0, app[12] = 47;
    junk.push_back(app);
    for (const auto& j : junk) e->incoming(j);
  };

  // Before start: queued or ignored, no state change.
  feed_garbage(client_);
  EXPECT_EQ(client_->state(), State::kNew);
  EXPECT_TRUE(client_.states.empty());
  EXPECT_GT(client_->stats().ignored_in, 0u);
  // The client's queued garbage is processed (and discarded) at start().

  handshake();
  ASSERT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  ASSERT_EQ(server_->state(), State::kConnected) << server_.last_reason();

  const auto client_states = client_.states.size();
  feed_garbage(client_);
  feed_garbage(server_);
  pump(client_, server_);
  EXPECT_EQ(client_->state(), State::kConnected);
  EXPECT_EQ(server_->state(), State::kConnected);
  EXPECT_EQ(client_.states.size(), client_states);
  EXPECT_TRUE(client_.received.empty());
  // Still usable.
  const std::vector<uint8_t> msg = {1, 2, 3};
  EXPECT_TRUE(client_->send_data(msg));
  pump(client_, server_);
  ASSERT_EQ(server_.received.size(), 1u);
  EXPECT_EQ(server_.received[0], msg);
}

TEST_F(DtlsTest, GarbageDuringHandshakeIsHarmless) {
  make_pair();
  server_->start();
  client_->start();
  std::vector<uint8_t> noise(200, 0x5A);
  noise[0] = 23;
  server_->incoming(noise);
  client_->incoming(noise);
  pump(client_, server_);
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
}

TEST_F(DtlsTest, ApplicationDataFlowsBothWays) {
  make_pair();
  EXPECT_FALSE(client_->send_data(std::vector<uint8_t>{1}));  // not connected yet
  handshake();
  ASSERT_EQ(client_->state(), State::kConnected);

  std::vector<uint8_t> big(1000);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<uint8_t>(i);
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  EXPECT_TRUE(client_->send_data(hello));
  EXPECT_TRUE(client_->send_data(big));
  EXPECT_TRUE(server_->send_data(big));
  EXPECT_TRUE(server_->send_data(hello));
  pump(client_, server_);
  ASSERT_EQ(server_.received.size(), 2u);
  EXPECT_EQ(server_.received[0], hello);
  EXPECT_EQ(server_.received[1], big);
  ASSERT_EQ(client_.received.size(), 2u);
  EXPECT_EQ(client_.received[0], big);
  EXPECT_EQ(client_.received[1], hello);
  EXPECT_EQ(client_->stats().app_bytes_out, hello.size() + big.size());
  EXPECT_EQ(server_->stats().app_bytes_in, hello.size() + big.size());

  // More than one record's worth does not fit one datagram: refused, not fragmented.
  EXPECT_FALSE(client_->send_data(std::vector<uint8_t>(5000, 7)));
  EXPECT_EQ(client_->state(), State::kConnected);
}

TEST_F(DtlsTest, CloseNotifyClosesThePeer) {
  make_pair();
  handshake();
  ASSERT_EQ(server_->state(), State::kConnected);
  client_->close();
  EXPECT_EQ(client_->state(), State::kClosed);
  EXPECT_EQ(client_.last_reason(), "closed locally");
  ASSERT_FALSE(client_.outbox.empty());  // the close_notify alert
  pump(client_, server_);
  EXPECT_EQ(server_->state(), State::kClosed);
  EXPECT_EQ(server_.last_reason(), "closed by peer");
  EXPECT_FALSE(server_->send_data(std::vector<uint8_t>{1}));
  // Closed is final, and input after it is ignored.
  const auto ignored = server_->stats().ignored_in;
  server_->incoming(std::vector<uint8_t>(20, 23));
  EXPECT_EQ(server_->stats().ignored_in, ignored + 1);
  client_->close();
  EXPECT_EQ(client_.states.back().first, State::kClosed);
  EXPECT_EQ(std::count_if(client_.states.begin(), client_.states.end(),
                          [](auto& s) { return s.first == State::kClosed; }),
            1);
}

TEST_F(DtlsTest, ClientHelloBeforeServerStartIsQueued) {
  make_pair();
  client_->start();
  // Deliver the ClientHello before the server's owner called start().
  while (!client_.outbox.empty()) {
    server_->incoming(client_.outbox.front());
    client_.outbox.pop_front();
  }
  EXPECT_EQ(server_->state(), State::kNew);
  EXPECT_TRUE(server_.outbox.empty());
  server_->start();
  EXPECT_FALSE(server_.outbox.empty());  // answered the queued ClientHello
  pump(client_, server_);
  EXPECT_EQ(client_->state(), State::kConnected) << client_.last_reason();
  EXPECT_EQ(server_->state(), State::kConnected) << server_.last_reason();
}

TEST_F(DtlsTest, CallbackMayDestroyTheTransport) {
  make_pair();
  // The owner tears the PeerConnection down from inside the state callback.
  DtlsTransport::Callbacks cb;
  cb.send = [this](std::span<const uint8_t> d) { server_.outbox.emplace_back(d.begin(), d.end()); };
  cb.on_state = [this](State s, const std::string&) {
    if (s == State::kConnected) server_.transport.reset();
  };
  server_.transport = std::make_unique<DtlsTransport>(
      server_cert_, Role::kServer, client_cert_->fingerprint_sha256(), std::move(cb));
  server_->start();
  client_->start();
  for (int i = 0; i < 20 && server_.transport && !client_.outbox.empty(); ++i) {
    auto d = std::move(client_.outbox.front());
    client_.outbox.pop_front();
    server_->incoming(d);
    while (!server_.outbox.empty()) {
      client_->incoming(server_.outbox.front());
      server_.outbox.pop_front();
    }
  }
  EXPECT_EQ(server_.transport, nullptr);
}

TEST_F(DtlsTest, HandshakeKeysDriveSrtpBothWays) {
  make_pair();
  handshake();
  ASSERT_EQ(client_->state(), State::kConnected);
  const auto& ck = *client_->srtp_keys();
  const auto& sk = *server_->srtp_keys();
  using Dir = SrtpSession::Direction;
  auto client_out = SrtpSession::create(ck.profile, ck.local_key_salt, Dir::kOutbound);
  auto client_in = SrtpSession::create(ck.profile, ck.remote_key_salt, Dir::kInbound);
  auto server_out = SrtpSession::create(sk.profile, sk.local_key_salt, Dir::kOutbound);
  auto server_in = SrtpSession::create(sk.profile, sk.remote_key_salt, Dir::kInbound);
  ASSERT_TRUE(client_out && client_in && server_out && server_in);

  auto round_trip = [](SrtpSession& out, SrtpSession& in, uint16_t seq) {
    alignas(4) uint8_t buf[512] = {0x80,
                                   96,
                                   static_cast<uint8_t>(seq >> 8),
                                   static_cast<uint8_t>(seq),
                                   0,
                                   0,
                                   0,
                                   1,
                                   0xAA,
                                   0xBB,
                                   0xCC,
                                   0xDD};
    for (size_t i = 12; i < 112; ++i) buf[i] = static_cast<uint8_t>(i);
    std::vector<uint8_t> plain(buf, buf + 112);
    size_t n = out.protect_rtp(buf, 112, sizeof(buf));
    if (n == 0) return false;
    n = in.unprotect_rtp(buf, n);
    return n == 112 && std::vector<uint8_t>(buf, buf + n) == plain;
  };
  EXPECT_TRUE(round_trip(*client_out, *server_in, 1));
  EXPECT_TRUE(round_trip(*server_out, *client_in, 1));
  // Keys are directional: the client cannot read its own outbound stream as inbound.
  auto wrong_in = SrtpSession::create(ck.profile, ck.local_key_salt, Dir::kInbound);
  EXPECT_FALSE(round_trip(*server_out, *wrong_in, 2));
}

TEST_F(DtlsTest, ManyHandshakesStayFast) {
  // Timing figure for the report (not a timed assertion).
  constexpr int kRuns = 20;
  const auto t0 = Clock::now();
  for (int i = 0; i < kRuns; ++i) {
    Endpoint c, s;
    make(c, client_cert_, Role::kClient, server_cert_->fingerprint_sha256());
    make(s, server_cert_, Role::kServer, client_cert_->fingerprint_sha256());
    s->start();
    c->start();
    pump(c, s);
    ASSERT_EQ(c->state(), State::kConnected);
    ASSERT_EQ(s->state(), State::kConnected);
  }
  const auto each = std::chrono::duration<double, std::milli>(Clock::now() - t0) / kRuns;
  std::cout << "[ timing  ] mean in-memory DTLS handshake over " << kRuns
            << " runs: " << each.count() << " ms\n";
}

}  // namespace
}  // namespace junction::transports

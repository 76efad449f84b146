// Shared test support: temporary directories, fixtures, signing, a real
// vaxbot server on a loopback port backed by a real SQLite file, and a child
// process running the real binary.
#pragma once

#include <SQLiteCpp/SQLiteCpp.h>
#include <httplib.h>

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/metrics.h"
#include "http/server.h"
#include "store/database.h"
#include "store/writer.h"
#include "whatsapp/signature.h"

namespace vaxbot::test {

inline constexpr const char* kFixtureSecret = "fixture_app_secret_not_real";

// A fresh directory under /tmp, removed with everything in it at destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::filesystem::path path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

std::string read_file(const std::filesystem::path& path);
// tests/fixtures/<relative>
std::string fixture(const std::string& relative);
std::filesystem::path fixture_dir(const std::string& relative);

// A real-shaped webhook with one text message per (id, from, body) triple.
std::string text_webhook(const std::vector<std::string>& ids,
                         const std::string& from = "919800000001", const std::string& body = "Hi");

// Certificates for TLS tests, made by the openssl command line in a directory
// (EC P-256 keys, valid for two days). Throws when openssl fails.
struct TestPki {
  std::string ca;                               // ca.pem: the CA tests trust
  std::string server_cert, server_key;          // IP:127.0.0.1 and DNS:localhost, signed by ca
  std::string wrong_name_cert, wrong_name_key;  // DNS:wrong.example only, signed by ca
  std::string untrusted_cert, untrusted_key;    // IP:127.0.0.1, signed by another CA
};
TestPki make_test_pki(const std::filesystem::path& dir);

// Runs `sql` on the database file and returns the first column of the first row.
std::int64_t count(const std::string& db_path, const std::string& sql);

struct ServerSetup {
  http::ServerOptions server;
  http::SenderProbe sender;  // unset: "disabled"
  store::WriterOptions writer;
  store::DatabaseOptions database;
};

// The real server (Database -> Writer -> Server) on 127.0.0.1 and a free port.
class RunningServer {
 public:
  explicit RunningServer(const std::string& db_path, ServerSetup setup = {},
                         const core::Clock* clock = nullptr);
  ~RunningServer();  // stops like SIGTERM does

  int port() const { return port_; }
  std::unique_ptr<httplib::Client> client() const;
  // Posts body signed with the fixture secret (or the given header value).
  httplib::Result post(const std::string& body) const;
  httplib::Result post_with_signature(const std::string& body, const std::string& header) const;
  store::Writer& writer() { return *writer_; }
  core::Registry& metrics() { return metrics_; }
  const whatsapp::SignatureVerifier& verifier() const { return verifier_; }

 private:
  core::SystemClock system_clock_;
  core::Registry metrics_;
  whatsapp::SignatureVerifier verifier_{kFixtureSecret};
  std::unique_ptr<store::Database> reader_;
  std::mutex reader_mutex_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<http::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// The vaxbot binary as a child process with stdout read for its "listening on" line.
class ChildProcess {
 public:
  // env: extra NAME=VALUE entries. Waits for the listening line when expect_listen.
  ChildProcess(const std::vector<std::string>& args, const std::vector<std::string>& env,
               bool expect_listen = true);
  ~ChildProcess();  // SIGKILL if still running
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void kill(int signal);
  // Waits for exit; returns the exit code (or 128 + signal).
  int wait();
  // Everything the child wrote to stderr (after wait()).
  std::string stderr_text() const;
  // What it wrote to stdout, when not started with expect_listen (after wait()).
  std::string stdout_text() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_, stdout_path_;
  FILE* out_ = nullptr;  // the child's stdout
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace vaxbot::test

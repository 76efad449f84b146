#include "support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

namespace vaxbot::test {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "vaxbot-test-XXXXXX").string();
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::filesystem::path fixture_dir(const std::string& relative) {
  return std::filesystem::path(VAXBOT_SOURCE_DIR) / "tests" / "fixtures" / relative;
}

std::string fixture(const std::string& relative) {
  return read_file(fixture_dir(relative));
}

std::string text_webhook(const std::vector<std::string>& ids, const std::string& from,
                         const std::string& body) {
  nlohmann::json messages = nlohmann::json::array();
  for (const auto& id : ids) {
    messages.push_back({{"from", from},
                        {"id", id},
                        {"timestamp", "1767852000"},
                        {"type", "text"},
                        {"text", {{"body", body}}}});
  }
  nlohmann::json value = {
      {"messaging_product", "whatsapp"},
      {"metadata",
       {{"display_phone_number", "918000000100"}, {"phone_number_id", "109876543210987"}}},
      {"contacts", {{{"profile", {{"name", "Test Resident"}}}, {"wa_id", from}}}},
      {"messages", messages}};
  nlohmann::json root = {
      {"object", "whatsapp_business_account"},
      {"entry",
       {{{"id", "210987654321098"}, {"changes", {{{"value", value}, {"field", "messages"}}}}}}}};
  return root.dump();
}

namespace {

// Runs the openssl command line in dir; its output goes to dir/openssl.log.
void openssl(const std::filesystem::path& dir, const std::string& arguments) {
  const std::string command =
      "cd '" + dir.string() + "' && openssl " + arguments + " >>openssl.log 2>&1";
  if (std::system(command.c_str()) != 0) {
    std::string log;
    try {
      log = read_file(dir / "openssl.log");
    } catch (const std::exception&) {
    }
    throw std::runtime_error("openssl failed: openssl " + arguments + "\n" + log);
  }
}

// Our own configuration, so nothing depends on the system's openssl.cnf.
constexpr const char* kPkiConfig = R"([req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
[wrong_name]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:wrong.example
)";

constexpr const char* kEcKey = "-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes";

void make_ca(const std::filesystem::path& dir, const std::string& name, const std::string& cn) {
  openssl(dir, std::string("req -x509 -config pki.cnf -extensions ca ") + kEcKey + " -keyout " +
                   name + ".key -out " + name + ".pem -days 2 -subj '/CN=" + cn + "'");
}

// A leaf named by the extension section `extensions` (its CN names no host, so
// only the subjectAltName can match).
void make_leaf(const std::filesystem::path& dir, const std::string& name, const std::string& ca,
               const std::string& extensions, int serial) {
  openssl(dir, std::string("req -new -config pki.cnf ") + kEcKey + " -keyout " + name +
                   ".key -out " + name + ".csr -subj '/CN=vaxbot test " + name + "'");
  openssl(dir, "x509 -req -in " + name + ".csr -CA " + ca + ".pem -CAkey " + ca +
                   ".key -set_serial " + std::to_string(serial) + " -days 2 -extfile pki.cnf" +
                   " -extensions " + extensions + " -out " + name + ".pem");
}

}  // namespace

TestPki make_test_pki(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  {
    std::ofstream config(dir / "pki.cnf");
    config << kPkiConfig;
  }
  make_ca(dir, "ca", "vaxbot test CA");
  make_leaf(dir, "server", "ca", "server", 1);
  make_leaf(dir, "wrong_name", "ca", "wrong_name", 2);
  make_ca(dir, "other_ca", "vaxbot other CA");
  make_leaf(dir, "untrusted", "other_ca", "server", 3);
  auto at = [&](const std::string& file) { return (dir / file).string(); };
  return TestPki{.ca = at("ca.pem"),
                 .server_cert = at("server.pem"),
                 .server_key = at("server.key"),
                 .wrong_name_cert = at("wrong_name.pem"),
                 .wrong_name_key = at("wrong_name.key"),
                 .untrusted_cert = at("untrusted.pem"),
                 .untrusted_key = at("untrusted.key")};
}

std::int64_t count(const std::string& db_path, const std::string& sql) {
  SQLite::Database db(db_path, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

RunningServer::RunningServer(const std::string& db_path, ServerSetup setup,
                             const core::Clock* clock) {
  setup.database.path = db_path;
  auto db = store::Database::open(setup.database);
  if (!db.ok()) throw std::runtime_error(db.error().message);
  store::DatabaseOptions reader_options = setup.database;
  reader_options.read_only = true;
  auto reader = store::Database::open(reader_options);
  if (!reader.ok()) throw std::runtime_error(reader.error().message);
  reader_ = std::move(*reader);
  writer_ = std::make_unique<store::Writer>(std::move(*db), clock ? *clock : system_clock_,
                                            metrics_, setup.writer);
  setup.server.host = "127.0.0.1";
  setup.server.port = 0;
  if (setup.server.verify_token.empty()) setup.server.verify_token = "test-verify-token";
  server_ = std::make_unique<http::Server>(
      setup.server, verifier_, *writer_, metrics_,
      [this] {
        std::lock_guard lock(reader_mutex_);
        return reader_->ping();
      },
      setup.sender);
  auto port = server_->bind();
  if (!port.ok()) throw std::runtime_error(port.error().message);
  port_ = *port;
  // The socket is bound and listening: connections queue until run() accepts them.
  thread_ = std::thread([this] { server_->run(); });
}

RunningServer::~RunningServer() {
  server_->stop();
  thread_.join();
  writer_->stop();
}

std::unique_ptr<httplib::Client> RunningServer::client() const {
  auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
  c->set_tcp_nodelay(true);
  c->set_keep_alive(true);
  c->set_read_timeout(30, 0);
  c->set_connection_timeout(10, 0);
  return c;
}

httplib::Result RunningServer::post(const std::string& body) const {
  return post_with_signature(body, verifier_.sign(body));
}

httplib::Result RunningServer::post_with_signature(const std::string& body,
                                                   const std::string& header) const {
  httplib::Headers headers;
  if (!header.empty()) headers.emplace("X-Hub-Signature-256", header);
  return client()->Post("/webhook", headers, body, "application/json");
}

ChildProcess::ChildProcess(const std::vector<std::string>& args,
                           const std::vector<std::string>& env, bool expect_listen) {
  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  char err_template[] = "/tmp/vaxbot-child-stderr-XXXXXX";
  int err_fd = mkstemp(err_template);
  stderr_path_ = err_template;
  char out_template[] = "/tmp/vaxbot-child-stdout-XXXXXX";
  int out_file = mkstemp(out_template);
  stdout_path_ = out_template;
  pid_ = fork();
  if (pid_ == 0) {
    // stdout goes to the pipe when the parent waits for the listening line, to a file otherwise.
    dup2(expect_listen ? out[1] : out_file, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    close(out[0]);
    // Run from the repository root, as the README says, so flows/, templates/ and data/ are found.
    if (chdir(VAXBOT_SOURCE_DIR) != 0) _exit(126);
    std::vector<std::string> all = {VAXBOT_BINARY};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : all) argv.push_back(a.data());
    argv.push_back(nullptr);
    // A minimal environment: nothing leaks in from the developer's shell.
    std::vector<std::string> envs = env;
    envs.push_back("PATH=/usr/bin:/bin");
    std::vector<char*> envp;
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  close(err_fd);
  close(out_file);
  if (expect_listen) {
    // Blocks until the child prints its listening line (or exits).
    out_ = fdopen(out[0], "r");
    FILE* f = out_;
    char line[256];
    while (std::fgets(line, sizeof line, f) != nullptr) {
      std::string s(line);
      auto pos = s.rfind(':');
      if (s.rfind("listening on http://", 0) == 0 && pos != std::string::npos) {
        port_ = std::stoi(s.substr(pos + 1));
        break;
      }
    }
    if (port_ == 0) throw std::runtime_error("child exited before listening: " + stderr_text());
  } else {
    close(out[0]);
  }
}

ChildProcess::~ChildProcess() {
  if (!reaped_) {
    ::kill(pid_, SIGKILL);
    wait();
  }
  if (out_ != nullptr) std::fclose(out_);
  std::remove(stderr_path_.c_str());
  std::remove(stdout_path_.c_str());
}

void ChildProcess::kill(int signal) {
  ::kill(pid_, signal);
}

int ChildProcess::wait() {
  if (!reaped_) {
    waitpid(pid_, &status_, 0);
    reaped_ = true;
  }
  if (WIFEXITED(status_)) return WEXITSTATUS(status_);
  return 128 + WTERMSIG(status_);
}

std::string ChildProcess::stderr_text() const {
  return read_file(stderr_path_);
}
std::string ChildProcess::stdout_text() const {
  return read_file(stdout_path_);
}

}  // namespace vaxbot::test

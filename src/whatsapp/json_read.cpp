#include "whatsapp/json_read.h"

#include <mutex>
#include <vector>

namespace vaxbot::whatsapp::json_read {
namespace {

struct Pool {
  std::mutex mutex;
  std::vector<std::unique_ptr<simdjson::dom::parser>> idle;
};

Pool& pool() {
  static Pool p;
  return p;
}

}  // namespace

Parser::Parser() {
  Pool& p = pool();
  {
    std::lock_guard lock(p.mutex);
    if (!p.idle.empty()) {
      parser_ = std::move(p.idle.back());
      p.idle.pop_back();
    }
  }
  if (!parser_) parser_ = std::make_unique<simdjson::dom::parser>();
}

Parser::~Parser() {
  if (parser_->capacity() > kPooledBytes) return;  // freed: too large to keep
  Pool& p = pool();
  std::lock_guard lock(p.mutex);
  if (p.idle.size() < kPooled) p.idle.push_back(std::move(parser_));
}

bool Parser::parse(std::string_view text, element& root) {
  return !parser_->parse(text.data(), text.size()).get(root);
}

}  // namespace vaxbot::whatsapp::json_read

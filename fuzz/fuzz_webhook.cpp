// libFuzzer target for the webhook payload parser (whatsapp/webhook.h).
//
// Any byte string must parse to an error or to events without crashing, and
// every event must satisfy what the rest of vaxbot relies on.
//   build: CC=clang CXX=clang++ cmake -B build-fuzz -DVAXBOT_FUZZ=ON && cmake --build build-fuzz
//   run:   build-fuzz/fuzz/fuzz_webhook fuzz/corpus/webhook -max_total_time=60
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "whatsapp/webhook.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = vaxbot::whatsapp::parse_webhook(body);
  if (!parsed.ok()) return 0;
  if (parsed->ignored && !parsed->events.empty()) std::abort();
  for (const auto& event : parsed->events) {
    if (const auto* m = std::get_if<vaxbot::core::InboundMessage>(&event)) {
      if (m->id.empty() || m->from.empty()) std::abort();  // such messages must be unusable
    } else if (const auto* s = std::get_if<vaxbot::core::StatusUpdate>(&event)) {
      if (s->message_id.empty()) std::abort();
    } else if (std::get<vaxbot::core::Unusable>(event).reason.empty()) {
      std::abort();
    }
  }
  return 0;
}

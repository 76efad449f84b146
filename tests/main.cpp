// The test binary: every tests/*.cpp file registers its doctest cases here.
// Logs go to stderr at "warn" unless VAXBOT_TEST_LOG names another level.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdlib>

#include "core/log.h"

int main(int argc, char** argv) {
  const char* level = std::getenv("VAXBOT_TEST_LOG");
  vaxbot::core::set_log_level(level != nullptr ? level : "warn");
  doctest::Context context(argc, argv);
  return context.run();
}

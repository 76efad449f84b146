// Logging: one named spdlog logger per module ("http", "store", "whatsapp", ...).
//
// logger(name) returns the module's logger, creating it on first use with the
// process-wide sinks and level. Loggers are thread-safe. Never log a secret,
// a token, a full message body or a resident's ID number at info or above.
#pragma once

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

namespace vaxbot::core {

std::shared_ptr<spdlog::logger> logger(const std::string& name);

// Sets the level of every logger, present and future ("debug", "info", "warn", ...).
// Returns false for an unknown level name.
bool set_log_level(const std::string& level);

}  // namespace vaxbot::core

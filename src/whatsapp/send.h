// Building Cloud API send bodies (POST /<phone-number-id>/messages) from our
// own OutboundMessage: text, interactive reply buttons, interactive list.
// The recipient is written as "+<wa_id>" (Meta prepends the business
// number's country code to a number without "+"). Pure; thread-safe.
#pragma once

#include <string>

#include "core/message.h"

namespace vaxbot::whatsapp {

std::string send_body(const std::string& wa_id, const core::OutboundMessage& message);

}  // namespace vaxbot::whatsapp

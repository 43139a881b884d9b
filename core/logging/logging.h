#pragma once

#include <spdlog/logger.h>
#include <spdlog/sinks/sink.h>

#include <memory>
#include <string>
#include <string_view>

namespace poolscope::logging {

// One named spdlog logger per subsystem ("pool", "db", "sandbox", "bench", "app", ...).
// Every logger writes through one shared fan-out sink whose first stage redacts secrets
// (password=..., URI user:password@, PGPASSWORD=...), so a password that slips into a message
// never reaches a sink. Thread-safe: loggers may be fetched and used from any thread.
std::shared_ptr<spdlog::logger> logger(std::string_view subsystem);

// Adds/removes a sink behind the redaction stage (e.g. the UI's event log, or a test capture).
void addSink(const std::shared_ptr<spdlog::sinks::sink> &sink);
void removeSink(const std::shared_ptr<spdlog::sinks::sink> &sink);

// Console output goes to stderr; off by default for commands that print machine-readable
// output on stdout, on for interactive use.
void setConsoleLevel(spdlog::level::level_enum level);

// Applies to every logger, existing and future.
void setLevel(spdlog::level::level_enum level);

// Routes Qt's own messages (qWarning etc.) into the "qt" logger.
void installQtMessageHandler();

} // namespace poolscope::logging

#include "tests/support/logcapture.h"

#include "core/logging/logging.h"

#include <spdlog/pattern_formatter.h>

namespace poolscope::testing {

LogCapture::LogCapture()
{
    set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "[%n] %l: %v", spdlog::pattern_time_type::local, ""));
}

std::shared_ptr<LogCapture> LogCapture::install()
{
    auto capture = std::make_shared<LogCapture>();
    logging::addSink(capture);
    capture->m_attached = true;
    return capture;
}

void LogCapture::detach()
{
    if (!m_attached)
        return;
    m_attached = false;
    logging::removeSink(shared_from_this());
}

QStringList LogCapture::lines() const
{
    std::lock_guard lock(m_linesMutex);
    return m_lines;
}

bool LogCapture::contains(const QString &text) const
{
    std::lock_guard lock(m_linesMutex);
    for (const QString &line : m_lines) {
        if (line.contains(text))
            return true;
    }
    return false;
}

void LogCapture::clear()
{
    std::lock_guard lock(m_linesMutex);
    m_lines.clear();
}

void LogCapture::sink_it_(const spdlog::details::log_msg &msg)
{
    spdlog::memory_buf_t formatted;
    formatter_->format(msg, formatted);
    const QString line = QString::fromUtf8(formatted.data(), qsizetype(formatted.size()));
    std::lock_guard lock(m_linesMutex);
    m_lines.append(line);
}

} // namespace poolscope::testing

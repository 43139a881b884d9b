#pragma once

#include <QString>
#include <QStringList>

#include <spdlog/sinks/base_sink.h>

#include <memory>
#include <mutex>

namespace poolscope::testing {

// An spdlog sink that keeps every formatted line in memory ("[logger] level: message"), for
// asserting on log output. Thread-safe. Lines arrive after redaction, like in any other sink.
//
//     auto capture = LogCapture::install();   // attached via poolscope::logging::addSink
//     ...
//     QVERIFY(capture->contains(QStringLiteral("sandbox ready")));
//
// install() = make_shared + poolscope::logging::addSink; it stays attached (the fan-out sink
// holds a reference) until detach().
class LogCapture final : public spdlog::sinks::base_sink<std::mutex>,
                         public std::enable_shared_from_this<LogCapture>
{
public:
    LogCapture();

    static std::shared_ptr<LogCapture> install();
    void detach();

    QStringList lines() const;
    bool contains(const QString &text) const;
    void clear();

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override;
    void flush_() override { }

private:
    mutable std::mutex m_linesMutex;
    QStringList m_lines;
    bool m_attached = false;
};

} // namespace poolscope::testing

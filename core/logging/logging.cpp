#include "core/logging/logging.h"

#include "core/db/redaction.h"

#include <QtGlobal>

#include <spdlog/sinks/dist_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <mutex>

namespace poolscope::logging {
namespace {

// First stage of every logger: rewrites the payload without secrets, then fans out.
class RedactingSink final : public spdlog::sinks::sink
{
public:
    RedactingSink()
        : m_fanout(std::make_shared<spdlog::sinks::dist_sink_mt>())
    {
    }

    void log(const spdlog::details::log_msg &msg) override
    {
        const std::string clean =
            redactSecrets(std::string_view(msg.payload.data(), msg.payload.size()));
        spdlog::details::log_msg copy = msg;
        copy.payload = spdlog::string_view_t(clean.data(), clean.size());
        m_fanout->log(copy);
    }
    void flush() override { m_fanout->flush(); }
    void set_pattern(const std::string &pattern) override { m_fanout->set_pattern(pattern); }
    void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override
    {
        m_fanout->set_formatter(std::move(formatter));
    }

    spdlog::sinks::dist_sink_mt &fanout() { return *m_fanout; }

private:
    std::shared_ptr<spdlog::sinks::dist_sink_mt> m_fanout;
};

struct State
{
    std::mutex mutex;
    std::shared_ptr<RedactingSink> root = std::make_shared<RedactingSink>();
    std::shared_ptr<spdlog::sinks::stderr_color_sink_mt> console =
        std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    spdlog::level::level_enum level = spdlog::level::info;

    State()
    {
        console->set_level(spdlog::level::off);
        console->set_pattern("%H:%M:%S.%e %^%-5l%$ [%n] %v");
        root->fanout().add_sink(console);
    }
};

State &state()
{
    static State instance;
    return instance;
}

} // namespace

std::shared_ptr<spdlog::logger> logger(std::string_view subsystem)
{
    State &s = state();
    std::lock_guard lock(s.mutex);
    const std::string name(subsystem);
    if (auto existing = spdlog::get(name))
        return existing;
    auto created = std::make_shared<spdlog::logger>(name, s.root);
    created->set_level(s.level);
    created->flush_on(spdlog::level::warn);
    spdlog::register_logger(created);
    return created;
}

void addSink(const std::shared_ptr<spdlog::sinks::sink> &sink)
{
    state().root->fanout().add_sink(sink);
}

void removeSink(const std::shared_ptr<spdlog::sinks::sink> &sink)
{
    state().root->fanout().remove_sink(sink);
}

void setConsoleLevel(spdlog::level::level_enum level)
{
    state().console->set_level(level);
}

void setLevel(spdlog::level::level_enum level)
{
    State &s = state();
    std::lock_guard lock(s.mutex);
    s.level = level;
    spdlog::apply_all([level](const std::shared_ptr<spdlog::logger> &l) { l->set_level(level); });
}

void installQtMessageHandler()
{
    qInstallMessageHandler([](QtMsgType type, const QMessageLogContext &, const QString &text) {
        auto qtLog = logger("qt");
        const std::string msg = text.toStdString();
        switch (type) {
        case QtDebugMsg:
            qtLog->debug(msg);
            break;
        case QtInfoMsg:
            qtLog->info(msg);
            break;
        case QtWarningMsg:
            qtLog->warn(msg);
            break;
        case QtCriticalMsg:
        case QtFatalMsg:
            qtLog->error(msg);
            break;
        }
    });
}

} // namespace poolscope::logging

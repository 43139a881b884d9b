#include "core/events/eventlog.h"

#include "core/db/redaction.h"

#include <QMetaObject>
#include <QRegularExpression>

#include <spdlog/details/log_msg.h>

#include <algorithm>
#include <chrono>

namespace poolscope {
namespace {

Event::Level levelFor(spdlog::level::level_enum level)
{
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return Event::Level::Debug;
    case spdlog::level::info:
        return Event::Level::Info;
    case spdlog::level::warn:
        return Event::Level::Warning;
    default:
        return Event::Level::Error;
    }
}

// The catch-all path: a log line from a subsystem that talks to servers is a connection event
// when it says a connection failed, broke or came back, or carries a connection-class SQLSTATE.
// Typed errors (appendError) are classified exactly; this only has to be a good guess.
bool looksLikeConnectionEvent(const QString &subsystem, Event::Level level, const QString &message)
{
    static const QStringList kSubsystems { QStringLiteral("sampler"), QStringLiteral("pool"),
                                           QStringLiteral("db"), QStringLiteral("sandbox") };
    if (!kSubsystems.contains(subsystem))
        return false;
    static const QRegularExpression kSqlState(
        QStringLiteral(R"(\b(08[0-9A-Z]{3}|53300|57P0[1-5])\b)"));
    if (kSqlState.match(message).hasMatch())
        return true;
    if (!message.contains(QLatin1String("connect"), Qt::CaseInsensitive))
        return false;
    if (level >= Event::Level::Warning)
        return true;
    // Recoveries are worth seeing next to the failures they end.
    static const QRegularExpression kRecovery(QStringLiteral(R"(restor|reconnect|recover)"),
                                              QRegularExpression::CaseInsensitiveOption);
    return kRecovery.match(message).hasMatch();
}

// Feeds spdlog lines (already redacted by logging's first stage) into an EventLog. Holds only a
// weak handle: the EventLog's destructor resets the strong one under `selfMutex`, and log()
// appends under the same mutex, so a line is either fully appended or dropped, never appended to
// a destroyed log.
class EventLogSink final : public spdlog::sinks::sink
{
public:
    EventLogSink(std::weak_ptr<EventLog *> target, std::shared_ptr<std::mutex> selfMutex)
        : m_target(std::move(target))
        , m_selfMutex(std::move(selfMutex))
    {
    }

    void log(const spdlog::details::log_msg &msg) override
    {
        // Re-entrancy guard: if appending ever made Qt log (routed back into spdlog by
        // installQtMessageHandler), the nested line would deadlock on selfMutex.
        thread_local bool inside = false;
        if (inside)
            return;
        inside = true;

        Event event;
        event.time = QDateTime::fromMSecsSinceEpoch(
            std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch())
                .count(),
            Qt::UTC);
        event.level = levelFor(msg.level);
        event.subsystem =
            QString::fromUtf8(msg.logger_name.data(), qsizetype(msg.logger_name.size()));
        event.message = QString::fromUtf8(msg.payload.data(), qsizetype(msg.payload.size()));
        if (looksLikeConnectionEvent(event.subsystem, event.level, event.message))
            event.category = Event::Category::Connection;

        {
            std::lock_guard lock(*m_selfMutex);
            if (const auto self = m_target.lock(); self && *self)
                (*self)->append(std::move(event));
        }
        inside = false;
    }
    void flush() override { }
    void set_pattern(const std::string &) override { }
    void set_formatter(std::unique_ptr<spdlog::formatter>) override { }

private:
    std::weak_ptr<EventLog *> m_target;
    std::shared_ptr<std::mutex> m_selfMutex;
};

} // namespace

EventLog::EventLog(int capacity, QObject *parent)
    : QObject(parent)
    , m_capacity(std::max(1, capacity))
    , m_self(std::make_shared<EventLog *>(this))
    , m_selfMutex(std::make_shared<std::mutex>())
{
}

EventLog::~EventLog()
{
    // Waits for a sink call in flight, then makes every sink a no-op.
    std::lock_guard lock(*m_selfMutex);
    m_self.reset();
}

void EventLog::append(Event event)
{
    if (event.time.isNull())
        event.time = QDateTime::currentDateTimeUtc();
    bool notify = false;
    {
        std::lock_guard lock(m_mutex);
        event.sequence = ++m_sequence;
        m_events.push_back(std::move(event));
        while (m_events.size() > std::size_t(m_capacity))
            m_events.pop_front();
        if (!m_notifyPending) {
            m_notifyPending = true;
            notify = true;
        }
    }
    if (!notify)
        return;
    // One queued call pending at a time: a burst of appends (from any thread) becomes one
    // appended() on this object's thread, and readers pick up everything with eventsSince().
    QMetaObject::invokeMethod(
        this,
        [this] {
            {
                std::lock_guard lock(m_mutex);
                m_notifyPending = false;
            }
            Q_EMIT appended();
        },
        Qt::QueuedConnection);
}

void EventLog::appendError(const QString &subsystem, const DbError &error, const QString &context)
{
    Event event;
    event.level = Event::Level::Error;
    // Pool-class errors that are about reaching the server (an acquire timeout behind failed
    // connects) belong under "connection errors" too.
    const bool connection = error.isConnectionFatal()
        || (error.kind == ErrorKind::AcquireTimeout && error.cause
            && error.cause->isConnectionFatal());
    event.category = connection ? Event::Category::Connection : Event::Category::Log;
    event.subsystem = subsystem;
    const QString summary = error.summary();
    event.message =
        redactSecrets(context.isEmpty() ? summary : context + QLatin1String(": ") + summary);
    event.sqlstate = error.sqlstate;
    event.errorKind = errorKindName(error.kind);
    event.remedy = error.remedy.isEmpty() ? remedyFor(error.kind) : error.remedy;
    append(std::move(event));
}

void EventLog::appendAction(const QString &subsystem, const QString &message)
{
    Event event;
    event.level = Event::Level::Info;
    event.category = Event::Category::Action;
    event.subsystem = subsystem;
    event.message = redactSecrets(message);
    append(std::move(event));
}

QList<Event> EventLog::eventsSince(quint64 after) const
{
    std::lock_guard lock(m_mutex);
    QList<Event> result;
    if (m_events.empty() || after >= m_events.back().sequence)
        return result;
    // Sequences are contiguous within the deque, so the first wanted one is found by arithmetic.
    const quint64 first = m_events.front().sequence;
    const std::size_t start = after < first ? 0 : std::size_t(after - first + 1);
    result.reserve(qsizetype(m_events.size() - start));
    for (auto it = m_events.begin() + std::ptrdiff_t(start); it != m_events.end(); ++it)
        result.append(*it);
    return result;
}

quint64 EventLog::lastSequence() const
{
    std::lock_guard lock(m_mutex);
    return m_sequence;
}

std::shared_ptr<spdlog::sinks::sink> EventLog::makeSink()
{
    return std::make_shared<EventLogSink>(std::weak_ptr<EventLog *>(m_self), m_selfMutex);
}

} // namespace poolscope

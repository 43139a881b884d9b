#pragma once

#include "core/db/dberror.h"

#include <QDateTime>
#include <QList>
#include <QObject>

#include <spdlog/sinks/sink.h>

#include <deque>
#include <memory>
#include <mutex>

namespace poolscope {

// One entry of the event log: every log line of every subsystem, plus typed errors with their
// SQLSTATE and remedy, plus operator actions (cancel/terminate) and alerts.
struct Event
{
    enum class Level { Debug, Info, Warning, Error };
    enum class Category {
        Log,        // a log line
        Connection, // a connection error or recovery (the "connection errors" quick filter)
        Alert,      // an alert raised or cleared
        Action,     // something the operator did (cancel, terminate, export)
    };

    quint64 sequence = 0; // increasing, unique within a log
    QDateTime time;       // UTC
    Level level = Level::Info;
    Category category = Category::Log;
    QString subsystem; // "pool", "sampler", "sandbox", "ui", ...
    QString message;   // already redacted
    QString sqlstate;  // typed errors only
    QString errorKind; // errorKindName(), typed errors only
    QString remedy;    // typed errors only
};

// A bounded, thread-safe event log (the newest `capacity` events are kept). Anything may append
// from any thread; appended() is emitted (queued, coalesced) on the thread this object lives in,
// and readers copy what they need with eventsSince().
class EventLog : public QObject
{
    Q_OBJECT

public:
    explicit EventLog(int capacity = 10000, QObject *parent = nullptr);
    ~EventLog() override;

    void append(Event event);
    void appendError(const QString &subsystem, const DbError &error, const QString &context = {});
    void appendAction(const QString &subsystem, const QString &message);

    // Events with sequence > `after`, oldest first (all kept ones for after = 0).
    QList<Event> eventsSince(quint64 after) const;
    quint64 lastSequence() const;
    int capacity() const { return m_capacity; }

    // An spdlog sink feeding this log (attach with logging::addSink); lines arrive redacted.
    // The sink holds a weak reference: it is safe if the EventLog is destroyed first.
    std::shared_ptr<spdlog::sinks::sink> makeSink();

Q_SIGNALS:
    void appended();

private:
    const int m_capacity;
    mutable std::mutex m_mutex;
    std::deque<Event> m_events;
    quint64 m_sequence = 0;
    bool m_notifyPending = false;
    std::shared_ptr<EventLog *> m_self; // shared with sinks; reset in the destructor
    std::shared_ptr<std::mutex> m_selfMutex;
};

} // namespace poolscope

// The event log (core/events/eventlog.cpp): bounded memory, sequences, appends from many threads,
// coalesced notifications, the spdlog sink behind the redaction stage, and a sink that outlives
// its log.
#include "core/events/eventlog.h"
#include "core/logging/logging.h"

#include <QSignalSpy>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

using namespace poolscope;

namespace {

Event infoEvent(const QString &message)
{
    Event e;
    e.subsystem = QStringLiteral("test");
    e.message = message;
    return e;
}

// Detaches the sink at scope exit, so one failing test does not leave it in the global fan-out.
struct AttachedSink
{
    explicit AttachedSink(std::shared_ptr<spdlog::sinks::sink> s)
        : sink(std::move(s))
    {
        logging::addSink(sink);
    }
    ~AttachedSink() { logging::removeSink(sink); }
    std::shared_ptr<spdlog::sinks::sink> sink;
};

} // namespace

class tst_EventLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void boundedCapacity();
    void sequencesAndEventsSince();
    void typedErrorsAndActions();
    void appendedIsCoalesced();
    void appendedArrivesOnTheLogsThread();
    void concurrentAppends();
    void sinkThroughLoggingIsRedacted();
    void sinkClassifiesConnectionLines_data();
    void sinkClassifiesConnectionLines();
    void sinkOutlivesTheLog();
    void sinkRacesTheLogsDestruction();
};

void tst_EventLog::boundedCapacity()
{
    EventLog log(100);
    QCOMPARE(log.capacity(), 100);
    for (int i = 0; i < 300; ++i)
        log.append(infoEvent(QString::number(i)));
    const QList<Event> kept = log.eventsSince(0);
    QCOMPARE(kept.size(), 100);                            // exactly the capacity ...
    QCOMPARE(kept.first().message, QStringLiteral("200")); // ... and the newest
    QCOMPARE(kept.last().message, QStringLiteral("299"));
    QCOMPARE(log.lastSequence(), quint64(300));
}

void tst_EventLog::sequencesAndEventsSince()
{
    EventLog log(50);
    QVERIFY(log.eventsSince(0).isEmpty());
    for (int i = 0; i < 120; ++i)
        log.append(infoEvent(QString::number(i)));
    const QList<Event> all = log.eventsSince(0);
    for (qsizetype i = 1; i < all.size(); ++i)
        QCOMPARE(all[i].sequence, all[i - 1].sequence + 1);
    QVERIFY(all.first().time.isValid());
    QCOMPARE(all.first().time.timeSpec(), Qt::UTC);

    QCOMPARE(log.eventsSince(110).size(), 10);
    QCOMPARE(log.eventsSince(110).first().sequence, quint64(111));
    QVERIFY(log.eventsSince(120).isEmpty());
    QVERIFY(log.eventsSince(999).isEmpty());
    // Asking for something already trimmed returns everything kept.
    QCOMPARE(log.eventsSince(5).size(), 50);
}

void tst_EventLog::typedErrorsAndActions()
{
    EventLog log;
    const DbError error = errorFromSqlState(QStringLiteral("53300"),
                                            QStringLiteral("sorry, too many clients already"));
    log.appendError(QStringLiteral("pool"), error,
                    QStringLiteral("connect to db.example password=hunter2"));
    log.appendAction(QStringLiteral("ui"), QStringLiteral("terminated pid 42"));
    const QList<Event> events = log.eventsSince(0);
    QCOMPARE(events.size(), 2);

    const Event &e = events[0];
    QCOMPARE(e.level, Event::Level::Error);
    QCOMPARE(e.category, Event::Category::Connection);
    QCOMPARE(e.sqlstate, QStringLiteral("53300"));
    QCOMPARE(e.errorKind, QStringLiteral("too_many_connections"));
    QCOMPARE(e.remedy, remedyFor(ErrorKind::TooManyConnections));
    QVERIFY(e.message.contains(QLatin1String("too many clients")));
    QVERIFY2(!e.message.contains(QLatin1String("hunter2")), qPrintable(e.message));

    QCOMPARE(events[1].category, Event::Category::Action);
    QCOMPARE(events[1].subsystem, QStringLiteral("ui"));

    // A statement error is not a connection error.
    log.appendError(QStringLiteral("pool"),
                    errorFromSqlState(QStringLiteral("42601"), QStringLiteral("syntax error")));
    QCOMPARE(log.eventsSince(2).first().category, Event::Category::Log);
}

void tst_EventLog::appendedIsCoalesced()
{
    EventLog log(1000);
    QSignalSpy spy(&log, &EventLog::appended);
    for (int i = 0; i < 5000; ++i)
        log.append(infoEvent(QString::number(i)));
    QCOMPARE(spy.count(), 0); // queued, never emitted from inside append()
    QTRY_COMPARE(spy.count(), 1);
    QCoreApplication::sendPostedEvents(); // a second notification would be posted by now
    QCOMPARE(spy.count(), 1);             // one notification for the whole burst

    log.append(infoEvent(QStringLiteral("later")));
    QTRY_COMPARE(spy.count(), 2); // and the next burst gets its own
}

void tst_EventLog::appendedArrivesOnTheLogsThread()
{
    EventLog log;
    QThread *receivedOn = nullptr;
    int notifications = 0;
    connect(&log, &EventLog::appended, this, [&] {
        receivedOn = QThread::currentThread();
        ++notifications;
    });
    std::thread writer([&log] {
        for (int i = 0; i < 1000; ++i)
            log.append(infoEvent(QString::number(i)));
    });
    writer.join();
    QTRY_VERIFY(notifications >= 1);
    QCOMPARE(receivedOn, QThread::currentThread());
    QVERIFY2(notifications <= 2, qPrintable(QString::number(notifications)));
}

void tst_EventLog::concurrentAppends()
{
    constexpr int kThreads = 8;
    constexpr int kPerThread = 5000;
    EventLog log(1000);
    std::atomic<bool> stop { false };
    // A reader copying while writers append, as the UI does.
    std::thread reader([&] {
        quint64 last = 0;
        while (!stop.load()) {
            const QList<Event> events = log.eventsSince(last);
            for (const Event &e : events)
                last = std::max(last, e.sequence);
        }
    });
    std::vector<std::thread> writers;
    for (int t = 0; t < kThreads; ++t) {
        writers.emplace_back([&log, t] {
            for (int i = 0; i < kPerThread; ++i)
                log.append(infoEvent(QStringLiteral("%1/%2").arg(t).arg(i)));
        });
    }
    for (auto &w : writers)
        w.join();
    stop = true;
    reader.join();

    QCOMPARE(log.lastSequence(), quint64(kThreads * kPerThread));
    const QList<Event> kept = log.eventsSince(0);
    QCOMPARE(kept.size(), 1000);
    for (qsizetype i = 1; i < kept.size(); ++i)
        QCOMPARE(kept[i].sequence, kept[i - 1].sequence + 1);
    QCOMPARE(kept.last().sequence, quint64(kThreads * kPerThread));
}

void tst_EventLog::sinkThroughLoggingIsRedacted()
{
    EventLog log;
    AttachedSink attached(log.makeSink());
    logging::logger("pool")->warn(
        "connect to host=db.example password=hunter2 failed: connection refused");
    const QList<Event> events = log.eventsSince(0);
    QCOMPARE(events.size(), 1);
    const Event &e = events[0];
    QCOMPARE(e.subsystem, QStringLiteral("pool"));
    QCOMPARE(e.level, Event::Level::Warning);
    QCOMPARE(e.category, Event::Category::Connection);
    QVERIFY2(!e.message.contains(QLatin1String("hunter2")), qPrintable(e.message));
    QVERIFY2(e.message.contains(QLatin1String("***")), qPrintable(e.message));
    QVERIFY(qAbs(e.time.secsTo(QDateTime::currentDateTimeUtc())) < 5);
}

void tst_EventLog::sinkClassifiesConnectionLines_data()
{
    QTest::addColumn<QString>("logger");
    QTest::addColumn<int>("level"); // spdlog::level
    QTest::addColumn<QString>("message");
    QTest::addColumn<int>("expectedLevel");
    QTest::addColumn<bool>("connection");

    const int warn = spdlog::level::warn, info = spdlog::level::info, err = spdlog::level::err;
    const int W = int(Event::Level::Warning), I = int(Event::Level::Info),
              E = int(Event::Level::Error);
    QTest::newRow("sampler connect failure")
        << QStringLiteral("sampler") << warn
        << QStringLiteral("could not connect to server: Connection refused") << W << true;
    QTest::newRow("db sqlstate 53300")
        << QStringLiteral("db") << err
        << QStringLiteral("FATAL: 53300: sorry, too many clients already") << E << true;
    QTest::newRow("pool 57P01") << QStringLiteral("pool") << warn
                                << QStringLiteral(
                                       "discarded: 57P01 terminating due to administrator command")
                                << W << true;
    QTest::newRow("sampler recovery")
        << QStringLiteral("sampler") << info
        << QStringLiteral("connection restored after 3 attempts") << I << true;
    QTest::newRow("pool ordinary info")
        << QStringLiteral("pool") << info << QStringLiteral("opened connection 3 of 10") << I
        << false;
    QTest::newRow("ui mentions connect")
        << QStringLiteral("ui") << warn << QStringLiteral("connect dialog closed") << W << false;
    QTest::newRow("pool statement error")
        << QStringLiteral("pool") << err << QStringLiteral("42601 syntax error") << E << false;
}

void tst_EventLog::sinkClassifiesConnectionLines()
{
    QFETCH(QString, logger);
    QFETCH(int, level);
    QFETCH(QString, message);
    QFETCH(int, expectedLevel);
    QFETCH(bool, connection);

    EventLog log;
    AttachedSink attached(log.makeSink());
    logging::logger(logger.toStdString())
        ->log(spdlog::level::level_enum(level), "{}", message.toStdString());
    const QList<Event> events = log.eventsSince(0);
    QCOMPARE(events.size(), 1);
    QCOMPARE(int(events[0].level), expectedLevel);
    QCOMPARE(events[0].category == Event::Category::Connection, connection);
}

void tst_EventLog::sinkOutlivesTheLog()
{
    auto log = std::make_unique<EventLog>();
    AttachedSink attached(log->makeSink());
    logging::logger("sampler")->info("before");
    QCOMPARE(log->eventsSince(0).size(), 1);
    log.reset();
    // The fan-out still holds the sink: these lines go nowhere, and nothing crashes.
    logging::logger("sampler")->warn("after the log is gone: connection refused");
    logging::logger("sampler")->info("and again");
}

void tst_EventLog::sinkRacesTheLogsDestruction()
{
    // A worker thread logging while the GUI thread destroys the log (the app's shutdown order is
    // not guaranteed to stop every logger first).
    for (int round = 0; round < 20; ++round) {
        auto log = std::make_unique<EventLog>(64);
        AttachedSink attached(log->makeSink());
        std::atomic<bool> stop { false };
        std::atomic<int> written { 0 };
        std::thread worker([&] {
            auto sampler = logging::logger("sampler");
            while (!stop.load()) {
                sampler->info("tick {}", written.load());
                ++written;
            }
        });
        while (written.load() < 50)
            std::this_thread::yield();
        log.reset();
        while (written.load() < 100)
            std::this_thread::yield();
        stop = true;
        worker.join();
    }
}

QTEST_GUILESS_MAIN(tst_EventLog)
#include "tst_eventlog.moc"

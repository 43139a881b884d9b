// Dashboard figures for BENCHMARKS.md, printed as Markdown:
//  1. start to first painted window, without the sandbox: `poolscope <unreachable conninfo>`
//     launched offscreen until it prints "first_paint", against `poolscope --version` (the cost
//     of loading the program at all), median of 10 runs each, interleaved;
//  2. resident memory after a simulated 24 h of samples at 1 Hz (every series the sampler,
//     the pool and the pooler write) shown in the Overview's 24 h window, against the same
//     process with the window open and an empty store.
#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "ui/mainwindow.h"

#include <QApplication>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTest>

#include <algorithm>
#include <cstdio>

using namespace poolscope;

namespace {

qint64 residentKiB()
{
    QFile status(QStringLiteral("/proc/self/status"));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

double median(QList<double> values)
{
    std::sort(values.begin(), values.end());
    return values.isEmpty() ? 0 : values.at(values.size() / 2);
}

// Milliseconds from QProcess::start until `marker` appears on stdout (or the process ends).
double timeUntil(const QStringList &args, const QByteArray &marker)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    p.setProcessEnvironment(env);
    QElapsedTimer t;
    t.start();
    p.start(QStringLiteral(POOLSCOPE_EXECUTABLE), args);
    QByteArray out;
    while (p.state() != QProcess::NotRunning || p.bytesAvailable() > 0) {
        p.waitForReadyRead(20);
        out += p.readAllStandardOutput();
        if (!marker.isEmpty() && out.contains(marker))
            break;
    }
    const double ms = double(t.nsecsElapsed()) / 1e6;
    p.kill();
    p.waitForFinished();
    return ms;
}

ActivitySample syntheticSample(qint64 ms, int tick)
{
    ActivitySample s;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
    s.counts.active = 5 + tick % 17;
    s.counts.idle = 30 + tick % 23;
    s.counts.idleInTransaction = tick % 5;
    s.counts.waiting = tick % 3;
    s.counts.total = s.counts.active + s.counts.idle + s.counts.idleInTransaction;
    s.limits.maxConnections = 100;
    s.limits.superuserReserved = 3;
    s.available = s.limits.usableByOrdinaryRoles() - s.counts.total;
    s.longestQuerySeconds = tick % 60;
    s.rates.valid = true;
    s.rates.transactionsPerSecond = 100 + tick % 50;
    s.rates.sessionsPerSecond = tick % 7;
    s.roundTripMicros = 1500;
    return s;
}

} // namespace

int main(int argc, char *argv[])
{
    // 1. Start-up, out of process (before this process creates its own window).
    QList<double> firstPaint;
    QList<double> versionOnly;
    {
        QCoreApplication probe(argc, argv);
        for (int i = 0; i < 10; ++i) {
            firstPaint << timeUntil({ QStringLiteral("postgresql://app@127.0.0.1:1/app"),
                                      QStringLiteral("--report-first-paint"),
                                      QStringLiteral("--quit-after"), QStringLiteral("5s") },
                                    "first_paint");
            versionOnly << timeUntil({ QStringLiteral("--version") }, QByteArray());
        }
    }

    // 2. Memory with a day of data in the window.
    qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    MonitorSession session; // not started: the store is filled directly
    ui::MainWindow window(&session);
    window.resize(1280, 820);
    window.show();
    QTest::qWait(300);
    const qint64 emptyKiB = residentKiB();

    const qint64 end = QDateTime::currentMSecsSinceEpoch();
    const qint64 start = end - 86'400'000LL;
    QElapsedTimer fill;
    fill.start();
    for (int tick = 0; tick < 86'400; ++tick) {
        const qint64 ms = start + qint64(tick) * 1000;
        appendActivity(session.store(), syntheticSample(ms, tick));
        PoolStats pool;
        pool.takenAt = QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
        pool.size = 10;
        pool.inUse = tick % 10;
        pool.idle = 10 - pool.inUse;
        appendPool(session.store(), pool);
        PoolerSample pooler;
        pooler.takenAt = pool.takenAt;
        pooler.pools << PoolerPool { QStringLiteral("app"),
                                     QStringLiteral("app"),
                                     QStringLiteral("transaction"),
                                     tick % 20,
                                     tick % 4,
                                     5,
                                     15,
                                     0,
                                     0,
                                     0.01 * (tick % 10) };
        appendPooler(session.store(), pooler);
    }
    const double fillSeconds = double(fill.elapsed()) / 1000.0;
    // Show the whole day in the Overview.
    for (QComboBox *combo : window.findChildren<QComboBox *>()) {
        const int day = combo->findText(QStringLiteral("24 h"));
        if (day >= 0)
            combo->setCurrentIndex(day);
    }
    Q_EMIT session.sampled(syntheticSample(end, 86'399)); // a tick: the pages refresh
    QTest::qWait(1500);
    const qint64 dayKiB = residentKiB();

    std::printf("| measurement | value | baseline (same run) | ratio |\n|---|---:|---:|---:|\n");
    std::printf("| start to first painted window, median of 10 (ms) | %.0f | `poolscope "
                "--version`: %.0f | %.2f |\n",
                median(firstPaint), median(versionOnly), median(firstPaint) / median(versionOnly));
    std::printf("| resident memory, window showing 24 h at 1 Hz (MiB) | %.1f | empty store: %.1f | "
                "%.2f |\n",
                double(dayKiB) / 1024.0, double(emptyKiB) / 1024.0,
                double(dayKiB) / double(emptyKiB));
    std::printf("\nstore: %d series, %.1f MiB of rings; filling 86,400 ticks took %.1f s\n",
                int(session.store().seriesNames().size()),
                double(session.store().memoryBytes()) / 1048576.0, fillSeconds);
    return 0;
}

// No libpq call ever runs on the GUI thread: while the dashboard samples the sandbox, PostgreSQL
// is frozen with SIGSTOP. The event loop must keep answering (its worst timer latency stays close
// to the one measured with the server answering, in the same run), the window must say that the
// server is not answering, and after SIGCONT sampling resumes.
#include "core/monitor/monitorsession.h"
#include "ui/mainwindow.h"

#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QLabel>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTest>
#include <QTimer>

#include <sys/types.h>

#include <csignal>

using namespace poolscope;

class TestResponsiveness : public QObject
{
    Q_OBJECT

private:
    qint64 m_postgresPid = 0;

    // The postmaster and its children (backends, background processes): PostgreSQL puts every
    // child in a session of its own, so a signal to the postmaster's process group would not
    // reach them. Read from /proc.
    static QList<pid_t> serverProcesses(qint64 postmaster)
    {
        QList<pid_t> pids { pid_t(postmaster) };
        const QStringList entries = QDir(QStringLiteral("/proc")).entryList(QDir::Dirs);
        for (const QString &entry : entries) {
            bool numeric = false;
            const int pid = entry.toInt(&numeric);
            if (!numeric)
                continue;
            QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
            if (!stat.open(QIODevice::ReadOnly))
                continue;
            // pid (comm) state ppid ...: the command may contain spaces, so split after ')'.
            const QByteArray line = stat.readAll();
            const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
            if (fields.size() > 1 && fields.at(1).toLongLong() == postmaster)
                pids << pid_t(pid);
        }
        return pids;
    }

    static void signalServer(qint64 postmaster, int signal)
    {
        for (pid_t pid : serverProcesses(postmaster))
            ::kill(pid, signal);
    }

    // The longest delay of a 10 ms timer's ticks while the event loop runs for `durationMs`.
    static qint64 worstTimerLatencyDuring(int durationMs)
    {
        QElapsedTimer clock;
        clock.start();
        qint64 last = 0;
        qint64 worst = 0;
        QTimer ticker;
        ticker.setTimerType(Qt::PreciseTimer);
        ticker.setInterval(10);
        QObject::connect(&ticker, &QTimer::timeout, [&] {
            const qint64 now = clock.elapsed();
            worst = std::max(worst, now - last - 10);
            last = now;
        });
        QEventLoop loop;
        QTimer::singleShot(durationMs, &loop, &QEventLoop::quit);
        ticker.start();
        loop.exec();
        return worst;
    }

    static QString statusText(const ui::MainWindow &window)
    {
        QStringList texts;
        for (QLabel *label : window.statusBar()->findChildren<QLabel *>())
            texts << label->text();
        return texts.join(QLatin1String(" | "));
    }

private Q_SLOTS:
    void frozenServerDoesNotFreezeTheWindow()
    {
        MonitorSession session;
        ui::MainWindow window(&session);
        window.show();
        QSignalSpy sampled(&session, &MonitorSession::sampled);
        QSignalSpy lost(&session, &MonitorSession::connectionLost);
        QSignalSpy restored(&session, &MonitorSession::connectionRestored);
        MonitorSession::Options options;
        options.startSandbox = true;
        options.demoWorkload = true;
        options.interval = std::chrono::milliseconds(500);
        session.start(options);
        QVERIFY(sampled.wait(20000));
        QVERIFY(session.sandboxEndpoints().has_value());
        m_postgresPid = session.sandboxEndpoints()->postgresPid;
        QVERIFY(m_postgresPid > 0);

        // Baseline while the server answers.
        const qint64 before = worstTimerLatencyDuring(1500);

        // Every server process stops, as on a hung host.
        QVERIFY(serverProcesses(m_postgresPid).size() > 3);
        signalServer(m_postgresPid, SIGSTOP);
        const qint64 during = worstTimerLatencyDuring(6000);
        QVERIFY2(lost.size() >= 1, qPrintable(statusText(window)));
        QVERIFY2(statusText(window).contains(QLatin1String("not answering")),
                 qPrintable(statusText(window)));

        signalServer(m_postgresPid, SIGCONT);
        m_postgresPid = 0;
        QVERIFY(restored.wait(20000));
        sampled.clear();
        QVERIFY(sampled.wait(10000));
        QVERIFY2(!statusText(window).contains(QLatin1String("not answering")),
                 qPrintable(statusText(window)));

        // A libpq call on the GUI thread would block it for as long as the server stays frozen
        // (seconds). The bound allows for what this machine does anyway: three times the worst
        // latency measured with the server answering, plus 100 ms; and it must stay far below the
        // freeze, or the comparison would prove nothing.
        const qint64 bound = 100 + 3 * before;
        qInfo("worst timer latency: %lld ms with the server answering, %lld ms with it frozen "
              "(bound %lld ms)",
              before, during, bound);
        QVERIFY2(
            bound < 1500,
            qPrintable(QStringLiteral("too loaded to tell: %1 ms while answering").arg(before)));
        QVERIFY2(during < bound, qPrintable(QStringLiteral("%1 >= %2").arg(during).arg(bound)));
        window.close(); // stops the workload, the sampler and the sandbox
    }

    void cleanup()
    {
        // Never leave the server frozen: the sandbox's stop would wait for it.
        if (m_postgresPid > 0)
            signalServer(m_postgresPid, SIGCONT);
    }
};

QTEST_MAIN(TestResponsiveness)
#include "tst_responsiveness.moc"

// The window's command line as the real binary takes it: every window option before and after the
// connection string (the window starts, --print-options shows the value was taken, --quit-after
// ends it with 0), every invalid value in both positions (that option's own message, exit 2,
// before Qt looks for a display), the help texts listing every option, and a machine without a
// display (a message naming DISPLAY/WAYLAND_DISPLAY and the headless commands, exit 1; --help,
// --version and the commands still work).
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <memory>
#include <vector>

namespace {

// Nothing listens on port 1 of the loopback: the window starts and reports a refused connection.
const QString kUnreachable = QStringLiteral("postgresql://monitor@127.0.0.1:1/app");
const QString kConsole = QStringLiteral("postgresql://pgbouncer@127.0.0.1:1/pgbouncer");

struct Run
{
    QStringList args;
    std::unique_ptr<QProcess> process;
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

enum class Display { Offscreen, None };

QProcessEnvironment environment(Display display)
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("DISPLAY"));
    env.remove(QStringLiteral("WAYLAND_DISPLAY"));
    env.remove(QStringLiteral("QT_QPA_PLATFORM"));
    if (display == Display::Offscreen)
        env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    return env;
}

void start(Run &run, const QProcessEnvironment &env)
{
    run.process = std::make_unique<QProcess>();
    run.process->setProcessEnvironment(env);
    run.process->start(QStringLiteral(POOLSCOPE_EXECUTABLE), run.args);
}

void finish(Run &run)
{
    // Generous: several windows start at once on a shared machine, under sanitizers too.
    if (!run.process->waitForFinished(180000)) {
        run.process->kill();
        run.process->waitForFinished();
    }
    run.out = run.process->readAllStandardOutput();
    run.err = run.process->readAllStandardError();
    run.exitCode = run.process->exitStatus() == QProcess::NormalExit ? run.process->exitCode() : -1;
}

Run runOnce(const QStringList &args, Display display)
{
    Run run { args, {}, -1, {}, {} };
    start(run, environment(display));
    finish(run);
    return run;
}

// The --print-options line: the first line on stdout that is a JSON object.
QJsonObject printedOptions(const QByteArray &out)
{
    for (const QByteArray &line : out.split('\n')) {
        const QJsonDocument doc = QJsonDocument::fromJson(line);
        if (doc.isObject() && doc.object().contains(QStringLiteral("interval_ms")))
            return doc.object();
    }
    return {};
}

QString describe(const Run &run)
{
    return QStringLiteral("poolscope %1 -> %2\nstdout: %3\nstderr: %4")
        .arg(run.args.join(QLatin1Char(' ')))
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

// The visible window options; the test's own list, so an option dropped from the table (or
// from a help text) fails here.
const QStringList kWindowOptions = {
    QStringLiteral("--demo"),         QStringLiteral("--pooler-console"),
    QStringLiteral("--interval"),     QStringLiteral("--max-connections"),
    QStringLiteral("--latency-ms"),   QStringLiteral("--page"),
    QStringLiteral("--chart-window"), QStringLiteral("--screenshot"),
    QStringLiteral("--quit-after"),
};

} // namespace

class TestWindowOptions : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyOptionWorksBeforeAndAfterTheTarget()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString shotBefore = dir.filePath(QStringLiteral("before.png"));
        const QString shotAfter = dir.filePath(QStringLiteral("after.png"));
        const QStringList quit = { QStringLiteral("--quit-after"), QStringLiteral("1500ms") };

        // option, value (empty for a flag), the JSON key and value --print-options shows.
        struct Case
        {
            QString option;
            QString value;
            QString key;
            QJsonValue expected;
            bool demo = false; // the target is --demo rather than a connection string
        };
        const QList<Case> cases = {
            { QStringLiteral("--pooler-console"), kConsole, QStringLiteral("pooler_console"),
              QStringLiteral("postgresql://pgbouncer@127.0.0.1:1/pgbouncer") },
            { QStringLiteral("--interval"), QStringLiteral("500ms"), QStringLiteral("interval_ms"),
              500 },
            { QStringLiteral("--page"), QStringLiteral("sessions"), QStringLiteral("page"),
              QStringLiteral("sessions") },
            { QStringLiteral("--chart-window"), QStringLiteral("1h"),
              QStringLiteral("chart_window_index"), 3 },
            { QStringLiteral("--quit-after"), QStringLiteral("1s"), QStringLiteral("quit_after_ms"),
              1000 },
            { QStringLiteral("--screenshot"), QString(), QStringLiteral("screenshot"), {} },
            { QStringLiteral("--max-connections"), QStringLiteral("20"),
              QStringLiteral("max_connections"), 20, true },
            { QStringLiteral("--latency-ms"), QStringLiteral("5"), QStringLiteral("latency_ms"), 5,
              true },
        };

        // Both positions of every case at once: the windows start in parallel.
        std::vector<Run> runs;
        for (const Case &c : cases) {
            for (const bool before : { true, false }) {
                QString value = c.value;
                if (c.option == QLatin1String("--screenshot"))
                    value = before ? shotBefore : shotAfter;
                const QStringList target = c.demo ? QStringList { QStringLiteral("--demo") }
                                                  : QStringList { kUnreachable };
                const QStringList option = QStringList { c.option, value };
                QStringList args = before ? option + target : target + option;
                if (c.option != QLatin1String("--quit-after"))
                    args += quit;
                args << QStringLiteral("--print-options");
                runs.push_back(Run { args, {}, -1, {}, {} });
            }
        }
        const QProcessEnvironment env = environment(Display::Offscreen);
        for (Run &run : runs)
            start(run, env);
        for (Run &run : runs)
            finish(run);

        for (qsizetype i = 0; i < cases.size(); ++i) {
            const Case &c = cases.at(i);
            const Run &before = runs.at(size_t(2 * i));
            const Run &after = runs.at(size_t(2 * i + 1));
            for (const Run *run : { &before, &after }) {
                QVERIFY2(run->exitCode == 0, qPrintable(describe(*run)));
                const QJsonObject printed = printedOptions(run->out);
                QVERIFY2(!printed.isEmpty(), qPrintable(describe(*run)));
                if (c.option == QLatin1String("--screenshot")) {
                    const QString file = printed.value(c.key).toString();
                    QCOMPARE(file, run == &before ? shotBefore : shotAfter);
                    QVERIFY2(QFileInfo(file).size() > 0, qPrintable(describe(*run)));
                } else {
                    QVERIFY2(printed.value(c.key) == c.expected, qPrintable(describe(*run)));
                }
                QCOMPARE(printed.value(QStringLiteral("demo")).toBool(), c.demo);
            }
            // Apart from the screenshot's own file name, the same window either way.
            QJsonObject a = printedOptions(before.out);
            QJsonObject b = printedOptions(after.out);
            a.remove(QStringLiteral("screenshot"));
            b.remove(QStringLiteral("screenshot"));
            QVERIFY2(a == b, qPrintable(describe(before) + QLatin1Char('\n') + describe(after)));
        }
    }

    void invalidValuesAreUsageErrorsInBothPositions_data()
    {
        QTest::addColumn<QString>("option");
        QTest::addColumn<QString>("value"); // empty: the option with no value at all
        QTest::addColumn<bool>("demo");
        QTest::addColumn<QString>("says"); // in that option's own message
        QTest::newRow("interval too short") << "--interval"
                                            << "10ms" << false << "--interval";
        QTest::newRow("interval no unit") << "--interval"
                                          << "5" << false << "--interval";
        QTest::newRow("unknown page") << "--page"
                                      << "nowhere" << false << "--page";
        QTest::newRow("chart window") << "--chart-window"
                                      << "2h" << false << "--chart-window";
        QTest::newRow("quit-after") << "--quit-after"
                                    << "soon" << false << "--quit-after";
        QTest::newRow("console") << "--pooler-console"
                                 << "host=127.0.0.1 bogus" << false << "--pooler-console";
        QTest::newRow("screenshot without quit-after")
            << "--screenshot"
            << "/tmp/never.png" << false << "--quit-after";
        QTest::newRow("screenshot no value") << "--screenshot"
                                             << "" << false << "screenshot";
        QTest::newRow("max-connections") << "--max-connections"
                                         << "5" << true << "--max-connections";
        QTest::newRow("latency-ms") << "--latency-ms"
                                    << "5000" << true << "--latency-ms";
        QTest::newRow("max-connections without --demo") << "--max-connections"
                                                        << "20" << false << "--demo only";
        QTest::newRow("latency-ms without --demo") << "--latency-ms"
                                                   << "5" << false << "--demo only";
        QTest::newRow("demo with a value") << "--demo=yes"
                                           << "" << false << "--demo";
    }
    void invalidValuesAreUsageErrorsInBothPositions()
    {
        QFETCH(QString, option);
        QFETCH(QString, value);
        QFETCH(bool, demo);
        QFETCH(QString, says);
        const QStringList target =
            demo ? QStringList { QStringLiteral("--demo") } : QStringList { kUnreachable };
        const QStringList given =
            value.isEmpty() ? QStringList { option } : QStringList { option, value };
        for (const QStringList &args : { given + target, target + given }) {
            // No display at all: the usage error must come first, before anything starts.
            const Run run = runOnce(args, Display::None);
            QVERIFY2(run.exitCode == 2, qPrintable(describe(run)));
            QVERIFY2(run.err.contains(says.toUtf8()), qPrintable(describe(run)));
            QVERIFY2(!run.err.contains("DISPLAY"), qPrintable(describe(run)));
            QVERIFY2(run.out.isEmpty(), qPrintable(describe(run)));
        }
    }

    void demoAndATargetExcludeEachOther()
    {
        const Run run = runOnce({ QStringLiteral("--demo"), kUnreachable }, Display::None);
        QVERIFY2(run.exitCode == 2 && run.err.contains("--demo"), qPrintable(describe(run)));
    }

    void bothHelpsListEveryWindowOption()
    {
        const Run top = runOnce({ QStringLiteral("--help") }, Display::None);
        const Run window = runOnce({ kUnreachable, QStringLiteral("--help") }, Display::None);
        for (const Run *run : { &top, &window }) {
            QVERIFY2(run->exitCode == 0, qPrintable(describe(*run)));
            for (const QString &option : kWindowOptions)
                QVERIFY2(run->out.contains(option.toUtf8()),
                         qPrintable(option + QLatin1Char('\n') + describe(*run)));
            QVERIFY(!run->out.contains("--print-options")); // hidden: for tests and scripts
        }
        QVERIFY(top.out.contains("sample")); // and the commands, at the top level
    }

    void noDisplaySaysWhatToRunInstead_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("platform"); // QT_QPA_PLATFORM, empty: unset
        QTest::newRow("a target") << QStringList { kUnreachable } << QString();
        QTest::newRow("options first")
            << QStringList { QStringLiteral("--page"), QStringLiteral("sessions"), kUnreachable }
            << QString();
        QTest::newRow("--demo, nothing started")
            << QStringList { QStringLiteral("--demo") } << QString();
        QTest::newRow("no argument") << QStringList {} << QString();
        QTest::newRow("xcb asked for") << QStringList { kUnreachable } << "xcb";
        QTest::newRow("wayland asked for") << QStringList { kUnreachable } << "wayland";
    }
    void noDisplaySaysWhatToRunInstead()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, platform);
        QProcessEnvironment env = environment(Display::None);
        if (!platform.isEmpty())
            env.insert(QStringLiteral("QT_QPA_PLATFORM"), platform);
        Run run { args, {}, -1, {}, {} };
        start(run, env);
        finish(run);
        QVERIFY2(run.exitCode == 1, qPrintable(describe(run)));
        for (const char *needed : { "DISPLAY", "WAYLAND_DISPLAY", "poolscope sample",
                                    "poolscope exporter", "packaging/run.sh" })
            QVERIFY2(run.err.contains(needed),
                     qPrintable(QString::fromLatin1(needed) + describe(run)));
        QVERIFY2(!run.err.contains("platform plugin"), qPrintable(describe(run)));
        QVERIFY2(run.out.isEmpty(), qPrintable(describe(run)));
    }

    void headlessPlatformsNeedNoDisplay()
    {
        // Qt's own -platform argument (skipped by our parser, honoured by Qt) counts too.
        const Run run =
            runOnce({ QStringLiteral("-platform"), QStringLiteral("offscreen"), kUnreachable,
                      QStringLiteral("--quit-after"), QStringLiteral("500ms") },
                    Display::None);
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
    }

    void commandsAndHelpWorkWithoutADisplay_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QByteArray>("says");
        QTest::newRow("--help") << QStringList { QStringLiteral("--help") } << QByteArray("Usage");
        QTest::newRow("--version")
            << QStringList { QStringLiteral("--version") } << QByteArray("poolscope ");
        QTest::newRow("window --version")
            << QStringList { kUnreachable, QStringLiteral("--version") }
            << QByteArray("poolscope ");
        QTest::newRow("sample --help")
            << QStringList { QStringLiteral("sample"), QStringLiteral("--help") }
            << QByteArray("--interval");
        QTest::newRow("exporter --help")
            << QStringList { QStringLiteral("exporter"), QStringLiteral("--help") }
            << QByteArray("--listen");
        QTest::newRow("advise") << QStringList {
            QStringLiteral("advise"), QStringLiteral("--max-connections"), QStringLiteral("100")
        } << QByteArray("DATABASE_POOL_MAX_SIZE");
    }
    void commandsAndHelpWorkWithoutADisplay()
    {
        QFETCH(QStringList, args);
        QFETCH(QByteArray, says);
        const Run run = runOnce(args, Display::None);
        QVERIFY2(run.exitCode == 0, qPrintable(describe(run)));
        QVERIFY2(run.out.contains(says), qPrintable(describe(run)));
    }
};

QTEST_GUILESS_MAIN(TestWindowOptions)
#include "tst_windowoptions.moc"

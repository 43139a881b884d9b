// The poolscope command line as scripts use it: exit codes, and the JSON keys of `bench`.
#include "tests/support/sandboxfixture.h"
#include "tests/support/testprocess.h"
#include "tests/support/testsession.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

#include <memory>
#include <vector>

using namespace poolscope::testing;

namespace {

ProcessRun runPoolscope(const QStringList &args, int timeoutMs = 60000)
{
    return runProgram(QStringLiteral(POOLSCOPE_EXECUTABLE), args, timeoutMs);
}

} // namespace

class TestCli : public QObject
{
    Q_OBJECT

private:
    SandboxFixture m_sandbox;

private Q_SLOTS:
    void initTestCase() { QVERIFY2(m_sandbox.start(), qPrintable(m_sandbox.errorString())); }

    void helpAndVersion()
    {
        const ProcessRun help = runPoolscope({ QStringLiteral("--help") });
        QCOMPARE(help.exitCode, 0);
        QVERIFY(help.out.contains("sandbox"));
        QVERIFY(help.out.contains("bench"));
        const ProcessRun version = runPoolscope({ QStringLiteral("--version") });
        QCOMPARE(version.exitCode, 0);
        QVERIFY(version.out.startsWith("poolscope "));
        QVERIFY(version.out.contains("QCustomPlot"));
    }

    void usageErrorsExitWithTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("unknown subcommand") << QStringList { QStringLiteral("frobnicate") };
        QTest::newRow("unknown top-level flag") << QStringList { QStringLiteral("--frobnicate") };
        QTest::newRow("unknown bench flag")
            << QStringList { QStringLiteral("bench"), QStringLiteral("host=127.0.0.1"),
                             QStringLiteral("--frobnicate") };
        QTest::newRow("window: unknown page (before any sandbox starts)")
            << QStringList { QStringLiteral("--demo"), QStringLiteral("--page"),
                             QStringLiteral("nowhere") };
        QTest::newRow("bench without conninfo") << QStringList { QStringLiteral("bench") };
        QTest::newRow("bench zero workers")
            << QStringList { QStringLiteral("bench"), QStringLiteral("host=127.0.0.1"),
                             QStringLiteral("--workers"), QStringLiteral("0") };
        QTest::newRow("bench malformed URI")
            << QStringList { QStringLiteral("bench"),
                             QStringLiteral("postgresql://app@127.0.0.1:notaport/app") };
        QTest::newRow("bench remote host")
            << QStringList { QStringLiteral("bench"),
                             QStringLiteral("host=db.example.com dbname=app") };
    }

    void usageErrorsExitWithTwo()
    {
        QFETCH(QStringList, args);
        const ProcessRun r = runPoolscope(args);
        QCOMPARE(r.exitCode, 2);
        QVERIFY(!r.err.trimmed().isEmpty()); // says what is wrong
    }

    void benchRefusesRemoteHostsUnlessAllowed()
    {
        const ProcessRun r = runPoolscope(
            { QStringLiteral("bench"), QStringLiteral("postgresql://app@db.example.com/app") });
        QCOMPARE(r.exitCode, 2);
        QVERIFY2(r.err.contains("--allow-remote"), r.err.constData());
    }

    void benchJsonHasTheDocumentedKeys()
    {
        const ProcessRun r = runPoolscope(
            { QStringLiteral("bench"), m_sandbox.directUri(), QStringLiteral("--workers"),
              QStringLiteral("4"), QStringLiteral("--connections"), QStringLiteral("2"),
              QStringLiteral("--duration"), QStringLiteral("1"), QStringLiteral("--json") });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QJsonParseError error;
        const QJsonDocument doc = QJsonDocument::fromJson(r.out, &error);
        QVERIFY2(doc.isObject(),
                 qPrintable(error.errorString() + QLatin1Char(' ') + QString::fromUtf8(r.out)));
        const QJsonObject o = doc.object();
        QVERIFY(o.value(QStringLiteral("ops_per_sec")).toDouble() > 0);
        for (const QString &key :
             { QStringLiteral("acquire_wait_us"), QStringLiteral("query_us") }) {
            const QJsonObject p = o.value(key).toObject();
            QVERIFY2(p.contains(QStringLiteral("p50")) && p.contains(QStringLiteral("p99")),
                     qPrintable(key));
            QVERIFY(p.value(QStringLiteral("p50")).toDouble()
                    <= p.value(QStringLiteral("p99")).toDouble());
        }
        QVERIFY(
            o.value(QStringLiteral("query_us")).toObject().value(QStringLiteral("p50")).toDouble()
            > 0);
        QCOMPARE(o.value(QStringLiteral("errors")).toInt(-1), 0);
        // Nothing but the JSON object on stdout.
        QCOMPARE(r.out.trimmed().count('\n'), 0);
    }

    void benchThroughThePooler()
    {
        const ProcessRun r = runPoolscope({ QStringLiteral("bench"), m_sandbox.pooledUri(),
                                            QStringLiteral("--pooled"), QStringLiteral("--workers"),
                                            QStringLiteral("4"), QStringLiteral("--connections"),
                                            QStringLiteral("2"), QStringLiteral("--duration"),
                                            QStringLiteral("1"), QStringLiteral("--json") });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        QCOMPARE(QJsonDocument::fromJson(r.out).object().value(QStringLiteral("errors")).toInt(-1),
                 0);
    }

    void sampleJsonLinesHaveTheDocumentedKeys()
    {
        const ProcessRun r = runPoolscope({ QStringLiteral("sample"), m_sandbox.directUri(),
                                            QStringLiteral("--interval"), QStringLiteral("250ms"),
                                            QStringLiteral("--count"), QStringLiteral("3") });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        QDateTime previous;
        for (const QByteArray &line : lines) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            for (const char *key : { "ts", "total", "active", "idle", "idle_in_transaction",
                                     "idle_in_transaction_aborted", "waiting", "max_connections",
                                     "reserved", "available", "applications" })
                QVERIFY2(o.contains(QLatin1String(key)), key);
            const QDateTime ts =
                QDateTime::fromString(o.value(QStringLiteral("ts")).toString(), Qt::ISODateWithMs);
            QVERIFY(ts.isValid());
            QVERIFY(o.value(QStringLiteral("ts")).toString().endsWith(QLatin1Char('Z')));
            QVERIFY(!previous.isValid() || previous < ts);
            previous = ts;
            QCOMPARE(o.value(QStringLiteral("max_connections")).toInt(), 100);
            QCOMPARE(o.value(QStringLiteral("reserved")).toInt(), 3);
            QCOMPARE(o.value(QStringLiteral("available")).toInt(),
                     100 - 3 - o.value(QStringLiteral("total")).toInt());
            QVERIFY(o.value(QStringLiteral("applications")).isObject());
        }
    }

    void sampleCsvHasAHeaderAndTheScalarFields()
    {
        const ProcessRun r = runPoolscope({ QStringLiteral("sample"), m_sandbox.directUri(),
                                            QStringLiteral("--interval"), QStringLiteral("250ms"),
                                            QStringLiteral("--duration"), QStringLiteral("1s"),
                                            QStringLiteral("--format"), QStringLiteral("csv") });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QVERIFY2(lines.size() >= 3, r.out.constData()); // header + a few ticks in one second
        QCOMPARE(lines.first(),
                 QByteArray("ts,total,active,idle,idle_in_transaction,idle_in_transaction_aborted,"
                            "waiting,max_connections,reserved,available,error"));
        for (int i = 1; i < lines.size(); ++i)
            QCOMPARE(lines.at(i).count(','), 10);
    }

    void sampleUsageErrors_data()
    {
        QTest::addColumn<QStringList>("extra");
        QTest::newRow("count and duration")
            << QStringList { QStringLiteral("--count"), QStringLiteral("2"),
                             QStringLiteral("--duration"), QStringLiteral("5s") };
        QTest::newRow("interval too short")
            << QStringList { QStringLiteral("--interval"), QStringLiteral("100ms") };
        QTest::newRow("interval without unit")
            << QStringList { QStringLiteral("--interval"), QStringLiteral("5") };
        QTest::newRow("unknown format")
            << QStringList { QStringLiteral("--format"), QStringLiteral("xml") };
        QTest::newRow("zero count")
            << QStringList { QStringLiteral("--count"), QStringLiteral("0") };
    }

    void sampleUsageErrors()
    {
        QFETCH(QStringList, extra);
        const ProcessRun r =
            runPoolscope(QStringList { QStringLiteral("sample"), m_sandbox.directUri() } + extra);
        QCOMPARE(r.exitCode, 2);
        QVERIFY(!r.err.trimmed().isEmpty());
    }

    void sampleOfAnUnreachableServerPrintsTypedGapRecords()
    {
        const ProcessRun r = runPoolscope({ QStringLiteral("sample"),
                                            QStringLiteral("postgresql://app@127.0.0.1:1/app"),
                                            QStringLiteral("--interval"), QStringLiteral("250ms"),
                                            QStringLiteral("--count"), QStringLiteral("2") });
        QCOMPARE(r.exitCode, 1); // no successful tick at all
        const QList<QByteArray> lines = r.out.trimmed().split('\n');
        QCOMPARE(lines.size(), 2);
        const QJsonObject gap = QJsonDocument::fromJson(lines.first()).object();
        QCOMPARE(gap.value(QStringLiteral("gap")).toBool(), true);
        QCOMPARE(
            gap.value(QStringLiteral("error")).toObject().value(QStringLiteral("kind")).toString(),
            QStringLiteral("connection_refused"));
        QVERIFY(!gap.value(QStringLiteral("error"))
                     .toObject()
                     .value(QStringLiteral("remedy"))
                     .toString()
                     .isEmpty());
    }

    // The "summary" key: the window's headline from the same sample, and honest in a gap.
    void sampleJsonCarriesTheIncidentSummary()
    {
        std::vector<std::unique_ptr<TestSession>> clients;
        for (const char *name : { "storm-1", "storm-2", "storm-3" })
            clients.push_back(
                std::make_unique<TestSession>(m_sandbox.directUri(), QString::fromLatin1(name)));
        const ProcessRun r = runPoolscope({ QStringLiteral("sample"), m_sandbox.directUri(),
                                            QStringLiteral("--count"), QStringLiteral("1") });
        QVERIFY2(r.exitCode == 0, r.err.constData());
        const QString summary = QJsonDocument::fromJson(r.out.trimmed())
                                    .object()
                                    .value(QStringLiteral("summary"))
                                    .toString();
        QVERIFY2(summary.contains(QStringLiteral(" of 97 usable connections in use \u2014 3 held "
                                                 "by storm-*; ")),
                 qPrintable(summary));
        QVERIFY2(summary.endsWith(QStringLiteral("; nothing waiting, no long transactions")),
                 qPrintable(summary));

        const ProcessRun gap = runPoolscope(
            { QStringLiteral("sample"), QStringLiteral("postgresql://app:s3cretpw@127.0.0.1:1/app"),
              QStringLiteral("--count"), QStringLiteral("1") });
        const QString line = QJsonDocument::fromJson(gap.out.trimmed())
                                 .object()
                                 .value(QStringLiteral("summary"))
                                 .toString();
        QVERIFY2(line.startsWith(QStringLiteral("Server unreachable: 127.0.0.1:1/app does not "
                                                "answer")),
                 qPrintable(line));
        QVERIFY(!gap.out.contains("s3cretpw"));
    }

    void benchReportsAnUnreachableServerWithItsRemedy()
    {
        // A closed port on loopback: refused at once, typed, with a remedy, exit 1.
        const ProcessRun r = runPoolscope({ QStringLiteral("bench"),
                                            QStringLiteral("postgresql://app@127.0.0.1:1/app"),
                                            QStringLiteral("--duration"), QStringLiteral("1") });
        QCOMPARE(r.exitCode, 1);
        QVERIFY2(r.err.contains("connection_refused"), r.err.constData());
        QVERIFY(r.err.contains("remedy"));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"

// `poolscope demo` as scripts use it: bad arguments exit 2 before any server starts, a remote
// target is refused without --allow-remote (a loopback URI target runs without a sandbox of its
// own), a run against both endpoints prints the documented JSON keys (and exits 0), the
// small-plan scenario shows 53300 on direct and none through the pooler, PgBouncer's own refusal
// (max_client_conn, 08P01) counts as "pooler", and SIGTERM mid-run ends the command promptly with
// what was measured.
#include "tests/support/sandboxfixture.h"
#include "tests/support/testprocess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

using namespace poolscope::testing;

namespace {

QStringList words(std::initializer_list<const char *> list)
{
    QStringList out;
    for (const char *w : list)
        out << QString::fromUtf8(w);
    return out;
}

ProcessRun runDemo(const QStringList &args, int timeoutMs = 60000)
{
    return runProgram(QStringLiteral(POOLSCOPE_EXECUTABLE),
                      QStringList { QStringLiteral("demo") } + args, timeoutMs);
}

QJsonObject parse(const ProcessRun &run)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(run.out.trimmed(), &error);
    if (error.error != QJsonParseError::NoError)
        qWarning() << "not JSON:" << run.out << run.err;
    return doc.object();
}

QString runText(const ProcessRun &run)
{
    return QStringLiteral("exit %1\nstdout: %2\nstderr: %3")
        .arg(run.exitCode)
        .arg(QString::fromUtf8(run.out), QString::fromUtf8(run.err));
}

} // namespace

class TestLoadDemoCli : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void badArgumentsExit2_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("pool min > max") << words({ "--pool", "5:2" }) << QStringLiteral("--pool");
        QTest::newRow("pool not a pair") << words({ "--pool", "5" }) << QStringLiteral("--pool");
        QTest::newRow("compare-pool min > max")
            << words({ "--compare-pool", "4:2" }) << QStringLiteral("--compare-pool");
        QTest::newRow("no instances")
            << words({ "--instances", "0" }) << QStringLiteral("--instances");
        QTest::newRow("too many instances")
            << words({ "--instances", "100000" }) << QStringLiteral("--instances");
        QTest::newRow("negative rate") << words({ "--rate", "-1" }) << QStringLiteral("--rate");
        QTest::newRow("rate not a number")
            << words({ "--rate", "fast" }) << QStringLiteral("--rate");
        QTest::newRow("duration") << words({ "--duration", "soon" })
                                  << QStringLiteral("--duration");
        QTest::newRow("hold") << words({ "--hold-ms", "-5" }) << QStringLiteral("--hold-ms");
        QTest::newRow("scenario") << words({ "--scenario", "nope" })
                                  << QStringLiteral("unknown scenario");
        QTest::newRow("target") << words({ "--target", "nowhere" }) << QStringLiteral("--target");
        QTest::newRow("max-connections")
            << words({ "--max-connections", "2" }) << QStringLiteral("--max-connections");
        QTest::newRow("client connections over the cap")
            << words({ "--instances", "5000", "--pool", "2:10" }) << QStringLiteral("cap");
        QTest::newRow("positional") << words({ "extra" }) << QStringLiteral("unexpected argument");
    }

    void badArgumentsExit2()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const ProcessRun run = runDemo(args, 20000);
        QVERIFY2(run.exitCode == 2, qPrintable(runText(run)));
        QVERIFY2(QString::fromUtf8(run.err).contains(message), qPrintable(runText(run)));
        QVERIFY2(!QString::fromUtf8(run.out).contains(QLatin1String("starting a sandbox")),
                 qPrintable(runText(run)));
    }

    void remoteTargetRefusedWithoutAllowRemote()
    {
        const ProcessRun run = runDemo(
            words({ "--target", "postgresql://app@203.0.113.9:5432/app", "--duration", "1" }),
            20000);
        QVERIFY2(run.exitCode == 2, qPrintable(runText(run)));
        QVERIFY2(QString::fromUtf8(run.err).contains(QLatin1String("--allow-remote")),
                 qPrintable(runText(run)));
    }

    void jsonReportsBothRuns()
    {
        const ProcessRun run =
            runDemo(words({ "--target", "both", "--instances", "5", "--pool", "1:3", "--rate", "40",
                            "--hold-ms", "20", "--duration", "1", "--max-connections", "30",
                            "--pool-size", "5", "--seed", "3", "--json" }));
        QVERIFY2(run.exitCode == 0, qPrintable(runText(run)));
        const QJsonObject out = parse(run);
        const QJsonArray runs = out.value(QStringLiteral("runs")).toArray();
        QCOMPARE(runs.size(), 2);
        QCOMPARE(runs.at(0).toObject().value(QStringLiteral("target")).toString(),
                 QStringLiteral("direct"));
        QCOMPARE(runs.at(1).toObject().value(QStringLiteral("target")).toString(),
                 QStringLiteral("pooled"));
        for (const QJsonValue &v : runs) {
            const QJsonObject r = v.toObject();
            for (const char *key :
                 { "target", "requests", "ok", "errors", "peak_server_connections", "latency_ms" })
                QVERIFY2(r.contains(QLatin1String(key)), key);
            const QJsonObject errors = r.value(QStringLiteral("errors")).toObject();
            for (const char *key : { "too_many_connections", "acquire_timeout", "other" })
                QVERIFY2(errors.value(QLatin1String(key)).isDouble(), key);
            const QJsonObject latency = r.value(QStringLiteral("latency_ms")).toObject();
            for (const char *key : { "p50", "p95", "p99" })
                QVERIFY2(latency.value(QLatin1String(key)).isDouble(), key);
            QVERIFY(r.value(QStringLiteral("requests")).toInt() > 10);
            QVERIFY(r.value(QStringLiteral("ok")).toInt() > 0);
            QVERIFY(latency.value(QStringLiteral("p50")).toDouble() >= 20.0); // holds 20 ms
            QVERIFY(r.value(QStringLiteral("peak_server_connections")).toInt() >= 1);
            QVERIFY(r.value(QStringLiteral("returned_to_baseline")).toBool());
        }
        QVERIFY(runs.at(1).toObject().value(QStringLiteral("peak_server_connections")).toInt()
                <= 5);
        QCOMPARE(out.value(QStringLiteral("sandbox"))
                     .toObject()
                     .value(QStringLiteral("max_connections"))
                     .toInt(),
                 30);
        QVERIFY(!QString::fromUtf8(run.out).contains(QLatin1String("password")));
    }

    void comparePoolRunsEachTargetWithBothPools()
    {
        // Pool size A vs B side by side: 5 instances with 1:1, then with 2:4. Each instance's
        // pool keeps its minimum open once it has served a request, so the server sees at most
        // 5 connections with A and (once every instance is up) 10 or more with B.
        const ProcessRun run = runDemo(
            words({ "--target", "direct", "--instances", "5", "--pool", "1:1", "--compare-pool",
                    "2:4", "--rate", "60", "--hold-ms", "50", "--duration", "1.5",
                    "--max-connections", "40", "--seed", "7", "--json" }));
        QVERIFY2(run.exitCode == 0, qPrintable(runText(run)));
        const QJsonArray runs = parse(run).value(QStringLiteral("runs")).toArray();
        QCOMPARE(runs.size(), 2);
        const QJsonObject a = runs.at(0).toObject();
        const QJsonObject b = runs.at(1).toObject();
        for (const QJsonObject &r : { a, b }) {
            QCOMPARE(r.value(QStringLiteral("target")).toString(), QStringLiteral("direct"));
            QCOMPARE(r.value(QStringLiteral("instances")).toInt(), 5);
            QVERIFY(r.value(QStringLiteral("returned_to_baseline")).toBool());
        }
        QCOMPARE(a.value(QStringLiteral("pool_max")).toInt(), 1);
        QCOMPARE(b.value(QStringLiteral("pool_min")).toInt(), 2);
        QCOMPARE(b.value(QStringLiteral("pool_max")).toInt(), 4);
        QVERIFY2(a.value(QStringLiteral("peak_server_connections")).toInt() <= 5,
                 qPrintable(runText(run)));
        QVERIFY2(b.value(QStringLiteral("peak_server_connections")).toInt() >= 6,
                 qPrintable(runText(run)));
    }

    void smallPlanScenarioShowsTheDifference()
    {
        const ProcessRun run = runDemo(
            words({ "--scenario", "small-plan", "--duration", "2", "--seed", "5", "--json" }));
        QVERIFY2(run.exitCode == 0, qPrintable(runText(run)));
        const QJsonArray runs = parse(run).value(QStringLiteral("runs")).toArray();
        QCOMPARE(runs.size(), 2);
        const QJsonObject direct = runs.at(0).toObject();
        const QJsonObject pooled = runs.at(1).toObject();
        auto tooMany = [](const QJsonObject &r) {
            return r.value(QStringLiteral("errors"))
                .toObject()
                .value(QStringLiteral("too_many_connections"))
                .toInt();
        };
        QVERIFY2(tooMany(direct) > 0, qPrintable(runText(run)));
        QVERIFY2(tooMany(pooled) == 0, qPrintable(runText(run)));
        QVERIFY2(pooled.value(QStringLiteral("peak_server_connections")).toInt() <= 12,
                 qPrintable(runText(run)));
    }

    // A loopback URI target: no sandbox of its own, the target's host as the run's label, the
    // server side read on the target itself.
    void uriTargetOnThisMachine()
    {
        SandboxFixture sandbox;
        QVERIFY2(sandbox.start(), qPrintable(sandbox.errorString()));
        const ProcessRun run =
            runDemo(QStringList { QStringLiteral("--target"), sandbox.directUri() }
                    + words({ "--instances", "3", "--pool", "1:2", "--rate", "20", "--hold-ms", "5",
                              "--duration", "1", "--json" }));
        QVERIFY2(run.exitCode == 0, qPrintable(runText(run)));
        const QJsonObject out = parse(run);
        QVERIFY(out.value(QStringLiteral("sandbox")).isNull());
        const QJsonObject r = out.value(QStringLiteral("runs")).toArray().at(0).toObject();
        QCOMPARE(r.value(QStringLiteral("target")).toString(), QStringLiteral("127.0.0.1"));
        QVERIFY2(r.value(QStringLiteral("ok")).toInt() > 0, qPrintable(runText(run)));
        QVERIFY2(r.value(QStringLiteral("peak_server_connections")).toInt() >= 1,
                 qPrintable(runText(run)));
        QVERIFY2(r.value(QStringLiteral("returned_to_baseline")).toBool(),
                 qPrintable(runText(run)));
    }

    // PgBouncer refusing clients beyond max_client_conn (08P01) is the "pooler" class, not
    // "other" and not 53300.
    void poolerRefusalIsItsOwnClass()
    {
        const ProcessRun run = runDemo(
            words({ "--target", "pooled", "--instances", "10", "--pool", "3:3", "--rate", "50",
                    "--hold-ms", "10", "--duration", "1.5", "--max-client-conn", "12", "--json" }));
        QVERIFY2(run.exitCode == 0, qPrintable(runText(run)));
        const QJsonObject r = parse(run).value(QStringLiteral("runs")).toArray().at(0).toObject();
        const QJsonObject errors = r.value(QStringLiteral("errors")).toObject();
        QVERIFY2(errors.value(QStringLiteral("pooler")).toInt() > 0, qPrintable(runText(run)));
        QCOMPARE(errors.value(QStringLiteral("too_many_connections")).toInt(), 0);
        bool found = false;
        for (const QJsonValue &v : r.value(QStringLiteral("first_errors")).toArray()) {
            const QJsonObject e = v.toObject();
            if (e.value(QStringLiteral("class")).toString() != QLatin1String("pooler"))
                continue;
            const QJsonObject error = e.value(QStringLiteral("error")).toObject();
            QCOMPARE(error.value(QStringLiteral("sqlstate")).toString(), QStringLiteral("08P01"));
            QVERIFY2(error.value(QStringLiteral("message"))
                         .toString()
                         .contains(QLatin1String("max_client_conn")),
                     qPrintable(runText(run)));
            QVERIFY(!error.value(QStringLiteral("remedy")).toString().isEmpty());
            found = true;
        }
        QVERIFY2(found, qPrintable(runText(run)));
    }

    void sigtermStopsPromptly()
    {
        QProcess process;
        process.start(QStringLiteral(POOLSCOPE_EXECUTABLE),
                      words({ "demo", "--target", "pooled", "--instances", "5", "--rate", "50",
                              "--duration", "60" }));
        QVERIFY(process.waitForStarted());
        // Wait for the first live line (about a second into the run).
        QByteArray out;
        QElapsedTimer waiting;
        waiting.start();
        while (!out.contains(" s  pooled") && waiting.elapsed() < 30000) {
            process.waitForReadyRead(200);
            out += process.readAllStandardOutput();
        }
        QVERIFY2(out.contains(" s  pooled"), out.constData());
        QElapsedTimer t;
        t.start();
        process.terminate(); // SIGTERM
        QVERIFY(process.waitForFinished(15000));
        QVERIFY2(t.elapsed() < 10000, qPrintable(QString::number(t.elapsed())));
        out += process.readAllStandardOutput();
        const QString text = QString::fromUtf8(out);
        QVERIFY2(text.contains(QLatin1String("cancelled: the figures cover what ran")),
                 qPrintable(text));
        // Back at the baseline: "server conns before -> after   0 -> 0".
        static const QRegularExpression beforeAfter(
            QStringLiteral(R"(server conns before -> after\s+(\d+) -> (\d+))"));
        const auto m = beforeAfter.match(text);
        QVERIFY2(m.hasMatch() && m.captured(1) == m.captured(2), qPrintable(text));
        QCOMPARE(process.exitCode(), 0);
    }
};

QTEST_GUILESS_MAIN(TestLoadDemoCli)
#include "tst_loaddemo_cli.moc"

// `poolscope advise` as scripts use it: the JSON keys and their types, null when nothing fits,
// exit 2 on invalid input. No database needed: the advisor is arithmetic over compiled-in limits.
#include "tests/support/testprocess.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

using namespace poolscope::testing;

namespace {

ProcessRun advise(const QStringList &args)
{
    return runProgram(QStringLiteral(POOLSCOPE_EXECUTABLE),
                      QStringList { QStringLiteral("advise") } + args, 30000);
}

QJsonObject adviseJson(const QStringList &args, int expectedExit)
{
    const ProcessRun run = advise(args + QStringList { QStringLiteral("--json") });
    if (run.exitCode != expectedExit)
        qWarning("exit %d, stderr: %s", run.exitCode, run.err.constData());
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(run.out, &error);
    if (error.error != QJsonParseError::NoError || !doc.isObject())
        qWarning("not a JSON object: %s", run.out.constData());
    return run.exitCode == expectedExit ? doc.object() : QJsonObject();
}

} // namespace

class TestAdviseCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void jsonKeysAndTypes()
    {
        const QJsonObject o = adviseJson(
            { QStringLiteral("--max-connections"), QStringLiteral("100"),
              QStringLiteral("--instances"), QStringLiteral("4"), QStringLiteral("--rate"),
              QStringLiteral("200"), QStringLiteral("--hold-ms"), QStringLiteral("15") },
            0);
        QCOMPARE(
            o.keys(),
            QStringList({ QStringLiteral("demand"), QStringLiteral("explanation"),
                          QStringLiteral("fits"), QStringLiteral("limit"),
                          QStringLiteral("max_safe_instances"), QStringLiteral("recommended") }));
        const QJsonObject limit = o.value(QLatin1String("limit")).toObject();
        QCOMPARE(limit.value(QLatin1String("max_connections")).toInt(), 100);
        QCOMPARE(limit.value(QLatin1String("available")).toInt(), 97); // 3 reserved by default
        const QJsonObject rec = o.value(QLatin1String("recommended")).toObject();
        QVERIFY(rec.value(QLatin1String("min_size")).isDouble());
        QVERIFY(rec.value(QLatin1String("max_size")).toInt() >= 2);
        QVERIFY(o.value(QLatin1String("fits")).isBool());
        QVERIFY(o.value(QLatin1String("fits")).toBool());
        const QJsonObject demand = o.value(QLatin1String("demand")).toObject();
        QVERIFY(demand.value(QLatin1String("worst_case")).isDouble());
        QCOMPARE(demand.value(QLatin1String("littles_law")).toDouble(), 4.5);
        QVERIFY(o.value(QLatin1String("max_safe_instances")).isDouble());
        QVERIFY(!o.value(QLatin1String("explanation")).toString().isEmpty());

        // Without a load, littles_law is null.
        const QJsonObject noLoad = adviseJson({}, 0);
        QVERIFY(noLoad.value(QLatin1String("demand"))
                    .toObject()
                    .value(QLatin1String("littles_law"))
                    .isNull());
    }

    void neonCuUsesTheDocumentedLimit()
    {
        const QJsonObject o = adviseJson({ QStringLiteral("--neon-cu"), QStringLiteral("1") }, 0);
        const QJsonObject limit = o.value(QLatin1String("limit")).toObject();
        QCOMPARE(limit.value(QLatin1String("max_connections")).toInt(), 419);
        QCOMPARE(limit.value(QLatin1String("available")).toInt(), 412); // 7 reserved
    }

    void nullRecommendedWhenNothingFits()
    {
        const QJsonObject o =
            adviseJson({ QStringLiteral("--preset"), QStringLiteral("neon-0.25cu"),
                         QStringLiteral("--instances"), QStringLiteral("60") },
                       1);
        QVERIFY(o.contains(QLatin1String("recommended")));
        QVERIFY(o.value(QLatin1String("recommended")).isNull());
        QCOMPARE(o.value(QLatin1String("fits")).toBool(true), false);
        QVERIFY(o.value(QLatin1String("explanation")).toString().contains(QLatin1String("pooled")));
    }

    void textOutputHasEnvLines()
    {
        const ProcessRun run = advise({ QStringLiteral("--neon-cu"), QStringLiteral("0.5"),
                                        QStringLiteral("--instances"), QStringLiteral("5"),
                                        QStringLiteral("--scale-to-zero") });
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.out.contains("DATABASE_POOL_MIN_SIZE=0"));
        QVERIFY(run.out.contains("DATABASE_POOL_MAX_SIZE="));
        const ProcessRun guide =
            advise({ QStringLiteral("--preset"), QStringLiteral("guide-free") });
        QVERIFY(guide.out.contains("the guide's numbers"));
        const ProcessRun list = advise({ QStringLiteral("--list-presets") });
        QCOMPARE(list.exitCode, 0);
        QVERIFY(list.out.contains("guide-launch"));
        QVERIFY(list.out.contains("neon-1cu"));
    }

    void invalidInputExitsWithTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("negative max_connections")
            << QStringList { QStringLiteral("--max-connections"), QStringLiteral("-5") };
        QTest::newRow("negative instances")
            << QStringList { QStringLiteral("--instances"), QStringLiteral("-1") };
        QTest::newRow("zero instances")
            << QStringList { QStringLiteral("--instances"), QStringLiteral("0") };
        QTest::newRow("negative reserved")
            << QStringList { QStringLiteral("--reserved"), QStringLiteral("-1") };
        QTest::newRow("unknown preset")
            << QStringList { QStringLiteral("--preset"), QStringLiteral("business") };
        QTest::newRow("min > max")
            << QStringList { QStringLiteral("--pool-min"), QStringLiteral("5"),
                             QStringLiteral("--pool-max"), QStringLiteral("3") };
        QTest::newRow("max-connections and preset")
            << QStringList { QStringLiteral("--max-connections"), QStringLiteral("100"),
                             QStringLiteral("--preset"), QStringLiteral("neon-1cu") };
        QTest::newRow("rate without hold")
            << QStringList { QStringLiteral("--rate"), QStringLiteral("200") };
        QTest::newRow("not a number")
            << QStringList { QStringLiteral("--other-clients"), QStringLiteral("many") };
        QTest::newRow("zero CU") << QStringList { QStringLiteral("--neon-cu"),
                                                  QStringLiteral("0") };
    }

    void invalidInputExitsWithTwo()
    {
        QFETCH(QStringList, args);
        const ProcessRun run = advise(args);
        QCOMPARE(run.exitCode, 2);
        QVERIFY(run.err.startsWith("poolscope advise: "));
        QVERIFY(run.out.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestAdviseCommand)
#include "tst_advisecommand.moc"

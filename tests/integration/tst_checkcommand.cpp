// `poolscope check --offline --json` as scripts use it: the JSON keys, exit codes 0/1/2, and no
// password in anything it prints. Offline: no server needed.
#include "tests/support/testprocess.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QtTest>

using namespace poolscope::testing;

namespace {

const QByteArray kSecret = "s3cr3t-Pa55word";

ProcessRun runCheck(const QStringList &extra)
{
    return runProgram(QStringLiteral(POOLSCOPE_EXECUTABLE),
                      QStringList { QStringLiteral("check") } + extra, 30000);
}

} // namespace

class TestCheckCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void offlineJson_data()
    {
        QTest::addColumn<QString>("conninfo");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<int>("exitCode");
        QTest::addColumn<QString>("kind");
        const QString secret = QString::fromLatin1(kSecret);
        QTest::newRow("neon pooled, clean")
            << QStringLiteral("postgresql://app@ep-cool-darkness-a1b2c3d4-pooler.us-east-2.aws."
                              "neon.tech/shop?sslmode=verify-full&connect_timeout=10")
            << QStringList { QStringLiteral("--profile"), QStringLiteral("serverless") } << 0
            << QStringLiteral("neon-pooled");
        QTest::newRow("serverless on neon direct")
            << QStringLiteral("postgresql://app:%1@ep-cool-darkness-a1b2c3d4.us-east-2.aws.neon."
                              "tech/shop")
                   .arg(secret)
            << QStringList { QStringLiteral("--profile"), QStringLiteral("serverless") } << 1
            << QStringLiteral("neon-direct");
        QTest::newRow("options on pgbouncer")
            << QStringLiteral("host=db.internal port=6432 password=%1 options='-c "
                              "statement_timeout=30s'")
                   .arg(secret)
            << QStringList {} << 1 << QStringLiteral("pgbouncer");
        QTest::newRow("local, password warning only")
            << QStringLiteral("host=localhost password=%1").arg(secret) << QStringList {} << 0
            << QStringLiteral("local");
        QTest::newRow("bad percent escape")
            << QStringLiteral("postgresql://app:%1%zz@h/db").arg(secret) << QStringList {} << 2
            << QString();
        QTest::newRow("unterminated quote") << QStringLiteral("host=h password='%1").arg(secret)
                                            << QStringList {} << 2 << QString();
        QTest::newRow("empty") << QString() << QStringList {} << 2 << QString();
        QTest::newRow("bad profile")
            << QStringLiteral("host=localhost")
            << QStringList { QStringLiteral("--profile"), QStringLiteral("cloud") } << 2
            << QString();
        QTest::newRow("bad timeout")
            << QStringLiteral("host=localhost")
            << QStringList { QStringLiteral("--timeout"), QStringLiteral("forever") } << 2
            << QString();
    }

    void offlineJson()
    {
        QFETCH(QString, conninfo);
        QFETCH(QStringList, flags);
        QFETCH(int, exitCode);
        QFETCH(QString, kind);
        const ProcessRun r =
            runCheck(QStringList { conninfo, QStringLiteral("--offline"), QStringLiteral("--json") }
                     + flags);
        QVERIFY2(r.exitCode == exitCode,
                 qPrintable(QStringLiteral("exit %1, stdout %2, stderr %3")
                                .arg(r.exitCode)
                                .arg(QString::fromUtf8(r.out), QString::fromUtf8(r.err))));
        QVERIFY2(!r.out.contains(kSecret), r.out.constData());
        QVERIFY2(!r.err.contains(kSecret), r.err.constData());
        if (exitCode == 2) {
            QVERIFY(r.out.isEmpty());
            QVERIFY(r.err.startsWith("poolscope check: "));
            return;
        }
        QJsonParseError error;
        const QJsonObject json = QJsonDocument::fromJson(r.out, &error).object();
        QVERIFY2(error.error == QJsonParseError::NoError, r.out.constData());
        QVERIFY(!json.contains(QStringLiteral("live"))); // --offline
        const QJsonObject endpoint = json.value(QStringLiteral("endpoint")).toObject();
        for (const char *key : { "host", "port", "dbname", "user", "kind", "pooled" })
            QVERIFY2(endpoint.contains(QLatin1String(key)), key);
        QCOMPARE(endpoint.value(QStringLiteral("kind")).toString(), kind);
        const QJsonArray findings = json.value(QStringLiteral("findings")).toArray();
        bool anyError = false;
        for (const QJsonValue &v : findings) {
            const QJsonObject f = v.toObject();
            for (const char *key : { "severity", "code", "message", "remedy" })
                QVERIFY2(f.contains(QLatin1String(key)), key);
            anyError = anyError
                || f.value(QStringLiteral("severity")).toString() == QLatin1String("error");
        }
        QCOMPARE(anyError, exitCode == 1);
    }

    void textOutputSaysWhichNeonHostIsWhich()
    {
        const ProcessRun r =
            runCheck({ QStringLiteral("host=ep-x-123456-pooler.us-east-2.aws.neon.tech"),
                       QStringLiteral("--offline") });
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.out.contains("neon-pooled"), r.out.constData());
        QVERIFY2(r.out.contains("POOLED"), r.out.constData());
    }
};

QTEST_GUILESS_MAIN(TestCheckCommand)
#include "tst_checkcommand.moc"

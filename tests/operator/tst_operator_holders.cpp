// Who holds the connections, against a server PoolScope did not start (the production-like
// PostgreSQL, the pg_monitor role `monitor` as the sampler): a known mix of three applications,
// two users and two databases in known states, counted exactly by the core sample, the
// `poolscope sample` JSON of the real binary, the exporter's text, the Overview's holders table;
// and a click on a holder shows its sessions on the Sessions page.
#include "core/exporter/prometheusformat.h"
#include "core/monitor/monitorsession.h"
#include "core/sampler/sampler.h"
#include "tests/support/productionserver.h"
#include "tests/support/testprocess.h"
#include "tests/support/testsession.h"
#include "ui/charts/chartspage.h"
#include "ui/charts/holdersmodel.h"
#include "ui/charts/holderspanel.h"
#include "ui/charts/timeserieschart.h"
#include "ui/mainwindow.h"
#include "ui/sessions/sessionsfilter.h"
#include "ui/sessions/sessionspage.h"

#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QTabWidget>
#include <QTableView>
#include <QtTest>

#include <memory>
#include <vector>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;

namespace {

const QString kMonitor = QLatin1String(ProductionServer::kMonitorRole);
const QString kOperator = QLatin1String(ProductionServer::kOperatorRole);
const QString kApp = QLatin1String(ProductionServer::kAppRole);
const QString kAppDb = QLatin1String(ProductionServer::kAppDatabase);
// A quote in an application_name: the exporter must escape it in its label.
const QString kReport = QStringLiteral("report \"daily\"");

// {key, total, active, idle, idle in transaction}
struct Expected
{
    QString key;
    int total, active, idle, idleInTransaction;
};

// The mix, largest holder first as the sampler orders them (count desc, then key):
//   web    (app, appdb):       2 idle, 1 idle in transaction
//   worker (app, appdb):       1 active (pg_sleep), 1 idle
//   report (operator, postgres): 1 idle, 1 idle in transaction
const QList<Expected> kByApplication = {
    { QStringLiteral("web"), 3, 0, 2, 1 },
    { kReport, 2, 0, 1, 1 },
    { QStringLiteral("worker"), 2, 1, 1, 0 },
};
const QList<Expected> kByUser = { { kApp, 5, 1, 3, 1 }, { kOperator, 2, 0, 1, 1 } };
const QList<Expected> kByDatabase = { { kAppDb, 5, 1, 3, 1 },
                                      { QStringLiteral("postgres"), 2, 0, 1, 1 } };
const QList<Expected> kByClient = { { QStringLiteral("127.0.0.1"), 7, 1, 4, 2 } };
constexpr int kTotal = 7;

QString describe(const QList<BreakdownEntry> &entries)
{
    QStringList out;
    for (const BreakdownEntry &e : entries)
        out << QStringLiteral("%1:%2/%3/%4/%5")
                   .arg(e.isOther ? QStringLiteral("(other)") : e.key)
                   .arg(e.total)
                   .arg(e.active)
                   .arg(e.idle)
                   .arg(e.idleInTransaction);
    return out.join(QLatin1String(", "));
}

QList<BreakdownEntry> toEntries(const QList<Expected> &expected)
{
    QList<BreakdownEntry> entries;
    for (const Expected &x : expected) {
        BreakdownEntry e;
        e.key = x.key;
        e.total = x.total;
        e.active = x.active;
        e.idle = x.idle;
        e.idleInTransaction = x.idleInTransaction;
        entries << e;
    }
    return entries;
}

QList<BreakdownEntry> fromJson(const QJsonArray &array)
{
    QList<BreakdownEntry> entries;
    for (const QJsonValue &v : array) {
        const QJsonObject o = v.toObject();
        BreakdownEntry e;
        e.key = o.value(QLatin1String("key")).toString();
        e.isOther = e.key == QLatin1String("(other)");
        e.total = o.value(QLatin1String("total")).toInt();
        e.active = o.value(QLatin1String("active")).toInt();
        e.idle = o.value(QLatin1String("idle")).toInt();
        e.idleInTransaction = o.value(QLatin1String("idle_in_transaction")).toInt();
        e.oldestConnectionSeconds = o.value(QLatin1String("oldest_connection_s")).toDouble();
        e.longestIdleInTransactionSeconds =
            o.value(QLatin1String("longest_idle_in_transaction_s")).toDouble();
        entries << e;
    }
    return entries;
}

bool isTheMix(const ActivitySample &s)
{
    // A backend of the fixture's admin queries or of an earlier sampler may still be on its way
    // out; the mix is complete and alone when these hold.
    return s.counts.total == kTotal && s.counts.active == 1 && s.counts.idleInTransaction == 2;
}

} // namespace

class tst_OperatorHolders : public QObject
{
    Q_OBJECT

    ProductionServer m_server;
    std::vector<std::unique_ptr<TestSession>> m_sessions;
    TestSession *m_sleeper = nullptr;
    QElapsedTimer m_sinceOpened;
    QElapsedTimer m_sinceIdleInTransaction;
    std::optional<ActivitySample> m_sample; // the core sample, for the exporter's check

    TestSession *open(const QString &role, const QString &database, const QString &application)
    {
        m_sessions.push_back(
            std::make_unique<TestSession>(m_server.directUri(role, database), application));
        return m_sessions.back().get();
    }

    // Ages: positive, and not older than the test's own clocks say (plus clock granularity).
    void checkAges(const QList<BreakdownEntry> &entries, const char *where)
    {
        const double opened = double(m_sinceOpened.elapsed()) / 1000.0 + 2.0;
        const double idleTx = double(m_sinceIdleInTransaction.elapsed()) / 1000.0 + 2.0;
        for (const BreakdownEntry &e : entries) {
            QVERIFY2(e.oldestConnectionSeconds > 0 && e.oldestConnectionSeconds <= opened,
                     qPrintable(QStringLiteral("%1 %2: oldest %3 s, opened %4 s ago")
                                    .arg(QLatin1String(where), e.key)
                                    .arg(e.oldestConnectionSeconds)
                                    .arg(opened)));
            if (e.idleInTransaction > 0)
                QVERIFY2(e.longestIdleInTransactionSeconds > 0
                             && e.longestIdleInTransactionSeconds <= idleTx,
                         qPrintable(QStringLiteral("%1 %2: idle in transaction %3 s")
                                        .arg(QLatin1String(where), e.key)
                                        .arg(e.longestIdleInTransactionSeconds)));
            else
                QCOMPARE(e.longestIdleInTransactionSeconds, 0.0);
        }
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(m_server.start(), qPrintable(m_server.errorString()));
        qputenv("PGPASSFILE", QFile::encodeName(m_server.passFile()));
        QCoreApplication::setOrganizationName(QStringLiteral("poolscope-test-holders"));
        m_sinceOpened.start();
        open(kApp, kAppDb, QStringLiteral("web"));
        open(kApp, kAppDb, QStringLiteral("web"));
        TestSession *webTx = open(kApp, kAppDb, QStringLiteral("web"));
        open(kApp, kAppDb, QStringLiteral("worker"));
        m_sleeper = open(kApp, kAppDb, QStringLiteral("worker"));
        open(kOperator, QStringLiteral("postgres"), kReport);
        TestSession *reportTx = open(kOperator, QStringLiteral("postgres"), kReport);
        m_sinceIdleInTransaction.start();
        QVERIFY(webTx->exec(QStringLiteral("BEGIN")));
        QVERIFY(webTx->exec(QStringLiteral("SELECT 1")));
        QVERIFY(reportTx->exec(QStringLiteral("BEGIN")));
        m_sleeper->execInBackground(QStringLiteral("SELECT pg_sleep(3600)"));
        QTRY_COMPARE_WITH_TIMEOUT(
            m_server.adminQuery(QStringLiteral("SELECT state FROM pg_stat_activity WHERE pid = %1")
                                    .arg(m_sleeper->pid())),
            QStringLiteral("active"), 30000);
    }

    void cleanupTestCase()
    {
        if (m_sleeper) {
            m_server.adminQuery(
                QStringLiteral("SELECT pg_cancel_backend(%1)").arg(m_sleeper->pid()));
            m_sleeper->wait();
        }
        m_sessions.clear();
    }

    // The real binary: one JSON record with the four lists, "(other)" absent (3 holders < 10).
    void sampleCommandListsEveryHolder()
    {
        // Up to a few records: the first may still count a backend of the fixture's admin
        // query on its way out; the first record that is the mix must be exactly it.
        const ProcessRun run = runProgram(
            QStringLiteral(POOLSCOPE_EXECUTABLE),
            { QStringLiteral("sample"), m_server.directUri(kMonitor), QStringLiteral("--count"),
              QStringLiteral("8"), QStringLiteral("--interval"), QStringLiteral("250ms") });
        QCOMPARE(run.exitCode, 0);
        std::optional<QJsonObject> record;
        for (const QByteArray &line : run.out.split('\n')) {
            const QJsonObject o = QJsonDocument::fromJson(line).object();
            if (o.value(QLatin1String("total")).toInt() == kTotal
                && o.value(QLatin1String("active")).toInt() == 1) {
                record = o;
                break;
            }
        }
        QVERIFY2(record, run.out.constData());
        QCOMPARE(describe(fromJson(record->value(QLatin1String("by_application")).toArray())),
                 describe(toEntries(kByApplication)));
        QCOMPARE(describe(fromJson(record->value(QLatin1String("by_user")).toArray())),
                 describe(toEntries(kByUser)));
        QCOMPARE(describe(fromJson(record->value(QLatin1String("by_database")).toArray())),
                 describe(toEntries(kByDatabase)));
        QCOMPARE(describe(fromJson(record->value(QLatin1String("by_client")).toArray())),
                 describe(toEntries(kByClient)));
        checkAges(fromJson(record->value(QLatin1String("by_application")).toArray()), "json");
        // The older map stays.
        const QJsonObject applications = record->value(QLatin1String("applications")).toObject();
        QCOMPARE(applications.value(QLatin1String("web")).toInt(), 3);
        QCOMPARE(applications.value(kReport).toInt(), 2);
        for (const QString &password : m_server.passwords())
            QVERIFY(!run.out.contains(password.toUtf8()) && !run.err.contains(password.toUtf8()));
    }

    void coreSampleCountsEveryHolder()
    {
        SamplerConfig config;
        config.conninfo = m_server.directUri(kMonitor);
        config.interval = std::chrono::milliseconds(250);
        Sampler sampler(config);
        std::optional<ActivitySample> mix;
        connect(&sampler, &Sampler::sampled, this, [&mix](const ActivitySample &s) {
            if (!mix && isTheMix(s))
                mix = s;
        });
        sampler.start();
        QTRY_VERIFY_WITH_TIMEOUT(mix.has_value(), 60000);
        sampler.stop();
        QCOMPARE(describe(mix->byApplication), describe(toEntries(kByApplication)));
        QCOMPARE(describe(mix->byUser), describe(toEntries(kByUser)));
        QCOMPARE(describe(mix->byDatabase), describe(toEntries(kByDatabase)));
        QCOMPARE(describe(mix->byClient), describe(toEntries(kByClient)));
        checkAges(mix->byApplication, "application");
        checkAges(mix->byUser, "user");
        checkAges(mix->byDatabase, "database");
        m_sample = mix;
    }

    // What `poolscope exporter` serves for that sample: exact gauges, the quote escaped.
    void exporterShowsEveryHolder()
    {
        QVERIFY(m_sample);
        MetricsInput input;
        input.activity = m_sample;
        const QByteArray text = renderPrometheusMetrics(input);
        const QList<QByteArray> expected = {
            "poolscope_connections_by_holder{dimension=\"application\",holder=\"web\",state="
            "\"idle\"} 2",
            "poolscope_connections_by_holder{dimension=\"application\",holder=\"web\",state=\"idle_"
            "in_transaction\"} 1",
            "poolscope_connections_by_holder{dimension=\"application\",holder=\"web\",state="
            "\"active\"} 0",
            "poolscope_connections_by_holder{dimension=\"application\",holder=\"worker\",state="
            "\"active\"} 1",
            "poolscope_connections_by_holder{dimension=\"application\",holder=\"report "
            "\\\"daily\\\"\",state=\"idle_in_transaction\"} 1",
            "poolscope_connections_by_holder{dimension=\"user\",holder=\"app\",state=\"idle\"} 3",
            "poolscope_connections_by_holder{dimension=\"user\",holder=\"operator\",state=\"idle_"
            "in_transaction\"} 1",
            "poolscope_connections_by_holder{dimension=\"database\",holder=\"postgres\",state="
            "\"idle\"} 1",
            "poolscope_connections_by_holder{dimension=\"client\",holder=\"127.0.0.1\",state="
            "\"idle\"} 4",
            "poolscope_connections_by_holder{dimension=\"client\",holder=\"127.0.0.1\",state="
            "\"other\"} 0",
        };
        for (const QByteArray &line : expected)
            QVERIFY2(text.contains(QByteArray(line + '\n')), line.constData());
        QVERIFY(!text.contains("holder=\"(other)\""));
        // Bounded: 4 states for each of the 3 + 2 + 2 + 1 holders.
        QCOMPARE(text.count(QByteArrayView("\npoolscope_connections_by_holder{")),
                 (3 + 2 + 2 + 1) * 4);
    }

    // The window: the holders table shows the mix; clicking a user lists its sessions.
    void panelShowsHoldersAndClickFiltersSessions()
    {
        MonitorSession session;
        MainWindow window(&session);
        window.resize(1400, 900);
        window.show();
        QVERIFY(window.showPage(QStringLiteral("overview")));
        auto *overview = window.findChild<ChartsPage *>();
        QVERIFY(overview);
        HoldersPanel *panel = overview->holdersPanel();
        QVERIFY(panel->isVisible());
        QVERIFY(!overview->ownPoolChartShown()); // no pool of its own: the panel took its place
        MonitorSession::Options options;
        options.conninfo = m_server.directUri(kMonitor);
        options.interval = std::chrono::milliseconds(250);
        session.start(options);

        auto tableMatches = [panel](const QList<Expected> &expected) {
            const QAbstractItemModel *m = panel->table()->model();
            if (m->rowCount() != expected.size())
                return false;
            for (int r = 0; r < m->rowCount(); ++r) {
                const Expected &x = expected.at(r);
                const auto cell = [&](int c) {
                    return m->index(r, c).data();
                };
                if (cell(HoldersModel::Holder).toString() != x.key
                    || cell(HoldersModel::Total).toInt() != x.total
                    || cell(HoldersModel::Active).toInt() != x.active
                    || cell(HoldersModel::Idle).toInt() != x.idle
                    || cell(HoldersModel::IdleInTransaction).toInt() != x.idleInTransaction)
                    return false;
            }
            return true;
        };
        QTRY_VERIFY_WITH_TIMEOUT(tableMatches(kByApplication), 60000);
        const QAbstractItemModel *m = panel->table()->model();
        QCOMPARE(m->index(2, HoldersModel::LongestIdleInTransaction).data().toString(),
                 QStringLiteral("–")); // worker holds no transaction open
        QVERIFY(m->index(0, HoldersModel::OldestConnection)
                    .data()
                    .toString()
                    .endsWith(QLatin1String(" s")));

        // The stacked chart: one series per holder plus "other", summing to the total.
        TimeSeriesChart *chart = panel->chart();
        QCOMPARE(chart->spec().series.size(), 1 + 3);
        const auto latest = [panel](const QString &key) {
            const auto p = panel->history()
                               .store(HolderDimension::Application)
                               .latest(HoldersHistory::seriesName(key));
            return p ? p->value : -1.0;
        };
        QTRY_COMPARE_WITH_TIMEOUT(latest(QStringLiteral("web")), 3.0, 30000);
        QCOMPARE(latest(QStringLiteral("worker")), 2.0);
        QCOMPARE(latest(kReport), 2.0);

        panel->dimensionSelector()->setCurrentIndex(int(HolderDimension::User));
        QTRY_VERIFY_WITH_TIMEOUT(tableMatches(kByUser), 30000);
        QCOMPARE(panel->chart()->spec().series.size(), 1 + 2);

        // Click "app" (row 0): the Sessions page, filtered to that user's five sessions.
        QTableView *table = panel->table();
        const QRect cell = table->visualRect(table->model()->index(0, HoldersModel::Holder));
        QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, cell.center());
        QCOMPARE(window.currentPageName(), QStringLiteral("sessions"));
        auto *sessions = window.findChild<SessionsPage *>();
        QVERIFY(sessions);
        QCOMPARE(sessions->filter()->holderFilter(),
                 (std::optional<SessionsFilter::Holder>(
                     SessionsFilter::Holder { SessionsModel::User, kApp })));
        QVERIFY(sessions->holderLabel()->isVisible());
        QVERIFY(sessions->holderLabel()->text().contains(kApp));
        QTRY_COMPARE_WITH_TIMEOUT(sessions->filter()->rowCount(), 5, 30000);
        for (int r = 0; r < sessions->filter()->rowCount(); ++r)
            QCOMPARE(sessions->filter()->index(r, SessionsModel::User).data().toString(), kApp);
        QVERIFY(sessions->model()->rowCount() >= kTotal); // the others are there, filtered out
        session.stop();
    }
};

QTEST_MAIN(tst_OperatorHolders)
#include "tst_operator_holders.moc"

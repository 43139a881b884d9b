// The holders' history and panel without a server: samples are fed through MonitorSession's
// sampled signal as the sampler would. The history stays within its memory bound however many
// holders come and go, its stack sums to the total at every tick, a new biggest holder displaces
// one that is gone (its past kept in "other"), and the panel's table, selector and clicks.
#include "core/monitor/monitorsession.h"
#include "tests/support/testseed.h"
#include "ui/charts/holdersmodel.h"
#include "ui/charts/holderspanel.h"
#include "ui/charts/timeserieschart.h"

#include <QComboBox>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

using namespace poolscope;
using namespace poolscope::testing;
using namespace poolscope::ui;

namespace {

constexpr qint64 kStartMs = 1'800'000'000'000;

// A sample whose four breakdowns are `holders` (largest first as given) plus an "other" of
// `other` connections; every connection idle.
ActivitySample sampleAt(qint64 tMs, const QList<QPair<QString, int>> &holders, int other = 0)
{
    ActivitySample s;
    s.takenAt = QDateTime::fromMSecsSinceEpoch(tMs, Qt::UTC);
    QList<BreakdownEntry> entries;
    for (const auto &[key, n] : holders) {
        BreakdownEntry e;
        e.key = key;
        e.total = e.idle = n;
        e.oldestConnectionSeconds = 5;
        entries << e;
        s.counts.total += n;
    }
    if (other > 0) {
        BreakdownEntry e;
        e.key = QStringLiteral("other");
        e.isOther = true;
        e.total = e.idle = other;
        entries << e;
        s.counts.total += other;
    }
    s.counts.idle = s.counts.total;
    s.byApplication = s.byUser = s.byDatabase = s.byClient = entries;
    return s;
}

// The stacked values of every series of a dimension at time t (0 for a series without a point).
double stackAt(const HoldersHistory &h, HolderDimension d, qint64 t)
{
    QStringList names { HoldersHistory::otherSeries() };
    for (const QString &key : h.keys(d))
        names << HoldersHistory::seriesName(key);
    double sum = 0;
    for (const QList<TimePoint> &points : h.store(d).rawMany(names, t, t + 1))
        for (const TimePoint &p : points)
            sum += p.value;
    return sum;
}

} // namespace

class TestHoldersPanel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void historyIsBoundedAndSumsToTheTotal()
    {
        QCOMPARE(HoldersHistory::memoryBudgetBytes(), qint64(4 * 8 * 43'200 * 8));
        HoldersHistory history;
        QRandomGenerator random = seededRandom();
        // 300 ticks, 15 s apart (so retirements are allowed often), each with up to 10
        // holders drawn from 200 names: far more names than a store may hold.
        for (int tick = 0; tick < 300; ++tick) {
            QList<QPair<QString, int>> holders;
            const int count = 1 + random.bounded(10);
            QStringList used;
            for (int i = 0; i < count; ++i) {
                const QString key = QStringLiteral("h%1").arg(random.bounded(200));
                if (!used.contains(key)) {
                    used << key;
                    holders << qMakePair(key, 1 + random.bounded(20));
                }
            }
            std::sort(holders.begin(), holders.end(),
                      [](const auto &a, const auto &b) { return a.second > b.second; });
            const int other = random.bounded(5);
            const ActivitySample s = sampleAt(kStartMs + tick * 15'000LL, holders, other);
            history.record(s);
            QCOMPARE(stackAt(history, HolderDimension::Client, kStartMs + tick * 15'000LL),
                     double(s.counts.total));
        }
        QVERIFY(history.keys(HolderDimension::Client).size() <= HoldersHistory::kChartedHolders);
        QVERIFY(history.memoryBytes() <= HoldersHistory::memoryBudgetBytes());
        for (int d = 0; d < kHolderDimensionCount; ++d) {
            const TimeSeriesStore &store = history.store(HolderDimension(d));
            QVERIFY(store.seriesNames().size() <= HoldersHistory::kChartedHolders + 1);
            QCOMPARE(store.stats().refusedNewSeries, qint64(0));
        }
        QVERIFY(history.generation(HolderDimension::Client) > 1); // holders were retired
    }

    void aNewBiggestHolderDisplacesOneThatIsGone()
    {
        HoldersHistory history;
        QList<QPair<QString, int>> seven;
        for (int i = 0; i < HoldersHistory::kChartedHolders; ++i)
            seven << qMakePair(QStringLiteral("app%1").arg(i), 10 - i);
        qint64 t = kStartMs;
        history.record(sampleAt(t, seven));
        const double before = stackAt(history, HolderDimension::Application, t);

        // app6 leaves, storm arrives with 26: storm is charted, app6's past is in "other".
        QList<QPair<QString, int>> storm = seven.mid(0, 6);
        storm.prepend(qMakePair(QStringLiteral("storm"), 26));
        t += HoldersHistory::kRetireIntervalMs;
        history.record(sampleAt(t, storm));
        const QStringList keys = history.keys(HolderDimension::Application);
        QVERIFY(keys.contains(QStringLiteral("storm")));
        QVERIFY(!keys.contains(QStringLiteral("app6")));
        QCOMPARE(stackAt(history, HolderDimension::Application, kStartMs), before);
        const auto other = history.store(HolderDimension::Application)
                               .raw(HoldersHistory::otherSeries(), kStartMs, kStartMs + 1);
        QCOMPARE(other.size(), 1);
        QCOMPARE(other.at(0).value, 4.0); // app6's 4 connections at the first tick
        const auto latest = history.store(HolderDimension::Application)
                                .latest(HoldersHistory::seriesName(QStringLiteral("storm")));
        QVERIFY(latest);
        QCOMPARE(latest->value, 26.0);

        // Within the retire interval a newcomer waits in "other" rather than rebuild again.
        QList<QPair<QString, int>> next = storm.mid(0, 6);
        next.prepend(qMakePair(QStringLiteral("storm2"), 30));
        t += 1000;
        history.record(sampleAt(t, next));
        QVERIFY(!history.keys(HolderDimension::Application).contains(QStringLiteral("storm2")));
        QCOMPARE(stackAt(history, HolderDimension::Application, t), 30.0 + 26 + 10 + 9 + 8 + 7 + 6);
    }

    // The screenshot's incident: a steady holder, then a storm of one-connection instances whose
    // names push each other in and out of the sampler's top 10. The steady holder is charted
    // from its first tick on, whatever the retirements around it.
    void aSteadyHolderKeepsItsHistoryThroughAStorm()
    {
        HoldersHistory history;
        const QString steady = QStringLiteral("checkout");
        for (int tick = 0; tick < 60; ++tick) {
            QList<QPair<QString, int>> present;
            QStringList storm;
            for (int i = 1; i <= std::min(29, tick - 5); ++i)
                storm << QStringLiteral("storm-%1").arg(i);
            storm.sort(); // the sampler orders equal counts by name
            if (tick >= 3)
                present << qMakePair(steady, 6);
            for (const QString &name : std::as_const(storm).mid(0, 9))
                present << qMakePair(name, 1);
            const int folded = int(std::max<qsizetype>(0, storm.size() - 9));
            history.record(sampleAt(kStartMs + tick * 1000, present, folded));
        }
        const HolderDimension d = HolderDimension::Application;
        QVERIFY(history.keys(d).contains(steady));
        const QList<TimePoint> points = history.store(d).raw(HoldersHistory::seriesName(steady),
                                                             kStartMs, kStartMs + 60 * 1000);
        QCOMPARE(points.size(), 57);
        QCOMPARE(points.constFirst().tMs, kStartMs + 3 * 1000);
        for (const TimePoint &p : points)
            QCOMPARE(p.value, 6.0);
    }

    void panelShowsTheLatestHoldersAndEmitsClicks()
    {
        MonitorSession session; // not started: the samples come from the test
        HoldersPanel panel(&session);
        panel.resize(700, 500);
        panel.show();
        QVERIFY(QTest::qWaitForWindowExposed(&panel));
        QSignalSpy activated(&panel, &HoldersPanel::holderActivated);

        ActivitySample s =
            sampleAt(kStartMs, { { QStringLiteral("web"), 5 }, { QString(), 2 } }, 3);
        s.byUser = { s.byUser.at(0) }; // users: only "web" (5), then the rest
        s.byUser[0].key = QStringLiteral("alice");
        Q_EMIT session.sampled(s);

        QTableView *table = panel.table();
        QCOMPARE(table->model()->rowCount(), 3);
        QCOMPARE(table->model()->index(0, HoldersModel::Holder).data().toString(),
                 QStringLiteral("web"));
        QCOMPARE(table->model()->index(1, HoldersModel::Holder).data().toString(),
                 QStringLiteral("(empty)"));
        QCOMPARE(table->model()->index(2, HoldersModel::Holder).data().toString(),
                 QStringLiteral("other"));
        QCOMPARE(table->model()->index(0, HoldersModel::OldestConnection).data().toString(),
                 QStringLiteral("5 s"));
        QCOMPARE(panel.chart()->spec().series.size(), 1 + 2);

        auto click = [table](int row) {
            const QRect r = table->visualRect(table->model()->index(row, HoldersModel::Holder));
            QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, r.center());
        };
        click(2); // "other" is not a holder
        QCOMPARE(activated.count(), 0);
        click(1); // the empty application_name is one
        QCOMPARE(activated.count(), 1);
        QCOMPARE(activated.at(0).at(0).value<HolderDimension>(), HolderDimension::Application);
        QCOMPARE(activated.at(0).at(1).toString(), QString());

        panel.dimensionSelector()->setCurrentIndex(int(HolderDimension::User));
        QCOMPARE(table->model()->rowCount(), 1);
        QCOMPARE(panel.chart()->spec().series.size(), 1 + 1);
        click(0);
        QCOMPARE(activated.count(), 2);
        QCOMPARE(activated.at(1).at(0).value<HolderDimension>(), HolderDimension::User);
        QCOMPARE(activated.at(1).at(1).toString(), QStringLiteral("alice"));

        // Paused and zoomed, the chart keeps its range when a new holder rebuilds it.
        panel.showRange(kStartMs - 60'000, kStartMs);
        Q_EMIT session.sampled(sampleAt(kStartMs + 1000, { { QStringLiteral("bob"), 1 } }));
        QVERIFY(!panel.chart()->isLive());
        QCOMPARE(panel.chart()->shownFromMs(), kStartMs - 60'000);
    }
};

QTEST_MAIN(TestHoldersPanel)
#include "tst_holderspanel.moc"

// The Overview charts against a store filled with synthetic ticks (simulated times around now):
// what the graphs hold (min/max buckets, gaps as NaN, stacking), the time window, Live/Pause,
// mouse zoom, exports, and the coalescing of replots. Offscreen, no database.
#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "core/timeseries/timeseriesstore.h"
#include "ui/charts/chartspage.h"
#include "ui/charts/charttracker.h"
#include "ui/charts/timeserieschart.h"

#include <QComboBox>
#include <QDateTime>
#include <QFile>
#include <QImage>
#include <QSet>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QToolButton>
#include <qcustomplot.h>

#include <cmath>

using namespace poolscope;
using namespace poolscope::ui;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kMinute = 60 * kSecond;
constexpr qint64 kHour = 60 * kMinute;

// A whole second a little before now, so that windows "ending now" contain every tick.
qint64 simulatedNow()
{
    return QDateTime::currentMSecsSinceEpoch() / kSecond * kSecond;
}

ChartSpec lineSpec(const QString &name)
{
    return { QStringLiteral("test"), QStringLiteral("y"), {}, { { name, name, Qt::blue } } };
}

ChartSpec stackSpec()
{
    ChartSpec spec { QStringLiteral("stack"), QStringLiteral("connections"), {}, {} };
    spec.series = { { series::Active, QStringLiteral("active"), Qt::green,
                      SeriesStyle::StackedArea },
                    { series::Idle, QStringLiteral("idle"), Qt::blue, SeriesStyle::StackedArea },
                    { series::IdleInTransaction, QStringLiteral("idle in transaction"), Qt::red,
                      SeriesStyle::StackedArea } };
    return spec;
}

// 1 Hz ticks of active=3, idle=5, idle in transaction=2 over [end - seconds + 1, end].
void fillStack(TimeSeriesStore &store, qint64 endMs, int seconds)
{
    for (int i = seconds - 1; i >= 0; --i) {
        store.append(
            endMs - i * kSecond,
            { { series::Active, 3 }, { series::Idle, 5 }, { series::IdleInTransaction, 2 } });
    }
}

QList<double> values(const QCPGraph *graph)
{
    QList<double> out;
    for (auto it = graph->data()->constBegin(); it != graph->data()->constEnd(); ++it)
        out.append(it->value);
    return out;
}

double finiteMax(const QList<double> &v)
{
    double m = -1;
    for (double x : v) {
        if (std::isfinite(x))
            m = std::max(m, x);
    }
    return m;
}

void showSized(QWidget &w)
{
    w.resize(1200, 400);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
}

} // namespace

class TestCharts : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void graphsHoldTheWindowsData()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now, 600);
        TimeSeriesChart chart(store, lineSpec(series::Active));
        showSized(chart);
        chart.setWindowMs(5 * kMinute);
        chart.refreshNow();
        QCOMPARE(chart.shownToMs(), now);
        QCOMPARE(chart.shownFromMs(), now - 5 * kMinute);
        // Fewer ticks than pixel columns: one point per tick, none outside the window.
        const QCPGraph *g = chart.graph(0);
        QCOMPARE(g->data()->size(), 301);
        QVERIFY(g->data()->constBegin()->key >= double(now - 5 * kMinute) / 1000.0);
        QVERIFY(std::abs((g->data()->constEnd() - 1)->key * 1000.0 - double(now)) < 1000.0);
        QCOMPARE(finiteMax(values(g)), 3.0);
    }

    void oneSecondSpikeSurvivesTheFullZoomOut()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        const int ticks = 86'400;
        for (int i = ticks - 1; i >= 0; --i) {
            const double v = i == 31'337 ? 500.0 : 10.0;
            store.append(now - i * kSecond, { { series::Total, v } });
        }
        TimeSeriesChart chart(store, lineSpec(series::Total));
        showSized(chart);
        chart.setWindowMs(24 * kHour);
        chart.refreshNow();
        const QList<double> v = values(chart.graph(0));
        QCOMPARE(finiteMax(v), 500.0);
        // Bounded by the plot's width, not by the 86,400 ticks: min+max per pixel column.
        QVERIFY2(v.size() <= 2 * 1200, qPrintable(QString::number(v.size())));
        QCOMPARE(chart.plot()->yAxis->range().upper > 500.0, true);
    }

    void gapStaysNaNInEveryStackedLayer()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now - 121 * kSecond, 120);
        store.appendGap(now - 120 * kSecond);
        fillStack(store, now, 119);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(5 * kMinute);
        chart.refreshNow();
        for (int layer = 0; layer < 3; ++layer) {
            const QCPGraph *g = chart.graph(layer);
            int nans = 0;
            for (auto it = g->data()->constBegin(); it != g->data()->constEnd(); ++it) {
                QVERIFY2(it->value != 0.0, "a gap must never be drawn as 0");
                if (std::isnan(it->value)) {
                    ++nans;
                    QVERIFY(std::abs(it->key * 1000.0 - double(now - 120 * kSecond)) < 1000.0);
                }
            }
            QCOMPARE(nans, 1);
        }
    }

    // A layer whose series began later (a holder charted from a later tick) adds nothing before
    // its first point: the layers above it are still drawn there.
    void aLayerThatBeganLaterAddsNothingBeforeIt()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        for (int i = 59; i >= 0; --i) {
            TimeSeriesStore::Values v { { series::Active, 3 }, { series::IdleInTransaction, 2 } };
            if (i < 30)
                v.append({ series::Idle, 5 });
            store.append(now - i * kSecond, v);
        }
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(kMinute);
        chart.refreshNow();
        const QList<double> top = values(chart.graph(2));
        QCOMPARE(top.size(), 60);
        for (qsizetype i = 0; i < top.size(); ++i)
            QCOMPARE(top.at(i), i < 30 ? 5.0 : 10.0);
    }

    void stackedLayersAreCumulative()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now, 60);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(kMinute);
        chart.refreshNow();
        const double expected[] = { 3, 8, 10 };
        for (int layer = 0; layer < 3; ++layer) {
            const QList<double> v = values(chart.graph(layer));
            QCOMPARE(v.size(), 60);
            for (double x : v)
                QCOMPARE(x, expected[layer]);
        }
        // The tracker reports each layer's own value, not the cumulative one.
        chart.tracker()->showAt(double(now - 10 * kSecond) / 1000.0);
        QVERIFY2(chart.tracker()->text().contains(QStringLiteral("idle: 5")),
                 qPrintable(chart.tracker()->text()));
    }

    void followsTheDarkPalette()
    {
        TimeSeriesStore store;
        TimeSeriesChart chart(store, stackSpec());
        QPalette dark;
        dark.setColor(QPalette::Base, QColor(30, 30, 30));
        dark.setColor(QPalette::WindowText, QColor(230, 230, 230));
        chart.setPalette(dark);
        QCOMPARE(chart.plot()->xAxis->tickLabelColor(), QColor(230, 230, 230));
        QCOMPARE(chart.plot()->legend->textColor(), QColor(230, 230, 230));
        const QImage image = chart.plot()->toPixmap(400, 300).toImage();
        QCOMPARE(image.pixelColor(2, 2), QColor(30, 30, 30)); // background, not white
    }

    void windowSelectorChangesTheRange()
    {
        MonitorSession session;
        const qint64 now = simulatedNow();
        fillStack(session.store(), now, 120);
        ChartsPage page(&session);
        showSized(page);
        TimeSeriesChart *chart = page.chart(ChartsPage::ChartId::Connections);
        QCOMPARE(chart->shownToMs() - chart->shownFromMs(), 5 * kMinute); // the default window
        page.windowSelector()->setCurrentIndex(3);                        // 1 h
        for (TimeSeriesChart *c : page.charts()) {
            QCOMPARE(c->shownToMs() - c->shownFromMs(), kHour);
            QCOMPARE(c->plot()->xAxis->range().size(), 3600.0);
        }
        page.windowSelector()->setCurrentIndex(0); // 1 min
        QCOMPARE(chart->plot()->xAxis->range().size(), 60.0);
    }

    void pausedRangeIgnoresNewTicks()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now, 60);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(kMinute);
        chart.setLive(false);
        const qint64 from = chart.shownFromMs();
        const qint64 to = chart.shownToMs();
        for (int i = 1; i <= 5; ++i) {
            store.append(now + i * kSecond, { { series::Active, 4 } });
            chart.noteNewData(now + i * kSecond);
        }
        // Proving that the range does NOT move takes time: several coalesced refresh delays, so
        // that any refresh the ticks could have armed has run.
        QTest::qWait(5 * TimeSeriesChart::kRefreshDelayMs);
        QCOMPARE(chart.shownFromMs(), from);
        QCOMPARE(chart.shownToMs(), to);
        chart.setLive(true);
        QTRY_COMPARE(chart.shownToMs(), now + 5 * kSecond);
    }

    void wheelZoomsTheTimeAxisAndPauses()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now, 600);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(10 * kMinute);
        chart.refreshNow();
        chart.plot()->replot();
        QSignalSpy live(&chart, &TimeSeriesChart::liveChanged);
        const double yBefore = chart.plot()->yAxis->range().size();
        const QPointF at = chart.plot()->axisRect()->rect().center();
        QWheelEvent wheel(at, chart.plot()->mapToGlobal(at), QPoint(), QPoint(0, 120), Qt::NoButton,
                          Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(chart.plot(), &wheel);
        QVERIFY(chart.shownToMs() - chart.shownFromMs() < 10 * kMinute);
        QCOMPARE(chart.plot()->yAxis->range().size(), yBefore); // only time zooms
        QVERIFY(!chart.isLive());
        QCOMPARE(live.count(), 1);
        QCOMPARE(live.first().first().toBool(), false);
        // While paused the zoomed range stays put, then Live snaps back to the window.
        store.append(now + kSecond, { { series::Active, 4 } });
        chart.noteNewData(now + kSecond);
        chart.setLive(true);
        QCOMPARE(chart.shownToMs() - chart.shownFromMs(), 10 * kMinute);
    }

    void exportsPngPdfAndCsv()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now - 31 * kSecond, 29);
        store.appendGap(now - 30 * kSecond);
        fillStack(store, now, 30);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        chart.setWindowMs(kMinute);
        chart.refreshNow();
        QTemporaryDir dir;
        QVERIFY(dir.isValid());

        const QString png = dir.filePath(QStringLiteral("chart.png"));
        QString error;
        QVERIFY2(chart.exportPng(png, &error), qPrintable(error));
        const QImage image(png);
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), chart.plot()->size());
        QSet<QRgb> colours;
        for (int y = 0; y < image.height() && colours.size() < 3; y += 7) {
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        }
        QVERIFY(colours.size() > 1);

        const QString pdf = dir.filePath(QStringLiteral("chart.pdf"));
        QVERIFY2(chart.exportPdf(pdf, &error), qPrintable(error));
        QFile pdfFile(pdf);
        QVERIFY(pdfFile.open(QIODevice::ReadOnly));
        QVERIFY(pdfFile.size() > 1000);
        QCOMPARE(pdfFile.read(4), QByteArray("%PDF"));

        const QString csvPath = dir.filePath(QStringLiteral("chart.csv"));
        QVERIFY2(chart.exportCsv(csvPath, &error), qPrintable(error));
        QFile csvFile(csvPath);
        QVERIFY(csvFile.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = csvFile.readAll().trimmed().split('\n');
        QCOMPARE(lines.first(),
                 QByteArray("time,connections.active,connections.idle,"
                            "connections.idle_in_transaction"));
        // 60 s window, both edges included: 29 + 1 (the gap) + 30 ticks, all inside it.
        QCOMPARE(lines.size() - 1, 60);
        const QByteArray gapTime = QDateTime::fromMSecsSinceEpoch(now - 30 * kSecond, Qt::UTC)
                                       .toString(Qt::ISODateWithMs)
                                       .toLatin1();
        QVERIFY(lines.contains(gapTime + ",,,"));
        QCOMPARE(lines.last(),
                 QDateTime::fromMSecsSinceEpoch(now, Qt::UTC).toString(Qt::ISODateWithMs).toLatin1()
                     + ",3,5,2");
    }

    void burstOfTicksIsCoalesced()
    {
        TimeSeriesStore store;
        const qint64 now = simulatedNow();
        fillStack(store, now, 60);
        TimeSeriesChart chart(store, stackSpec());
        showSized(chart);
        QTRY_COMPARE(chart.queryCount(), 1); // the first refresh, armed by the constructor
        QSignalSpy replots(chart.plot(), &QCustomPlot::afterReplot);
        const int queriesBefore = chart.queryCount();
        for (int i = 1; i <= 100; ++i) {
            store.append(now + i * 10, { { series::Active, double(i % 7) } });
            chart.noteNewData(now + i * 10);
        }
        QTRY_COMPARE(chart.queryCount() - queriesBefore, 1);
        // One query for the burst and no second one later: that takes time to prove, several
        // refresh delays after the first.
        QTest::qWait(5 * TimeSeriesChart::kRefreshDelayMs);
        QCOMPARE(chart.queryCount() - queriesBefore, 1);
        QVERIFY2(replots.count() >= 1 && replots.count() <= 3,
                 qPrintable(QString::number(replots.count())));
    }

    void headroomAndPoolerPlaceholderFollowTheSession()
    {
        MonitorSession session;
        TimeSeriesStore &store = session.store();
        const qint64 now = simulatedNow();
        // Total rises by one connection every 10 s: 42 free of 97 -> about 7 min left.
        for (int i = 120; i >= 0; --i)
            store.append(now - i * kSecond, { { series::Total, 55.0 - i / 10.0 } });
        ChartsPage page(&session);
        showSized(page);
        QVERIFY(!page.poolerChartShown());

        ActivitySample sample;
        sample.takenAt = QDateTime::fromMSecsSinceEpoch(now, Qt::UTC);
        sample.limits.maxConnections = 100;
        sample.limits.superuserReserved = 3;
        sample.counts.total = 55;
        sample.available = 42;
        Q_EMIT session.sampled(sample);
        QCOMPARE(page.headroomText(), QStringLiteral("42 of 97 usable connections free"));
        QVERIFY2(page.exhaustionText().contains(QStringLiteral("about 7 min")),
                 qPrintable(page.exhaustionText()));

        // A steep rise over only a few seconds (a pool filling up at start) is no trend yet.
        MonitorSession fresh;
        for (int i = 10; i >= 0; --i)
            fresh.store().append(now - i * kSecond, { { series::Total, 50.0 - i } });
        ChartsPage freshPage(&fresh);
        showSized(freshPage);
        Q_EMIT fresh.sampled(sample);
        QVERIFY2(freshPage.exhaustionText().isEmpty(), qPrintable(freshPage.exhaustionText()));

        PoolerSample pooler;
        pooler.takenAt = QDateTime::fromMSecsSinceEpoch(now + kSecond, Qt::UTC);
        appendPooler(store, pooler);
        Q_EMIT session.poolerSampled(pooler);
        QVERIFY(page.poolerChartShown());
    }
};

QTEST_MAIN(TestCharts)
#include "tst_charts.moc"

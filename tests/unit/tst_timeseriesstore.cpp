// TimeSeriesStore: min/max buckets that keep one-sample spikes when zoomed out, explicit gaps,
// window edge cases, out-of-order refusal, latest() and names.
#include "tests/unit/timeseriestestutil.h"

#include <QTest>

#include <atomic>
#include <cmath>
#include <limits>
#include <thread>

using namespace poolscope;
using namespace poolscope::testing;

class tst_TimeSeriesStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void zoomOutKeepsSpikes_data();
    void zoomOutKeepsSpikes();
    void bucketStatistics();
    void bucketsTileTheWindow_data();
    void bucketsTileTheWindow();
    void gapsAreNotZeros();
    void nonFiniteValuesAreGaps_data();
    void nonFiniteValuesAreGaps();
    void windows_data();
    void windows();
    void outOfOrderRefused();
    void latestAndNames();
};

void tst_TimeSeriesStore::zoomOutKeepsSpikes_data()
{
    QTest::addColumn<int>("spikeIndex");
    QTest::addColumn<double>("spike");
    QTest::addColumn<int>("bucketCount");

    QTest::newRow("spike, 600 buckets") << 40'123 << 250.0 << 600;
    QTest::newRow("dip, 600 buckets") << 40'123 << 0.0 << 600;
    QTest::newRow("spike, 1000 buckets") << 77'777 << 99.5 << 1000;
    QTest::newRow("spike, 7 buckets") << 12'345 << 11.0 << 7;
    QTest::newRow("dip at the first sample") << 0 << -3.0 << 600;
    QTest::newRow("spike at the last sample") << 86'399 << 1e6 << 600;
}

void tst_TimeSeriesStore::zoomOutKeepsSpikes()
{
    QFETCH(int, spikeIndex);
    QFETCH(double, spike);
    QFETCH(int, bucketCount);
    constexpr double kFlat = 10.0;

    TimeSeriesStore store;
    const QString s = QStringLiteral("connections");
    for (int i = 0; i < 86'400; ++i)
        store.append(kT0 + i * kSecond, one(s, i == spikeIndex ? spike : kFlat));

    const QList<Bucket> buckets = store.query(s, kT0, kT0 + kDay, bucketCount);
    QCOMPARE(buckets.size(), qsizetype(bucketCount));
    const qint64 spikeAt = kT0 + spikeIndex * kSecond;
    int hits = 0;
    for (const Bucket &b : buckets) {
        QVERIFY(b.count > 0);
        if (spikeAt >= b.startMs && spikeAt < b.endMs) {
            ++hits;
            QCOMPARE(spike > kFlat ? b.max : b.min, spike);
            QCOMPARE(spike > kFlat ? b.min : b.max, b.count > 1 ? kFlat : spike);
        } else {
            QCOMPARE(b.min, kFlat);
            QCOMPARE(b.max, kFlat);
        }
    }
    QCOMPARE(hits, 1);
}

void tst_TimeSeriesStore::bucketStatistics()
{
    TimeSeriesStore store;
    const QString s = QStringLiteral("s");
    const QList<double> values { 4, 8, 1, 7, 5 };
    for (int i = 0; i < values.size(); ++i)
        store.append(kT0 + i * kSecond, one(s, values[i]));
    store.appendGap(kT0 + 5 * kSecond);

    const QList<Bucket> b = store.query(s, kT0, kT0 + 10 * kSecond, 1);
    QCOMPARE(b.size(), qsizetype(1));
    QCOMPARE(b[0].startMs, kT0);
    QCOMPARE(b[0].endMs, kT0 + 10 * kSecond);
    QCOMPARE(b[0].count, 5);
    QCOMPARE(b[0].min, 1.0);
    QCOMPARE(b[0].max, 8.0);
    QCOMPARE(b[0].last, 5.0); // the newest finite value, not the gap marker after it
    QCOMPARE(b[0].mean, 5.0);
    QVERIFY(b[0].containsGap);
    QVERIFY(!b[0].isGap());
}

void tst_TimeSeriesStore::bucketsTileTheWindow_data()
{
    QTest::addColumn<qint64>("from");
    QTest::addColumn<qint64>("to");
    QTest::addColumn<int>("bucketCount");
    QTest::addColumn<int>("expectedBuckets");

    QTest::newRow("even") << kT0 << kT0 + kDay << 600 << 600;
    QTest::newRow("uneven") << kT0 << kT0 + 1001 << 7 << 7;
    QTest::newRow("more buckets than ms: clamped to the span") << kT0 << kT0 + 5 << 100 << 5;
    QTest::newRow("clamped to kMaxBuckets")
        << kT0 << kT0 + kDay << 1'000'000 << TimeSeriesStore::kMaxBuckets;
    QTest::newRow("whole int64 range")
        << std::numeric_limits<qint64>::min() << std::numeric_limits<qint64>::max() << 3 << 3;
}

void tst_TimeSeriesStore::bucketsTileTheWindow()
{
    QFETCH(qint64, from);
    QFETCH(qint64, to);
    QFETCH(int, bucketCount);
    QFETCH(int, expectedBuckets);

    TimeSeriesStore store;
    store.append(kT0, one(QStringLiteral("s"), 1));
    const QList<Bucket> b = store.query(QStringLiteral("s"), from, to, bucketCount);
    QCOMPARE(b.size(), qsizetype(expectedBuckets));
    QCOMPARE(b.first().startMs, from);
    QCOMPARE(b.last().endMs, to);
    const quint64 span = quint64(to) - quint64(from);
    const quint64 narrow = span / quint64(expectedBuckets);
    int counted = 0;
    for (qsizetype i = 0; i < b.size(); ++i) {
        if (i > 0)
            QCOMPARE(b[i].startMs, b[i - 1].endMs);
        const quint64 width = quint64(b[i].endMs) - quint64(b[i].startMs);
        QVERIFY(width == narrow || width == narrow + 1);
        counted += b[i].count;
    }
    QCOMPARE(counted, (from <= kT0 && kT0 < to) ? 1 : 0);
}

void tst_TimeSeriesStore::gapsAreNotZeros()
{
    TimeSeriesStore store;
    const QString a = QStringLiteral("a");
    const QString b = QStringLiteral("b");
    QCOMPARE(store.appendGap(kT0 - kSecond), 0); // no series yet: nothing to mark
    for (int i = 0; i < 10; ++i)
        store.append(kT0 + i * kSecond, { { a, 5.0 + i }, { b, 100.0 } });
    QCOMPARE(store.appendGap(kT0 + 10 * kSecond), 2); // every existing series
    for (int i = 11; i < 21; ++i)
        store.append(kT0 + i * kSecond, { { a, 5.0 + i }, { b, 100.0 } });

    // A bucket covering only the gap is a gap, not a 0.
    for (const QString &s : { a, b }) {
        const QList<Bucket> only = store.query(s, kT0 + 10 * kSecond, kT0 + 11 * kSecond, 1);
        QCOMPARE(only.size(), qsizetype(1));
        QVERIFY(only[0].isGap());
        QVERIFY(only[0].containsGap);
        QCOMPARE(only[0].count, 0);
        QVERIFY(std::isnan(only[0].min));
        QVERIFY(std::isnan(only[0].max));
        QVERIFY(std::isnan(only[0].mean));
        QVERIFY(std::isnan(only[0].last));
    }

    // One bucket per second: bucket 10 alone is the gap.
    const QList<Bucket> perSecond = store.query(a, kT0, kT0 + 21 * kSecond, 21);
    QCOMPARE(perSecond.size(), qsizetype(21));
    for (int i = 0; i < 21; ++i) {
        QCOMPARE(perSecond[i].isGap(), i == 10);
        QCOMPARE(perSecond[i].containsGap, i == 10);
        if (i != 10)
            QCOMPARE(perSecond[i].min, 5.0 + i);
    }

    // A bucket with values and the gap: flagged, and the gap does not drag min or mean to 0.
    const QList<Bucket> mixed = store.query(a, kT0 + 8 * kSecond, kT0 + 13 * kSecond, 1);
    QCOMPARE(mixed[0].count, 4);
    QVERIFY(mixed[0].containsGap);
    QCOMPARE(mixed[0].min, 13.0);
    QCOMPARE(mixed[0].mean, (13.0 + 14 + 16 + 17) / 4);

    // raw() returns the gap as NaN at its time.
    const QList<TimePoint> points = store.raw(b, kT0, kT0 + 21 * kSecond);
    QCOMPARE(points.size(), qsizetype(21));
    QCOMPARE(points[10].tMs, kT0 + 10 * kSecond);
    QVERIFY(points[10].isGap());
    QVERIFY(std::isnan(points[10].value));
    QCOMPARE(points[9].value, 100.0);

    // The newest point of every series is the gap right after appendGap.
    store.appendGap(kT0 + 30 * kSecond);
    QVERIFY(store.latest(a)->isGap());
    QCOMPARE(store.latest(b)->tMs, kT0 + 30 * kSecond);
}

void tst_TimeSeriesStore::nonFiniteValuesAreGaps_data()
{
    QTest::addColumn<double>("value");
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN();
    QTest::newRow("+inf") << std::numeric_limits<double>::infinity();
    QTest::newRow("-inf") << -std::numeric_limits<double>::infinity();
    QTest::newRow("beyond float range") << 1e300;
}

void tst_TimeSeriesStore::nonFiniteValuesAreGaps()
{
    QFETCH(double, value);
    TimeSeriesStore store;
    const QString s = QStringLiteral("s");
    store.append(kT0, one(s, 1));
    store.append(kT0 + kSecond, one(s, value));
    store.append(kT0 + 2 * kSecond, one(s, 3));
    QVERIFY(store.raw(s, kT0, kT0 + 3 * kSecond)[1].isGap());
    const QList<Bucket> b = store.query(s, kT0, kT0 + 3 * kSecond, 1);
    QCOMPARE(b[0].count, 2);
    QCOMPARE(b[0].max, 3.0);
    QVERIFY(b[0].containsGap);
}

void tst_TimeSeriesStore::windows_data()
{
    // Points at kT0 + 1 s ... kT0 + 10 s, values 1 ... 10.
    QTest::addColumn<qint64>("from");
    QTest::addColumn<qint64>("to");
    QTest::addColumn<int>("bucketCount");
    QTest::addColumn<int>("expectedPoints");
    QTest::addColumn<double>("firstValue"); // NaN when none
    QTest::addColumn<int>("expectedBuckets");

    const double none = std::numeric_limits<double>::quiet_NaN();
    const qint64 s = kSecond;
    QTest::newRow("exactly the data, end exclusive")
        << kT0 + s << kT0 + 10 * s << 3 << 9 << 1.0 << 3;
    QTest::newRow("around the data") << kT0 << kT0 + 11 * s << 11 << 10 << 1.0 << 11;
    QTest::newRow("overlaps the start") << kT0 - kDay << kT0 + 3 * s + 1 << 10 << 3 << 1.0 << 10;
    QTest::newRow("overlaps the end") << kT0 + 8 * s << kT0 + kDay << 10 << 3 << 8.0 << 10;
    QTest::newRow("inside, between samples")
        << kT0 + 4 * s + 1 << kT0 + 7 * s << 2 << 2 << 5.0 << 2;
    QTest::newRow("between two samples") << kT0 + 4 * s + 1 << kT0 + 5 * s << 4 << 0 << none << 4;
    QTest::newRow("before the data") << kT0 - kDay << kT0 << 5 << 0 << none << 5;
    QTest::newRow("after the data") << kT0 + 10 * s + 1 << kT0 + kDay << 5 << 0 << none << 5;
    QTest::newRow("empty window") << kT0 + 5 * s << kT0 + 5 * s << 5 << 0 << none << 0;
    QTest::newRow("inverted window") << kT0 + 9 * s << kT0 + 2 * s << 5 << 0 << none << 0;
    QTest::newRow("zero buckets") << kT0 << kT0 + 11 * s << 0 << 10 << 1.0 << 0;
    QTest::newRow("more buckets than points") << kT0 << kT0 + 11 * s << 1000 << 10 << 1.0 << 1000;
    QTest::newRow("everything") << std::numeric_limits<qint64>::min()
                                << std::numeric_limits<qint64>::max() << 1 << 10 << 1.0 << 1;
}

void tst_TimeSeriesStore::windows()
{
    QFETCH(qint64, from);
    QFETCH(qint64, to);
    QFETCH(int, bucketCount);
    QFETCH(int, expectedPoints);
    QFETCH(double, firstValue);
    QFETCH(int, expectedBuckets);

    TimeSeriesStore store;
    const QString s = QStringLiteral("s");
    for (int i = 1; i <= 10; ++i)
        store.append(kT0 + i * kSecond, one(s, i));

    const QList<TimePoint> points = store.raw(s, from, to);
    QCOMPARE(points.size(), qsizetype(expectedPoints));
    if (expectedPoints > 0) {
        QCOMPARE(points.first().value, firstValue);
        QVERIFY(points.first().tMs >= from);
        QVERIFY(points.last().tMs < to);
    }

    const QList<Bucket> buckets = store.query(s, from, to, bucketCount);
    QCOMPARE(buckets.size(), qsizetype(expectedBuckets));
    if (expectedBuckets == 0)
        return;
    int counted = 0;
    int nonEmpty = 0;
    for (const Bucket &b : buckets) {
        counted += b.count;
        nonEmpty += b.isGap() ? 0 : 1;
        if (b.count == 0)
            QVERIFY(std::isnan(b.min) && std::isnan(b.max) && std::isnan(b.mean));
        else
            QVERIFY(b.min <= b.mean && b.mean <= b.max);
    }
    QCOMPARE(counted, expectedPoints); // every point in the window lands in exactly one bucket
    QVERIFY(nonEmpty <= expectedPoints);
    const auto firstFull =
        std::find_if(buckets.begin(), buckets.end(), [](const Bucket &b) { return !b.isGap(); });
    if (expectedPoints > 0)
        QCOMPARE(firstFull->min, firstValue);
    else
        QVERIFY(firstFull == buckets.end());
}

void tst_TimeSeriesStore::outOfOrderRefused()
{
    TimeSeriesStore store;
    const QString a = QStringLiteral("a");
    const QString b = QStringLiteral("b");
    QCOMPARE(store.append(kT0 + 5 * kSecond, one(a, 1)), 1);
    QCOMPARE(store.append(kT0 + 4 * kSecond, one(a, 2)), 0); // older
    QCOMPARE(store.append(kT0 + 5 * kSecond, one(a, 3)), 0); // same time
    QCOMPARE(store.stats().refusedOutOfOrder, qint64(2));
    // Order is per series: a new series may start earlier than another one's last point.
    QCOMPARE(store.append(kT0 + 3 * kSecond, one(b, 4)), 1);
    // A duplicate name within one tick: the second value is refused.
    QCOMPARE(store.append(kT0 + 6 * kSecond, { { a, 5 }, { a, 6 } }), 1);
    QCOMPARE(store.stats().refusedOutOfOrder, qint64(3));
    // A gap older than a series' last point is refused for that series only.
    QCOMPARE(store.appendGap(kT0 + 4 * kSecond), 1);
    QCOMPARE(store.stats().refusedOutOfOrder, qint64(4));

    const QList<TimePoint> points = store.raw(a, kT0, kT0 + kDay);
    QCOMPARE(points.size(), qsizetype(2));
    QCOMPARE(points[0].value, 1.0);
    QCOMPARE(points[1].value, 5.0);
    QCOMPARE(store.raw(b, kT0, kT0 + kDay).size(), qsizetype(2)); // 4 and the gap
}

void tst_TimeSeriesStore::latestAndNames()
{
    TimeSeriesStore store;
    QVERIFY(!store.latest(QStringLiteral("nothing")));
    QVERIFY(store.seriesNames().isEmpty());
    QVERIFY(store.query(QStringLiteral("nothing"), kT0, kT0 + kDay, 10).isEmpty());
    store.append(kT0, { { QStringLiteral("z"), 1 }, { QStringLiteral("a"), 2 } });
    store.append(kT0 + kSecond, { { QStringLiteral("m"), 3 }, { QStringLiteral("a"), 4 } });
    QCOMPARE(store.seriesNames(),
             (QStringList { QStringLiteral("z"), QStringLiteral("a"), QStringLiteral("m") }));
    const std::optional<TimePoint> a = store.latest(QStringLiteral("a"));
    QVERIFY(a);
    QCOMPARE(a->tMs, kT0 + kSecond);
    QCOMPARE(a->value, 4.0);
    QCOMPARE(store.latest(QStringLiteral("z"))->value, 1.0);
}

QTEST_GUILESS_MAIN(tst_TimeSeriesStore)
#include "tst_timeseriesstore.moc"

// TimeSeriesStore: the memory budget over a simulated 48 h, min/max buckets that keep one-sample
// spikes when zoomed out, explicit gaps, window edge cases, refusals (out of order, maxSeries),
// re-basing of the 32-bit offsets past 24.8 days, and whole-tick consistency under concurrency.
#include "core/logging/logging.h"
#include "core/timeseries/timeseriesstore.h"

#include <QTest>

#include <spdlog/sinks/base_sink.h>

#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <mutex>
#include <thread>

using namespace poolscope;

namespace {

constexpr qint64 kSecond = 1000;
constexpr qint64 kDay = 86'400 * kSecond;
constexpr qint64 kT0 = 1'700'000'000'000; // 2023-11-14, a realistic server timestamp
constexpr qint64 kInt32Max = std::numeric_limits<std::int32_t>::max();
#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kUnderThreadSanitizer = true;
#else
constexpr bool kUnderThreadSanitizer = false;
#endif
#else
constexpr bool kUnderThreadSanitizer = false;
#endif

// Resident set size of this process, from /proc/self/statm (second field, in pages).
qint64 residentBytes()
{
    FILE *f = std::fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    long size = 0;
    long resident = 0;
    const int read = std::fscanf(f, "%ld %ld", &size, &resident);
    std::fclose(f);
    return read == 2 ? qint64(resident) * qint64(sysconf(_SC_PAGESIZE)) : -1;
}

QString name(int i)
{
    return QStringLiteral("series_%1").arg(i);
}

TimeSeriesStore::Values one(const QString &series, double value)
{
    return { { series, value } };
}

// Counts the lines logged on the "store" logger.
class CountingSink final : public spdlog::sinks::base_sink<std::mutex>
{
public:
    std::atomic<int> storeLines { 0 };

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override
    {
        if (std::string_view(msg.logger_name.data(), msg.logger_name.size()) == "store")
            ++storeLines;
    }
    void flush_() override { }
};

} // namespace

class tst_TimeSeriesStore : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void budget_data();
    void budget();
    void memoryStaysWithinBudgetOver48Hours();
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
    void refuseBeyondMaxSeries();
    void rebaseWithInjectedEpoch();
    void rebaseDropsBeyondOffsetRange();
    void latestAndNames();
    void concurrentReadersSeeWholeTicks();
};

void tst_TimeSeriesStore::budget_data()
{
    QTest::addColumn<int>("maxSeries");
    QTest::addColumn<int>("capacity");
    QTest::addColumn<qint64>("expected");

    QTest::newRow("defaults: 48 x 24 h at 1 Hz") << 48 << 86'400 << qint64(33'177'600);
    QTest::newRow("small") << 3 << 10 << qint64(240);
    QTest::newRow("normalised to at least 1 x 1") << 0 << -5 << qint64(8);
}

void tst_TimeSeriesStore::budget()
{
    QFETCH(int, maxSeries);
    QFETCH(int, capacity);
    QFETCH(qint64, expected);
    QCOMPARE(sizeof(StoredPoint), size_t(8));
    TimeSeriesStoreOptions options;
    options.maxSeries = maxSeries;
    options.capacityPerSeries = capacity;
    QCOMPARE(TimeSeriesStore::memoryBudgetBytes(options), expected);
    QVERIFY(TimeSeriesStore::memoryBudgetBytes() < 50'000'000);

    TimeSeriesStore store(options);
    QCOMPARE(store.memoryBytes(), qint64(0)); // nothing allocated before the first write
    store.append(kT0, one(name(0), 1));
    QCOMPARE(store.memoryBytes(), expected / qMax(1, maxSeries)); // a whole ring at first write
}

void tst_TimeSeriesStore::memoryStaysWithinBudgetOver48Hours()
{
    constexpr int kSeries = 30;
    const qint64 rssBefore = residentBytes();
    QVERIFY(rssBefore > 0);

    TimeSeriesStore store; // defaults: 48 series x 86,400 points
    const qint64 budget = TimeSeriesStore::memoryBudgetBytes();
    TimeSeriesStore::Values tick;
    for (int s = 0; s < kSeries; ++s)
        tick.append({ name(s), 0.0 });

    qint64 afterDay1 = 0;
    qint64 rssAfterDay1 = 0;
    constexpr int kTicks = 2 * 86'400;
    for (int i = 0; i < kTicks; ++i) {
        for (int s = 0; s < kSeries; ++s)
            tick[s].second = double(s * 1000 + i % 1000);
        QCOMPARE(store.append(kT0 + i * kSecond, tick), kSeries);
        if (i == 86'400 - 1) {
            afterDay1 = store.memoryBytes();
            rssAfterDay1 = residentBytes();
        }
    }
    const qint64 afterDay2 = store.memoryBytes();

    QCOMPARE(afterDay1, qint64(kSeries) * 86'400 * 8);
    QVERIFY(afterDay1 <= budget);
    QCOMPARE(afterDay2, afterDay1); // constant once every series exists

    constexpr qint64 kSlack = 16 * 1024 * 1024;
    const qint64 rssAfterDay2 = residentBytes();
    qInfo("RSS: +%.1f MiB after day 1, +%.1f MiB after day 2 (ring storage %.1f MiB, budget %.1f "
          "MiB)",
          double(rssAfterDay1 - rssBefore) / 1048576.0,
          double(rssAfterDay2 - rssBefore) / 1048576.0, double(afterDay2) / 1048576.0,
          double(budget) / 1048576.0);
    if (kUnderThreadSanitizer) {
        // TSan maps ~4 bytes of shadow per application byte: RSS says nothing about the store.
        qInfo("RSS bound not checked under ThreadSanitizer");
    } else {
        QVERIFY2(rssAfterDay2 - rssBefore <= budget + kSlack, "RSS grew beyond the budget");
        QVERIFY2(rssAfterDay2 - rssAfterDay1 <= kSlack, "RSS kept growing on day 2");
    }

    // The first day is gone, the newest 24 h are all there.
    const qint64 end = kT0 + kTicks * kSecond;
    for (int s : { 0, kSeries - 1 }) {
        QVERIFY(store.raw(name(s), kT0, kT0 + kDay).isEmpty());
        const QList<TimePoint> all = store.raw(name(s), kT0, end);
        QCOMPARE(all.size(), qsizetype(86'400));
        QCOMPARE(all.first().tMs, kT0 + kDay);
        QCOMPARE(all.last().tMs, end - kSecond);
        QCOMPARE(all.last().value, double(s * 1000 + (kTicks - 1) % 1000));
    }
    QCOMPARE(store.stats().refusedOutOfOrder, qint64(0));
}

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

void tst_TimeSeriesStore::refuseBeyondMaxSeries()
{
    auto sink = std::make_shared<CountingSink>();
    logging::addSink(sink);

    TimeSeriesStoreOptions options;
    options.maxSeries = 3;
    options.capacityPerSeries = 16;
    TimeSeriesStore store(options);
    TimeSeriesStore::Values tick;
    for (int i = 0; i < 5; ++i)
        tick.append({ name(i), double(i) });
    QCOMPARE(store.append(kT0, tick), 3);
    QCOMPARE(store.seriesNames(), (QStringList { name(0), name(1), name(2) }));
    QCOMPARE(store.stats().refusedNewSeries, qint64(2));
    QCOMPARE(store.memoryBytes(), TimeSeriesStore::memoryBudgetBytes(options));

    // Existing series keep working; new names stay refused, counted, logged only once.
    QCOMPARE(store.append(kT0 + kSecond, tick), 3);
    QCOMPARE(store.append(kT0 + 2 * kSecond, one(QStringLiteral("late"), 1)), 0);
    QCOMPARE(store.stats().refusedNewSeries, qint64(5));
    QCOMPARE(store.raw(name(0), kT0, kT0 + kDay).size(), qsizetype(2));
    QVERIFY(store.raw(name(3), kT0, kT0 + kDay).isEmpty());
    QVERIFY(!store.latest(name(4)));
    QCOMPARE(store.memoryBytes(), TimeSeriesStore::memoryBudgetBytes(options));

    logging::removeSink(sink);
    QCOMPARE(sink->storeLines.load(), 1);
}

void tst_TimeSeriesStore::rebaseWithInjectedEpoch()
{
    // The epoch is injected 24.8 days minus 5 s before the first sample: the int32 offsets run
    // out on the sixth tick.
    TimeSeriesStoreOptions options;
    options.epochMs = kT0 - kInt32Max + 5 * kSecond;
    TimeSeriesStore store(options);
    const QString a = QStringLiteral("a");
    const QString b = QStringLiteral("b");
    for (int i = 0; i < 20; ++i) {
        if (i == 12)
            store.appendGap(kT0 + i * kSecond);
        else
            store.append(kT0 + i * kSecond, { { a, double(i) }, { b, -double(i) } });
        QCOMPARE(store.stats().rebases, qint64(i < 6 ? 0 : 1));
    }
    const TimeSeriesStoreStats stats = store.stats();
    QCOMPARE(stats.epochMs, kT0 + 6 * kSecond);
    QCOMPARE(stats.droppedByRebase, qint64(0));
    QCOMPARE(stats.refusedOutOfOrder, qint64(0));

    // Every timestamp and value survives the re-base exactly, on both sides of it.
    const QList<TimePoint> points = store.raw(a, kT0 - kDay, kT0 + kDay);
    QCOMPARE(points.size(), qsizetype(20));
    for (int i = 0; i < 20; ++i) {
        QCOMPARE(points[i].tMs, kT0 + i * kSecond);
        if (i == 12)
            QVERIFY(points[i].isGap());
        else
            QCOMPARE(points[i].value, double(i));
    }
    // A query across the re-base point.
    const QList<Bucket> buckets = store.query(b, kT0, kT0 + 20 * kSecond, 2);
    QCOMPARE(buckets[0].count, 10);
    QCOMPARE(buckets[0].min, -9.0);
    QCOMPARE(buckets[0].max, 0.0);
    QCOMPARE(buckets[1].count, 9);
    QVERIFY(buckets[1].containsGap);
    QCOMPARE(store.latest(b)->tMs, kT0 + 19 * kSecond);

    // The order check still works in the new offset space.
    QCOMPARE(store.append(kT0 + 19 * kSecond, one(a, 1)), 0);
    QCOMPARE(store.append(kT0 + 20 * kSecond, one(a, 20)), 1);
}

void tst_TimeSeriesStore::rebaseDropsBeyondOffsetRange()
{
    // At one sample a minute, 86,400 points would span 60 days, more than the ±24.8 days the
    // offsets reach: re-basing drops what is older than 24.8 days before the new epoch.
    TimeSeriesStore store;
    const QString s = QStringLiteral("s");
    constexpr qint64 kMinute = 60 * kSecond;
    constexpr int kTicks = 60 * 24 * 60; // 60 days
    for (int i = 0; i < kTicks; ++i)
        QCOMPARE(store.append(kT0 + i * kMinute, one(s, i % 500)), 1);

    const TimeSeriesStoreStats stats = store.stats();
    QCOMPARE(stats.rebases, qint64(2));
    QVERIFY(stats.droppedByRebase > 0);
    const QList<TimePoint> points = store.raw(s, kT0, kT0 + 61 * kDay);
    const qint64 newest = kT0 + (kTicks - 1) * kMinute;
    QCOMPARE(points.last().tMs, newest);
    QVERIFY(stats.epochMs - points.first().tMs <= kInt32Max + 1);
    QVERIFY(points.first().tMs - kMinute
            < stats.epochMs + std::numeric_limits<std::int32_t>::min());
    QCOMPARE(qint64(points.size()) + stats.droppedByRebase, qint64(kTicks));
    for (qsizetype i = 1; i < points.size(); ++i) {
        if (points[i].tMs - points[i - 1].tMs != kMinute)
            QFAIL("points lost or reordered by re-basing");
    }
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

void tst_TimeSeriesStore::concurrentReadersSeeWholeTicks()
{
    // One writer appends ticks {a: i, b: i, c: -i} (and a gap now and then) into small rings that
    // wrap all the time; two readers check every tick they see is whole.
    TimeSeriesStoreOptions options;
    options.capacityPerSeries = 512;
    TimeSeriesStore store(options);
    const QString a = QStringLiteral("a");
    const QString b = QStringLiteral("b");
    const QString c = QStringLiteral("c");
    const QStringList abc { a, b, c };
    constexpr int kTicks = 20'000;
    constexpr qint64 kLo = std::numeric_limits<qint64>::min();
    constexpr qint64 kHi = std::numeric_limits<qint64>::max();

    std::atomic<bool> done { false };
    std::atomic<int> torn { 0 };
    std::atomic<int> reads { 0 };
    std::atomic<int> nonEmptyReads { 0 };

    auto reader = [&] {
        while (!done.load()) {
            // One lock for all three: the same ticks in each.
            const QList<QList<TimePoint>> all = store.rawMany(abc, kLo, kHi);
            const QList<TimePoint> &pa = all[0];
            const QList<TimePoint> &pb = all[1];
            const QList<TimePoint> &pc = all[2];
            if (pa.size() != pb.size() || pa.size() != pc.size()) {
                ++torn;
                continue;
            }
            for (qsizetype i = 0; i < pa.size(); ++i) {
                const bool gap = pa[i].isGap();
                if (pa[i].tMs != pb[i].tMs || pa[i].tMs != pc[i].tMs || gap != pb[i].isGap()
                    || gap != pc[i].isGap()
                    || (!gap && (pa[i].value != pb[i].value || pc[i].value != -pa[i].value))
                    || (i > 0 && pa[i].tMs <= pa[i - 1].tMs)) {
                    ++torn;
                    break;
                }
            }
            if (!pa.isEmpty())
                ++nonEmptyReads;

            // Bucketed under one lock: a and b identical bucket for bucket.
            const QList<QList<Bucket>> q = store.queryMany({ a, b }, kT0, kT0 + kTicks, 50);
            for (qsizetype i = 0; i < q[0].size(); ++i) {
                const Bucket &x = q[0][i];
                const Bucket &y = q[1][i];
                if (x.count != y.count || x.containsGap != y.containsGap
                    || (x.count > 0 && (x.min != y.min || x.max != y.max || x.last != y.last))) {
                    ++torn;
                    break;
                }
            }

            // Separate calls may straddle a write, but a timestamp seen in both has one value.
            const QList<TimePoint> sa = store.raw(a, kLo, kHi);
            const QList<TimePoint> sb = store.raw(b, kLo, kHi);
            QHash<qint64, double> byTime;
            for (const TimePoint &p : sa)
                byTime.insert(p.tMs, p.value);
            for (const TimePoint &p : sb) {
                const auto it = byTime.constFind(p.tMs);
                if (it != byTime.constEnd() && !(p.isGap() && std::isnan(*it)) && *it != p.value)
                    ++torn;
            }
            ++reads;
        }
    };

    std::thread r1(reader);
    std::thread r2(reader);
    std::thread writer([&] {
        for (int i = 0; i < kTicks; ++i) {
            if (i % 97 == 96)
                store.appendGap(kT0 + i);
            else
                store.append(kT0 + i, { { a, double(i) }, { b, double(i) }, { c, -double(i) } });
            if (i % 64 == 0)
                std::this_thread::yield();
        }
        done.store(true);
    });
    writer.join();
    r1.join();
    r2.join();

    qInfo("%d reads (%d non-empty) during %d ticks", reads.load(), nonEmptyReads.load(), kTicks);
    QCOMPARE(torn.load(), 0);
    QVERIFY(reads.load() > 0);
    QCOMPARE(store.latest(a)->tMs, kT0 + kTicks - 1);
    QCOMPARE(store.raw(a, kLo, kHi).size(), qsizetype(512));
}

QTEST_GUILESS_MAIN(tst_TimeSeriesStore)
#include "tst_timeseriesstore.moc"

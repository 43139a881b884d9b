// TimeSeriesStore capacity and concurrency: the memory budget over a simulated 48 h, refusal
// beyond maxSeries, re-basing of the 32-bit offsets past 24.8 days, and whole-tick consistency
// with one writer and two readers.
#include "core/logging/logging.h"
#include "tests/unit/timeseriestestutil.h"

#include <QTest>

#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <thread>

using namespace poolscope;
using namespace poolscope::testing;

class tst_TimeSeriesStoreCapacity : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void budget_data();
    void budget();
    void memoryStaysWithinBudgetOver48Hours();
    void refuseBeyondMaxSeries();
    void rebaseWithInjectedEpoch();
    void rebaseDropsBeyondOffsetRange();
    void concurrentReadersSeeWholeTicks();
};

void tst_TimeSeriesStoreCapacity::budget_data()
{
    QTest::addColumn<int>("maxSeries");
    QTest::addColumn<int>("capacity");
    QTest::addColumn<qint64>("expected");

    QTest::newRow("defaults: 48 x 24 h at 1 Hz") << 48 << 86'400 << qint64(33'177'600);
    QTest::newRow("small") << 3 << 10 << qint64(240);
    QTest::newRow("normalised to at least 1 x 1") << 0 << -5 << qint64(8);
}

void tst_TimeSeriesStoreCapacity::budget()
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

void tst_TimeSeriesStoreCapacity::memoryStaysWithinBudgetOver48Hours()
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

void tst_TimeSeriesStoreCapacity::refuseBeyondMaxSeries()
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

void tst_TimeSeriesStoreCapacity::rebaseWithInjectedEpoch()
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

void tst_TimeSeriesStoreCapacity::rebaseDropsBeyondOffsetRange()
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

void tst_TimeSeriesStoreCapacity::concurrentReadersSeeWholeTicks()
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
    // Reads that saw the store in the middle of the writing (some ticks, not the last one): the
    // test is about those, so the writer waits half-way until there are some.
    std::atomic<int> readsWhileWriting { 0 };
    constexpr qint64 kLastTick = kT0 + kTicks - 1;

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
            if (!pa.isEmpty()) {
                ++nonEmptyReads;
                if (pa.last().tMs < kLastTick)
                    ++readsWhileWriting;
            }

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
            if (i == kTicks / 2) {
                // Bounded: if the readers never get to read, the check below says so.
                const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
                while (readsWhileWriting.load() < 4 && std::chrono::steady_clock::now() < until)
                    std::this_thread::yield();
            }
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

    qInfo("%d reads (%d non-empty, %d while writing) during %d ticks", reads.load(),
          nonEmptyReads.load(), readsWhileWriting.load(), kTicks);
    QCOMPARE(torn.load(), 0);
    QVERIFY(reads.load() > 0);
    QVERIFY(nonEmptyReads.load() >= readsWhileWriting.load());
    QVERIFY2(readsWhileWriting.load() >= 4, qPrintable(QString::number(readsWhileWriting.load())));
    QCOMPARE(store.latest(a)->tMs, kT0 + kTicks - 1);
    QCOMPARE(store.raw(a, kLo, kHi).size(), qsizetype(512));
}

QTEST_GUILESS_MAIN(tst_TimeSeriesStoreCapacity)
#include "tst_timeseriesstore_capacity.moc"

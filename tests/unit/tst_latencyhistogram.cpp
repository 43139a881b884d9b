// LatencyHistogram: accuracy bounds (~6 % by construction), exact small values, merging and the
// behaviour at the edges (empty, huge values).
#include "core/util/latencyhistogram.h"

#include <QTest>

#include <cmath>
#include <limits>

using namespace poolscope;
using namespace std::chrono_literals;

namespace {

constexpr double kTolerance = 0.07;

bool within(std::uint64_t actual, double expected, double tolerance = kTolerance)
{
    return std::abs(double(actual) - expected) <= expected * tolerance;
}

QByteArray describe(std::uint64_t actual, double expected)
{
    return QByteArray("got ") + QByteArray::number(qulonglong(actual)) + " expected ~"
        + QByteArray::number(expected, 'f', 1);
}

} // namespace

class tst_LatencyHistogram : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void empty();
    void uniform_data();
    void uniform();
    void singleValue_data();
    void singleValue();
    void smallValuesExact();
    void merge();
    void hugeValues();
    void recordNanoseconds();
    void reset();
    void summary();
};

void tst_LatencyHistogram::empty()
{
    const LatencyHistogram h;
    QCOMPARE(h.count(), std::uint64_t(0));
    QCOMPARE(h.maxMicros(), std::uint64_t(0));
    QCOMPARE(h.meanMicros(), 0.0);
    for (double q : { 0.0, 0.5, 0.99, 1.0 })
        QCOMPARE(h.percentileMicros(q), std::uint64_t(0));
    const LatencySummary s = LatencySummary::of(h);
    QCOMPARE(s.count, std::uint64_t(0));
    QCOMPARE(s.p99Us, std::uint64_t(0));
}

void tst_LatencyHistogram::uniform_data()
{
    QTest::addColumn<double>("q");
    QTest::addColumn<double>("expected");

    QTest::newRow("p10") << 0.10 << 1000.0;
    QTest::newRow("p50") << 0.50 << 5000.0;
    QTest::newRow("p90") << 0.90 << 9000.0;
    QTest::newRow("p95") << 0.95 << 9500.0;
    QTest::newRow("p99") << 0.99 << 9900.0;
    QTest::newRow("p100") << 1.00 << 10000.0;
}

void tst_LatencyHistogram::uniform()
{
    QFETCH(double, q);
    QFETCH(double, expected);
    LatencyHistogram h;
    for (std::uint64_t us = 1; us <= 10000; ++us)
        h.recordMicros(us);
    QCOMPARE(h.count(), std::uint64_t(10000));
    QCOMPARE(h.maxMicros(), std::uint64_t(10000));
    QCOMPARE(h.meanMicros(), 5000.5);
    const std::uint64_t p = h.percentileMicros(q);
    QVERIFY2(within(p, expected), describe(p, expected).constData());
}

void tst_LatencyHistogram::singleValue_data()
{
    QTest::addColumn<quint64>("value");

    for (quint64 v : { 17ull, 100ull, 1023ull, 1024ull, 1500ull, 33333ull, 250000ull, 7654321ull,
                       3600000000ull })
        QTest::addRow("%llu us", v) << v;
}

void tst_LatencyHistogram::singleValue()
{
    QFETCH(quint64, value);
    LatencyHistogram h;
    for (int i = 0; i < 1000; ++i)
        h.recordMicros(value);
    QCOMPARE(h.maxMicros(), std::uint64_t(value));
    QCOMPARE(h.meanMicros(), double(value));
    for (double q : { 0.0, 0.01, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999, 1.0 }) {
        const std::uint64_t p = h.percentileMicros(q);
        QVERIFY2(within(p, double(value)), describe(p, double(value)).constData());
    }

    // With a larger value present, the lower one is still reported within the bound (not capped
    // at the maximum, but by its own bucket).
    h.recordMicros(value * 10);
    const std::uint64_t p50 = h.percentileMicros(0.5);
    QVERIFY2(within(p50, double(value)), describe(p50, double(value)).constData());
    QVERIFY(p50 >= value);
}

void tst_LatencyHistogram::smallValuesExact()
{
    for (std::uint64_t v = 0; v < 16; ++v) {
        LatencyHistogram h;
        h.recordMicros(v);
        h.recordMicros(1000); // a larger value keeps the cap at max from hiding errors
        QCOMPARE(h.percentileMicros(0.0), v);
        QCOMPARE(h.percentileMicros(0.5), v);
        QCOMPARE(h.percentileMicros(1.0), std::uint64_t(1000));
    }
    LatencyHistogram h;
    for (std::uint64_t v : { 3, 7, 11 })
        h.recordMicros(v);
    QCOMPARE(h.percentileMicros(0.0), std::uint64_t(3));
    QCOMPARE(h.percentileMicros(0.5), std::uint64_t(7));
    QCOMPARE(h.percentileMicros(1.0), std::uint64_t(11));
}

void tst_LatencyHistogram::merge()
{
    LatencyHistogram a;
    LatencyHistogram b;
    LatencyHistogram all;
    for (std::uint64_t i = 1; i <= 5000; ++i) {
        const std::uint64_t x = (i * 7919) % 100000 + 1;
        const std::uint64_t y = i * 3 + 200000;
        a.recordMicros(x);
        b.recordMicros(y);
        all.recordMicros(x);
        all.recordMicros(y);
    }
    LatencyHistogram merged = a;
    merged.merge(b);
    QCOMPARE(merged.count(), all.count());
    QCOMPARE(merged.maxMicros(), all.maxMicros());
    QCOMPARE(merged.meanMicros(), all.meanMicros());
    for (double q : { 0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0 })
        QCOMPARE(merged.percentileMicros(q), all.percentileMicros(q));
    // The merge did change something: b's values dominate the upper half.
    QVERIFY(merged.percentileMicros(0.75) > a.maxMicros());

    LatencyHistogram intoEmpty;
    intoEmpty.merge(a);
    QCOMPARE(intoEmpty.percentileMicros(0.5), a.percentileMicros(0.5));
    QCOMPARE(intoEmpty.count(), a.count());
}

void tst_LatencyHistogram::hugeValues()
{
    LatencyHistogram h;
    const std::uint64_t threeHours = 3ull * 3600 * 1000 * 1000;
    h.recordMicros(threeHours);
    QCOMPARE(h.maxMicros(), threeHours);
    QVERIFY2(within(h.percentileMicros(0.5), double(threeHours)),
             describe(h.percentileMicros(0.5), double(threeHours)).constData());

    // Far beyond the histogram's range: recorded in the top bucket, reported no higher than the
    // largest value seen, and never below the range's upper end.
    LatencyHistogram beyond;
    beyond.recordMicros(1000);
    beyond.record(std::chrono::nanoseconds::max());
    const std::uint64_t maxUs = std::uint64_t(std::chrono::nanoseconds::max().count() / 1000);
    QVERIFY(beyond.maxMicros() >= maxUs);
    QCOMPARE(beyond.count(), std::uint64_t(2));
    const std::uint64_t top = beyond.percentileMicros(1.0);
    QVERIFY(top <= beyond.maxMicros());
    QVERIFY2(top >= (std::uint64_t(1) << 40), QByteArray::number(qulonglong(top)).constData());
    QVERIFY(within(beyond.percentileMicros(0.0), 1000));

    LatencyHistogram extreme;
    extreme.recordMicros(std::numeric_limits<std::uint64_t>::max());
    QCOMPARE(extreme.maxMicros(), std::numeric_limits<std::uint64_t>::max());
    QVERIFY(extreme.percentileMicros(0.5) > 0);
}

void tst_LatencyHistogram::recordNanoseconds()
{
    LatencyHistogram h;
    h.record(1499ns); // rounds to 1 us
    h.record(1500ns); // rounds to 2 us
    h.record(-5ns);   // clock oddities count as 0
    h.record(12ms);
    QCOMPARE(h.count(), std::uint64_t(4));
    QCOMPARE(h.percentileMicros(0.0), std::uint64_t(0));
    QCOMPARE(h.percentileMicros(0.5), std::uint64_t(1));
    QCOMPARE(h.percentileMicros(0.75), std::uint64_t(2));
    QCOMPARE(h.maxMicros(), std::uint64_t(12000));
}

void tst_LatencyHistogram::reset()
{
    LatencyHistogram h;
    h.recordMicros(500);
    h.reset();
    QCOMPARE(h.count(), std::uint64_t(0));
    QCOMPARE(h.percentileMicros(0.5), std::uint64_t(0));
    h.recordMicros(20);
    QCOMPARE(h.percentileMicros(1.0), std::uint64_t(20));
}

void tst_LatencyHistogram::summary()
{
    LatencyHistogram h;
    for (std::uint64_t us = 1; us <= 10000; ++us)
        h.recordMicros(us);
    const LatencySummary s = LatencySummary::of(h);
    QCOMPARE(s.count, std::uint64_t(10000));
    QCOMPARE(s.meanUs, 5000.5);
    QCOMPARE(s.p50Us, h.percentileMicros(0.50));
    QCOMPARE(s.p95Us, h.percentileMicros(0.95));
    QCOMPARE(s.p99Us, h.percentileMicros(0.99));
    QCOMPARE(s.maxUs, std::uint64_t(10000));
    QVERIFY(within(s.p50Us, 5000));
    QVERIFY(within(s.p95Us, 9500));
    QVERIFY(within(s.p99Us, 9900));
    QVERIFY(s.p50Us <= s.p95Us && s.p95Us <= s.p99Us && s.p99Us <= s.maxUs);
}

QTEST_GUILESS_MAIN(tst_LatencyHistogram)
#include "tst_latencyhistogram.moc"

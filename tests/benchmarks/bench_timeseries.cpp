// bench_timeseries: TimeSeriesStore costs on the sampler and chart paths (not part of ctest).
//  - BM_AppendTick: one sampler tick of 30 series (one exclusive lock, 30 name look-ups, 30 ring
//    writes) into full rings, i.e. in the steady state where every write overwrites the oldest.
//  - BM_Query24h: one chart refresh of a full 24 h series (86,400 points) into 1000 min/max
//    buckets: binary search + one pass, under a shared lock, result copied out.
//  - BM_QueryMany24h: the same for 8 series under one lock.
//  - BM_Raw24h: the copy of all 86,400 points of one series (CSV export path).

#include "core/timeseries/timeseriesstore.h"

#include <benchmark/benchmark.h>

#include <memory>

namespace {

using poolscope::TimeSeriesStore;

constexpr qint64 kT0 = 1'700'000'000'000;
constexpr qint64 kSecond = 1000;
constexpr int kPoints = 86'400;
constexpr int kSeries = 30;

TimeSeriesStore::Values makeTick()
{
    TimeSeriesStore::Values tick;
    for (int s = 0; s < kSeries; ++s)
        tick.append({ QStringLiteral("series_%1").arg(s), 0.0 });
    return tick;
}

// A store with kSeries full 24 h series; returns the time of the next tick.
qint64 fill(TimeSeriesStore &store, TimeSeriesStore::Values &tick)
{
    for (int i = 0; i < kPoints; ++i) {
        for (int s = 0; s < kSeries; ++s)
            tick[s].second = double((i * 7 + s) % 500);
        store.append(kT0 + i * kSecond, tick);
    }
    return kT0 + kPoints * kSecond;
}

TimeSeriesStore &fullStore()
{
    static TimeSeriesStore store;
    static bool filled = [] {
        TimeSeriesStore::Values tick = makeTick();
        fill(store, tick);
        return true;
    }();
    (void)filled;
    return store;
}

void BM_AppendTick(benchmark::State &state)
{
    // Filled once (Google Benchmark calls this function several times); time keeps increasing.
    static TimeSeriesStore store;
    static TimeSeriesStore::Values tick = makeTick();
    static qint64 t = fill(store, tick);
    for (auto _ : state) {
        tick[0].second = double(t % 100);
        benchmark::DoNotOptimize(store.append(t, tick));
        t += kSecond;
    }
    state.SetItemsProcessed(state.iterations() * kSeries);
}
BENCHMARK(BM_AppendTick);

void BM_Query24h(benchmark::State &state)
{
    const TimeSeriesStore &store = fullStore();
    const QString name = QStringLiteral("series_3");
    const int buckets = int(state.range(0));
    for (auto _ : state) {
        auto result = store.query(name, kT0, kT0 + kPoints * kSecond, buckets);
        benchmark::DoNotOptimize(result.data());
    }
    state.SetItemsProcessed(state.iterations() * kPoints);
}
BENCHMARK(BM_Query24h)->Arg(1000)->Arg(100);

void BM_QueryMany24h(benchmark::State &state)
{
    const TimeSeriesStore &store = fullStore();
    QStringList names;
    for (int s = 0; s < 8; ++s)
        names.append(QStringLiteral("series_%1").arg(s));
    for (auto _ : state) {
        auto result = store.queryMany(names, kT0, kT0 + kPoints * kSecond, 1000);
        benchmark::DoNotOptimize(result.data());
    }
    state.SetItemsProcessed(state.iterations() * kPoints * 8);
}
BENCHMARK(BM_QueryMany24h);

void BM_Raw24h(benchmark::State &state)
{
    const TimeSeriesStore &store = fullStore();
    const QString name = QStringLiteral("series_3");
    for (auto _ : state) {
        auto result = store.raw(name, kT0, kT0 + kPoints * kSecond);
        benchmark::DoNotOptimize(result.data());
    }
    state.SetItemsProcessed(state.iterations() * kPoints);
}
BENCHMARK(BM_Raw24h);

} // namespace

BENCHMARK_MAIN();

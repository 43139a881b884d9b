#pragma once

#include "core/events/eventlog.h"
#include "core/sampler/sampler.h"
#include "core/sandbox/sandbox.h"
#include "core/timeseries/timeseriesstore.h"

#include <QObject>

#include <memory>
#include <optional>

class QThread;

namespace poolscope {

class DemoWorkload;
class SandboxController;

// What the dashboard is watching, and everything it started to do so: the store, the sampler,
// optionally an embedded sandbox and a demo workload driven through a real pool. The window's
// pages observe it; it owns no widgets.
//
// Thread contract: create, use and destroy on the GUI thread. Nothing here blocks that thread:
// the sandbox starts on its own long-lived thread (its servers die with that thread, see
// Sandbox), the sampler and the demo workload run on theirs, and results arrive as queued
// signals. The destructor (or stop()) stops the workload, the sampler and the sandbox, in that
// order, and waits for them; the sandbox stop is bounded (about a second).
class MonitorSession : public QObject
{
    Q_OBJECT

public:
    struct Options
    {
        QString conninfo;              // what to watch; ignored when startSandbox is set
        QString poolerConsoleConninfo; // optional PgBouncer console
        bool startSandbox = false;     // `poolscope --demo`: watch an embedded sandbox
        sandbox::SandboxOptions sandboxOptions;
        bool demoWorkload = false; // drive a light, varying load through a real pool
        std::chrono::milliseconds interval { 1000 };
    };

    explicit MonitorSession(QObject *parent = nullptr);
    ~MonitorSession() override;

    void start(const Options &options);
    void stop();

    TimeSeriesStore &store() { return m_store; }
    EventLog &events() { return m_events; }
    Sampler *sampler() const { return m_sampler.get(); } // null until watching
    QString conninfo() const { return m_conninfo; }      // what is watched, with secrets
    QString displayName() const;                         // redacted, for titles
    std::optional<sandbox::SandboxEndpoints> sandboxEndpoints() const { return m_endpoints; }
    const std::optional<ActivitySample> &lastSample() const { return m_lastSample; }
    bool serverUnreachable() const { return m_unreachable; }
    // PgBouncer's console stopped answering (poolerLost) and has not answered since.
    bool poolerUnreachable() const { return m_poolerUnreachable; }

    // The pace the dashboard wants the sampler at. Set it here rather than on sampler() directly:
    // a background pause (below) restores this pace when it ends, and a sampler started later
    // (the sandbox came up) gets it too.
    void setSamplerPace(SamplerPace pace);
    SamplerPace samplerPace() const { return m_pace; }

    // A real-cold test: the dashboard's own queries - the sampler's polls and the demo
    // workload - keep a scale-to-zero compute awake (Neon suspends after 5 minutes without
    // queries). Paused: the sampler is Asleep (no queries, its connection closed) and the demo
    // workload issues no queries and opens no connections; resumed: the sampler goes back to
    // samplerPace() and the workload carries on. Each change is logged as one event saying why.
    // Survives a restart of the watching (start()) until resumed.
    void setBackgroundPaused(bool paused);
    bool backgroundPaused() const { return m_backgroundPaused; }

    // A load demo on the session's own sandbox (the Load demo page): the embedded demo workload
    // holds off meanwhile, since its connections would move the demo's server-side baseline and
    // it would collect the demo's 53300 errors. The sampler keeps sampling. Logged once each way.
    void setDemoWorkloadPaused(bool paused);
    bool demoWorkloadPaused() const { return m_workloadPausedForDemo; }

Q_SIGNALS:
    void watching(const QString &displayName); // sampler started
    void sandboxFailed(const QString &message);
    void sampled(const poolscope::ActivitySample &sample);
    void poolerSampled(const poolscope::PoolerSample &sample);
    void poolStatsSampled(const poolscope::PoolStats &stats);
    void connectionLost(const poolscope::DbError &error);
    void connectionRestored();
    // The PgBouncer console could not be used (once per outage) / answers again.
    void poolerLost(const poolscope::DbError &error);
    void poolerRestored();

private:
    void startWatching(const QString &conninfo, const QString &poolerConsole);
    // The demo workload holds off for either reason: a real-cold test or a load demo.
    bool workloadPaused() const { return m_backgroundPaused || m_workloadPausedForDemo; }

    Options m_options;
    TimeSeriesStore m_store;
    EventLog m_events;
    std::shared_ptr<spdlog::sinks::sink> m_eventSink;
    QString m_conninfo;
    std::unique_ptr<Sampler> m_sampler;
    std::unique_ptr<DemoWorkload> m_workload;
    QThread *m_sandboxThread = nullptr;
    SandboxController *m_sandbox = nullptr;
    std::optional<sandbox::SandboxEndpoints> m_endpoints;
    std::optional<ActivitySample> m_lastSample;
    bool m_unreachable = false;
    bool m_poolerUnreachable = false;
    SamplerPace m_pace = SamplerPace::Live;
    bool m_backgroundPaused = false;
    bool m_workloadPausedForDemo = false;
};

} // namespace poolscope

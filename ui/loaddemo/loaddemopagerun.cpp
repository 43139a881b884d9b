// The Load demo page: starting a demo on the chosen target, following it and taking in its
// results (the widgets and exports are in loaddemopage.cpp).
#include "core/db/conninfo.h"
#include "core/monitor/monitorsession.h"
#include "ui/loaddemo/loaddemocharts.h"
#include "ui/loaddemo/loaddemoknobs.h"
#include "ui/loaddemo/loaddemopage.h"
#include "ui/loaddemo/loaddemorunsmodel.h"
#include "ui/loaddemo/loaddemosandbox.h"
#include "ui/loaddemo/loaddemotext.h"

#include <QComboBox>
#include <QDateTime>
#include <QItemSelectionModel>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QTableView>

namespace poolscope::ui {

namespace {

// How long a demo should take, to lay out the charts' time axis before it starts: per target
// its duration and drain, a second for the baseline and the settling between targets.
qint64 expectedMs(const LoadDemoRequest &request)
{
    const LoadDemoConfig &c = request.config;
    return qint64(request.targets.size()) * (c.duration + c.drainGrace).count()
        + qint64(request.targets.size()) * 1000;
}

} // namespace

void LoadDemoPage::start()
{
    if (isBusy())
        return;
    const LoadDemoConfig config = m_knobs->config();
    const QString which = m_endpoints->currentData().toString();
    switch (target()) {
    case Target::SessionSandbox: {
        const auto endpoints = m_session ? m_session->sandboxEndpoints() : std::nullopt;
        if (!endpoints) {
            m_status->setText(tr("The session's sandbox is not running."));
            return;
        }
        LoadDemoRequest request;
        request.config = config;
        request.targets = loadDemoSandboxTargets(*endpoints, which, endpoints->poolSize);
        m_usesDemoSandbox = false;
        // The `--demo` workload shares this sandbox: hold it off so the baseline stays put.
        if (launch(request))
            m_session->setDemoWorkloadPaused(true);
        return;
    }
    case Target::DedicatedSandbox: {
        // Refuse bad knobs before a sandbox is started for nothing: the same check on a loopback
        // stand-in target.
        LoadDemoRequest probe;
        probe.config = config;
        LoadDemoTarget standIn;
        standIn.label = QStringLiteral("direct");
        standIn.conninfo = QStringLiteral("host=127.0.0.1");
        probe.targets = { standIn };
        if (auto checked = applyLoadDemoLimits(probe); !checked) {
            m_status->setText(tr("Not started: %1").arg(checked.error()));
            return;
        }
        sandbox::SandboxOptions options;
        options.maxConnections = m_sandboxMax->value();
        options.poolSize = m_sandboxPool->value();
        // PgBouncer must take every client connection the instances may open (as the CLI does).
        options.maxClientConnections =
            std::max(options.maxClientConnections, config.instances * config.pool.maxSize + 16);
        m_pending = config;
        m_pendingWhich = which;
        m_pendingPoolSize = options.poolSize;
        m_usesDemoSandbox = true;
        setPhase(Phase::StartingSandbox);
        m_status->setText(tr("Starting a demo sandbox (max_connections %1, PgBouncer pool size "
                             "%2)...")
                              .arg(options.maxConnections)
                              .arg(options.poolSize));
        m_sandbox->start(options);
        return;
    }
    case Target::WatchedServer:
        startWatched(config);
        return;
    }
}

void LoadDemoPage::startWatched(const LoadDemoConfig &config)
{
    const QString conninfo = m_session ? m_session->conninfo() : QString();
    const auto info = ConnInfo::parse(conninfo);
    if (conninfo.isEmpty() || !info) {
        m_status->setText(tr("No watched server to load."));
        return;
    }
    const QString host = info->host().isEmpty() ? QStringLiteral("local") : info->host();
    LoadDemoRequest request;
    request.config = config;
    LoadDemoTarget t;
    t.label = host;
    t.conninfo = conninfo;
    request.targets = { t };
    if (info->targetsLoopbackOnly()) {
        m_usesDemoSandbox = false;
        launch(request);
        return;
    }
    // Someone's real database: what would run, after the remote caps, named before asking.
    LoadDemoRequest capped = request;
    capped.allowRemote = true;
    const auto limits = applyLoadDemoLimits(capped);
    if (!limits) {
        m_status->setText(tr("Not started: %1").arg(limits.error()));
        return;
    }
    const LoadDemoConfig &c = capped.config;
    const QString text =
        tr("%1 is not on this machine. The load demo would put real load on it: up to %2 "
           "instances x %3 connections (%4 connections), %5 requests/s holding each for %6 ms, "
           "for %7 s. These are the caps for a remote server; a warning stays visible while it "
           "runs and Stop ends it at once.\n\nRun the load demo against %1?")
            .arg(host)
            .arg(c.instances)
            .arg(c.pool.maxSize)
            .arg(c.instances * c.pool.maxSize)
            .arg(c.ratePerSecond)
            .arg(c.hold.count())
            .arg(double(c.duration.count()) / 1000.0);
    if (!m_confirm(tr("Load a remote server?"), text)) {
        m_status->setText(tr("Not started: %1 is not on this machine.").arg(host));
        return;
    }
    request.allowRemote = true;
    m_usesDemoSandbox = false;
    launch(request, host);
}

void LoadDemoPage::onDemoSandboxStarted(const sandbox::SandboxEndpoints &endpoints)
{
    if (m_phase != Phase::StartingSandbox)
        return;
    LoadDemoRequest request;
    request.config = m_pending;
    request.targets = loadDemoSandboxTargets(endpoints, m_pendingWhich, m_pendingPoolSize);
    // Its passwords are in its own pgpass file; PGPASSFILE stays the session's.
    for (LoadDemoTarget &t : request.targets) {
        for (QString *conninfo :
             { &t.conninfo, &t.monitorConninfo, &t.poolerConsoleConninfo, &t.poolerAdminConninfo })
            *conninfo = LoadDemoSandbox::withPassFile(*conninfo, endpoints.passFile);
    }
    setPhase(Phase::Idle); // launch() decides what comes next
    if (!launch(request))
        m_sandbox->stop();
}

void LoadDemoPage::onDemoSandboxFailed(const QString &message)
{
    if (m_phase != Phase::StartingSandbox)
        return;
    setPhase(Phase::Idle);
    m_status->setText(tr("The demo sandbox did not start: %1").arg(message));
}

bool LoadDemoPage::launch(LoadDemoRequest request, const QString &remoteHost)
{
    request.store = &m_store;
    LoadDemoRequest checked = request;
    const auto limits = applyLoadDemoLimits(checked); // what start() checks too, for the warnings
    QString whyNot;
    if (!limits || !m_runner->start(request, &whyNot)) {
        m_status->setText(tr("Not started: %1").arg(limits ? whyNot : limits.error()));
        return false;
    }
    ++m_demo;
    m_demoStartMs = QDateTime::currentMSecsSinceEpoch();
    m_runFromMs = m_runToMs = 0;
    m_charts->beginDemo(m_demoStartMs, m_demoStartMs + expectedMs(checked));
    m_comparison->clear();
    if (!remoteHost.isEmpty()) {
        m_warning->setText(tr("Load demo running against %1, a server that is not on this "
                              "machine. %2 Stop ends it at once.")
                               .arg(remoteHost, limits->join(QStringLiteral("; ")) + u'.'));
        m_warning->show();
    }
    setPhase(Phase::Running);
    m_status->setText(tr("Demo %1: %2 instances x pool %3:%4, %5 requests/s holding %6 ms for %7 "
                         "s on %8 target(s)...")
                          .arg(m_demo)
                          .arg(checked.config.instances)
                          .arg(checked.config.pool.minSize)
                          .arg(checked.config.pool.maxSize)
                          .arg(checked.config.ratePerSecond)
                          .arg(checked.config.hold.count())
                          .arg(double(checked.config.duration.count()) / 1000.0)
                          .arg(checked.targets.size()));
    return true;
}

void LoadDemoPage::stop()
{
    switch (m_phase) {
    case Phase::Idle:
        return;
    case Phase::StartingSandbox:
        m_sandbox->stop(); // its start finishes on its thread, then it stops there
        setPhase(Phase::Idle);
        m_status->setText(tr("Stopped before the load started; the demo sandbox shuts down."));
        return;
    case Phase::Running:
        m_runner->stop();
        m_stop->setEnabled(false);
        m_status->setText(tr("Stopping: no new requests; closing every connection..."));
        return;
    }
}

void LoadDemoPage::onRunStarted(const LoadDemoRunSummary &run)
{
    const qint64 now = QDateTime::currentMSecsSinceEpoch();
    m_charts->markRun(now, run.target);
    m_runFromMs = m_runToMs = 0;
    m_status->setText(
        tr("Demo %1, %2 (%3): baseline %4 server connection(s)...")
            .arg(m_demo)
            .arg(run.target, run.displayName, loadDemoCountText(run.baselineServerConnections)));
}

void LoadDemoPage::onSnapshot(const LoadDemoSnapshot &s)
{
    if (m_runFromMs == 0)
        m_runFromMs = s.tMs;
    m_runToMs = s.tMs;
    m_charts->noteNewData(s.tMs);
    if (m_phase == Phase::Running && m_stop->isEnabled())
        m_status->setText(loadDemoLiveText(s));
}

void LoadDemoPage::onRunFinished(const LoadDemoRunSummary &summary)
{
    m_runs->addRun({ m_demo, summary, m_runFromMs, m_runToMs });
    m_runsView->scrollToBottom();
    QList<LoadDemoRunSummary> soFar = m_runs->runsOfDemo(m_demo);
    showComparison(soFar);
}

void LoadDemoPage::onFinished(const LoadDemoReport &report)
{
    if (m_session)
        m_session->setDemoWorkloadPaused(false);
    if (m_usesDemoSandbox)
        m_sandbox->stop();
    m_warning->hide();
    m_warning->clear();
    setPhase(Phase::Idle);
    const qint64 last = std::max(m_runToMs, m_demoStartMs);
    m_charts->finishDemo(last);
    showComparison(m_runs->runsOfDemo(m_demo));
    if (m_runs->rowCount() > 0) {
        const QSignalBlocker block(m_runsView->selectionModel());
        m_runsView->selectRow(m_runs->rowCount() - 1);
    }
    QString text;
    if (report.refused)
        text = tr("Demo %1 refused: %2").arg(m_demo).arg(*report.refused);
    else if (report.cancelled)
        text = tr("Demo %1 stopped: %2 run(s) summarised; every connection it opened is closed.")
                   .arg(m_demo)
                   .arg(report.runs.size());
    else
        text = tr("Demo %1 finished: %2 run(s) in %3 s.")
                   .arg(m_demo)
                   .arg(report.runs.size())
                   .arg(double(report.startedAt.msecsTo(report.finishedAt)) / 1000.0, 0, 'f', 1);
    if (m_usesDemoSandbox)
        text += tr(" The demo sandbox shuts down.");
    m_status->setText(text);
    m_usesDemoSandbox = false;
    Q_EMIT demoFinished(report);
}

} // namespace poolscope::ui

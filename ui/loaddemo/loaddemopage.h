#pragma once

#include "core/loaddemo/loaddemo.h"
#include "core/timeseries/timeseriesstore.h"

#include <QPointer>
#include <QWidget>

#include <functional>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableView;

namespace poolscope {
class MonitorSession;
namespace sandbox {
struct SandboxEndpoints;
}
} // namespace poolscope

namespace poolscope::ui {

class LoadDemoCharts;
class LoadDemoKnobs;
class LoadDemoRunsModel;
class LoadDemoSandbox;

// "What happens when N serverless instances each open their own pool?" Pick a
// scenario (the knobs fill in, all editable), a target and Start: LoadDemoRunner runs the core's
// simulator on its own threads against real PostgreSQL/PgBouncer limits while the charts fill
// from the page's own store; each finished run (target) becomes a row of the summary table, and
// the demo's runs are compared in plain words with the first error of each class and its remedy.
// Export the table as CSV and the charts as PNG.
//
// Targets: the session's embedded sandbox (direct, pooled, or both one after the other; the
// default when there is one); a dedicated demo sandbox the page starts for the run with the
// scenario's max_connections and PgBouncer pool size (the "small plan" needs max_connections 20)
// on a thread of its own and stops when the run ends; or the watched server. A server that is
// not on this machine needs a confirmation naming it; the core's remote caps then apply and a
// warning stays visible while the load runs.
//
// Threads: nothing here blocks the GUI thread; results arrive as queued copies (see
// LoadDemoRunner and LoadDemoSandbox). The destructor stops a run and joins it (every
// connection closed), then stops the dedicated sandbox. No widget shows a password.
class LoadDemoPage : public QWidget
{
    Q_OBJECT

public:
    enum class Target { SessionSandbox, DedicatedSandbox, WatchedServer };
    enum class Phase { Idle, StartingSandbox, Running };
    using ConfirmFunction = std::function<bool(const QString &title, const QString &text)>;
    using SavePathFunction = std::function<QString(const QString &title, const QString &suggested,
                                                   const QString &filter)>;

    explicit LoadDemoPage(MonitorSession *session, QWidget *parent = nullptr);
    ~LoadDemoPage() override;

    void setConfirmFunction(ConfirmFunction confirm) { m_confirm = std::move(confirm); }
    void setSavePathFunction(SavePathFunction savePath) { m_savePath = std::move(savePath); }
    Phase phase() const { return m_phase; }
    bool isBusy() const { return m_phase != Phase::Idle; }
    Target target() const;
    void setTarget(Target target);

    LoadDemoKnobs *knobs() const { return m_knobs; }
    QComboBox *targetBox() const { return m_target; }
    QComboBox *endpointsBox() const { return m_endpoints; } // "both", "direct", "pooled"
    QSpinBox *sandboxMaxConnectionsBox() const { return m_sandboxMax; }
    QSpinBox *sandboxPoolSizeBox() const { return m_sandboxPool; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *stopButton() const { return m_stop; }
    QPushButton *exportCsvButton() const { return m_exportCsv; }
    QPushButton *exportPngButton() const { return m_exportPng; }
    QLabel *statusLabel() const { return m_status; }
    QLabel *warningBanner() const { return m_warning; }
    QLabel *comparisonLabel() const { return m_comparison; }
    LoadDemoCharts *charts() const { return m_charts; }
    LoadDemoRunsModel *runsModel() const { return m_runs; }
    QTableView *runsView() const { return m_runsView; }
    LoadDemoSandbox *demoSandbox() const { return m_sandbox; }
    const TimeSeriesStore &store() const { return m_store; }

public Q_SLOTS:
    void start();
    void stop();
    bool exportCsv(); // the summary table; false when nothing was written
    bool exportPng(); // the six charts in one image

Q_SIGNALS:
    void demoFinished(const poolscope::LoadDemoReport &report);

private:
    void buildUi();
    QWidget *buildTargetBox();
    void refreshTargets();
    void onScenarioPicked(const LoadDemoScenario &scenario);
    void onTargetChanged();
    void startWatched(const LoadDemoConfig &config);
    void onDemoSandboxStarted(const sandbox::SandboxEndpoints &endpoints);
    void onDemoSandboxFailed(const QString &message);
    bool launch(LoadDemoRequest request, const QString &remoteHost = {});
    void setPhase(Phase phase);
    void onRunStarted(const LoadDemoRunSummary &run);
    void onSnapshot(const LoadDemoSnapshot &snapshot);
    void onRunFinished(const LoadDemoRunSummary &summary);
    void onFinished(const LoadDemoReport &report);
    void showComparison(const QList<LoadDemoRunSummary> &runs);
    void showSelectedRun();

    QPointer<MonitorSession> m_session;
    TimeSeriesStore m_store; // declared before the runner: it must outlive the run
    LoadDemoRunner *m_runner = nullptr;
    LoadDemoSandbox *m_sandbox = nullptr;
    ConfirmFunction m_confirm;
    SavePathFunction m_savePath;
    Phase m_phase = Phase::Idle;
    int m_demo = 0;           // the current (or last) demo's number
    LoadDemoConfig m_pending; // a dedicated-sandbox demo's config while its sandbox starts
    QString m_pendingWhich;
    int m_pendingPoolSize = 0;
    bool m_usesDemoSandbox = false;
    bool m_sessionSandboxSeen = false;
    qint64 m_runFromMs = 0;
    qint64 m_runToMs = 0;
    qint64 m_demoStartMs = 0;

    QWidget *m_settings = nullptr;
    QComboBox *m_target = nullptr;
    QComboBox *m_endpoints = nullptr;
    QSpinBox *m_sandboxMax = nullptr;
    QSpinBox *m_sandboxPool = nullptr;
    QLabel *m_targetNote = nullptr;
    LoadDemoKnobs *m_knobs = nullptr;
    QPushButton *m_start = nullptr;
    QPushButton *m_stop = nullptr;
    QPushButton *m_exportCsv = nullptr;
    QPushButton *m_exportPng = nullptr;
    QLabel *m_status = nullptr;
    QLabel *m_warning = nullptr;
    QLabel *m_comparison = nullptr;
    LoadDemoCharts *m_charts = nullptr;
    LoadDemoRunsModel *m_runs = nullptr;
    QTableView *m_runsView = nullptr;
};

} // namespace poolscope::ui

#pragma once

#include "core/coldstart/coldstartrunner.h"

#include <QHash>
#include <QPointer>
#include <QWidget>

#include <functional>
#include <optional>

class QCheckBox;
class QGroupBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableView;
class QTimer;

namespace poolscope {
class MonitorSession;
}

namespace poolscope::ui {

class ColdStartChart;
class ColdStartHistoryModel;
class ColdStartSummary;

// "How long does a first connection take, where does the time go, and is that normal?" Pick the
// endpoints (the embedded sandbox's direct and pooled ones side by side, or the watched server and
// optionally a second string to compare with), the trials and warm queries, an after-idle query and
// a "real cold" wait, then Run: ColdStartRunner probes on its own thread while the progress bar and
// the chart fill trial by trial. The summary compares the figures with the guide's expectations;
// every run of the session stays in the history (bounded), where selecting one shows it again, and
// exports as CSV (one row per trial) or PNG.
//
// Real cold pauses the session's own polling (MonitorSession::setBackgroundPaused) from Run
// until the run finishes, is cancelled or the page goes away: that polling would keep a
// scale-to-zero compute awake. An endpoint not on this machine is probed only after the
// operator confirms (the CLI's --allow-remote). No widget ever shows a password.
class ColdStartPage : public QWidget
{
    Q_OBJECT

public:
    // Asked before probing a host that is not on this machine; true = go ahead. Replaceable so
    // tests run without a modal dialog.
    using ConfirmFunction = std::function<bool(const QString &title, const QString &text)>;
    // Asked for a file to export to; an empty string cancels. Replaceable for tests.
    using SavePathFunction = std::function<QString(const QString &title, const QString &suggested,
                                                   const QString &filter)>;

    explicit ColdStartPage(MonitorSession *session, QWidget *parent = nullptr);
    ~ColdStartPage() override; // cancels a run, joins its thread, resumes the session's polling

    void setConfirmFunction(ConfirmFunction confirm) { m_confirm = std::move(confirm); }
    void setSavePathFunction(SavePathFunction savePath) { m_savePath = std::move(savePath); }
    bool isRunning() const;

    QCheckBox *targetABox() const { return m_targetA; } // sandbox: direct; else the watched one
    QCheckBox *targetBBox() const { return m_targetB; } // sandbox: pooled; else "compare with"
    QLineEdit *compareEdit() const { return m_compare; }
    QSpinBox *trialsBox() const { return m_trials; }
    QSpinBox *warmQueriesBox() const { return m_warm; }
    QSpinBox *afterIdleBox() const { return m_afterIdle; }
    QSpinBox *timeoutBox() const { return m_timeout; }
    QCheckBox *realColdBox() const { return m_realCold; }
    QSpinBox *coldWaitBox() const { return m_coldWait; }
    QPushButton *runButton() const { return m_run; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *exportCsvButton() const { return m_exportCsv; }
    QPushButton *exportAllCsvButton() const { return m_exportAllCsv; }
    QPushButton *exportPngButton() const { return m_exportPng; }
    QProgressBar *progressBar() const { return m_progress; }
    QLabel *statusLabel() const { return m_status; }
    ColdStartChart *chart() const { return m_chart; }
    ColdStartSummary *summary() const { return m_summary; }
    ColdStartHistoryModel *historyModel() const { return m_history; }
    QTableView *historyView() const { return m_historyView; }

public Q_SLOTS:
    void run();
    void cancel();
    // Selected run (or every kept run) as CSV, the chart as PNG; false when nothing was written.
    bool exportCsv(bool allRuns = false);
    bool exportPng();

Q_SIGNALS:
    void runFinished(const poolscope::ColdStartRun &run);

private:
    void buildUi();
    void refreshTargets();
    std::optional<ColdStartRequest> buildRequest();
    QString effectiveCompare();
    void setRunning(bool running);
    void pauseBackground(bool paused);
    void onColdWaitStarted(qint64 ms);
    void onProgress(int done, int total);
    void onTrialFinished(const QString &label, int index, const ColdStartTrial &trial);
    void onFinished(const ColdStartRun &run);
    void showSelectedRun();
    void updateColdWaitCountdown();
    std::optional<ColdStartRun> selectedRun() const;

    QPointer<MonitorSession> m_session;
    ColdStartRunner *m_runner;
    ConfirmFunction m_confirm;
    SavePathFunction m_savePath;
    bool m_sandboxMode = false;
    bool m_modeKnown = false;
    bool m_pausedBackground = false;
    QList<ColdStartTarget> m_runTargets; // labels of the run in progress, in order
    QHash<QString, QList<ColdStartTrial>> m_liveTrials;
    qint64 m_coldWaitEndMs = 0;
    // The full second string (with its password) behind the redacted text shown in the field.
    QString m_secretCompare;
    QString m_shownCompare;

    QGroupBox *m_settings = nullptr;
    QCheckBox *m_targetA = nullptr;
    QCheckBox *m_targetB = nullptr;
    QLineEdit *m_compare = nullptr;
    QSpinBox *m_trials = nullptr;
    QSpinBox *m_warm = nullptr;
    QSpinBox *m_afterIdle = nullptr;
    QSpinBox *m_timeout = nullptr;
    QCheckBox *m_realCold = nullptr;
    QSpinBox *m_coldWait = nullptr;
    QPushButton *m_run = nullptr;
    QPushButton *m_cancel = nullptr;
    QPushButton *m_exportCsv = nullptr;
    QPushButton *m_exportAllCsv = nullptr;
    QPushButton *m_exportPng = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_status = nullptr;
    QTimer *m_countdown = nullptr;
    ColdStartChart *m_chart = nullptr;
    ColdStartSummary *m_summary = nullptr;
    ColdStartHistoryModel *m_history = nullptr;
    QTableView *m_historyView = nullptr;
};

} // namespace poolscope::ui

#pragma once

#include "core/check/livecheck.h"

#include <QPointer>
#include <QWidget>

#include <chrono>
#include <memory>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTreeWidget;

namespace poolscope {
class ConnectionProfiles;
class MonitorSession;
} // namespace poolscope

namespace poolscope::ui {

// "Is this connection string the right one for this job?" Pick a saved profile,
// the watched server, or paste a libpq conninfo / URI; Check lints it at once (traffic-light
// findings with remedies, the endpoint kind in plain words) and, unless Offline is ticked, runs
// the live checks on LiveChecker's own thread: each step appears as it completes, with its time,
// then the pooler verdict. A parse error shows libpq's message.
//
// Passwords: a password typed into the field is taken out of it when checking and kept in memory
// for this page only; no label or list item ever shows it.
class EndpointCheckPage : public QWidget
{
    Q_OBJECT

public:
    // profiles may be null (no saved profiles offered).
    EndpointCheckPage(MonitorSession *session, ConnectionProfiles *profiles,
                      QWidget *parent = nullptr);
    // The same, owning the profiles (e.g. a QSettings-backed set created by the window).
    EndpointCheckPage(MonitorSession *session, std::unique_ptr<ConnectionProfiles> profiles,
                      QWidget *parent = nullptr);
    ~EndpointCheckPage() override;

    void setStepTimeout(std::chrono::milliseconds timeout) { m_stepTimeout = timeout; }
    bool liveCheckRunning() const { return m_running; }

    QComboBox *sourceCombo() const { return m_source; }
    QLineEdit *conninfoEdit() const { return m_conninfo; }
    QComboBox *usageCombo() const { return m_usage; }
    QCheckBox *sessionFeaturesBox() const { return m_sessionFeatures; }
    QCheckBox *offlineBox() const { return m_offline; }
    QPushButton *checkButton() const { return m_check; }
    QLabel *endpointLabel() const { return m_endpoint; }
    QLabel *neonNoteLabel() const { return m_neonNote; }
    QLabel *errorLabel() const { return m_error; }
    QTreeWidget *findingsView() const { return m_findings; }
    QLabel *findingDetailLabel() const { return m_findingDetail; }
    QTreeWidget *liveView() const { return m_live; }
    QLabel *verdictLabel() const { return m_verdict; }

public Q_SLOTS:
    void runCheck();
    void reloadProfiles();

Q_SIGNALS:
    void liveCheckFinished();

private:
    void buildUi();
    void onSourceChanged(int index);
    void showLint(const LintResult &result);
    void startLive(const QString &conninfo, const EndpointInfo &expected);
    void addStep(const LiveCheckStep &step);
    void showReport(const LiveCheckReport &report);
    void stopLive();
    QString effectiveConninfo();

    MonitorSession *m_session;
    ConnectionProfiles *m_profiles;
    std::unique_ptr<ConnectionProfiles> m_ownedProfiles;
    std::chrono::milliseconds m_stepTimeout { 5000 };
    QPointer<LiveChecker> m_checker;
    bool m_running = false;
    EndpointKind m_expectedKind = EndpointKind::Direct;
    // The full string (with its password) behind the redacted text shown in the field.
    QString m_secretConninfo;
    QString m_shownConninfo;

    QComboBox *m_source = nullptr;
    QLineEdit *m_conninfo = nullptr;
    QComboBox *m_usage = nullptr;
    QCheckBox *m_sessionFeatures = nullptr;
    QCheckBox *m_offline = nullptr;
    QPushButton *m_check = nullptr;
    QLabel *m_endpoint = nullptr;
    QLabel *m_neonNote = nullptr;
    QLabel *m_error = nullptr;
    QTreeWidget *m_findings = nullptr;
    QLabel *m_findingDetail = nullptr;
    QTreeWidget *m_live = nullptr;
    QLabel *m_verdict = nullptr;
};

} // namespace poolscope::ui

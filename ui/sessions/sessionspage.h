#pragma once

#include "core/monitor/sessionactions.h"
#include "core/sampler/activitysample.h"
#include "ui/sessions/sessionsmodel.h"

#include <QPointer>
#include <QWidget>

#include <functional>

class QAction;
class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QSpinBox;
class QTableView;

namespace poolscope {
class MonitorSession;
}

namespace poolscope::ui {

class SessionsFilter;
class SessionsModel;

// The session list (pg_stat_activity's client backends) with cancel/terminate actions.
//
// The sampler fetches the list only while this page is visible (it costs a bigger JSON row per
// tick). Actions run through SessionActions on its own thread and connection; nothing here
// touches libpq. Every action is confirmed first with a text naming what will be killed.
//
// Shortcuts (while the page has focus): Ctrl+K cancel the selected sessions' queries,
// Ctrl+Shift+K terminate the selected sessions, Ctrl+Shift+I terminate every session idle in
// transaction for longer than the spin box says (within the text, application and holder filters),
// Ctrl+F focus the filter box.
class SessionsPage : public QWidget
{
    Q_OBJECT

public:
    // Asked before any action; true = go ahead. Replaceable so tests run without a modal dialog.
    using ConfirmFunction = std::function<bool(const QString &title, const QString &text)>;
    // Issues an action; the result must come back through showActionResult(). The default runs
    // SessionActions against the watched server.
    using ActionRunner =
        std::function<void(SessionActionResult::Action action, const QList<int> &pids)>;

    explicit SessionsPage(MonitorSession *session, QWidget *parent = nullptr);
    ~SessionsPage() override;

    void setConfirmFunction(ConfirmFunction confirm) { m_confirm = std::move(confirm); }
    void setActionRunner(ActionRunner runner) { m_runner = std::move(runner); }

    // Thresholds for highlighting (seconds).
    void setThresholds(double longRunningQuerySeconds, double idleInTransactionSeconds);

    SessionsModel *model() const { return m_model; }
    SessionsFilter *filter() const { return m_filter; }
    QTableView *view() const { return m_view; }
    QLineEdit *filterEdit() const { return m_filterEdit; }
    QComboBox *stateCombo() const { return m_stateCombo; }
    QComboBox *applicationCombo() const { return m_applicationCombo; }
    QAction *cancelAction() const { return m_cancelAction; }
    QAction *terminateAction() const { return m_terminateAction; }
    QAction *terminateIdleAction() const { return m_terminateIdleAction; }
    QSpinBox *idleMinutesBox() const { return m_idleMinutes; }
    QLabel *statusLabel() const { return m_status; }
    QPlainTextEdit *detailsPane() const { return m_details; }

    QList<int> selectedPids() const;

    // Shows only one holder's sessions (`column` is User, Database, Application or Client, the
    // value as pg_stat_activity has it, "local" for a unix-socket client); the text and state
    // filters are cleared so that all of them show. The bar above the table names the holder and
    // clears it (clearHolder()).
    void showHolder(SessionsModel::Column column, const QString &value);
    void clearHolder();
    QLabel *holderLabel() const { return m_holderLabel; }

public Q_SLOTS:
    void showActionResult(const poolscope::SessionActionResult &result);

protected:
    void showEvent(QShowEvent *event) override;
    void hideEvent(QHideEvent *event) override;

private:
    void buildUi();
    void onWatching();
    void onSampled(const ActivitySample &sample);
    void updateSessionListRequest();
    void refreshApplications();
    void updateDetails();
    void requestAction(SessionActionResult::Action action, const QList<int> &pids,
                       const QString &scope);
    void terminateIdleInTransaction();
    void runAction(SessionActionResult::Action action, const QList<int> &pids);
    QString describe(const QList<int> &pids) const;

    MonitorSession *m_session;
    SessionsModel *m_model;
    SessionsFilter *m_filter;
    SessionsFilter *m_bulkFilter; // off-screen twin of m_filter for the "older than" bulk action
    QTableView *m_view = nullptr;
    QLineEdit *m_filterEdit = nullptr;
    QComboBox *m_stateCombo = nullptr;
    QComboBox *m_applicationCombo = nullptr;
    QSpinBox *m_idleMinutes = nullptr;
    QAction *m_cancelAction = nullptr;
    QAction *m_terminateAction = nullptr;
    QAction *m_terminateIdleAction = nullptr;
    QPlainTextEdit *m_details = nullptr;
    QLabel *m_status = nullptr;
    QWidget *m_holderBar = nullptr;
    QLabel *m_holderLabel = nullptr;
    QPointer<SessionActions> m_actions; // created on first use, per watched server
    ConfirmFunction m_confirm;
    ActionRunner m_runner;
};

} // namespace poolscope::ui

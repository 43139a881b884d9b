#include "ui/sessions/sessionspage.h"

#include "core/monitor/monitorsession.h"
#include "ui/sessions/sessionsfilter.h"
#include "ui/sessions/sessionsmodel.h"

#include <QAction>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSet>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>

namespace poolscope::ui {

namespace {

constexpr int MaxNamedSessions = 20; // a confirmation lists this many, then "and N more"

QString actionName(SessionActionResult::Action action)
{
    return action == SessionActionResult::Action::Cancel ? SessionsPage::tr("Cancel query")
                                                         : SessionsPage::tr("Terminate session");
}

QString pidList(const QList<int> &pids)
{
    QStringList texts;
    for (int pid : pids)
        texts.append(QString::number(pid));
    return texts.join(QStringLiteral(", "));
}

} // namespace

SessionsPage::SessionsPage(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_model(new SessionsModel(this))
    , m_filter(new SessionsFilter(this))
    , m_bulkFilter(new SessionsFilter(this))
{
    m_filter->setSourceModel(m_model);
    m_bulkFilter->setSourceModel(m_model);
    m_bulkFilter->setStateFilter(SessionsFilter::StateFilter::IdleInTransaction);

    m_confirm = [this](const QString &title, const QString &text) {
        QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Yes | QMessageBox::No,
                        this);
        box.setDefaultButton(QMessageBox::No); // killing sessions is never the default
        return box.exec() == QMessageBox::Yes;
    };
    m_runner = [this](SessionActionResult::Action action, const QList<int> &pids) {
        runAction(action, pids);
    };

    buildUi();

    connect(m_session, &MonitorSession::watching, this, &SessionsPage::onWatching);
    connect(m_session, &MonitorSession::sampled, this, &SessionsPage::onSampled);
}

SessionsPage::~SessionsPage() = default;

void SessionsPage::buildUi()
{
    auto *toolBar = new QToolBar(this);
    toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);

    m_cancelAction = new QAction(tr("Cancel query"), this);
    m_cancelAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    m_cancelAction->setToolTip(tr("Cancel the running query of the selected sessions (Ctrl+K)"));
    m_terminateAction = new QAction(tr("Terminate session"), this);
    m_terminateAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_K));
    m_terminateAction->setToolTip(tr("Close the selected sessions' connections (Ctrl+Shift+K)"));
    m_terminateIdleAction = new QAction(tr("Terminate idle in transaction…"), this);
    m_terminateIdleAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_I));
    m_terminateIdleAction->setToolTip(
        tr("Terminate every session idle in transaction for longer than the given minutes, "
           "within the text, application and holder filters (Ctrl+Shift+I)"));
    auto *focusFilter = new QAction(tr("Filter"), this);
    focusFilter->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_F));
    // Several pages live in one window: shortcuts apply only while this page has focus.
    for (QAction *action :
         { m_cancelAction, m_terminateAction, m_terminateIdleAction, focusFilter }) {
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        addAction(action);
    }

    m_idleMinutes = new QSpinBox(this);
    m_idleMinutes->setRange(1, 24 * 60);
    m_idleMinutes->setValue(5);
    m_idleMinutes->setPrefix(tr("> "));
    m_idleMinutes->setSuffix(tr(" min"));
    m_idleMinutes->setToolTip(tr("Idle-in-transaction age for the bulk terminate action"));

    toolBar->addAction(m_cancelAction);
    toolBar->addAction(m_terminateAction);
    toolBar->addSeparator();
    toolBar->addAction(m_terminateIdleAction);
    toolBar->addWidget(m_idleMinutes);

    m_filterEdit = new QLineEdit(this);
    m_filterEdit->setObjectName(QStringLiteral("sessionsFilterEdit"));
    m_filterEdit->setPlaceholderText(
        tr("Filter by user, database, application, client, query or pid"));
    m_filterEdit->setClearButtonEnabled(true);
    m_stateCombo = new QComboBox(this);
    m_stateCombo->addItem(tr("All states"), int(SessionsFilter::StateFilter::All));
    m_stateCombo->addItem(tr("Active"), int(SessionsFilter::StateFilter::Active));
    m_stateCombo->addItem(tr("Idle"), int(SessionsFilter::StateFilter::Idle));
    m_stateCombo->addItem(tr("Idle in transaction"),
                          int(SessionsFilter::StateFilter::IdleInTransaction));
    m_stateCombo->addItem(tr("Waiting on a lock"), int(SessionsFilter::StateFilter::Waiting));
    m_applicationCombo = new QComboBox(this);
    m_applicationCombo->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_applicationCombo->addItem(tr("All applications"));

    auto *filterBar = new QHBoxLayout;
    filterBar->addWidget(m_filterEdit, 1);
    filterBar->addWidget(m_stateCombo);
    filterBar->addWidget(m_applicationCombo);

    m_holderBar = new QWidget(this);
    auto *holderLayout = new QHBoxLayout(m_holderBar);
    holderLayout->setContentsMargins(0, 0, 0, 0);
    m_holderLabel = new QLabel(m_holderBar);
    m_holderLabel->setObjectName(QStringLiteral("sessionsHolderLabel"));
    auto *clearHolderButton = new QToolButton(m_holderBar);
    clearHolderButton->setText(tr("Show all"));
    holderLayout->addWidget(m_holderLabel);
    holderLayout->addWidget(clearHolderButton);
    holderLayout->addStretch(1);
    m_holderBar->hide();
    connect(clearHolderButton, &QToolButton::clicked, this, &SessionsPage::clearHolder);

    m_view = new QTableView(this);
    m_view->setObjectName(QStringLiteral("sessionsView"));
    m_view->setModel(m_filter);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(SessionsModel::Pid, Qt::AscendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_view->setWordWrap(false);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setContextMenuPolicy(Qt::ActionsContextMenu);
    m_view->addAction(m_cancelAction);
    m_view->addAction(m_terminateAction);
    auto *separator = new QAction(this);
    separator->setSeparator(true);
    m_view->addAction(separator);
    m_view->addAction(m_terminateIdleAction);

    m_details = new QPlainTextEdit(this);
    m_details->setReadOnly(true);
    m_details->setPlaceholderText(tr("Select a session to see its full query"));

    auto *splitter = new QSplitter(Qt::Vertical, this);
    splitter->addWidget(m_view);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 4);
    splitter->setStretchFactor(1, 1);

    m_status = new QLabel(this);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setWordWrap(true);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(toolBar);
    layout->addLayout(filterBar);
    layout->addWidget(m_holderBar);
    layout->addWidget(splitter, 1);
    layout->addWidget(m_status);

    connect(m_filterEdit, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_filter->setFilterText(text);
        m_bulkFilter->setFilterText(text);
    });
    connect(m_stateCombo, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setStateFilter(SessionsFilter::StateFilter(m_stateCombo->currentData().toInt()));
    });
    connect(m_applicationCombo, &QComboBox::currentIndexChanged, this, [this] {
        const QVariant data = m_applicationCombo->currentData();
        const std::optional<QString> application =
            data.isValid() ? std::optional<QString>(data.toString()) : std::nullopt;
        m_filter->setApplicationFilter(application);
        m_bulkFilter->setApplicationFilter(application);
    });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &SessionsPage::updateDetails);
    connect(m_cancelAction, &QAction::triggered, this, [this] {
        requestAction(SessionActionResult::Action::Cancel, selectedPids(), tr("selected"));
    });
    connect(m_terminateAction, &QAction::triggered, this, [this] {
        requestAction(SessionActionResult::Action::Terminate, selectedPids(), tr("selected"));
    });
    connect(m_terminateIdleAction, &QAction::triggered, this,
            &SessionsPage::terminateIdleInTransaction);
    connect(focusFilter, &QAction::triggered, this, [this] {
        m_filterEdit->setFocus(Qt::ShortcutFocusReason);
        m_filterEdit->selectAll();
    });
}

void SessionsPage::setThresholds(double longRunningQuerySeconds, double idleInTransactionSeconds)
{
    m_model->setThresholds(longRunningQuerySeconds, idleInTransactionSeconds);
}

void SessionsPage::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    updateSessionListRequest();
}

void SessionsPage::hideEvent(QHideEvent *event)
{
    QWidget::hideEvent(event);
    updateSessionListRequest();
}

void SessionsPage::updateSessionListRequest()
{
    // The sampler exists only once the session is watching; onWatching() calls this again.
    if (Sampler *sampler = m_session->sampler())
        sampler->setSessionListEnabled(isVisible());
}

void SessionsPage::onWatching()
{
    // A new server: its pids are unrelated to the old one's, and actions need a new connection.
    m_model->clear();
    refreshApplications();
    delete m_actions.data();
    updateSessionListRequest();
}

void SessionsPage::onSampled(const ActivitySample &sample)
{
    if (!sample.sessions)
        return; // a tick without the list (page hidden, or the request not seen yet)
    m_model->setSessions(*sample.sessions, sample.takenAt);
    refreshApplications();
    updateDetails();
}

void SessionsPage::showHolder(SessionsModel::Column column, const QString &value)
{
    m_filterEdit->clear();
    m_stateCombo->setCurrentIndex(0);
    m_applicationCombo->setCurrentIndex(0);
    m_filter->setHolderFilter(SessionsFilter::Holder { column, value });
    m_bulkFilter->setHolderFilter(SessionsFilter::Holder { column, value });
    const QString shown = value.isEmpty() ? tr("(empty)") : value;
    m_holderLabel->setText(
        tr("Only the sessions of %1 %2")
            .arg(m_model->headerData(column, Qt::Horizontal).toString().toLower(), shown));
    m_holderBar->show();
}

void SessionsPage::clearHolder()
{
    m_filter->setHolderFilter(std::nullopt);
    m_bulkFilter->setHolderFilter(std::nullopt);
    m_holderBar->hide();
}

void SessionsPage::refreshApplications()
{
    const QVariant current = m_applicationCombo->currentData();
    QSet<QString> seen;
    for (int row = 0; row < m_model->rowCount(); ++row)
        seen.insert(m_model->session(row).application);
    if (current.isValid())
        seen.insert(current.toString()); // keep the chosen one even when its sessions left
    QStringList applications(seen.begin(), seen.end());
    std::sort(applications.begin(), applications.end());

    QStringList shown;
    for (int i = 1; i < m_applicationCombo->count(); ++i)
        shown.append(m_applicationCombo->itemData(i).toString());
    if (shown == applications)
        return;

    // Rebuilding must not look like a user choice: the filter keeps the current application.
    const QSignalBlocker blocker(m_applicationCombo);
    while (m_applicationCombo->count() > 1)
        m_applicationCombo->removeItem(1);
    for (const QString &application : std::as_const(applications)) {
        m_applicationCombo->addItem(
            application.isEmpty() ? tr("(no application name)") : application, application);
        if (current.isValid() && application == current.toString())
            m_applicationCombo->setCurrentIndex(m_applicationCombo->count() - 1);
    }
}

void SessionsPage::updateDetails()
{
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    const int row = current.isValid() ? m_filter->mapToSource(current).row() : -1;
    if (row < 0) {
        m_details->clear();
        return;
    }
    const SessionRow &s = m_model->session(row);
    QStringList lines;
    lines.append(
        tr("pid %1 · %2@%3 · %4 · %5").arg(s.pid).arg(s.user, s.database, s.application, s.client));
    QString state = tr("state: %1").arg(s.state.isEmpty() ? tr("hidden") : s.state);
    if (const double age = m_model->stateAge(s); age >= 0)
        state += tr(" for %1").arg(SessionsModel::formatAge(age));
    if (!s.waitEventType.isEmpty())
        state += tr(" · waiting on %1: %2").arg(s.waitEventType, s.waitEvent);
    lines.append(state);
    if (!s.blockingPids.isEmpty())
        lines.append(tr("blocked by pids: %1").arg(pidList(s.blockingPids)));
    lines.append(QString());
    lines.append(s.query);
    const QString text = lines.join(QLatin1Char('\n'));
    if (text != m_details->toPlainText()) // keep the reader's own text selection when unchanged
        m_details->setPlainText(text);
}

QList<int> SessionsPage::selectedPids() const
{
    QList<int> pids;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    for (const QModelIndex &index : rows)
        pids.append(index.data(SessionsModel::PidRole).toInt());
    std::sort(pids.begin(), pids.end());
    return pids;
}

QString SessionsPage::describe(const QList<int> &pids) const
{
    QStringList lines;
    for (int i = 0; i < pids.size() && i < MaxNamedSessions; ++i) {
        const int row = m_model->rowOfPid(pids.at(i));
        if (row < 0) {
            lines.append(tr("pid %1").arg(pids.at(i)));
            continue;
        }
        const SessionRow &s = m_model->session(row);
        lines.append(tr("pid %1 — %2 on %3, %4 (%5)")
                         .arg(s.pid)
                         .arg(s.user, s.database,
                              s.application.isEmpty() ? tr("no application name") : s.application,
                              s.state.isEmpty() ? tr("state hidden") : s.state));
    }
    if (pids.size() > MaxNamedSessions)
        lines.append(tr("… and %n more", nullptr, int(pids.size()) - MaxNamedSessions));
    return lines.join(QLatin1Char('\n'));
}

void SessionsPage::requestAction(SessionActionResult::Action action, const QList<int> &pids,
                                 const QString &scope)
{
    if (pids.isEmpty()) {
        m_status->setText(tr("%1: no %2 sessions. Select one or more rows first.")
                              .arg(actionName(action), scope));
        return;
    }
    const bool cancel = action == SessionActionResult::Action::Cancel;
    const QString question = cancel
        ? tr("Cancel the running query of %n session(s)?", nullptr, int(pids.size()))
        : tr("Terminate %n session(s)? Their connections close and open transactions "
             "roll back.",
             nullptr, int(pids.size()));
    const QString text = question + QStringLiteral("\n\n") + describe(pids);
    if (!m_confirm(actionName(action), text)) {
        m_status->setText(tr("%1: not confirmed, nothing done.").arg(actionName(action)));
        return;
    }
    m_session->events().appendAction(
        QStringLiteral("ui"),
        tr("%1 requested for %n session(s): pids %2", nullptr, int(pids.size()))
            .arg(actionName(action), pidList(pids)));
    m_status->setText(tr("%1: sent for pids %2…").arg(actionName(action), pidList(pids)));
    m_runner(action, pids);
}

void SessionsPage::terminateIdleInTransaction()
{
    const int minutes = m_idleMinutes->value();
    m_bulkFilter->setMinimumAge(SessionsModel::StateAge, minutes * 60.0);
    QList<int> pids = m_bulkFilter->pids();
    std::sort(pids.begin(), pids.end());
    requestAction(SessionActionResult::Action::Terminate, pids,
                  tr("idle in transaction > %n min", nullptr, minutes));
}

void SessionsPage::runAction(SessionActionResult::Action action, const QList<int> &pids)
{
    if (!m_actions) {
        m_actions = new SessionActions(m_session->conninfo(), this);
        connect(m_actions, &SessionActions::finished, this, &SessionsPage::showActionResult);
    }
    if (action == SessionActionResult::Action::Cancel)
        m_actions->cancel(pids);
    else
        m_actions->terminate(pids);
}

void SessionsPage::showActionResult(const SessionActionResult &result)
{
    const QString name = actionName(result.action);
    QString message;
    if (result.error) {
        // The remedy too: "permission denied" alone does not say which role to grant.
        message = tr("%1 failed for pids %2: %3. %4")
                      .arg(name, pidList(result.requested), result.error->summary(),
                           result.error->remedy);
    } else {
        QStringList parts;
        if (!result.succeeded.isEmpty())
            parts.append(tr("succeeded for pids %1").arg(pidList(result.succeeded)));
        if (!result.failed.isEmpty())
            parts.append(tr("failed for pids %1 (gone already, or not permitted)")
                             .arg(pidList(result.failed)));
        message = name + QStringLiteral(": ") + parts.join(QStringLiteral("; "));
    }
    m_status->setText(message);
    m_session->events().appendAction(QStringLiteral("ui"), message);
}

} // namespace poolscope::ui

// The Load demo page: widgets, targets and exports. Starting, following and finishing a demo are
// in loaddemopagerun.cpp.
#include "ui/loaddemo/loaddemopage.h"

#include "core/monitor/monitorsession.h"
#include "ui/loaddemo/loaddemocharts.h"
#include "ui/loaddemo/loaddemoknobs.h"
#include "ui/loaddemo/loaddemorunsmodel.h"
#include "ui/loaddemo/loaddemosandbox.h"
#include "ui/loaddemo/loaddemotext.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTableView>
#include <QVBoxLayout>

namespace poolscope::ui {

namespace {

// The app starts the session's sandbox with the default options; a scenario that needs another
// server (the small plan's max_connections 20) gets a dedicated one.
bool needsOwnSandbox(const LoadDemoScenario &s)
{
    const sandbox::SandboxOptions defaults;
    return s.sandboxMaxConnections != defaults.maxConnections
        || s.sandboxPoolSize != defaults.poolSize;
}

} // namespace

LoadDemoPage::LoadDemoPage(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_store(TimeSeriesStoreOptions { 16, 40'000, std::nullopt })
    , m_runner(new LoadDemoRunner(this))
    , m_sandbox(new LoadDemoSandbox(this))
{
    m_confirm = [this](const QString &title, const QString &text) {
        QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Yes | QMessageBox::No,
                        this);
        box.setDefaultButton(QMessageBox::No); // loading someone's server is never the default
        return box.exec() == QMessageBox::Yes;
    };
    m_savePath = [this](const QString &title, const QString &suggested, const QString &filter) {
        return QFileDialog::getSaveFileName(this, title, suggested, filter);
    };
    buildUi();
    connect(m_runner, &LoadDemoRunner::runStarted, this, &LoadDemoPage::onRunStarted);
    connect(m_runner, &LoadDemoRunner::snapshot, this, &LoadDemoPage::onSnapshot);
    connect(m_runner, &LoadDemoRunner::runFinished, this, &LoadDemoPage::onRunFinished);
    connect(m_runner, &LoadDemoRunner::finished, this, &LoadDemoPage::onFinished);
    connect(m_sandbox, &LoadDemoSandbox::started, this, &LoadDemoPage::onDemoSandboxStarted);
    connect(m_sandbox, &LoadDemoSandbox::failed, this, &LoadDemoPage::onDemoSandboxFailed);
    if (m_session)
        connect(m_session, &MonitorSession::watching, this, &LoadDemoPage::refreshTargets);
    refreshTargets();
    if (const auto scenario = m_knobs->currentScenario())
        onScenarioPicked(*scenario);
}

LoadDemoPage::~LoadDemoPage()
{
    // The run first (it may be using the dedicated sandbox): stop, join, every connection closed.
    delete m_runner;
    m_runner = nullptr;
    if (m_session)
        m_session->setDemoWorkloadPaused(false);
    delete m_sandbox; // waits for its thread: the servers are gone when this returns
    m_sandbox = nullptr;
}

QWidget *LoadDemoPage::buildTargetBox()
{
    auto *box = new QGroupBox(tr("Target"), this);
    m_target = new QComboBox(box);
    m_target->setObjectName(QStringLiteral("loadDemoTarget"));
    m_target->addItem(tr("The session's sandbox"), int(Target::SessionSandbox));
    m_target->addItem(tr("A dedicated demo sandbox"), int(Target::DedicatedSandbox));
    m_target->addItem(tr("The watched server"), int(Target::WatchedServer));
    m_endpoints = new QComboBox(box);
    m_endpoints->setObjectName(QStringLiteral("loadDemoEndpoints"));
    m_endpoints->addItem(tr("direct, then pooled (compare)"), QStringLiteral("both"));
    m_endpoints->addItem(tr("direct only"), QStringLiteral("direct"));
    m_endpoints->addItem(tr("pooled only (PgBouncer)"), QStringLiteral("pooled"));
    const sandbox::SandboxOptions defaults;
    m_sandboxMax = new QSpinBox(box);
    m_sandboxMax->setObjectName(QStringLiteral("loadDemoSandboxMax"));
    // Room above the superuser-reserved slots, as the CLI's --max-connections asks.
    m_sandboxMax->setRange(defaults.superuserReservedConnections + 2, 10000);
    m_sandboxMax->setToolTip(tr("The demo sandbox's PostgreSQL max_connections"));
    m_sandboxPool = new QSpinBox(box);
    m_sandboxPool->setObjectName(QStringLiteral("loadDemoSandboxPool"));
    m_sandboxPool->setRange(1, 10000);
    m_sandboxPool->setToolTip(tr("The demo sandbox PgBouncer's default_pool_size"));
    m_targetNote = new QLabel(box);
    m_targetNote->setWordWrap(true);
    auto *form = new QFormLayout(box);
    form->addRow(tr("Server:"), m_target);
    form->addRow(tr("Endpoints:"), m_endpoints);
    form->addRow(tr("max_connections:"), m_sandboxMax);
    form->addRow(tr("PgBouncer pool size:"), m_sandboxPool);
    form->addRow(QString(), m_targetNote);
    connect(m_target, &QComboBox::currentIndexChanged, this, &LoadDemoPage::onTargetChanged);
    return box;
}

void LoadDemoPage::buildUi()
{
    m_knobs = new LoadDemoKnobs(this);
    connect(m_knobs, &LoadDemoKnobs::scenarioPicked, this, &LoadDemoPage::onScenarioPicked);

    m_start = new QPushButton(tr("&Start"), this);
    m_start->setObjectName(QStringLiteral("loadDemoStart"));
    m_start->setDefault(true);
    m_stop = new QPushButton(tr("S&top"), this);
    m_stop->setObjectName(QStringLiteral("loadDemoStop"));
    m_stop->setToolTip(tr("Stops the arrivals and closes every connection the demo opened"));
    m_status = new QLabel(tr("Pick a scenario and a target, then Start."), this);
    m_status->setObjectName(QStringLiteral("loadDemoStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    connect(m_start, &QPushButton::clicked, this, &LoadDemoPage::start);
    connect(m_stop, &QPushButton::clicked, this, &LoadDemoPage::stop);

    m_settings = new QWidget(this);
    auto *settingsLayout = new QVBoxLayout(m_settings);
    settingsLayout->setContentsMargins(0, 0, 0, 0);
    settingsLayout->addWidget(buildTargetBox());
    settingsLayout->addWidget(m_knobs);
    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->addWidget(m_settings);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_start);
    buttons->addWidget(m_stop);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_status);
    leftLayout->addStretch(1);
    auto *scroll = new QScrollArea(this);
    scroll->setWidget(left);
    scroll->setWidgetResizable(true);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(400);
    scroll->setMaximumWidth(480);

    m_warning = new QLabel(this);
    m_warning->setObjectName(QStringLiteral("loadDemoRemoteWarning"));
    m_warning->setWordWrap(true);
    m_warning->setStyleSheet(
        QStringLiteral("color: white; background: #c0392b; padding: 6px; font-weight: bold;"));
    m_warning->hide();
    m_charts = new LoadDemoCharts(m_store, this);

    m_runs = new LoadDemoRunsModel(this);
    m_runsView = new QTableView(this);
    m_runsView->setObjectName(QStringLiteral("loadDemoRuns"));
    m_runsView->setModel(m_runs);
    m_runsView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_runsView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_runsView->verticalHeader()->hide();
    m_runsView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    connect(m_runsView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &LoadDemoPage::showSelectedRun);
    m_comparison = new QLabel(this);
    m_comparison->setObjectName(QStringLiteral("loadDemoComparison"));
    m_comparison->setWordWrap(true);
    m_comparison->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_comparison->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_exportCsv = new QPushButton(tr("Summary as CSV..."), this);
    m_exportCsv->setToolTip(tr("Every row of the table, one line per run"));
    m_exportPng = new QPushButton(tr("Charts as PNG..."), this);
    connect(m_exportCsv, &QPushButton::clicked, this, &LoadDemoPage::exportCsv);
    connect(m_exportPng, &QPushButton::clicked, this, &LoadDemoPage::exportPng);

    auto *summary = new QGroupBox(tr("Runs and comparison"), this);
    auto *summaryLayout = new QVBoxLayout(summary);
    summaryLayout->addWidget(m_runsView, 1);
    auto *comparisonScroll = new QScrollArea(summary);
    comparisonScroll->setWidget(m_comparison);
    comparisonScroll->setWidgetResizable(true);
    comparisonScroll->setFrameShape(QFrame::NoFrame);
    summaryLayout->addWidget(comparisonScroll, 1);
    auto *exports = new QHBoxLayout;
    exports->addWidget(new QLabel(tr("Export:"), summary));
    exports->addWidget(m_exportCsv);
    exports->addWidget(m_exportPng);
    exports->addStretch(1);
    summaryLayout->addLayout(exports);

    auto *right = new QWidget(this);
    auto *rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addWidget(m_warning);
    auto *split = new QSplitter(Qt::Vertical, right);
    split->addWidget(m_charts);
    split->addWidget(summary);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    rightLayout->addWidget(split, 1);

    auto *layout = new QHBoxLayout(this);
    layout->addWidget(scroll);
    layout->addWidget(right, 1);
    setPhase(Phase::Idle);
}

LoadDemoPage::Target LoadDemoPage::target() const
{
    return Target(m_target->currentData().toInt());
}

void LoadDemoPage::setTarget(Target target)
{
    m_target->setCurrentIndex(m_target->findData(int(target)));
}

void LoadDemoPage::refreshTargets()
{
    const bool sessionSandbox = m_session && m_session->sandboxEndpoints().has_value();
    const bool watched = m_session && !sessionSandbox && !m_session->conninfo().isEmpty();
    auto enable = [this](Target t, bool on, const QString &text) {
        const int i = m_target->findData(int(t));
        m_target->setItemText(i, text);
        if (auto *model = qobject_cast<QStandardItemModel *>(m_target->model()))
            model->item(i)->setEnabled(on);
    };
    enable(Target::SessionSandbox, sessionSandbox,
           sessionSandbox ? tr("The session's sandbox") : tr("The session's sandbox (none)"));
    enable(Target::WatchedServer, watched,
           watched ? tr("The watched server: %1").arg(m_session->displayName())
                   : tr("The watched server (none besides the sandbox)"));
    const bool usable = (target() == Target::SessionSandbox && sessionSandbox)
        || (target() == Target::WatchedServer && watched) || target() == Target::DedicatedSandbox;
    // The session's sandbox is the default once it is up, unless the scenario needs its own.
    const bool firstSight = sessionSandbox && !m_sessionSandboxSeen;
    m_sessionSandboxSeen = m_sessionSandboxSeen || sessionSandbox;
    const auto scenario = m_knobs->currentScenario();
    if (!usable || (firstSight && !isBusy() && !(scenario && needsOwnSandbox(*scenario))))
        setTarget(sessionSandbox ? Target::SessionSandbox : Target::DedicatedSandbox);
    onTargetChanged();
}

void LoadDemoPage::onScenarioPicked(const LoadDemoScenario &scenario)
{
    m_sandboxMax->setValue(scenario.sandboxMaxConnections);
    m_sandboxPool->setValue(scenario.sandboxPoolSize);
    const int i = m_endpoints->findData(scenario.targets);
    if (i >= 0)
        m_endpoints->setCurrentIndex(i);
    if (needsOwnSandbox(scenario) && target() == Target::SessionSandbox)
        setTarget(Target::DedicatedSandbox);
    else if (!needsOwnSandbox(scenario) && target() == Target::DedicatedSandbox && m_session
             && m_session->sandboxEndpoints())
        setTarget(Target::SessionSandbox);
    onTargetChanged();
}

void LoadDemoPage::onTargetChanged()
{
    const Target t = target();
    m_endpoints->setEnabled(t != Target::WatchedServer);
    m_sandboxMax->setEnabled(t == Target::DedicatedSandbox);
    m_sandboxPool->setEnabled(t == Target::DedicatedSandbox);
    switch (t) {
    case Target::SessionSandbox:
        m_targetNote->setText(tr("The dashboard's embedded sandbox, as it was started (the app "
                                 "default: max_connections 100, PgBouncer pool size 20)."));
        break;
    case Target::DedicatedSandbox:
        m_targetNote->setText(tr("Start starts a PostgreSQL + PgBouncer of the demo's own with "
                                 "these limits (about a second), runs the demo and stops it."));
        break;
    case Target::WatchedServer:
        m_targetNote->setText(tr("The server this window watches, on the endpoint it watches. "
                                 "Not on this machine: asks first, then runs with the remote caps "
                                 "(at most %1 instances x %2 connections, %3 requests/s, %4 s).")
                                  .arg(LoadDemoLimits::kRemoteMaxInstances)
                                  .arg(LoadDemoLimits::kRemoteMaxPoolSize)
                                  .arg(LoadDemoLimits::kRemoteMaxRatePerSecond)
                                  .arg(LoadDemoLimits::kRemoteMaxDuration.count() / 1000));
        break;
    }
}

void LoadDemoPage::setPhase(Phase phase)
{
    m_phase = phase;
    const bool idle = phase == Phase::Idle;
    m_settings->setEnabled(idle);
    m_start->setEnabled(idle);
    m_stop->setEnabled(!idle);
    m_runsView->setEnabled(idle);
    const bool haveRuns = m_runs->rowCount() > 0;
    m_exportCsv->setEnabled(idle && haveRuns);
    m_exportPng->setEnabled(idle && haveRuns);
}

void LoadDemoPage::showSelectedRun()
{
    const QModelIndex current = m_runsView->selectionModel()->currentIndex();
    if (!current.isValid() || current.row() >= m_runs->rowCount())
        return;
    const LoadDemoRunsModel::Row &row = m_runs->rowAt(current.row());
    showComparison(m_runs->runsOfDemo(row.demo));
    if (!isBusy() && row.fromMs > 0)
        m_charts->showSpan(row.fromMs, row.toMs);
}

void LoadDemoPage::showComparison(const QList<LoadDemoRunSummary> &runs)
{
    m_comparison->setText(loadDemoComparison(runs).join(QLatin1Char('\n')));
}

bool LoadDemoPage::exportCsv()
{
    if (m_runs->rowCount() == 0) {
        m_status->setText(tr("No run to export."));
        return false;
    }
    const QString path =
        m_savePath(tr("Export the load demo summary"), QStringLiteral("poolscope-loaddemo.csv"),
                   tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(m_runs->toCsv()) < 0 || !file.commit()) {
        m_status->setText(tr("Could not write %1: %2").arg(path, file.errorString()));
        return false;
    }
    m_status->setText(tr("Wrote %1.").arg(path));
    return true;
}

bool LoadDemoPage::exportPng()
{
    const QString path =
        m_savePath(tr("Export the load demo charts"), QStringLiteral("poolscope-loaddemo.png"),
                   tr("PNG image (*.png)"));
    if (path.isEmpty())
        return false;
    QString error;
    if (!m_charts->exportPng(path, &error)) {
        m_status->setText(error);
        return false;
    }
    m_status->setText(tr("Wrote %1.").arg(path));
    return true;
}

} // namespace poolscope::ui

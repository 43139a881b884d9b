#include "ui/coldstart/coldstartpage.h"

#include "core/check/endpointlint.h"
#include "core/db/conninfo.h"
#include "core/db/redaction.h"
#include "core/monitor/connectionprofiles.h"
#include "core/monitor/monitorsession.h"
#include "ui/coldstart/coldstartchart.h"
#include "ui/coldstart/coldstartcsv.h"
#include "ui/coldstart/coldstarthistorymodel.h"
#include "ui/coldstart/coldstartsummary.h"

#include <QCheckBox>
#include <QDateTime>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSpinBox>
#include <QSplitter>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

namespace poolscope::ui {

namespace {

QSpinBox *spinBox(QWidget *parent, int min, int max, int value, const QString &suffix = {})
{
    auto *box = new QSpinBox(parent);
    box->setRange(min, max);
    box->setValue(value);
    box->setSuffix(suffix);
    return box;
}

// The sandbox's real-cold wait is 0 (nothing there suspends); for a real server 5 minutes, the
// time after which a Neon compute suspends without queries.
constexpr int SandboxColdWaitSeconds = 0;
constexpr int RemoteColdWaitSeconds = 300;

} // namespace

ColdStartPage::ColdStartPage(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
    , m_runner(new ColdStartRunner(this))
{
    registerColdStartMetaTypes();
    m_confirm = [this](const QString &title, const QString &text) {
        QMessageBox box(QMessageBox::Warning, title, text, QMessageBox::Yes | QMessageBox::No,
                        this);
        box.setDefaultButton(QMessageBox::No); // probing someone else's server is never default
        return box.exec() == QMessageBox::Yes;
    };
    m_savePath = [this](const QString &title, const QString &suggested, const QString &filter) {
        return QFileDialog::getSaveFileName(this, title, suggested, filter);
    };
    buildUi();

    connect(m_runner, &ColdStartRunner::coldWaitStarted, this, &ColdStartPage::onColdWaitStarted);
    connect(m_runner, &ColdStartRunner::progress, this, &ColdStartPage::onProgress);
    connect(m_runner, &ColdStartRunner::trialFinished, this, &ColdStartPage::onTrialFinished);
    connect(m_runner, &ColdStartRunner::finished, this, &ColdStartPage::onFinished);
    if (m_session)
        connect(m_session, &MonitorSession::watching, this, &ColdStartPage::refreshTargets);
    refreshTargets();
}

ColdStartPage::~ColdStartPage()
{
    // Join the worker before anything it reports to goes away (its pending signals are dropped),
    // then give the session its polling back.
    delete m_runner;
    m_runner = nullptr;
    pauseBackground(false);
}

bool ColdStartPage::isRunning() const
{
    return m_runner && m_runner->isRunning();
}

void ColdStartPage::buildUi()
{
    m_targetA = new QCheckBox(this);
    m_targetA->setObjectName(QStringLiteral("coldStartTargetA"));
    m_targetB = new QCheckBox(this);
    m_targetB->setObjectName(QStringLiteral("coldStartTargetB"));
    m_compare = new QLineEdit(this);
    m_compare->setObjectName(QStringLiteral("coldStartCompare"));
    m_compare->setPlaceholderText(tr("a second conninfo or URI, e.g. the -pooler host"));
    m_compare->setClearButtonEnabled(true);
    connect(m_compare, &QLineEdit::textEdited, this,
            [this](const QString &text) { m_targetB->setChecked(!text.trimmed().isEmpty()); });

    m_trials = spinBox(this, 1, 1000, 10);
    m_trials->setObjectName(QStringLiteral("coldStartTrials"));
    m_trials->setToolTip(tr("Fresh connections per endpoint: p50/p95/max come from these"));
    m_warm = spinBox(this, 0, 1000, 5);
    m_warm->setToolTip(tr("SELECT 1 round trips on each trial's connection after its first query"));
    m_afterIdle = spinBox(this, 0, 3600, 0, tr(" s"));
    m_afterIdle->setSpecialValueText(tr("off"));
    m_afterIdle->setToolTip(tr("Keep the last connection open this long, then run one query on it "
                               "(the guide's \"verify connections work after idle\")"));
    m_timeout = spinBox(this, 1, 120, 10, tr(" s"));
    m_timeout->setToolTip(tr("Deadline of each trial (DNS to first query) and of each query"));
    m_realCold = new QCheckBox(tr("Real cold"), this);
    m_realCold->setObjectName(QStringLiteral("coldStartRealCold"));
    m_realCold->setToolTip(tr("Wait without any query from PoolScope before the first trial, so "
                              "that a scale-to-zero compute can suspend"));
    m_coldWait = spinBox(this, 0, 3600, SandboxColdWaitSeconds, tr(" s first"));
    m_coldWait->setPrefix(tr("idle "));
    m_coldWait->setSpecialValueText(tr("no idle wait"));
    m_coldWait->setObjectName(QStringLiteral("coldStartColdWait"));
    m_coldWait->setToolTip(tr("Idle wait before the first trial. Neon suspends a compute after 5 "
                              "minutes without queries: use 300 s or more there."));
    m_coldWait->setEnabled(false);
    connect(m_realCold, &QCheckBox::toggled, m_coldWait, &QWidget::setEnabled);
    auto *coldNote = new QLabel(tr("The dashboard's own polling keeps a compute awake, so it is "
                                   "paused while a real-cold test runs."),
                                this);
    coldNote->setWordWrap(true);

    m_settings = new QGroupBox(tr("Cold-start test"), this);
    auto *form = new QFormLayout(m_settings);
    form->addRow(tr("Targets:"), m_targetA);
    form->addRow(QString(), m_targetB);
    form->addRow(QString(), m_compare);
    form->addRow(tr("Trials:"), m_trials);
    form->addRow(tr("Warm queries:"), m_warm);
    form->addRow(tr("After-idle wait:"), m_afterIdle);
    form->addRow(tr("Timeout:"), m_timeout);
    auto *coldRow = new QHBoxLayout;
    coldRow->addWidget(m_realCold);
    coldRow->addWidget(m_coldWait, 1);
    form->addRow(QString(), coldRow);
    form->addRow(QString(), coldNote);

    m_run = new QPushButton(tr("&Run"), this);
    m_run->setObjectName(QStringLiteral("coldStartRun"));
    m_run->setDefault(true);
    m_cancel = new QPushButton(tr("Cancel"), this);
    m_cancel->setObjectName(QStringLiteral("coldStartCancel"));
    m_cancel->setEnabled(false);
    m_progress = new QProgressBar(this);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(tr("%v of %m trials"));
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("coldStartStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_countdown = new QTimer(this);
    m_countdown->setInterval(1000);
    connect(m_countdown, &QTimer::timeout, this, &ColdStartPage::updateColdWaitCountdown);

    auto *left = new QWidget(this);
    auto *leftLayout = new QVBoxLayout(left);
    leftLayout->addWidget(m_settings);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_run);
    buttons->addWidget(m_cancel);
    leftLayout->addLayout(buttons);
    leftLayout->addWidget(m_progress);
    leftLayout->addWidget(m_status);

    m_chart = new ColdStartChart(this);
    m_summary = new ColdStartSummary(this);
    m_history = new ColdStartHistoryModel(this);
    m_historyView = new QTableView(this);
    m_historyView->setObjectName(QStringLiteral("coldStartHistory"));
    m_historyView->setModel(m_history);
    m_historyView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_historyView->setSelectionMode(QAbstractItemView::SingleSelection);
    m_historyView->verticalHeader()->hide();
    m_historyView->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_historyView->setMinimumWidth(460);
    connect(m_historyView->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &ColdStartPage::showSelectedRun);
    m_exportCsv = new QPushButton(tr("Run as CSV..."), this);
    m_exportCsv->setToolTip(tr("The selected run, one line per trial"));
    m_exportAllCsv = new QPushButton(tr("All runs as CSV..."), this);
    m_exportAllCsv->setToolTip(tr("Every run kept in this list, one line per trial"));
    m_exportPng = new QPushButton(tr("Chart as PNG..."), this);
    connect(m_exportCsv, &QPushButton::clicked, this, [this] { exportCsv(false); });
    connect(m_exportAllCsv, &QPushButton::clicked, this, [this] { exportCsv(true); });
    connect(m_exportPng, &QPushButton::clicked, this, &ColdStartPage::exportPng);

    auto *history = new QGroupBox(tr("Runs of this session"), this);
    auto *historyLayout = new QVBoxLayout(history);
    historyLayout->addWidget(m_historyView, 1);
    auto *exports = new QHBoxLayout;
    exports->addWidget(new QLabel(tr("Export:"), this));
    exports->addWidget(m_exportCsv);
    exports->addWidget(m_exportAllCsv);
    exports->addWidget(m_exportPng);
    exports->addStretch(1);
    historyLayout->addLayout(exports);

    leftLayout->addWidget(history, 1);

    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(m_chart);
    right->addWidget(m_summary);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 2);
    right->setSizes({ 480, 320 });

    auto *layout = new QHBoxLayout(this);
    layout->addWidget(left);
    layout->addWidget(right, 1);

    connect(m_run, &QPushButton::clicked, this, &ColdStartPage::run);
    connect(m_cancel, &QPushButton::clicked, this, &ColdStartPage::cancel);
    setRunning(false);
}

void ColdStartPage::refreshTargets()
{
    const auto endpoints = m_session ? m_session->sandboxEndpoints() : std::nullopt;
    const bool sandbox = endpoints.has_value();
    if (!m_modeKnown || sandbox != m_sandboxMode) {
        m_coldWait->setValue(sandbox ? SandboxColdWaitSeconds : RemoteColdWaitSeconds);
        m_targetA->setChecked(true);
        m_targetB->setChecked(sandbox);
    }
    m_modeKnown = true;
    m_sandboxMode = sandbox;
    if (sandbox) {
        m_targetA->setText(tr("direct  %1").arg(coldStartDisplayName(endpoints->directUri)));
        m_targetB->setText(tr("pooled  %1").arg(coldStartDisplayName(endpoints->pooledUri)));
        m_targetA->setEnabled(true);
        m_compare->hide();
        return;
    }
    const QString watched = m_session ? m_session->conninfo() : QString();
    m_targetA->setEnabled(!watched.isEmpty());
    m_targetA->setText(watched.isEmpty() ? tr("the watched server (none)")
                                         : tr("watched  %1").arg(coldStartDisplayName(watched)));
    m_targetB->setText(tr("compare with:"));
    m_compare->show();
}

QString ColdStartPage::effectiveCompare()
{
    const QString text = m_compare->text().trimmed();
    if (!m_secretCompare.isEmpty() && text == m_shownCompare)
        return m_secretCompare;
    // Any password typed here stays in memory only; the field shows the string without it (and
    // is left as typed when it holds none).
    const auto parsed = ConnInfo::parse(text);
    const QString password = parsed ? parsed->value(QStringLiteral("password")) : QString();
    const bool secret = parsed
        && (parsed->has(QStringLiteral("password")) || parsed->has(QStringLiteral("sslpassword")));
    if (!password.isEmpty())
        registerSecret(password);
    m_secretCompare = text;
    m_shownCompare = secret ? withoutPassword(text) : text;
    if (secret) {
        const QSignalBlocker block(m_compare);
        m_compare->setText(m_shownCompare);
    }
    return text;
}

std::optional<ColdStartRequest> ColdStartPage::buildRequest()
{
    ColdStartRequest request;
    QStringList problems;
    if (m_sandboxMode && m_session && m_session->sandboxEndpoints()) {
        const sandbox::SandboxEndpoints endpoints = *m_session->sandboxEndpoints();
        if (m_targetA->isChecked())
            request.targets.append({ QStringLiteral("direct"), endpoints.directUri });
        if (m_targetB->isChecked())
            request.targets.append({ QStringLiteral("pooled"), endpoints.pooledUri });
    } else {
        // The watched string and the one to compare with, named by what the host name says
        // when it says something (Neon's -pooler host, Supabase's ports), else by position.
        QList<QPair<QString, QString>> strings;
        if (m_targetA->isChecked() && m_targetA->isEnabled())
            strings.append({ QStringLiteral("watched"), m_session->conninfo() });
        if (m_targetB->isChecked() && !m_compare->text().trimmed().isEmpty())
            strings.append({ QStringLiteral("compare"), effectiveCompare() });
        for (const auto &[fallback, conninfo] : std::as_const(strings)) {
            const auto lint = lintEndpoint(conninfo);
            if (!lint) {
                problems << lint.error().message;
                continue;
            }
            const EndpointKind kind = lint->endpoint.kind;
            QString label = fallback;
            if (lint->endpoint.pooled)
                label = QStringLiteral("pooled");
            else if (kind == EndpointKind::NeonDirect || kind == EndpointKind::SupabaseDirect)
                label = QStringLiteral("direct");
            if (!request.targets.isEmpty() && request.targets.constFirst().label == label)
                label += QStringLiteral(" 2");
            request.targets.append({ label, conninfo });
        }
    }
    if (!problems.isEmpty()) {
        m_status->setText(tr("Cannot run: %1").arg(problems.join(QStringLiteral("; "))));
        return std::nullopt;
    }
    if (request.targets.isEmpty()) {
        m_status->setText(tr("Choose at least one endpoint to test."));
        return std::nullopt;
    }

    // Loopback only unless the operator says otherwise (the CLI's --allow-remote).
    QStringList remote;
    for (const ColdStartTarget &target : request.targets) {
        const auto info = ConnInfo::parse(target.conninfo);
        if (!info) {
            m_status->setText(tr("Cannot run: %1").arg(info.error().message));
            return std::nullopt;
        }
        if (!info->targetsLoopbackOnly())
            remote << QStringLiteral("%1 (%2)").arg(info->host(), target.label);
    }
    if (!remote.isEmpty()) {
        const QString text =
            tr("%1 not on this machine. The test opens %2 fresh connection(s) to each endpoint "
               "and runs queries on them. Probe it anyway?")
                .arg(remote.join(QStringLiteral(", "))
                     + (remote.size() == 1 ? tr(" is") : tr(" are")))
                .arg(m_trials->value());
        if (!m_confirm(tr("Probe a remote server?"), text)) {
            m_status->setText(
                tr("Not run: %1 is not on this machine.").arg(remote.join(QStringLiteral(", "))));
            return std::nullopt;
        }
    }

    request.options.trials = m_trials->value();
    request.options.warmQueries = m_warm->value();
    request.options.idleBefore = std::chrono::seconds(m_afterIdle->value());
    request.options.timeout = std::chrono::seconds(m_timeout->value());
    if (m_realCold->isChecked())
        request.coldWait = std::chrono::seconds(m_coldWait->value());
    return request;
}

void ColdStartPage::run()
{
    if (isRunning())
        return;
    std::optional<ColdStartRequest> request = buildRequest();
    if (!request)
        return;
    if (m_realCold->isChecked())
        pauseBackground(true); // before the runner's first wait or connect
    if (!m_runner->start(*request)) {
        pauseBackground(false);
        m_status->setText(tr("The test could not start."));
        return;
    }
    m_runTargets = request->targets;
    m_liveTrials.clear();
    m_chart->clear();
    m_summary->clear();
    const int total = int(request->targets.size()) * request->options.trials;
    m_progress->setRange(0, total);
    m_progress->setValue(0);
    m_status->setText(tr("Running %1 trial(s) on %2 endpoint(s)...")
                          .arg(request->options.trials)
                          .arg(request->targets.size()));
    setRunning(true);
}

void ColdStartPage::cancel()
{
    if (!isRunning())
        return;
    m_runner->cancel();
    m_cancel->setEnabled(false);
    m_countdown->stop();
    m_status->setText(tr("Cancelling (a connect in flight finishes or times out first)..."));
}

void ColdStartPage::setRunning(bool running)
{
    m_settings->setEnabled(!running);
    m_run->setEnabled(!running);
    m_cancel->setEnabled(running);
    m_historyView->setEnabled(!running);
    const bool haveRuns = m_history->rowCount() > 0;
    m_exportCsv->setEnabled(!running && haveRuns);
    m_exportAllCsv->setEnabled(!running && haveRuns);
    m_exportPng->setEnabled(!running && haveRuns);
}

void ColdStartPage::pauseBackground(bool paused)
{
    if (paused == m_pausedBackground)
        return;
    m_pausedBackground = paused;
    if (m_session)
        m_session->setBackgroundPaused(paused);
}

void ColdStartPage::onColdWaitStarted(qint64 ms)
{
    m_coldWaitEndMs = QDateTime::currentMSecsSinceEpoch() + ms;
    updateColdWaitCountdown();
    m_countdown->start();
}

void ColdStartPage::updateColdWaitCountdown()
{
    const qint64 left = m_coldWaitEndMs - QDateTime::currentMSecsSinceEpoch();
    if (left <= 0 || !isRunning()) {
        m_countdown->stop();
        return;
    }
    m_status->setText(tr("Real cold: no queries for %1 s more (the dashboard's polling is "
                         "paused), then the first trial.")
                          .arg((left + 999) / 1000));
}

void ColdStartPage::onProgress(int done, int total)
{
    m_countdown->stop();
    m_progress->setRange(0, std::max(1, total));
    m_progress->setValue(done);
    m_status->setText(tr("Trial %1 of %2...").arg(done).arg(total));
}

void ColdStartPage::onTrialFinished(const QString &label, int index, const ColdStartTrial &trial)
{
    QList<ColdStartTrial> &trials = m_liveTrials[label];
    while (trials.size() < index)
        trials.append(ColdStartTrial {}); // never expected: trials arrive in order
    if (trials.size() == index)
        trials.append(trial);
    QList<ColdStartChart::Group> groups;
    for (const ColdStartTarget &target : std::as_const(m_runTargets)) {
        if (m_liveTrials.contains(target.label))
            groups.append({ target.label, m_liveTrials.value(target.label) });
    }
    m_chart->setGroups(groups);
}

void ColdStartPage::onFinished(const ColdStartRun &run)
{
    m_countdown->stop();
    pauseBackground(false);
    int done = 0;
    for (const ColdStartTargetResult &r : run.results)
        done += int(r.report.trials.size());
    m_progress->setValue(std::min(done, m_progress->maximum()));
    const int row = m_history->addRun(run);
    setRunning(false);
    m_historyView->selectRow(row);
    m_historyView->scrollTo(m_history->index(row, 0));
    showSelectedRun();
    QStringList verdicts;
    for (const ColdStartTargetResult &r : run.results)
        verdicts << QStringLiteral("%1 %2").arg(r.label, r.report.verdict);
    m_status->setText(
        run.cancelled
            ? tr("Run %1 cancelled after %2 trial(s).").arg(run.id).arg(done)
            : tr("Run %1 finished: %2.").arg(run.id).arg(verdicts.join(QStringLiteral(", "))));
    m_liveTrials.clear();
    m_runTargets.clear();
    Q_EMIT runFinished(run);
}

std::optional<ColdStartRun> ColdStartPage::selectedRun() const
{
    const QModelIndex current = m_historyView->selectionModel()->currentIndex();
    if (!current.isValid())
        return std::nullopt;
    return m_history->runAt(current.row());
}

void ColdStartPage::showSelectedRun()
{
    const std::optional<ColdStartRun> run = selectedRun();
    if (!run) {
        m_chart->clear();
        m_summary->clear();
        return;
    }
    QList<ColdStartChart::Group> groups;
    for (const ColdStartTargetResult &r : run->results)
        groups.append({ r.label, r.report.trials });
    m_chart->setGroups(groups);
    m_summary->showRun(*run);
}

bool ColdStartPage::exportCsv(bool allRuns)
{
    QList<ColdStartRun> runs;
    if (allRuns) {
        runs = m_history->runs();
    } else if (const auto run = selectedRun()) {
        runs.append(*run);
    }
    if (runs.isEmpty()) {
        m_status->setText(tr("No run to export."));
        return false;
    }
    const QString suggested = allRuns
        ? QStringLiteral("poolscope-coldstart-runs.csv")
        : QStringLiteral("poolscope-coldstart-run-%1.csv").arg(runs.constFirst().id);
    const QString path =
        m_savePath(tr("Export cold-start trials"), suggested, tr("CSV files (*.csv)"));
    if (path.isEmpty())
        return false;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(coldStartRunsToCsv(runs)) < 0
        || !file.commit()) {
        m_status->setText(tr("Could not write %1: %2").arg(path, file.errorString()));
        return false;
    }
    m_status->setText(tr("Wrote %1.").arg(path));
    return true;
}

bool ColdStartPage::exportPng()
{
    const auto run = selectedRun();
    const QString suggested = run ? QStringLiteral("poolscope-coldstart-run-%1.png").arg(run->id)
                                  : QStringLiteral("poolscope-coldstart.png");
    const QString path =
        m_savePath(tr("Export cold-start chart"), suggested, tr("PNG image (*.png)"));
    if (path.isEmpty())
        return false;
    QString error;
    if (!m_chart->exportPng(path, &error)) {
        m_status->setText(error);
        return false;
    }
    m_status->setText(tr("Wrote %1.").arg(path));
    return true;
}

} // namespace poolscope::ui

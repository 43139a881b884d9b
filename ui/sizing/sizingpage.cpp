#include "ui/sizing/sizingpage.h"

#include "core/monitor/monitorsession.h"
#include "core/sampler/samplerseries.h"
#include "ui/sizing/sizingchart.h"

#include <QApplication>
#include <QCheckBox>
#include <QClipboard>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>

namespace poolscope::ui {

namespace {

const QString CustomPreset = QStringLiteral("custom");
constexpr qint64 PeakWindowMs = 3600 * 1000;

QSpinBox *spinBox(QWidget *parent, int min, int max, int value)
{
    auto *box = new QSpinBox(parent);
    box->setRange(min, max);
    box->setValue(value);
    box->setKeyboardTracking(true); // recompute as you type
    box->setGroupSeparatorShown(true);
    return box;
}

QLabel *outputLabel(QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace

SizingPage::SizingPage(MonitorSession *session, QWidget *parent)
    : QWidget(parent)
    , m_session(session)
{
    buildUi();
    if (m_session) {
        if (const auto &sample = m_session->lastSample())
            m_liveLimits = sample->limits;
        connect(m_session, &MonitorSession::sampled, this, &SizingPage::onSampled);
        updateLivePeak();
    }
    onPresetChanged();
}

SizingPage::~SizingPage() = default;

void SizingPage::buildUi()
{
    m_preset = new QComboBox(this);
    m_preset->setObjectName(QStringLiteral("sizingPresetCombo"));
    for (const LimitPreset &p : limitPresets()) {
        QString label = p.label;
        if (p.fromGuide && !label.contains(QLatin1String("guide"), Qt::CaseInsensitive))
            label += tr(" (the guide's number)");
        m_preset->addItem(tr("%1: %2").arg(label).arg(p.maxConnections), p.name);
        m_preset->setItemData(m_preset->count() - 1, p.source, Qt::ToolTipRole);
    }
    m_preset->addItem(tr("Custom"), CustomPreset);
    const int neon1 = m_preset->findData(QStringLiteral("neon-1cu"));
    if (neon1 >= 0)
        m_preset->setCurrentIndex(neon1);

    m_maxConnections = spinBox(this, 1, 1'000'000, 100);
    m_maxConnections->setObjectName(QStringLiteral("sizingMaxConnections"));
    m_useLive = new QCheckBox(tr("Use the live value"), this);
    m_useLive->setChecked(true);
    m_useLive->hide();
    m_limitNote = outputLabel(this);
    m_reserved = spinBox(this, 0, 100'000, 3);
    m_reserved->setToolTip(tr("superuser_reserved_connections (+ reserved_connections, + the "
                              "provider's own reserve: Neon keeps 7)"));
    m_otherClients = spinBox(this, 0, 100'000, 2);
    m_otherClients->setToolTip(tr("Connections outside the pools: this sampler, admin sessions, "
                                  "migrations"));
    m_instances = spinBox(this, 1, 1'000'000, 10);
    m_instances->setObjectName(QStringLiteral("sizingInstances"));
    m_instances->setToolTip(tr("Concurrent serverless instances or processes, each with a pool"));
    m_poolMin = spinBox(this, -1, 100'000, -1);
    m_poolMin->setSpecialValueText(tr("recommend"));
    m_poolMax = spinBox(this, 0, 100'000, 0);
    m_poolMax->setSpecialValueText(tr("recommend"));
    m_poolMax->setToolTip(tr("A per-instance pool max to evaluate; \"recommend\" lets the advisor "
                             "choose"));
    m_pooled = new QCheckBox(tr("A transaction pooler in front (e.g. Neon's -pooler host)"), this);
    m_scaleToZero = new QCheckBox(tr("Endpoint scales to zero when idle"), this);
    m_rate = new QDoubleSpinBox(this);
    m_rate->setRange(0, 1e7);
    m_rate->setDecimals(1);
    m_rate->setSuffix(tr(" req/s"));
    m_rate->setSpecialValueText(tr("not given"));
    m_hold = new QDoubleSpinBox(this);
    m_hold->setRange(0, 3.6e6);
    m_hold->setDecimals(1);
    m_hold->setSuffix(tr(" ms"));
    m_hold->setSpecialValueText(tr("not given"));
    m_hold->setToolTip(tr("Mean time a request holds a connection"));

    auto *inputs = new QGroupBox(tr("Inputs"), this);
    auto *form = new QFormLayout(inputs);
    form->addRow(tr("Limit:"), m_preset);
    auto *limitRow = new QHBoxLayout;
    limitRow->addWidget(m_maxConnections, 1);
    limitRow->addWidget(m_useLive);
    form->addRow(tr("max_connections:"), limitRow);
    form->addRow(QString(), m_limitNote);
    form->addRow(tr("Reserved:"), m_reserved);
    form->addRow(tr("Other clients:"), m_otherClients);
    form->addRow(tr("Instances:"), m_instances);
    form->addRow(tr("Pool min per instance:"), m_poolMin);
    form->addRow(tr("Pool max per instance:"), m_poolMax);
    form->addRow(QString(), m_pooled);
    form->addRow(QString(), m_scaleToZero);
    form->addRow(tr("Load (optional):"), m_rate);
    form->addRow(tr("Hold time (optional):"), m_hold);

    m_env = new QPlainTextEdit(this);
    m_env->setObjectName(QStringLiteral("sizingEnvLines"));
    m_env->setReadOnly(true);
    m_env->setMaximumHeight(m_env->fontMetrics().lineSpacing() * 3 + 12);
    QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    m_env->setFont(mono);
    m_copy = new QPushButton(tr("Copy"), this);
    m_copy->setObjectName(QStringLiteral("sizingCopyButton"));
    m_copy->setToolTip(tr("Copy the environment lines to the clipboard"));
    m_demand = outputLabel(this);
    m_safe = outputLabel(this);
    m_littles = outputLabel(this);
    m_verdict = outputLabel(this);
    m_verdict->setObjectName(QStringLiteral("sizingVerdict"));
    m_explanation = outputLabel(this);

    auto *outputs = new QGroupBox(tr("Recommendation"), this);
    auto *out = new QVBoxLayout(outputs);
    auto *envRow = new QHBoxLayout;
    envRow->addWidget(m_env, 1);
    envRow->addWidget(m_copy, 0, Qt::AlignTop);
    out->addLayout(envRow);
    out->addWidget(m_verdict);
    out->addWidget(m_demand);
    out->addWidget(m_safe);
    out->addWidget(m_littles);
    out->addWidget(m_explanation);
    out->addStretch(1);

    m_chart = new SizingChart(this);
    auto *right = new QSplitter(Qt::Vertical, this);
    right->addWidget(outputs);
    right->addWidget(m_chart);
    right->setStretchFactor(1, 1);

    auto *layout = new QHBoxLayout(this);
    layout->addWidget(inputs);
    layout->addWidget(right, 1);

    connect(m_preset, &QComboBox::currentIndexChanged, this, &SizingPage::onPresetChanged);
    connect(m_useLive, &QCheckBox::toggled, this, &SizingPage::onPresetChanged);
    for (QSpinBox *box :
         { m_maxConnections, m_reserved, m_otherClients, m_instances, m_poolMin, m_poolMax })
        connect(box, &QSpinBox::valueChanged, this, &SizingPage::recompute);
    for (QDoubleSpinBox *box : { m_rate, m_hold })
        connect(box, &QDoubleSpinBox::valueChanged, this, &SizingPage::recompute);
    for (QCheckBox *box : { m_pooled, m_scaleToZero })
        connect(box, &QCheckBox::toggled, this, &SizingPage::recompute);
    connect(m_copy, &QPushButton::clicked, this, &SizingPage::copyEnvLines);
}

void SizingPage::onPresetChanged()
{
    const bool live = m_liveLimits && m_liveLimits->maxConnections > 0;
    m_useLive->setVisible(live);
    m_updatingPreset = true;
    if (live && m_useLive->isChecked()) {
        m_maxConnections->setValue(m_liveLimits->maxConnections);
        m_reserved->setValue(m_liveLimits->superuserReserved + m_liveLimits->reservedConnections);
        m_maxConnections->setEnabled(false);
        m_preset->setEnabled(false);
        m_limitNote->setText(tr("Read live from the server: max_connections = %1, reserved %2. "
                                "The live value wins over the preset.")
                                 .arg(m_liveLimits->maxConnections)
                                 .arg(m_reserved->value()));
    } else {
        m_preset->setEnabled(true);
        const QString name = m_preset->currentData().toString();
        const std::optional<LimitPreset> preset =
            name == CustomPreset ? std::nullopt : findPreset(name);
        m_maxConnections->setEnabled(!preset);
        if (preset) {
            m_maxConnections->setValue(preset->maxConnections);
            m_reserved->setValue(preset->reserved);
            QString note = preset->fromGuide
                ? tr("The guide's number, not a provider's documented limit")
                : tr("Documented limit");
            if (preset->fromGuide && preset->guideRecommendedMax > 0)
                note += tr(" (the guide recommends MAX_SIZE %1)").arg(preset->guideRecommendedMax);
            if (!preset->source.isEmpty())
                note +=
                    QStringLiteral(": <a href=\"%1\">%1</a>").arg(preset->source.toHtmlEscaped());
            m_limitNote->setText(note);
            m_limitNote->setOpenExternalLinks(true);
        } else {
            m_limitNote->setText(tr("Custom: type the server's max_connections."));
        }
    }
    m_updatingPreset = false;
    recompute();
}

SizingInput SizingPage::input() const
{
    SizingInput in;
    in.maxConnections = m_maxConnections->value();
    in.reserved = m_reserved->value();
    in.otherClients = m_otherClients->value();
    in.instances = m_instances->value();
    if (m_poolMax->value() > 0)
        in.poolMax = m_poolMax->value();
    if (m_poolMin->value() >= 0)
        in.poolMin = m_poolMin->value();
    in.pooled = m_pooled->isChecked();
    in.scaleToZero = m_scaleToZero->isChecked();
    if (m_rate->value() > 0)
        in.ratePerSecond = m_rate->value();
    if (m_hold->value() > 0)
        in.holdMs = m_hold->value();
    return in;
}

void SizingPage::recompute()
{
    if (m_updatingPreset)
        return;
    showResult(input());
}

void SizingPage::showResult(const SizingInput &in)
{
    const Result<SizingResult, DbError> advice = adviseSizing(in);
    if (!advice.ok()) {
        m_result.reset();
        m_env->setPlainText(QString());
        m_copy->setEnabled(false);
        m_verdict->setText(
            tr("<b>Invalid input:</b> %1").arg(advice.error().message.toHtmlEscaped()));
        for (QLabel *l : { m_demand, m_safe, m_littles, m_explanation })
            l->clear();
        return;
    }
    const SizingResult &r = advice.value();
    m_result = r;
    m_env->setPlainText(r.envLines.join(QLatin1Char('\n')));
    m_copy->setEnabled(!r.envLines.isEmpty());

    const int poolerServerPool =
        r.pooledServerPool > 0 ? r.pooledServerPool : int(std::floor(0.9 * r.maxConnections));
    const int poolerClients = r.pooledClientLimit > 0 ? r.pooledClientLimit : in.poolerMaxClients;
    const QString pooledMax = r.pooledRecommendedMax
        ? tr(" Through it, a pool max of %1 per instance.").arg(*r.pooledRecommendedMax)
        : QString();
    if (r.fits) {
        m_verdict->setText(tr("<b style='color:#27ae60'>Fits:</b> worst case %1 of %2 available "
                              "connections.%3")
                               .arg(r.worstCase)
                               .arg(r.available)
                               .arg(in.pooled ? pooledMax : QString()));
    } else if (in.pooled) {
        m_verdict->setText(tr("<b style='color:#c0392b'>Does not fit</b>, even through the pooler: "
                              "worst case %1 client connections.")
                               .arg(r.worstCase));
    } else {
        m_verdict->setText(
            tr("<b style='color:#c0392b'>Does not fit</b> a direct endpoint: worst case %1 > %2 "
               "available. <b>Use the pooler</b> (e.g. Neon's -pooler host, transaction mode): "
               "it accepts up to %3 client connections and keeps about %4 server connections per "
               "user/database (0.9 × max_connections).%5")
                .arg(r.worstCase)
                .arg(r.available)
                .arg(QLocale().toString(poolerClients))
                .arg(poolerServerPool)
                .arg(pooledMax));
    }
    m_demand->setText(tr("Worst-case demand: %1 instances × pool max + %2 others = <b>%3</b>; "
                         "available to the pools: <b>%4</b> (max_connections %5 − reserved %6 − "
                         "others %2).")
                          .arg(in.instances)
                          .arg(in.otherClients)
                          .arg(r.worstCase)
                          .arg(r.available)
                          .arg(r.maxConnections)
                          .arg(in.reserved));
    m_safe->setText(tr("Most instances that fit: <b>%1</b>").arg(r.maxSafeInstances));
    m_littles->setText(r.littlesLaw
                           ? tr("Little's law: about <b>%1</b> connections busy on average (rate × "
                                "hold time, with headroom).")
                                 .arg(*r.littlesLaw, 0, 'f', 1)
                           : tr("Little's law: give a rate and a hold time to estimate the "
                                "connections actually busy."));
    m_explanation->setText(r.explanation);

    SizingChart::Data data;
    data.poolMax = in.poolMax.value_or(r.recommendedMax.value_or(0));
    if (data.poolMax == 0 && in.instances > 0)
        data.poolMax = std::max(0, (r.worstCase - in.otherClients) / in.instances);
    data.otherClients = in.otherClients;
    data.instances = in.instances;
    data.available = r.available;
    data.poolerClients = poolerClients;
    data.poolerServerPool = poolerServerPool;
    data.pooled = in.pooled;
    data.maxSafeInstances = r.maxSafeInstances;
    data.livePeak = m_livePeak;
    m_chart->setData(data);
}

void SizingPage::copyEnvLines()
{
    if (m_result && !m_result->envLines.isEmpty())
        QGuiApplication::clipboard()->setText(m_result->envLines.join(QLatin1Char('\n'))
                                              + QLatin1Char('\n'));
}

void SizingPage::onSampled(const ActivitySample &sample)
{
    const bool hadLive = m_liveLimits.has_value();
    const bool changed = !m_liveLimits
        || m_liveLimits->maxConnections != sample.limits.maxConnections
        || m_liveLimits->superuserReserved != sample.limits.superuserReserved
        || m_liveLimits->reservedConnections != sample.limits.reservedConnections;
    m_liveLimits = sample.limits;
    const std::optional<double> oldPeak = m_livePeak;
    updateLivePeak();
    if (changed || !hadLive)
        onPresetChanged();
    else if (oldPeak != m_livePeak)
        recompute();
}

void SizingPage::updateLivePeak()
{
    const TimeSeriesStore &store = m_session->store();
    const std::optional<TimePoint> newest = store.latest(series::Total);
    m_livePeak.reset();
    if (!newest)
        return;
    const QList<Bucket> buckets =
        store.query(series::Total, newest->tMs - PeakWindowMs, newest->tMs + 1, 1);
    if (!buckets.isEmpty() && !buckets.first().isGap() && std::isfinite(buckets.first().max))
        m_livePeak = buckets.first().max;
}

} // namespace poolscope::ui

#include "ui/appicon.h"

#include <QPainter>
#include <QPainterPath>
#include <QPixmap>

namespace poolscope::ui {
namespace {

QPixmap paintIcon(int size)
{
    QPixmap pixmap(size, size);
    pixmap.fill(Qt::transparent);
    QPainter p(&pixmap);
    p.setRenderHint(QPainter::Antialiasing);
    p.scale(size / 256.0, size / 256.0);
    p.setPen(Qt::NoPen);
    p.setBrush(QColor(0x1f, 0x3b, 0x57));
    p.drawRoundedRect(QRectF(8, 8, 240, 240), 48, 48);

    // The gauge: a 180-degree arc from left to right, green up to ~70 %, orange beyond.
    const QRectF arc(48, 88, 160, 160);
    auto stroke = [&](QColor colour, int startDegrees, int spanDegrees) {
        QPen pen(colour, 22, Qt::SolidLine, Qt::RoundCap);
        p.setPen(pen);
        p.setBrush(Qt::NoBrush);
        p.drawArc(arc, startDegrees * 16, spanDegrees * 16);
    };
    stroke(QColor(0x3d, 0x6b, 0x94), 0, 180);
    stroke(QColor(0x4f, 0xc3, 0xa1), 180, -120);
    stroke(QColor(0xf0, 0xa0, 0x4b), 60, -60);
    p.setPen(QPen(Qt::white, 10, Qt::SolidLine, Qt::RoundCap));
    p.drawLine(QPointF(128, 168), QPointF(186, 112));
    p.setPen(Qt::NoPen);
    p.setBrush(Qt::white);
    p.drawEllipse(QPointF(128, 168), 14, 14);
    for (int i = 0; i < 5; ++i) {
        p.setBrush(i < 4 ? QColor(0x4f, 0xc3, 0xa1) : QColor(0xf0, 0xa0, 0x4b));
        p.drawEllipse(QPointF(76 + 28 * i, 212), 9, 9);
    }
    return pixmap;
}

} // namespace

QIcon applicationIcon()
{
    QIcon icon;
    for (int size : { 16, 24, 32, 48, 64, 128, 256 })
        icon.addPixmap(paintIcon(size));
    return icon;
}

} // namespace poolscope::ui

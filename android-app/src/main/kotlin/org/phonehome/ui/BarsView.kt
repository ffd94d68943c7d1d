package org.phonehome.ui

import android.content.Context
import android.graphics.Canvas
import android.graphics.Paint
import android.view.View
import org.phonehome.R
import org.phonehome.history.Timeline

/** The app detail's timeline: bytes per bucket as bars, buckets with an alert marked below in the alert color. */
class BarsView(context: Context, private val bars: List<Timeline.Bar>) : View(context) {
    private val bar = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = context.getColor(R.color.bar) }
    private val alert = Paint(Paint.ANTI_ALIAS_FLAG).apply { color = context.getColor(R.color.severity_high) }
    private val base = Paint().apply { color = context.getColor(R.color.card_stroke) }

    override fun onDraw(canvas: Canvas) {
        if (bars.isEmpty()) return
        val marks = height * 0.15f
        val plot = height - marks
        val most = bars.maxOf { it.bytes }.coerceAtLeast(1)
        // A short history keeps bars of a readable width, from the left, rather than one bar across the card.
        val slot = minOf(width.toFloat() / bars.size, width / MIN_SLOTS)
        val gap = slot * 0.2f
        canvas.drawRect(0f, plot - 1, width.toFloat(), plot, base)
        bars.forEachIndexed { index, value ->
            val left = index * slot + gap / 2
            if (value.flows > 0 || value.bytes > 0) {
                // Any activity shows at least a sliver; the rest scales with the busiest bucket.
                val h = maxOf(plot * value.bytes / most, plot * 0.04f)
                canvas.drawRect(left, plot - h, left + slot - gap, plot, bar)
            }
            if (value.alerts > 0) canvas.drawCircle(left + (slot - gap) / 2, plot + marks / 2, minOf(marks / 3, (slot - gap) / 2), alert)
        }
    }

    private companion object {
        const val MIN_SLOTS = 24f
    }
}

package org.phonehome.history

import org.phonehome.store.TimelineBucket
import java.text.SimpleDateFormat
import java.util.Date
import java.util.Locale
import java.util.TimeZone

/** The app detail's timeline: a bucket width that fits the app's activity, and bars with the gaps filled. */
object Timeline {
    private const val MINUTE_US = 60_000_000L
    private const val HOUR_US = 60 * MINUTE_US
    private const val DAY_US = 24 * HOUR_US

    /** Bucket widths a reader can count in, narrowest first. */
    val WIDTHS_US = longArrayOf(MINUTE_US, 5 * MINUTE_US, 15 * MINUTE_US, HOUR_US, 3 * HOUR_US, 6 * HOUR_US,
        12 * HOUR_US, DAY_US, 7 * DAY_US)

    /** Buckets shown at most: one text line on a phone. */
    const val MAX_BUCKETS = 48

    /** `buckets` buckets of `bucketUs` from `startUs` (microseconds since the epoch, aligned to the width). */
    data class Window(val startUs: Long, val bucketUs: Long, val buckets: Int)

    /** One bucket of the timeline. */
    data class Bar(val startUs: Long, val flows: Long, val bytes: Long, val alerts: Long)

    /**
     * The narrowest width whose aligned buckets cover `firstUs..lastUs` within [maxBuckets]; past the widest
     * width, the latest [maxBuckets] buckets.
     */
    fun window(firstUs: Long, lastUs: Long, maxBuckets: Int = MAX_BUCKETS): Window {
        val last = maxOf(firstUs, lastUs)
        val width = WIDTHS_US.firstOrNull { Math.floorDiv(last, it) - Math.floorDiv(firstUs, it) < maxBuckets } ?: WIDTHS_US.last()
        val end = Math.floorDiv(last, width)
        val start = maxOf(Math.floorDiv(firstUs, width), end - maxBuckets + 1)
        return Window(start * width, width, (end - start + 1).toInt())
    }

    /** Every bucket of [window] in order, empty ones included; points outside the window are ignored. */
    fun bars(window: Window, points: List<TimelineBucket>): List<Bar> {
        val byBucket = points.associateBy { it.bucket.toLong() }
        return (0 until window.buckets).map { index ->
            val point = byBucket[index.toLong()]
            Bar(window.startUs + index * window.bucketUs, point?.flows?.toLong() ?: 0, point?.bytes?.toLong() ?: 0,
                point?.alerts?.toLong() ?: 0)
        }
    }

    private const val LEVELS = "▁▂▃▄▅▆▇█"

    /** Bytes per bucket as block characters scaled to the busiest bucket; `·` where nothing happened. */
    fun sparkline(bars: List<Bar>): String {
        val most = bars.maxOfOrNull { it.bytes } ?: 0
        return bars.joinToString("") { bar ->
            when {
                bar.flows == 0L && bar.bytes == 0L -> "·"
                most == 0L -> LEVELS.first().toString()
                else -> LEVELS[((bar.bytes * (LEVELS.length - 1) + most - 1) / most).toInt().coerceIn(0, LEVELS.length - 1)].toString()
            }
        }
    }

    /** `!` under each bucket with an alert, aligned with [sparkline]. */
    fun alertMarks(bars: List<Bar>): String = bars.joinToString("") { if (it.alerts > 0) "!" else " " }.trimEnd()

    /** A moment as the screens print it, in [zone]. */
    fun timeLabel(us: Long, zone: TimeZone = TimeZone.getDefault()): String =
        SimpleDateFormat("yyyy-MM-dd HH:mm", Locale.ROOT).apply { timeZone = zone }.format(Date(Math.floorDiv(us, 1000L)))
}

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

    /** A bucket width in words: `1 min`, `3 h`, `1 day`, `1 week`. */
    fun widthLabel(widthUs: Long): String = when {
        widthUs >= 7 * DAY_US && widthUs % (7 * DAY_US) == 0L -> "${widthUs / (7 * DAY_US)} week"
        widthUs >= DAY_US && widthUs % DAY_US == 0L -> "${widthUs / DAY_US} day"
        widthUs >= HOUR_US && widthUs % HOUR_US == 0L -> "${widthUs / HOUR_US} h"
        else -> "${widthUs / MINUTE_US} min"
    }

    /** A moment as the screens print it, in [zone]. */
    fun timeLabel(us: Long, zone: TimeZone = TimeZone.getDefault()): String =
        SimpleDateFormat("yyyy-MM-dd HH:mm", Locale.ROOT).apply { timeZone = zone }.format(Date(Math.floorDiv(us, 1000L)))
}

package org.phonehome.history

import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.phonehome.store.TimelineBucket
import java.util.TimeZone

class TimelineTest {
    private val minute = 60_000_000L
    private val hour = 60 * minute
    private val t0 = 1_795_262_400_000_000L // 2026-11-21T12:00:00Z, a whole hour

    @Test
    fun `the narrowest width that fits, aligned to it`() {
        assertEquals(Timeline.Window(t0, minute, 1), Timeline.window(t0 + 5_000_000, t0 + 20_000_000))
        assertEquals(Timeline.Window(t0, minute, 30), Timeline.window(t0, t0 + 29 * minute + 59_000_000))
        // 4 h 10 min does not fit 48 one- or five-minute buckets: quarter hours, 17 of them.
        assertEquals(Timeline.Window(t0, 15 * minute, 17), Timeline.window(t0 + minute, t0 + 4 * hour + 10 * minute))
        for (span in listOf(0L, minute, hour, 47 * hour, 30 * 24 * hour)) {
            val window = Timeline.window(t0 + 7, t0 + 7 + span)
            assertTrue("$span: $window", window.buckets in 1..Timeline.MAX_BUCKETS)
            assertTrue(window.startUs <= t0 + 7 && t0 + 7 + span < window.startUs + window.buckets * window.bucketUs)
            assertEquals(0L, Math.floorMod(window.startUs, window.bucketUs))
        }
    }

    @Test
    fun `past the widest width the latest buckets are kept`() {
        val week = Timeline.WIDTHS_US.last()
        val window = Timeline.window(0, 100 * week)
        assertEquals(Timeline.MAX_BUCKETS, window.buckets)
        assertEquals(100 * week, window.startUs + (window.buckets - 1) * window.bucketUs)
    }

    @Test
    fun `bars fill the gaps and ignore points outside the window`() {
        val window = Timeline.Window(t0, minute, 4)
        val points = listOf(TimelineBucket("uid:1", 1u, 2u, 300u, 0u), TimelineBucket("uid:1", 3u, 1u, 100u, 1u), TimelineBucket("uid:1", 9u, 5u, 5u, 5u))
        val bars = Timeline.bars(window, points)
        assertEquals(listOf(0L, 2L, 0L, 1L), bars.map { it.flows })
        assertEquals(listOf(t0, t0 + minute, t0 + 2 * minute, t0 + 3 * minute), bars.map { it.startUs })
        assertEquals(listOf(0L, 300L, 0L, 100L), bars.map { it.bytes })
        assertEquals(listOf(0L, 0L, 0L, 1L), bars.map { it.alerts })
    }

    @Test
    fun `bucket widths read as words`() {
        assertEquals(listOf("1 min", "5 min", "15 min", "1 h", "3 h", "6 h", "12 h", "1 day", "1 week"),
            Timeline.WIDTHS_US.map(Timeline::widthLabel))
    }

    @Test
    fun `times print in the given zone`() {
        assertEquals("2026-11-21 12:00", Timeline.timeLabel(t0, TimeZone.getTimeZone("UTC")))
        assertEquals("2026-11-21 13:00", Timeline.timeLabel(t0, TimeZone.getTimeZone("Europe/Paris")))
    }
}
